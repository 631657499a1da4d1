"""The report import in real headless Chromium: a facilitator uploads the real NYC 311 sample,
maps its categories, reads the preview and imports.

Screenshots go to test-results/open311-import/ at 1280 and 360 px (looked at before the pages
were called done).
"""

from pathlib import Path

import pytest
from wagtail.users.models import UserProfile

from diagnosis.models import Concern
from diagnosis.services.groups import FACILITATORS
from tests.diagnosis.conftest import staff
from tests.opendata.test_open311_csv import NYC_BOX, NYC_FILE, make_consultation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "open311-import"


def log_in(browser, live_server, username, width):
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return context, page


def test_upload_map_and_import_the_nyc_sample(browser, live_server, home, locales):
    SHOTS.mkdir(parents=True, exist_ok=True)
    consultation, categories = make_consultation(home, locales, NYC_BOX)
    user = staff("fede", FACILITATORS)
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()

    # The narrow screen first: the pages must work on a phone too (nothing imported here).
    context, page = log_in(browser, live_server, "fede", 360)
    page.goto(f"{live_server.url}/admin/concerns/import-csv/{consultation.pk}/")
    page.screenshot(path=SHOTS / "360-1-upload.png", full_page=True)
    page.set_input_files("input[name=file]", str(NYC_FILE))
    page.fill("input[name=time_zone]", "America/New_York")
    page.click(".o311 form button[type=submit]")
    page.wait_for_selector("#o311-mapping")
    page.screenshot(path=SHOTS / "360-2-mapping.png")
    context.close()

    context, page = log_in(browser, live_server, "fede", 1280)
    page.goto(f"{live_server.url}/admin/concerns/import-csv/")
    page.click(f"text={consultation.title}")
    assert page.locator("h1").first.inner_text().strip() == "Import reports (CSV)"
    page.screenshot(path=SHOTS / "1280-1-upload.png", full_page=True)

    # A file that is not a 311 export is refused next to the file field.
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": b"name,age\nRosa,40\n"}],
    )
    page.fill("input[name=time_zone]", "America/New_York")
    page.click(".o311 form button[type=submit]")
    page.wait_for_selector(".error-message")
    assert "does not look like a file of Open311" in page.inner_text(".error-message")
    page.screenshot(path=SHOTS / "1280-1b-refused.png", full_page=True)

    page.set_input_files("input[name=file]", str(NYC_FILE))
    page.fill("input[name=time_zone]", "America/New_York")
    page.click(".o311 form button[type=submit]")
    page.wait_for_selector("#o311-mapping")
    row = page.locator("#o311-mapping tbody tr").first
    assert "Noise - Residential" in row.inner_text()
    assert "392" in row.inner_text()
    assert page.inner_text("#o311-accepted") == "861"
    page.screenshot(path=SHOTS / "1280-2-mapping.png")

    # Blocked driveways become illegal parking; the preview follows.
    page.select_option(
        "#o311-mapping tr:has-text('Blocked Driveway') select",
        str(categories["parking"].translation_key),
    )
    page.click("button[value=preview]")
    page.wait_for_selector("#o311-preview")
    assert page.inner_text("#o311-accepted") == "903"
    page.locator("#o311-reasons").scroll_into_view_if_needed()
    page.locator("details").first.locator("summary").click()
    page.screenshot(path=SHOTS / "1280-3-preview.png")

    # 903 concerns, each through concern_submit and (without a broker) processed in-process.
    page.click("#o311-import", timeout=180_000)
    page.wait_for_selector("#o311-created", timeout=180_000)
    assert page.inner_text("#o311-created") == "903"
    page.screenshot(path=SHOTS / "1280-4-result.png", full_page=True)
    context.close()
    assert Concern.objects.filter(consultation=consultation).count() == 903
    assert Concern.objects.filter(status=Concern.Status.PENDING).count() == 903
