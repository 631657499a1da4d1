"""The questionnaire in real headless Chromium on a phone: conditional questions appear and
disappear, errors are summarised, answers arrive. Screenshots go to test-results/questionnaire/."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext
from wagtail.coreutils import safe_snake_case

from diagnosis.models import QuestionnaireResponse
from tests.diagnosis.test_questionnaire_submit import questionnaire_set

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "questionnaire"
PHONE = {"viewport": {"width": 390, "height": 780}, "device_scale_factor": 2, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def choose(page, code, value):
    radio = f"input[name='q-{code}'][value='{value}']"
    page.locator(f"label[for='{page.get_attribute(radio, 'id')}']").click()


def test_conditional_question_shows_and_hides_on_a_phone(browser, live_server, consultation):
    SHOTS.mkdir(parents=True, exist_ok=True)
    questionnaire_set(consultation)
    context = browser.new_context(locale="es-CO", **PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/es/chapinero/questionnaire/")

    dependent = page.locator("#question-feel-safe")
    assert dependent.is_hidden()
    assert page.locator(".question__condition").first.is_hidden()
    page.screenshot(path=SHOTS / "1-phone-start.png", full_page=True)

    choose(page, "walk-alone", "yes")
    assert dependent.is_visible()
    # Focus stays on the answer just chosen; the new question is announced, not jumped to.
    assert page.evaluate("document.activeElement.name") == "q-walk-alone"
    assert "¿Qué tan seguro" in page.inner_text("#questionnaire-status")
    page.screenshot(path=SHOTS / "2-phone-condition-met.png", full_page=True)

    choose(page, "walk-alone", "no")
    assert dependent.is_hidden()

    # Required when shown: choose "yes" again, leave the scale empty, send.
    choose(page, "walk-alone", "yes")
    page.click("#questionnaire-form button[type=submit]")
    page.wait_for_selector("#error-summary")
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#question-feel-safe").is_visible()
    assert page.is_checked("input[name='q-walk-alone'][value='yes']")
    page.screenshot(path=SHOTS / "3-phone-errors.png", full_page=True)
    assert not QuestionnaireResponse.objects.exists()

    page.click("#error-summary a")
    choose(page, "feel-safe", "unsafe")
    page.fill("#q-minutes", "20")
    page.click("#questionnaire-form button[type=submit]")
    # The browser keeps the #fragment of the error link across the redirect.
    page.wait_for_url(lambda url: "/es/chapinero/questionnaire/thanks/" in url)
    page.screenshot(path=SHOTS / "4-phone-thanks.png", full_page=True)
    response = QuestionnaireResponse.objects.get()
    answers = dict(response.answers.values_list("question_code", "value"))
    assert answers == {"walk-alone": "yes", "feel-safe": "unsafe", "minutes": 20}
    context.close()


def test_without_javascript_every_question_is_shown(browser, live_server, consultation):
    SHOTS.mkdir(parents=True, exist_ok=True)
    questionnaire_set(consultation)
    context = browser.new_context(locale="es-CO", java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/es/chapinero/questionnaire/")
    assert page.locator("#question-feel-safe").is_visible()
    assert page.locator(".question__condition").first.is_visible()
    page.screenshot(path=SHOTS / "5-phone-no-js.png", full_page=True)
    context.close()

    desktop = browser.new_context(locale="es-CO", **DESKTOP)
    page = desktop.new_page()
    page.goto(f"{live_server.url}/es/chapinero/questionnaire/")
    choose(page, "walk-alone", "yes")
    page.screenshot(path=SHOTS / "6-desktop.png", full_page=True)
    page.goto(f"{live_server.url}/es/chapinero/")
    page.screenshot(path=SHOTS / "7-desktop-consultation.png")
    desktop.close()


def test_editor_sees_the_questionnaire_tab(browser, live_server, consultation):
    SHOTS.mkdir(parents=True, exist_ok=True)
    questionnaire_set(consultation)
    get_user_model().objects.create_superuser("ada", "ada@example.org", "pw")
    context = browser.new_context(locale="es-CO", **DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    # Wagtail names a tab after its heading, in the editor's language (Spanish here).
    with translation.override("es"):
        tab = f"#tab-{safe_snake_case(gettext('Questionnaire'))}"
    page.goto(f"{live_server.url}/admin/pages/{consultation.pk}/edit/")
    page.click(f"a[href='{tab}']")
    page.wait_for_selector(f"{tab} [data-contentpath='code'] input")
    codes = page.eval_on_selector_all(
        f"{tab} [data-contentpath='code'] input",
        "inputs => inputs.map(input => input.value)",
    )
    # Each question's own code field, then its condition's (empty unless set), in page order.
    assert "walk-alone" in codes and "feel-safe" in codes
    page.screenshot(path=SHOTS / "8-admin-questionnaire-tab.png")
    context.close()
