"""The prioritisation ballot: residents share points among the problems of the results page, one
ballot per device, counted together in every language, and the tally only once voting closed.

Problems are named on a real, published results page (`cms.ResultsPage`), which the ballot reads
through the hook cms registers; ballots go through the consultation page's real route.
"""

import datetime

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from cms.models import ResultsPage, ResultsProblem
from cms.problems import problems_context
from diagnosis.models import ConsultationPage, PrioritisationBallot
from diagnosis.prioritisation_views import DEVICE_COOKIE
from diagnosis.services.prioritisation import device_hash

URL = "/es/chapinero/prioritise/"
PAGE_URL = "/es/chapinero/"
PROBLEMS = [
    ("Caminos oscuros al colegio", "Postes sin luz entre el parque y el colegio."),
    ("Acoso a la salida del metro", ""),
    ("Parque sin mantenimiento", "Basura y pasto alto."),
]

Phase = ConsultationPage.Phase


def results_page_with_problems(consultation, problems=PROBLEMS) -> ResultsPage:
    """A published results page under the consultation naming `problems` (title, description)."""
    page = ResultsPage(title="Resultados: Chapinero se cuida", slug="resultados")
    page.problems = [
        ResultsProblem(title=title, description=description, sort_order=index)
        for index, (title, description) in enumerate(problems)
    ]
    consultation.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def set_phase(consultation, phase, *, closes_at=None, points=10):
    consultation.phase = phase
    consultation.prioritisation_closes_at = closes_at
    consultation.prioritisation_points = points
    consultation.save_revision().publish()
    consultation.refresh_from_db()
    return consultation


@pytest.fixture
def voting(consultation):
    """The consultation in its prioritisation phase with three published problems."""
    results = results_page_with_problems(consultation)
    set_phase(
        consultation,
        Phase.PRIORITISATION,
        closes_at=timezone.now() + datetime.timedelta(days=7),
    )
    keys = [str(problem.translation_key) for problem in results.problems.all()]
    return {"consultation": consultation, "results": results, "keys": keys}


def ballot(keys, *values):
    return {f"points-{key}": str(value) for key, value in zip(keys, values, strict=False)}


def close(consultation):
    """Voting ends: its closing time has passed."""
    ConsultationPage.objects.filter(pk=consultation.pk).update(
        prioritisation_closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    consultation.refresh_from_db()


# --- The form ------------------------------------------------------------------------------------


def test_the_form_offers_each_problem_with_a_number_input(client, voting):
    html = client.get(URL).content.decode()
    for (title, _description), key in zip(PROBLEMS, voting["keys"], strict=True):
        assert title in html
        assert f'name="points-{key}"' in html
    assert 'type="number"' in html and 'min="0"' in html and 'max="10"' in html
    assert "csrfmiddlewaretoken" in html
    with translation.override("es"):
        assert (
            gettext(
                "You can change your points until prioritisation closes: sending the form again "
                "replaces them."
            )
            in html
        )


def test_the_consultation_page_invites_residents_while_voting_is_open(client, voting):
    html = client.get(PAGE_URL).content.decode()
    assert 'href="/es/chapinero/prioritise/"' in html
    assert "data-prioritisation-tally" not in html


def test_a_valid_ballot_is_stored_by_problem_key_and_device_hash(client, voting):
    keys = voting["keys"]
    response = client.post(URL, ballot(keys, 6, 0, 4))
    assert response.status_code == 303
    assert response["Location"] == f"{URL}?saved=1"
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 365 * 24 * 3600

    stored = PrioritisationBallot.objects.get()
    assert stored.points == {keys[0]: 6, keys[2]: 4}
    assert stored.language == "es"
    # Only the keyed hash of the device id is kept, never the id itself.
    assert stored.device == device_hash(
        consultation_key=voting["consultation"].translation_key, device_id=cookie.value
    )
    assert cookie.value not in stored.device

    confirmation = client.get(response["Location"]).content.decode()
    with translation.override("es"):
        assert gettext("Thank you: your points are saved") in confirmation
    assert PROBLEMS[0][0] in confirmation


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ((6, 3, 2), "You gave %(total)d points but have %(points)d points: please take some away."),
        ((0, 0, 0), "Please give at least one point to a problem."),
        (("", "", ""), "Please give at least one point to a problem."),
        ((-1, 3, 0), "Please give a whole number of points: 0, 1, 2…"),
        (("2.5", 3, 0), "Please give a whole number of points: 0, 1, 2…"),
        (("tres", 3, 0), "Please give a whole number of points: 0, 1, 2…"),
    ],
)
def test_bad_points_are_a_400_with_a_message_and_nothing_stored(client, voting, values, message):
    response = client.post(URL, ballot(voting["keys"], *values))
    assert response.status_code == 400
    html = response.content.decode()
    with translation.override("es"):
        if "%(total)d" in message:
            singular = message.replace("%(points)d points:", "%(points)d point:")
            expected = ngettext(singular, message, 10) % {"total": 11, "points": 10}
        else:
            expected = gettext(message)
    assert expected in html
    assert 'id="error-summary"' in html
    assert not PrioritisationBallot.objects.exists()
    assert DEVICE_COOKIE not in response.cookies


def test_a_ballot_of_exactly_all_points_is_accepted(client, voting):
    assert client.post(URL, ballot(voting["keys"], 10)).status_code == 303


def test_sending_again_from_the_same_device_replaces_the_ballot(client, voting):
    keys = voting["keys"]
    client.post(URL, ballot(keys, 10, 0, 0))
    first = PrioritisationBallot.objects.get()

    page = client.get(URL).content.decode()
    assert 'value="10"' in page  # the device sees its own points
    assert "data-earlier-ballot" in page  # … and is told that sending again replaces them

    assert client.post(URL, ballot(keys, 0, 3, 7)).status_code == 303
    assert PrioritisationBallot.objects.count() == 1
    replaced = PrioritisationBallot.objects.get()
    assert replaced.pk == first.pk and replaced.device == first.device
    assert replaced.points == {keys[1]: 3, keys[2]: 7}


def test_two_devices_are_two_ballots(voting):
    keys = voting["keys"]
    for values in ((10, 0, 0), (0, 10, 0)):
        device = Client()
        assert device.post(URL, ballot(keys, *values)).status_code == 303
    assert PrioritisationBallot.objects.count() == 2
    assert len(set(PrioritisationBallot.objects.values_list("device", flat=True))) == 2


def test_a_tampered_device_cookie_gets_a_fresh_device(client, voting):
    client.cookies[DEVICE_COOKIE] = "x' OR 1=1 --"
    response = client.post(URL, ballot(voting["keys"], 1))
    assert response.status_code == 303
    assert response.cookies[DEVICE_COOKIE].value != "x' OR 1=1 --"
    assert PrioritisationBallot.objects.count() == 1


@override_settings(CONVIVE_RATE_LIMIT_ENABLED=True, CONVIVE_BALLOT_RATE_LIMIT="2/3600")
def test_too_many_ballots_from_one_connection_are_a_429(voting):
    cache.clear()
    keys = voting["keys"]
    for _ in range(2):
        assert Client().post(URL, ballot(keys, 1)).status_code == 303
    response = Client().post(URL, ballot(keys, 1))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert PrioritisationBallot.objects.count() == 2
    with translation.override("es"):
        assert (
            ngettext(
                "Many ballots were sent from your connection in a short time. Please try again "
                "in %(minutes)d minute.",
                "Many ballots were sent from your connection in a short time. Please try again "
                "in %(minutes)d minutes.",
                60,
            )
            % {"minutes": 60}
            in response.content.decode()
        )


def test_without_csrf_token_the_ballot_is_refused(voting):
    strict = Client(enforce_csrf_checks=True)
    strict.get(URL)
    response = strict.post(URL, ballot(voting["keys"], 1))
    assert response.status_code == 403
    assert not PrioritisationBallot.objects.exists()


# --- Closed, not yet open ----------------------------------------------------------------------


def test_after_closing_a_ballot_is_refused_with_a_message(client, voting):
    close(voting["consultation"])
    response = client.post(URL, ballot(voting["keys"], 5))
    assert response.status_code == 403
    with translation.override("es"):
        assert (
            gettext("Prioritisation has closed. Thank you to everyone who took part.")
            in response.content.decode()
        )
    assert not PrioritisationBallot.objects.exists()


def test_before_the_phase_no_form_is_offered(client, consultation):
    results_page_with_problems(consultation)  # still listening
    response = client.get(URL)
    assert response.status_code == 200
    assert 'name="points-' not in response.content.decode()
    assert client.post(URL, {}).status_code == 403
    assert "/prioritise/" not in client.get(PAGE_URL).content.decode()


def test_without_published_problems_there_is_nothing_to_prioritise(client, consultation):
    set_phase(consultation, Phase.PRIORITISATION)
    html = client.get(URL).content.decode()
    with translation.override("es"):
        assert gettext("The problems to prioritise are not published yet.") in html
    assert "/prioritise/" not in client.get(PAGE_URL).content.decode()


# --- The tally ---------------------------------------------------------------------------------


def cast(keys, *ballots):
    for values in ballots:
        assert Client().post(URL, ballot(keys, *values)).status_code == 303


def test_the_tally_is_hidden_while_open_and_ranked_once_closed(client, voting):
    keys = voting["keys"]
    cast(keys, (6, 0, 4), (0, 5, 5), (2, 0, 8))

    for url in (PAGE_URL, URL):
        html = client.get(url).content.decode()
        assert "data-prioritisation-tally" not in html
        assert "data-points>" not in html
    assert problems_context(voting["results"], None)["prioritisation_tally"] is None

    close(voting["consultation"])
    html = client.get(PAGE_URL).content.decode()
    assert "data-prioritisation-tally" in html
    rows = rows_of(html)
    # Parque: 17 points from 3 ballots; Caminos: 8 from 2; Acoso: 5 from 1.
    assert rows == [
        (keys[2], "17", "3"),
        (keys[0], "8", "2"),
        (keys[1], "5", "1"),
    ]


def test_the_tally_shows_when_the_phase_moves_on_even_before_the_closing_time(client, voting):
    keys = voting["keys"]
    cast(keys, (10, 0, 0))
    set_phase(voting["consultation"], Phase.RESULTS, closes_at=None)
    assert rows_of(client.get(PAGE_URL).content.decode()) == [
        (keys[0], "10", "1"),
        (keys[1], "0", "0"),
        (keys[2], "0", "0"),
    ]


def rows_of(html: str) -> list[tuple[str, str, str]]:
    import re

    pattern = re.compile(
        r'<tr data-problem="([^"]+)">.*?data-points>(\d+)</td>\s*'
        r'<td class="num" data-ballots>(\d+)',
        re.S,
    )
    return pattern.findall(html)


def test_ballots_in_every_language_add_up(voting, locales, categories):
    consultation, results = voting["consultation"], voting["results"]
    keys = voting["keys"]
    with translation.override("es"):
        english = consultation.copy_for_translation(locales["en"], copy_parents=True)
    english.title = "Chapinero looks after itself"
    english.save_revision().publish()
    english.get_parent().specific.save_revision().publish()
    english_results = results.copy_for_translation(locales["en"])
    titles = ("Dark paths to school", "Harassment", "Park")
    for problem, title in zip(english_results.problems.all(), titles, strict=True):
        problem.title = title
        problem.save()
    english_results.save_revision().publish()

    english_url = f"/en/{english.slug}/prioritise/"
    form = Client().get(english_url).content.decode()
    assert "Dark paths to school" in form
    for key in keys:
        assert f'name="points-{key}"' in form

    assert Client().post(URL, ballot(keys, 4, 6, 0)).status_code == 303
    assert Client().post(english_url, ballot(keys, 6, 0, 4)).status_code == 303
    assert sorted(PrioritisationBallot.objects.values_list("language", flat=True)) == ["en", "es"]

    close(consultation)
    ConsultationPage.objects.filter(pk=english.pk).update(
        prioritisation_closes_at=consultation.prioritisation_closes_at
    )
    english_page = Client().get(f"/en/{english.slug}/").content.decode()
    assert rows_of(english_page) == [(keys[0], "10", "2"), (keys[1], "6", "1"), (keys[2], "4", "1")]
    assert "Dark paths to school" in english_page
    assert settings.LANGUAGE_CODE == "es"
