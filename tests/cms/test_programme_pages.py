"""The public accountability pages — programme, area, problem and commitment — as residents read
them: what we heard (published evidence only), what we'll do (commitments with progress and
budget), what we did (milestones), in Spanish and English with the facts of the original page."""

import datetime
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext, pgettext

from cms.models import (
    CommitmentIndicator,
    CommitmentPage,
    ProgrammePage,
    ResultsPage,
    ResultsProblem,
)
from diagnosis.services import concern_moderate
from diagnosis.services.diagnosis_runs import diagnosis_run_execute, diagnosis_run_start
from tests.cms.conftest import add_milestones, status
from tests.e2e.test_accessibility import BLOCKING, OVERFLOW, axe_violations, describe

pytestmark = pytest.mark.django_db


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def subpage(page, name: str, **kwargs) -> str:
    return page.url + page.reverse_subpage(name, kwargs=kwargs)


def card(html: str, pk: int) -> str:
    """The markup of one commitment's card (up to the next card)."""
    start = html.index(f'<article class="commitment-card" data-commitment="{pk}"')
    end = html.find('<article class="commitment-card"', start + 1)
    return html[start : end if end != -1 else len(html)]


def shown_commitments(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-commitment="(\d+)"', html)}


def english_versions(realistic_programme, locales):
    """English translations of the programme and the lights commitment (and its parent, so its
    link has an English page)."""
    programme = realistic_programme["programme"]
    en_programme = programme.copy_for_translation(locales["en"])
    en_programme.title = "A safer Chapinero"
    en_programme.save_revision().publish()
    pages = {"programme": ProgrammePage.objects.get(pk=en_programme.pk)}
    for name, title in (
        ("parent", "Safe surroundings in El Chico"),
        ("lights", "LED street lights on Carrera 7"),
    ):
        translated = realistic_programme[name].copy_for_translation(locales["en"])
        translated.title = title
        translated.save_revision().publish()
        pages[name] = CommitmentPage.objects.get(pk=translated.pk)
    return pages


def republish(page: CommitmentPage, **fields) -> CommitmentPage:
    page = CommitmentPage.objects.get(pk=page.pk)
    for name, value in fields.items():
        setattr(page, name, value)
    page.save_revision().publish()
    return CommitmentPage.objects.get(pk=page.pk)


# --- The programme page -------------------------------------------------------------------------


def test_the_programme_page_tells_what_we_heard_will_do_and_did(client, realistic_programme):
    programme = realistic_programme["programme"]
    html = html_of(client.get(programme.url))
    assert "Chapinero más segura" in html
    assert "Alcaldía Local de Chapinero" in html
    # What we heard: the diagnosed problems with their published numbers.
    assert "Calles oscuras en El Chico" in html
    assert "Acoso al salir del metro" in html
    evidence = re.findall(r'<td class="num">([^<]+)</td>', html)
    assert "6" in evidence and "5" in evidence
    assert 'href="/es/chapinero/resultados/"' in html
    # What we'll do: a card per commitment, the parts inside their parent's card.
    parent = card(html, realistic_programme["parent"].pk)
    assert "Luminarias LED en la Carrera 7" in parent
    assert "Poda y limpieza de senderos" in parent
    assert f'data-commitment="{realistic_programme["escorts"].pk}"' not in parent
    assert "Mesa trimestral de seguridad con residentes" in html
    # Statuses in the reader's language.
    assert '<span class="status-tag" data-status>En ejecución</span>' in parent
    # Budget: 500 M total, 300 M committed (parts' money once), 90 M spent → 30 %.
    assert "500.000.000\xa0COP" in html
    assert "300.000.000\xa0COP" in html
    assert 'data-execution="30"' in html
    # Feeds in the head, and the ways to follow the programme.
    head = html[: html.index("</head>")]
    atom = subpage(programme, "programme_feed", flavour="atom")
    rss = subpage(programme, "programme_feed", flavour="rss")
    assert 'type="application/atom+xml"' in head and f'href="{atom}"' in head
    assert 'type="application/rss+xml"' in head and f'href="{rss}"' in head
    assert f'href="{subpage(programme, "programme_lookup")}"' in html
    assert f'href="{subpage(programme, "programme_commitments_csv")}"' in html


def test_a_parent_shows_the_weighted_progress_of_its_parts(client, realistic_programme):
    html = html_of(client.get(realistic_programme["programme"].url))
    # Luminarias 80 % × 3 and senderos 0 % (planned) × 1 → 60 %, whatever the parent records.
    parent = card(html, realistic_programme["parent"].pk)
    assert parent.index('data-progress="60"') < parent.index("Luminarias LED")
    assert '<progress max="100" value="60"' in parent
    assert "60 %" in parent
    commitment = html_of(client.get(realistic_programme["parent"].url))
    assert '<td data-fact="progress">60 %' in commitment
    assert "data-parts" in commitment
    assert f'data-commitment="{realistic_programme["lights"].pk}"' in commitment
    # What was done on its parts is what was done on it.
    timeline = commitment[commitment.index("data-timeline") :]
    assert "Primeras 40 luminarias instaladas" in timeline
    assert "Luminarias LED en la Carrera 7</a>" in timeline


def test_an_empty_progress_shows_the_status_default(client, realistic_programme):
    html = html_of(client.get(realistic_programme["programme"].url))
    escorts = card(html, realistic_programme["escorts"].pk)  # "Iniciado", no progress recorded
    assert 'data-progress="10"' in escorts
    assert "Iniciado" in escorts
    forum = card(html, realistic_programme["forum"].pk)  # "Cumplido"
    assert 'data-progress="100"' in forum


def test_the_status_counts_and_execution_of_each_commitment(client, realistic_programme):
    html = html_of(client.get(realistic_programme["programme"].url))
    start = html.index("data-status-counts")
    counts = html[start : html.index("</ul>", start)]
    assert re.findall(r'status-tag">([^<]+)</span> (\d+)', counts) == [
        ("Planificado", "1"),
        ("Iniciado", "1"),
        ("En ejecución", "2"),
        ("Cumplido", "1"),
    ]
    lights = html_of(client.get(realistic_programme["lights"].url))
    assert "90.000.000\xa0COP" in lights
    assert "40.000.000\xa0COP" in lights
    assert '<span class="execution">(44 %' in lights  # 40 M of 90 M


def test_milestones_are_listed_newest_first(client, realistic_programme):
    html = html_of(client.get(realistic_programme["programme"].url))
    dates = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', html)
    assert dates == ["2026-06-20", "2026-04-10", "2026-03-02"]
    commitment = html_of(client.get(realistic_programme["lights"].url))
    milestones = commitment[commitment.index("data-timeline") :]
    assert re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', milestones)[:2] == [
        "2026-06-20",
        "2026-03-02",
    ]


# --- Languages ----------------------------------------------------------------------------------


def test_the_english_pages_show_english_wording_and_the_originals_facts(
    client, realistic_programme, locales
):
    english = english_versions(realistic_programme, locales)
    with translation.override("en"):
        html = html_of(client.get(english["programme"].url))
    assert "A safer Chapinero" in html
    assert "LED street lights on Carrera 7" in html
    assert "In progress" in html and "En ejecución" not in html
    assert "COP500,000,000" in html
    assert "COP300,000,000" in html
    # Not translated yet: shown in Spanish, marked as Spanish for screen readers.
    assert 'lang="es">Poda y limpieza de senderos</a>' in html
    with translation.override("en"):
        page = html_of(client.get(english["lights"].url))
    assert "<h1>LED street lights on Carrera 7</h1>" in page
    assert '<td data-fact="progress">80 %' in page
    assert "COP90,000,000" in page
    # A milestone's wording from the translation; one added on the original since, at once,
    # in Spanish and marked as such.
    translated = CommitmentPage.objects.get(pk=english["lights"].pk)
    milestone = translated.milestones.get(title="Contrato firmado")
    milestone.title = "Contract signed"
    milestone.save()
    add_milestones(
        realistic_programme["lights"],
        {"date": datetime.date(2026, 8, 1), "title": "Segunda fase contratada"},
    )
    with translation.override("en"):
        page = html_of(client.get(english["lights"].url))
    timeline = page[page.index("data-timeline") :]
    timeline = timeline[: timeline.index("</ol>")]
    assert "Contract signed" in timeline and "Contrato firmado" not in timeline
    assert 'lang="es">Segunda fase contratada' in timeline
    assert (
        timeline.index("Segunda fase")
        < timeline.index("Primeras 40")
        < timeline.index("Contract signed")
    )


def test_a_fact_updated_on_the_original_shows_at_once_in_english(
    client, realistic_programme, locales
):
    english = english_versions(realistic_programme, locales)
    republish(
        realistic_programme["lights"],
        progress=100,
        status=status("completed"),
        budget_spent=Decimal("88000000"),
    )
    with translation.override("en"):
        page = html_of(client.get(english["lights"].url))
        programme = html_of(client.get(english["programme"].url))
    assert '<td data-fact="progress">100 %' in page
    assert '<td data-fact="status">Completed</td>' in page
    assert "COP88,000,000" in page
    # The parent, on the English programme page: (100·3 + 0·1) / 4 = 75 %.
    assert 'data-progress="75"' in card(programme, realistic_programme["parent"].pk)


# --- Evidence and privacy -----------------------------------------------------------------------


def test_small_counts_show_as_fewer_than_k_never_as_a_number(
    client,
    realistic_programme,
    diagnosed,
    submit,
    categories,
    barrios,
    moderator_of_feedback,
    facilitator_user,
):
    lago = barrios[1]
    for _ in range(2):
        concern = submit(category=categories["lighting"], point=None, area=lago)
        concern_moderate(concern=concern, user=moderator_of_feedback, status="approved")
    consultation = diagnosed["page"].get_parent().specific
    run = diagnosis_run_start(page=consultation, user=facilitator_user, k=5)
    diagnosis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    page = ResultsPage.objects.get(pk=diagnosed["page"].pk)
    page.snapshot = run.snapshot
    page.save_revision().publish()
    problem = ResultsProblem(page=page, title="Calles oscuras en Lago Gaitán", sort_order=2)
    problem.save()
    problem.categories.set([categories["lighting"]])
    problem.areas.set([lago])
    problem.save()
    programme = realistic_programme["programme"]
    area = html_of(client.get(subpage(programme, "programme_area", area_id=lago.pk)))
    block = area[area.index(f'data-problem="{problem.translation_key}"') :]
    block = block[: block.index("</article>")]
    with translation.override("es"):
        fewer = gettext("fewer than %(k)s") % {"k": 5}
    assert f'<td class="num">{fewer}</td>' in block
    assert '<td class="num">2</td>' not in block
    html = html_of(client.get(programme.url))
    assert fewer in html
    assert '<td class="num">2</td>' not in html


def test_no_sensitive_words_point_or_reference_code_reaches_the_pages(
    client, realistic_programme, diagnosed, submit, categories, moderator_of_feedback, barrios
):
    secret = "Mi pareja me amenaza en la casa de la calle 93"
    sensitive = submit(category=categories["domestic"], description=secret)
    concern_moderate(concern=sensitive, user=moderator_of_feedback, status="approved")
    quoted = diagnosed["concerns"][0]
    page = ResultsPage.objects.get(pk=diagnosed["page"].pk)
    lighting = page.problems.get(pk=diagnosed["lighting"].pk)
    lighting.quotes = [("quote", {"concern": quoted.reference, "text": "De noche no se ve nada."})]
    lighting.save()
    programme = realistic_programme["programme"]
    urls = [
        programme.url,
        subpage(programme, "programme_area", area_id=barrios[0].pk),
        subpage(programme, "programme_problem", key=lighting.translation_key),
        realistic_programme["parent"].url,
    ]
    for url in urls:
        html = html_of(client.get(url))
        assert secret not in html
        assert sensitive.reference not in html
        assert quoted.reference not in html
        assert "-74.05" not in html and "4.673" not in html  # no coordinates
    problem_page = html_of(client.get(urls[2]))
    assert "De noche no se ve nada." in problem_page
    with translation.override("es"):
        assert gettext("a resident") in problem_page


# --- Area and problem pages ---------------------------------------------------------------------


def test_an_area_page_shows_only_the_commitments_that_reach_it(
    client, realistic_programme, barrios
):
    programme = realistic_programme["programme"]
    chico = html_of(client.get(subpage(programme, "programme_area", area_id=barrios[0].pk)))
    shown = shown_commitments(chico)
    assert {
        realistic_programme["parent"].pk,
        realistic_programme["lights"].pk,
        realistic_programme["paths"].pk,
    } <= shown
    assert realistic_programme["escorts"].pk not in shown
    assert realistic_programme["forum"].pk not in shown
    assert "<h1>El Chico</h1>" in chico
    assert "Calles oscuras en El Chico" in chico
    feed = subpage(programme, "programme_area_feed", area_id=barrios[0].pk, flavour="atom")
    assert f'href="{feed}"' in chico[: chico.index("</head>")]
    assert "Primeras 40 luminarias instaladas" in chico
    assert "Primera ruta acompañada" not in chico
    lago = html_of(client.get(subpage(programme, "programme_area", area_id=barrios[1].pk)))
    assert shown_commitments(lago) == {realistic_programme["escorts"].pk}
    assert "Primera ruta acompañada" in lago


def test_a_commitment_answering_a_problem_located_in_the_area_is_on_its_page(
    client, realistic_programme, diagnosed, make_commitment, barrios
):
    # No area of its own, but it answers the lighting problem, which is in El Chico.
    campaign = make_commitment("Campaña de reporte de luminarias", problems=[diagnosed["lighting"]])
    programme = realistic_programme["programme"]
    html = html_of(client.get(subpage(programme, "programme_area", area_id=barrios[0].pk)))
    assert campaign.pk in shown_commitments(html)


def test_areas_and_problems_the_programme_does_not_concern_are_not_found(
    client, realistic_programme, barrios, diagnosed
):
    programme = realistic_programme["programme"]
    polo_club = barrios[2]  # no commitment or problem there
    assert client.get(subpage(programme, "programme_area", area_id=polo_club.pk)).status_code == 404
    assert client.get(subpage(programme, "programme_area", area_id=999999)).status_code == 404
    assert client.get(subpage(programme, "programme_problem", key=uuid.uuid4())).status_code == 404
    # A problem of a results page the programme does not answer.
    consultation = diagnosed["page"].get_parent()
    other = ResultsPage(title="Otros resultados", slug="otros", snapshot=diagnosed["page"].snapshot)
    consultation.add_child(instance=other)
    other.problems = [ResultsProblem(title="Ruido nocturno", sort_order=0)]
    other.save_revision().publish()
    foreign = ResultsProblem.objects.get(page=other)
    response = client.get(subpage(programme, "programme_problem", key=foreign.translation_key))
    assert response.status_code == 404


def test_a_problem_page_shows_its_evidence_commitments_and_milestones(
    client, realistic_programme, diagnosed
):
    programme = realistic_programme["programme"]
    harassment = diagnosed["harassment"]
    html = html_of(
        client.get(subpage(programme, "programme_problem", key=harassment.translation_key))
    )
    assert "Acoso al salir del metro</h1>" in html
    assert "Acoso callejero" in html
    assert '<td class="num">5</td>' in html
    assert shown_commitments(html) == {realistic_programme["escorts"].pk}
    assert "Primera ruta acompañada" in html
    assert 'href="/es/chapinero/resultados/"' in html


def test_a_draft_commitment_is_not_listed_and_its_page_is_not_found(
    client, realistic_programme, make_commitment
):
    draft = make_commitment("Cámaras en el parque")
    CommitmentPage.objects.get(pk=draft.pk).unpublish()
    html = html_of(client.get(realistic_programme["programme"].url))
    assert "Cámaras en el parque" not in html
    assert client.get(draft.url or "/es/programa/" + draft.slug + "/").status_code == 404


# --- The commitment page ------------------------------------------------------------------------


def test_the_commitment_page_shows_facts_indicators_photos_answers_and_contact(
    client, realistic_programme, diagnosed, barrios
):
    parent = CommitmentPage.objects.get(pk=realistic_programme["parent"].pk)
    parent.indicators.add(
        CommitmentIndicator(
            name="Luminarias funcionando",
            unit="%",
            baseline=Decimal(40),
            target=Decimal(95),
            latest_value=Decimal("72.50"),
            latest_date=datetime.date(2026, 7, 1),
            source="Inspección de la Empresa de Energía",
        )
    )
    parent.save_revision().publish()
    html = html_of(client.get(parent.url))
    assert "Iluminar y despejar los caminos" in html
    indicators = html[html.index("data-indicators") :]
    indicators = indicators[: indicators.index("</table>")]
    assert "Luminarias funcionando" in indicators
    assert (
        "40 %" in indicators and "95 %" in indicators and "72,5 %" in indicators
    )  # Spanish decimals
    assert "1 de julio de 2026" in indicators
    assert "120.000.000\xa0COP" in html and "(38 %" in html
    programme = realistic_programme["programme"]
    problem_url = subpage(programme, "programme_problem", key=diagnosed["lighting"].translation_key)
    assert f'href="{problem_url}"' in html
    assert f'href="{subpage(programme, "programme_area", area_id=barrios[0].pk)}"' in html
    assert "Laura Gómez" in html
    assert 'href="mailto:seguridad@chapinero.gov.co"' in html
    assert 'href="tel:+576015550101"' in html
    lights = html_of(client.get(realistic_programme["lights"].url))
    photo = re.search(r"<img [^>]+>", lights[lights.index("data-timeline") :]).group()
    assert 'alt="Poste con luminaria LED nueva en la Carrera 7"' in photo
    assert "fill-640x360" in photo
    assert client.get(re.search(r'src="([^"]+)"', photo).group(1)).status_code in (200, 404)


def test_the_public_change_history_lists_each_published_change(client, realistic_programme):
    commitment = realistic_programme["paths"]
    republish(commitment, status=status("in-progress"), progress=30)
    draft = CommitmentPage.objects.get(pk=commitment.pk)
    draft.progress = 90
    draft.save_revision()  # never published: not in the history
    html = html_of(client.get(commitment.url))
    history = html[html.index("data-history") :]
    history = history[: history.index("</details>")]
    with translation.override("es"):
        status_label = pgettext("commitment", "Status")
        progress_label = pgettext("commitment", "Progress")
    assert f"{status_label}: Planificado → En ejecución" in history
    assert f"{progress_label}: — → 30 %" in history
    assert "90 %" not in history
    assert history.count("data-change=") == 2


# --- Cost ---------------------------------------------------------------------------------------


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_commitments(
    client, programme, make_commitment, diagnosed
):
    chico = diagnosed["chico"]

    def add(count):
        for index in range(count):
            parent = make_commitment(
                f"Compromiso {CommitmentPage.objects.count()}",
                problems=[diagnosed["lighting"] if index % 2 else diagnosed["harassment"]],
                areas=[chico],
                status="in-progress",
                budget_planned=Decimal(1000),
            )
            if index % 3 == 0:
                child = make_commitment("Parte", parent=parent, areas=[chico], progress=20)
                add_milestones(child, {"date": datetime.date(2026, 5, index + 1), "title": "Hito"})

    add(3)
    urls = [
        programme.url,
        subpage(programme, "programme_area", area_id=chico.pk),
        subpage(programme, "programme_problem", key=diagnosed["lighting"].translation_key),
    ]
    commitment_url = CommitmentPage.objects.order_by("pk").first().url
    for url in [*urls, commitment_url]:
        client.get(url)  # warm the caches (site, routes, evidence)
    few = [queries_for(client, url) for url in [*urls, commitment_url]]
    add(9)
    many = [queries_for(client, url) for url in [*urls, commitment_url]]
    assert many == few


# --- In a real browser ----------------------------------------------------------------------------

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "programme-pages"
WIDTHS = {"360": {"width": 360, "height": 740}, "1280": {"width": 1280, "height": 900}}


def serve_media(page) -> None:
    """The live server serves no uploaded files (DEBUG is off): hand the browser the image
    renditions straight from MEDIA_ROOT, so the milestone's photo shows in the screenshots."""

    def fulfil(route):
        path = Path(settings.MEDIA_ROOT) / route.request.url.split("/media/", 1)[1]
        if path.exists():
            route.fulfill(path=str(path))
        else:
            route.fulfill(status=404)

    page.route("**/media/**", fulfil)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_pages_fit_a_phone_and_a_desktop_and_pass_axe(
    browser, live_server, realistic_programme, barrios
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    programme = realistic_programme["programme"]
    pages = {
        "programme": programme.url,
        "area": subpage(programme, "programme_area", area_id=barrios[0].pk),
        "commitment": realistic_programme["parent"].url,
        "commitment-part": realistic_programme["lights"].url,
    }
    found = []
    for width, viewport in WIDTHS.items():
        context = browser.new_context(locale="es-CO", viewport=viewport)
        page = context.new_page()
        serve_media(page)
        for name, url in pages.items():
            page.goto(live_server.url + url)
            page.wait_for_load_state("load")
            for details in page.locator("details").all():
                details.evaluate("element => element.open = true")
            page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
            overflow = page.evaluate(OVERFLOW)
            assert overflow["width"] <= viewport["width"], f"{name} at {width} px: {overflow}"
            assert not overflow["culprits"], f"{name} at {width} px: {overflow}"
            if name == "commitment-part":
                photo = page.locator(".milestone-photo img")
                assert photo.evaluate("img => img.naturalWidth") == 640
            found.extend(
                (f"{name}@{width}", violation)
                for violation in axe_violations(page)
                if violation["impact"] in BLOCKING
            )
        context.close()
    assert not found, describe(found)


def test_the_preview_of_a_new_commitment_shows_its_unsaved_facts(
    rf, admin_user, realistic_programme
):
    from cms.programme_views import commitment_context

    programme = realistic_programme["programme"]
    # Placed in the tree the way Wagtail's "preview on add" places a page it has not saved.
    page = CommitmentPage(
        title="Huertas comunitarias",
        slug="huertas",
        agency="Jardín Botánico",
        status=status("in-progress"),
        progress=35,
        parent_commitment=realistic_programme["parent"],
        locale=programme.locale,
    )
    page.depth = programme.depth + 1
    page.path = programme.get_last_child()._inc_path()
    page.set_url_path(programme)
    request = rf.get(programme.url)
    request.user = admin_user
    context = commitment_context(request=request, page=page)
    assert context["commitment"].title == "Huertas comunitarias"
    assert context["commitment"].progress == 35
    assert context["parent"].pk == realistic_programme["parent"].pk
    assert context["history"] == []


def test_the_editors_preview_shows_the_unsaved_facts_of_an_edited_commitment(
    client, admin_user, realistic_programme
):
    from django.urls import reverse

    from tests.cms.test_programme_admin import commitment_form

    client.force_login(admin_user)
    lights = realistic_programme["lights"]
    url = reverse("wagtailadmin_pages:preview_on_edit", args=[lights.pk])
    data = commitment_form(
        lights.title,
        status_pk=status("completed").pk,
        slug=lights.slug,
        progress="95",
        parent_commitment=str(realistic_programme["parent"].pk),
        weight="3",
    )
    assert client.post(url, data).json()["is_valid"]
    html = html_of(client.get(url))
    assert '<td data-fact="progress">95 %' in html
    assert '<td data-fact="status">Cumplido</td>' in html
    # Nothing was saved: the public still reads the published facts.
    client.logout()
    assert '<td data-fact="progress">80 %' in html_of(client.get(lights.url))


def test_the_preview_of_a_new_programme_shows_the_diagnosis_and_no_other_commitments(
    client, admin_user, home, realistic_programme, diagnosed
):
    from django.urls import reverse
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

    client.force_login(admin_user)
    url = reverse("wagtailadmin_pages:preview_on_add", args=["cms", "programmepage", home.pk])
    data = nested_form_data(
        {
            "title": "Segunda fase",
            "slug": "segunda-fase",
            "intro": rich_text("<p>Lo que sigue.</p>"),
            "responsible_body": "Alcaldía Local de Chapinero",
            "total_budget": "1000",
            "comments": inline_formset([]),
        }
    )
    data["diagnoses"] = [str(diagnosed["page"].pk)]
    assert client.post(url, data).json()["is_valid"]
    html = html_of(client.get(url))
    assert "<h1>Segunda fase</h1>" in html
    assert "Calles oscuras en El Chico" in html
    assert not shown_commitments(html)  # the other programme's commitments are not its own
