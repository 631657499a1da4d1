"""The XLSForm import pages in real headless Chromium, in Spanish and English: a facilitator uploads
the real UNHCR form, reads the preview, and confirms a small form into a draft.

Screenshots go to test-results/xlsform/ (and are looked at before the pages are called done).
"""

import tempfile
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext
from wagtail.users.models import UserProfile

from diagnosis.models import ConsultationPage
from tests.diagnosis.conftest import staff
from tests.diagnosis.test_xlsform import YES_NO, xlsform
from tests.diagnosis.test_xlsform_admin import SURVEY, upload_url
from tests.diagnosis.test_xlsform_rms import CAPI

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "xlsform"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def log_in(browser, live_server, username, language):
    context = browser.new_context(locale=f"{language}-CO", **DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return context, page


def test_upload_and_preview_of_the_rms_form_in_spanish(browser, live_server, consultation):
    SHOTS.mkdir(parents=True, exist_ok=True)
    staff("fede", "Facilitators")
    context, page = log_in(browser, live_server, "fede", "es")
    page.goto(live_server.url + upload_url(consultation))
    with translation.override("es"):
        assert page.locator("h1").first.inner_text().strip() == gettext("Import an XLSForm")
    page.screenshot(path=SHOTS / "1-upload-es.png", full_page=True)

    # A survey exported as CSV is refused next to the file field, with the reason.
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "encuesta.csv", "mimeType": "text/csv", "buffer": b"type,name\n"}],
    )
    page.click(".xlsform form button[type=submit]")
    page.wait_for_selector(".error-message")
    assert "encuesta.csv" in page.inner_text(".error-message")
    page.screenshot(path=SHOTS / "1b-upload-refused-es.png", full_page=True)

    page.set_input_files("input[name=file]", str(CAPI))
    page.click(".xlsform form button[type=submit]")
    page.wait_for_selector("#xlsform-questions")
    assert "¿Qué grado de seguridad siente al caminar sin compañía" in page.inner_text("main")
    assert page.locator("#xlsform-skipped").is_visible()
    page.screenshot(path=SHOTS / "2-preview-es.png")
    page.locator("#xlsform-skipped").scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "3-preview-es-report.png")
    context.close()
    # Nothing was stored by looking.
    draft = ConsultationPage.objects.get(pk=consultation.pk).get_latest_revision_as_object()
    assert list(draft.questionnaire) == []


def test_upload_preview_and_confirm_in_english(browser, live_server, consultation):
    SHOTS.mkdir(parents=True, exist_ok=True)
    user = staff("fede", "Facilitators")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    context, page = log_in(browser, live_server, "fede", "en")
    page.goto(live_server.url + upload_url(consultation))
    assert page.locator("h1").first.inner_text().strip() == "Import an XLSForm"
    page.screenshot(path=SHOTS / "4-upload-en.png", full_page=True)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "walks.xlsx"
        path.write_bytes(xlsform(SURVEY, YES_NO))
        page.set_input_files("input[name=file]", str(path))
        page.click(".xlsform form button[type=submit]")
    page.wait_for_selector("#xlsform-questions")
    page.screenshot(path=SHOTS / "5-preview-en.png", full_page=True)
    page.click("form[action$='/confirm/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/pages/{consultation.pk}/edit/")
    assert "3 questions imported" in page.inner_text(".messages")
    page.screenshot(path=SHOTS / "6-editor-en.png")
    context.close()
    draft = ConsultationPage.objects.get(pk=consultation.pk).get_latest_revision_as_object()
    assert [child.value["code"] for child in draft.questionnaire] == [
        "walk-alone",
        "minutes",
        "where",
    ]
