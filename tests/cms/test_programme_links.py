"""Where residents find a programme: the home page, the results page it answers, and the
thank-you page after reporting a concern (which cannot link to a programme, but says where the
reference code can be looked up)."""

import datetime
from decimal import Decimal

from django.core.cache import cache

from cms.models import HomePage, ProgrammePage
from cms.results import _cache_key
from tests.diagnosis.conftest import form_data


def add_programme(home, results_pages, *, title="Chapinero más segura", slug="programa", live=True):
    page = ProgrammePage(
        title=title,
        slug=slug,
        responsible_body="Alcaldía Local de Chapinero",
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2027, 12, 31),
        total_budget=Decimal(500000000),
    )
    home.add_child(instance=page)
    page.diagnoses.set(results_pages)
    revision = page.save_revision()
    if live:
        revision.publish()
    else:
        ProgrammePage.objects.filter(pk=page.pk).update(live=False)
    return ProgrammePage.objects.get(pk=page.pk)


def programmes_section(html: str) -> str:
    start = html.find("data-programmes")
    return html[start:] if start >= 0 else ""


def test_the_home_page_lists_live_programmes_with_the_lookup(client, home, programme, diagnosed):
    add_programme(home, [diagnosed["page"]], title="Borrador", slug="borrador", live=False)
    response = client.get(home.url)
    assert response.status_code == 200
    section = programmes_section(response.content.decode())
    assert f'href="{programme.url}"' in section and programme.title in section
    assert "Alcaldía Local de Chapinero" in section
    assert f'href="{programme.url}lookup/"' in section
    assert "Borrador" not in section


def test_a_home_page_without_programmes_says_nothing_of_them(client, home, diagnosed):
    assert "data-programmes" not in client.get(home.url).content.decode()


def test_a_home_in_another_language_lists_untranslated_programmes(client, home, programme, locales):
    english_home = HomePage.objects.filter(locale=locales["en"]).first()
    if english_home is None:
        english_home = home.copy_for_translation(locales["en"])
        english_home.save_revision().publish()
    response = client.get(english_home.url)
    assert response.status_code == 200
    section = programmes_section(response.content.decode())
    assert f'href="{programme.url}"' in section
    assert 'lang="es"' in section and 'hreflang="es"' in section


def test_the_results_page_links_to_the_programmes_answering_it(client, programme, diagnosed):
    response = client.get(diagnosed["page"].url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-results-programmes" in html
    assert f'href="{programme.url}"' in html
    assert 'href="#results-programmes-heading"' in html  # in the contents list


def test_a_programme_published_later_shows_without_republishing_the_results(
    client, home, diagnosed
):
    results = diagnosed["page"]
    first = client.get(results.url).content.decode()
    assert "data-results-programmes" not in first
    assert cache.get(_cache_key(results, "es", "page")) is not None  # the sections are cached
    programme = add_programme(home, [results])
    html = client.get(results.url).content.decode()
    assert f'href="{programme.url}"' in html


def test_a_programme_naming_another_language_version_is_linked(client, home, diagnosed, locales):
    results = diagnosed["page"]
    english = results.copy_for_translation(locales["en"], copy_parents=True)
    english.title = "Results"
    english.save_revision().publish()
    programme = add_programme(home, [english])
    html = client.get(results.url).content.decode()
    assert f'href="{programme.url}"' in html


def test_a_draft_programme_is_not_linked_from_the_results(client, home, diagnosed):
    add_programme(home, [diagnosed["page"]], title="Borrador", live=False)
    html = client.get(diagnosed["page"].url).content.decode()
    assert "data-results-programmes" not in html and "Borrador" not in html


def test_the_thank_you_page_says_the_code_can_be_looked_up_later(client, consultation, categories):
    response = client.post(consultation.url + "report/", form_data(categories))
    assert response.status_code == 303
    thanks = client.get(response["Location"]).content.decode()
    assert "data-lookup-hint" in thanks
