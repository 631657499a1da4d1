"""The open-data page: explaining the data, and asking for a file without and with JavaScript."""

import re
from pathlib import Path

import pytest

from diagnosis.models import OpenDataExport
from diagnosis.services.open_data_exports import open_data_export_run

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "open-data"


@pytest.mark.django_db
def test_the_page_explains_the_data_and_links_the_apis(client, consultation):
    response = client.get("/en/open-data/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "CC BY 4.0" in html
    for link in ('href="/open311/v2/', 'href="/api/features/"', 'href="/api/schema/"'):
        assert link in html
    # Every control has a label; the consultation list names the live consultation.
    for name in ("dataset", "format", "consultation"):
        assert f'<label for="id_{name}">' in html
    assert "Chapinero se cuida" in html


@pytest.mark.django_db
def test_a_file_is_requested_without_javascript(
    client, public_concerns_data, consultation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/es/open-data/",
            {
                "dataset": "concerns",
                "format": "csv",
                "consultation": str(consultation.translation_key),
            },
        )
    assert response.status_code == 302
    job_url = response["Location"]
    assert re.fullmatch(r"/es/open-data/exports/[\w-]{20,}/", job_url)
    # Before the job runs, the page shows its progress and reloads itself.
    waiting = client.get(job_url).content.decode()
    assert "<progress" in waiting
    assert 'http-equiv="refresh"' in waiting
    assert "Download" not in waiting and "Descargar" not in waiting
    for callback in callbacks:
        callback()
    ready = client.get(job_url).content.decode()
    assert "<progress" not in ready
    assert 'http-equiv="refresh"' not in ready
    export = OpenDataExport.objects.get()
    assert f'href="/api/exports/{export.pk}/download"' in ready
    assert client.get(f"/api/exports/{export.pk}/download").status_code == 200


@pytest.mark.django_db
def test_a_wrong_choice_is_shown_next_to_its_field(client, consultation):
    response = client.post("/en/open-data/", {"dataset": "everything", "format": "csv"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-invalid="true" aria-describedby="id_dataset-error"' in html
    assert 'id="id_dataset-error"' in html
    assert 'href="#id_dataset"' in html  # the summary links to the field
    assert OpenDataExport.objects.count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_page_updates_to_the_download_link_and_fits_a_phone(
    browser, live_server, public_concerns_data, consultation
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    wide = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        desktop = wide.new_page()
        desktop.goto(live_server.url + "/en/open-data/")
        desktop.screenshot(path=SHOTS / "open-data-1280.png", full_page=True)
    finally:
        wide.close()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/en/open-data/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=SHOTS / "open-data-360.png", full_page=True)
        page.select_option("#id_dataset", "concerns")
        page.select_option("#id_format", "geojson")
        page.click("button[type=submit]")
        # No broker: the job runs as the request commits, so the file is ready at once.
        page.wait_for_selector("#od-download")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=SHOTS / "job-done-360.png", full_page=True)

        # A job still waiting: the page polls the API and shows the link once it is done.
        waiting = OpenDataExport.objects.create(
            dataset="walk-stops", format="csv", language="en", data_version="x"
        )
        page.goto(live_server.url + f"/en/open-data/exports/{waiting.pk}/")
        assert page.locator("progress").count() == 1
        assert page.locator("#od-download").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=SHOTS / "job-waiting-360.png", full_page=True)
        open_data_export_run(export_id=waiting.pk)
        page.wait_for_selector("#od-download", timeout=10_000)
        href = page.get_attribute("#od-download", "href")
        assert href == f"/api/exports/{waiting.pk}/download"
    finally:
        context.close()
