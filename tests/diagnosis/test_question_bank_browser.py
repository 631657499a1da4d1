"""The question bank screen in real headless Chromium, as a facilitator uses it, in Spanish and
English. Screenshots go to test-results/question-bank/."""

from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext
from wagtail.users.models import UserProfile

from diagnosis.models import ConsultationPage
from diagnosis.question_bank import BANK_BY_CODE
from tests.diagnosis.test_questionnaire_submit import questionnaire_set

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "question-bank"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def test_facilitator_adds_bank_questions_in_spanish_then_reads_the_screen_in_english(
    browser, live_server, consultation, facilitator
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    questionnaire_set(consultation)
    context = browser.new_context(locale="es-CO", **DESKTOP)
    page = context.new_page()
    sign_in(page, live_server, facilitator.username)

    url = f"{live_server.url}/admin/questionnaires/bank/{consultation.pk}/"
    page.goto(url)
    with translation.override("es"):
        add_label = gettext("Add the selected questions")
    assert page.get_by_role("button", name=add_label).is_visible()
    safe_night = BANK_BY_CODE["bank-safe-night"].text["es"]
    assert page.get_by_label(safe_night).is_visible()
    page.screenshot(path=SHOTS / "1-bank-es.png")
    # Wagtail scrolls its main area, not the page: a tall window shows the whole bank.
    page.set_viewport_size({"width": 1280, "height": 9000})
    page.screenshot(path=SHOTS / "1-bank-es-whole.png")
    page.set_viewport_size(DESKTOP["viewport"])

    # Tick by clicking the question's label; a follow-up without its parent.
    page.get_by_label(safe_night).check()
    page.get_by_label(BANK_BY_CODE["bank-not-reported-why"].text["es"]).check()
    page.get_by_role("button", name=add_label).click()
    page.wait_for_url(lambda u: f"/admin/pages/{consultation.pk}/edit/" in u)
    success = page.locator(".messages .success")
    assert success.is_visible()
    assert BANK_BY_CODE["bank-victim"].text["es"] in success.inner_text()
    page.screenshot(path=SHOTS / "2-editor-after-adding-es.png")
    # The new questions, at the end of the Questionnaire tab.
    with translation.override("es"):
        page.get_by_role("tab", name=gettext("Questionnaire")).click()
    codes = page.locator("[data-contentpath='code'] input")
    last_code = codes.nth(codes.count() - 1)
    last_code.scroll_into_view_if_needed()
    assert last_code.input_value() == "bank-not-reported-why"
    page.screenshot(path=SHOTS / "2b-editor-questionnaire-tab-es.png")

    draft = ConsultationPage.objects.get(pk=consultation.pk).get_latest_revision_as_object()
    assert [c.value["code"] for c in draft.questionnaire][-4:] == [
        "bank-safe-night",
        "bank-victim",
        "bank-reported",
        "bank-not-reported-why",
    ]

    # The same screen for a facilitator whose admin speaks English: interface in English, the
    # questions still in the page's language (Spanish), the added ones not selectable.
    profile = UserProfile.get_for_user(facilitator)
    profile.preferred_language = "en"
    profile.save()
    page.goto(url)
    assert page.get_by_role("button", name="Add the selected questions").is_visible()
    assert page.get_by_label(safe_night).is_disabled()
    assert (
        page.locator("#bank-item-bank-safe-night")
        .get_by_text("Already in the questionnaire")
        .is_visible()
    )
    page.screenshot(path=SHOTS / "3-bank-en-after-adding.png")

    # Nothing ticked: the form again, with the reason.
    page.get_by_role("button", name="Add the selected questions").click()
    page.wait_for_selector("#question-bank-errors")
    assert "Choose at least one question to add." in page.inner_text("#question-bank-errors")
    page.screenshot(path=SHOTS / "4-bank-en-nothing-chosen.png")
    context.close()
