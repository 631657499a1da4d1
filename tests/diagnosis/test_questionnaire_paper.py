"""Facilitators type in questionnaires residents answered on paper or in an interview."""

import datetime
import re
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from diagnosis.models import ConsultationPage, QuestionnaireResponse
from diagnosis.services import questionnaire_submit
from tests.diagnosis.conftest import staff
from tests.diagnosis.test_questionnaire_page import post_data
from tests.diagnosis.test_questionnaire_submit import VALID, questionnaire_set
from tests.diagnosis.test_questionnaire_translation import localize
from tests.e2e.test_accessibility import BLOCKING, axe_violations

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "questionnaire-paper"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def surveyed(consultation):
    return questionnaire_set(consultation)


def enter_url(page) -> str:
    return reverse("questionnaire_paper:enter", args=[page.pk])


def entry(language="es", **overrides):
    """The resident page's answers (`post_data`) plus what the admin form adds."""
    fields = {"language": language, "source": "paper", "filled_on": "", "action": "another"}
    return post_data(**{**fields, **overrides})


def stored(response) -> dict:
    return dict(response.answers.values_list("question_code", "value"))


def test_entry_is_stored_with_source_person_language_and_version(
    client, facilitator, surveyed, locales
):
    english = localize(surveyed, locales["en"])
    with translation.override("es"):  # a resident's online answer, for the version to compare
        online = questionnaire_submit(
            consultation=surveyed, answers=VALID, language="es", idempotency_key=uuid.uuid4()
        ).response
    client.force_login(facilitator)

    page = client.get(enter_url(surveyed), {"language": "en"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Do you walk alone in your area after dark?" in html
    assert 'lang="en"' in html and 'name="idempotency_key"' in html

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(
        enter_url(surveyed),
        entry("en", source="facilitator", filled_on=yesterday.isoformat(), action="save"),
    )

    assert response.status_code == 303
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[surveyed.pk])
    entered = QuestionnaireResponse.objects.exclude(pk=online.pk).get()
    assert entered.source == "facilitator"
    assert entered.entered_by == facilitator
    assert entered.language == "en"
    assert entered.consultation_id == english.pk
    assert entered.consultation_key == surveyed.translation_key
    assert entered.version_id == online.version_id  # counted with the online answers
    assert stored(entered)["avoid"] == ["park", "bus-stop"]
    assert (entered.gender, entered.age_band) == ("woman", "30-44")
    # The date written on the form is stored with the response, and in the entry's history.
    assert entered.filled_on == yesterday
    log = ModelLogEntry.objects.get(object_id=str(entered.pk), action="wagtail.create")
    assert log.user_id == facilitator.pk
    assert log.data["filled_on"] == yesterday.isoformat()


def test_save_and_enter_another_gives_a_blank_form_with_the_response_number(
    client, facilitator, surveyed
):
    client.force_login(facilitator)
    response = client.post(
        enter_url(surveyed), entry(source="facilitator", filled_on="2026-01-05"), follow=True
    )
    entered = QuestionnaireResponse.objects.get()
    html = response.content.decode()
    assert response.redirect_chain[-1][1] == 303
    with translation.override("es"):
        assert gettext("Questionnaire response %(number)s saved.") % {"number": entered.pk} in html
    # A blank form, the same language, source and date kept for the next one in the pile.
    assert 'value="Carrera 7"' not in html
    assert 'value="2026-01-05"' in html
    assert re.search(r'<input [^>]*value="facilitator"[^>]* checked', html)
    assert f'value="{entered.idempotency_key}"' not in html


def test_hidden_question_answer_is_not_stored(client, facilitator, surveyed):
    client.force_login(facilitator)
    response = client.post(
        enter_url(surveyed), entry(**{"q-walk-alone": "no", "q-feel-safe": "very-safe"})
    )
    assert response.status_code == 303
    assert "feel-safe" not in stored(QuestionnaireResponse.objects.get())


def test_wrong_answers_are_refused_with_the_resident_page_messages(client, facilitator, surveyed):
    client.force_login(facilitator)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    data = entry(**{"q-feel-safe": None, "q-minutes": "mil"}, filled_on=tomorrow.isoformat())

    response = client.post(enter_url(surveyed), data)

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="error-summary"' in html
    for anchor in ("q-feel-safe-1", "q-minutes", "id_filled_on"):
        assert f'href="#{anchor}"' in html
    with translation.override("es"):
        assert gettext("Please choose an answer.") in html
        assert gettext("Please write a whole number, for example 3.") in html
        assert gettext("The date cannot be in the future.") in html
    assert 'value="Carrera 7"' in html  # what was typed is kept
    assert f'value="{data["idempotency_key"]}"' in html  # and the key, for the retry
    assert not QuestionnaireResponse.objects.exists()


def test_a_date_before_the_consultation_opened_is_refused(client, facilitator, surveyed):
    surveyed.opens_at = timezone.now() - datetime.timedelta(days=10)
    surveyed.save_revision().publish()
    client.force_login(facilitator)
    before = timezone.localdate() - datetime.timedelta(days=30)
    response = client.post(enter_url(surveyed), entry(filled_on=before.isoformat()))
    assert response.status_code == 400
    assert 'href="#id_filled_on"' in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_double_submit_stores_one_response(client, facilitator, surveyed):
    client.force_login(facilitator)
    data = entry()
    assert client.post(enter_url(surveyed), data).status_code == 303
    again = client.post(enter_url(surveyed), data, follow=True)
    assert QuestionnaireResponse.objects.count() == 1
    with translation.override("es"):
        message = gettext(
            "This form was already saved as response %(number)s; it was not stored again."
        ) % {"number": QuestionnaireResponse.objects.get().pk}
    assert message in again.content.decode()


def test_closed_consultation_is_accepted_with_a_warning(client, facilitator, surveyed):
    surveyed.phase = ConsultationPage.Phase.DIAGNOSIS
    surveyed.save_revision().publish()
    client.force_login(facilitator)
    page = client.get(enter_url(surveyed))
    assert page.status_code == 200
    assert "data-paper-not-listening" in page.content.decode()
    assert client.post(enter_url(surveyed), entry()).status_code == 303
    assert QuestionnaireResponse.objects.get().source == "paper"


@override_settings(CONVIVE_RATE_LIMIT_ENABLED=True, CONVIVE_RATE_LIMIT="1/3600")
def test_staff_entry_is_not_rate_limited(client, facilitator, surveyed):
    client.force_login(facilitator)
    for _ in range(3):
        assert client.post(enter_url(surveyed), entry()).status_code == 303
    assert QuestionnaireResponse.objects.count() == 3


def test_who_may_enter_forms(client, surveyed):
    # Wagtail's own Editors group edits every page; "Readers" reach the admin and nothing more.
    readers = Group.objects.create(name="Readers")
    readers.permissions.add(Permission.objects.get(codename="access_admin"))
    allowed = [
        staff("fede", "Facilitators"),
        staff("edu", "Editors"),
        get_user_model().objects.create_superuser("ada", "ada@example.org", "pw"),
    ]
    for user in allowed:
        client.force_login(user)
        assert client.get(enter_url(surveyed)).status_code == 200, user.username

    client.force_login(staff("rita", "Readers"))
    assert client.get(enter_url(surveyed)).status_code == 403
    assert client.post(enter_url(surveyed), entry()).status_code == 403

    client.logout()
    response = client.post(enter_url(surveyed), entry())
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not QuestionnaireResponse.objects.exists()


def test_consultation_without_questions_says_so(client, facilitator, consultation):
    client.force_login(facilitator)
    page = client.get(enter_url(consultation))
    assert page.status_code == 200
    assert "data-paper-refusal" in page.content.decode()
    assert client.post(enter_url(consultation), entry()).status_code == 400
    assert not QuestionnaireResponse.objects.exists()


# --- In a real browser ----------------------------------------------------------------------------


def choose(page, code, value):
    radio = f"input[name='q-{code}'][value='{value}']"
    page.locator(f"label[for='{page.get_attribute(radio, 'id')}']").click()


def serious_problems(page) -> list[dict]:
    """What axe-core finds serious or critical (WCAG 2.1 A/AA), as on the public pages."""
    return [v for v in axe_violations(page) if v["impact"] in BLOCKING]


def shot(page, name):
    """The whole form: Wagtail's admin scrolls inside its layout, so grow the window to fit it."""
    height = page.evaluate("document.querySelector('main').scrollHeight")
    page.set_viewport_size({"width": 1280, "height": max(900, height + 80)})
    page.screenshot(path=SHOTS / name)
    page.set_viewport_size(DESKTOP["viewport"])


def log_in(browser, live_server, username):
    context = browser.new_context(locale="es-CO", **DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    return context, page


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_facilitator_enters_two_forms_in_a_row(browser, live_server, consultation, locales):
    SHOTS.mkdir(parents=True, exist_ok=True)
    surveyed = questionnaire_set(consultation)
    localize(surveyed, locales["en"])
    staff("fede", "Facilitators")
    context, page = log_in(browser, live_server, "fede")
    page.goto(f"{live_server.url}{enter_url(surveyed)}")

    # With JavaScript the conditional question waits for its condition, as on the resident page.
    assert page.locator("#question-feel-safe").is_hidden()
    assert not serious_problems(page)
    shot(page, "es-form.png")
    # Enter in a text box does not save a half-typed form.
    page.press("#q-street", "Enter")
    page.wait_for_timeout(300)
    assert not QuestionnaireResponse.objects.exists()

    choose(page, "walk-alone", "yes")
    page.click("button[value=another]")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    shot(page, "es-errors.png")

    for minutes in ("20", "35"):
        choose(page, "walk-alone", "yes")
        choose(page, "feel-safe", "unsafe")
        page.fill("#q-minutes", minutes)
        with page.expect_navigation():
            page.click("button[value=another]")
        assert page.locator(".messages .success").count() == 1
        assert page.input_value("#q-minutes") == ""
    shot(page, "es-saved.png")

    answers = [
        stored(response) for response in QuestionnaireResponse.objects.order_by("submitted_at")
    ]
    assert [a["minutes"] for a in answers] == [20, 35]
    assert {r.entered_by.username for r in QuestionnaireResponse.objects.all()} == {"fede"}

    # A facilitator whose admin speaks English, entering a form in English.
    profile = UserProfile.get_for_user(QuestionnaireResponse.objects.first().entered_by)
    profile.preferred_language = "en"
    profile.save()
    page.goto(f"{live_server.url}{enter_url(surveyed)}?language=en")
    assert "Do you walk alone in your area after dark?" in page.inner_text("#question-walk-alone")
    shot(page, "en-form.png")
    choose(page, "walk-alone", "yes")
    page.fill("#q-minutes", "a lot")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page.fill("#id_filled_on", tomorrow.isoformat())
    page.click("button[value=save]")
    page.wait_for_selector("#error-summary")
    assert page.locator("#error-summary li").count() == 3  # the date, the scale, the number
    assert not serious_problems(page)
    shot(page, "en-errors.png")
    context.close()
