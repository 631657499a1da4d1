"""Bulk open-data exports: what each file holds, and the job's life from request to expiry.

Every request goes through the real HTTP API (`/api/exports/`); the job runs in-process (no
broker), when the request's transaction commits.
"""

import csv
import io
import json
from datetime import timedelta

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone, translation
from django.utils.translation import gettext

from diagnosis.models import OpenDataExport
from diagnosis.services.open_data_exports import open_data_exports_cleanup
from tests.integration.conftest import celery_publishing_to, closed_port
from tests.opendata.conftest import EXACT_POINTS, approve, contains_point

pytestmark = pytest.mark.django_db

# What a public concern row is made of, spelled out here (not imported) so that a column added to
# the files by mistake — a description, a time — fails these tests.
CONCERN_PROPERTIES = [
    "id",
    "consultation",
    "category",
    "category_name",
    "kind",
    "area_id",
    "area",
    "date",
    "status",
]


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    """POST /api/exports/ as JSON and run the job the request queued (as without a broker)."""

    def _ask(*, headers=None, query="", **body):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/exports/" + query,
                data=json.dumps(body),
                content_type="application/json",
                headers=headers or {},
            )
        if response.status_code == 202:
            # What a client polling the job sees once it has run.
            response.job = client.get(response.json()["links"]["self"]).json()
        return response

    return _ask


def download(client, job):
    response = client.get(job["links"]["download"])
    assert response.status_code == 200
    return response, b"".join(response.streaming_content)


def assert_no_private_detail(text: str, data):
    for concern in [data["pending"], data["rejected"], *data["sensitive"]]:
        assert concern.public_id not in text
    for concern in [*data["shown"], data["asset"], data["pending"], *data["sensitive"]]:
        assert concern.reference not in text
    assert "muy oscura" not in text  # the description
    for lon, lat in EXACT_POINTS:
        assert not contains_point(text, lon, lat)


def test_the_csv_lists_the_approved_public_concerns_and_nothing_private(
    ask, client, public_concerns_data
):
    response = ask(dataset="concerns", format="csv")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"  # the job runs when the request commits
    job = response.job
    assert job["status"] == "done"
    file, content = download(client, job)
    assert file["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="convive-concerns-es-' in file["Content-Disposition"]
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for accents
    text = content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [*CONCERN_PROPERTIES, "lon", "lat"]
    shown = [*public_concerns_data["shown"], public_concerns_data["asset"]]
    assert {row["id"] for row in rows} == {concern.public_id for concern in shown}
    assert {row["category"] for row in rows} == {"poor-lighting", "community-centre"}
    for row in rows:
        assert len(row["lon"].split(".")[1]) <= 5
        assert row["area"] == "El Chico"
    assert_no_private_detail(text, public_concerns_data)


def test_the_geojson_is_an_rfc_7946_feature_collection_of_public_points(
    ask, client, public_concerns_data, submit, barrios
):
    by_area = submit(point=None, area=barrios[1])
    approve(by_area)
    job = ask(dataset="concerns", format="geojson").job
    file, content = download(client, job)
    assert file["Content-Type"] == "application/geo+json"
    collection = json.loads(content)
    assert collection["type"] == "FeatureCollection"
    assert "crs" not in collection
    features = {feature["id"]: feature for feature in collection["features"]}
    assert set(features) == {
        c.public_id
        for c in [*public_concerns_data["shown"], public_concerns_data["asset"], by_area]
    }
    assert features[by_area.public_id]["geometry"] is None
    for concern in public_concerns_data["shown"]:
        feature = features[concern.public_id]
        lon, lat = feature["geometry"]["coordinates"]
        assert (lon, lat) == (
            round(concern.public_point.x, 5),
            round(concern.public_point.y, 5),
        )
        assert list(feature["properties"]) == CONCERN_PROPERTIES
    assert_no_private_detail(content.decode(), public_concerns_data)


def test_the_workbook_has_numeric_cells_and_an_about_sheet(ask, client, public_concerns_data):
    job = ask(dataset="concerns", format="xlsx", lang="en").job
    file, content = download(client, job)
    assert file["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    data, about = workbook.worksheets
    assert about.title == "About"
    rows = list(data.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:3] == ("id", "consultation", "category")
    assert len(body) == 3
    record = dict(zip(header, body[0], strict=True))
    assert isinstance(record["area_id"], int)
    assert isinstance(record["lon"], float) and isinstance(record["lat"], float)
    assert record["date"].date() == timezone.localdate()
    assert record["category_name"] in {"Alumbrado deficiente", "Centro comunitario"}
    about_text = "\n".join(
        str(value) for row in about.iter_rows(values_only=True) for value in row if value
    )
    assert "CC BY 4.0" in about_text
    assert "Only approved concerns" in about_text
    assert "Category code" in about_text  # the meaning of each column
    assert_no_private_detail(
        "\n".join(str(v) for row in rows for v in row if v is not None), public_concerns_data
    )


def test_area_totals_show_sensitive_categories_only_from_k(
    ask, client, public_concerns_data, submit, categories, barrios
):
    job = ask(dataset="area-totals", format="csv").job
    rows = list(csv.DictReader(io.StringIO(download(client, job)[1].decode("utf-8-sig"))))
    by_category = {row["category"]: row for row in rows}
    assert by_category["domestic-violence"]["sensitive"] == "true"
    assert by_category["domestic-violence"]["count"] == "5"
    assert by_category["poor-lighting"]["count"] == "2"
    assert by_category["poor-lighting"]["sensitive"] == "false"

    # One sensitive concern in another area: below k, so that area's total is not published.
    lonely = submit(category=categories["domestic"], point=None, area=barrios[1])
    approve(lonely)
    job = ask(dataset="area-totals", format="geojson").job
    assert job["status"] == "done"
    features = json.loads(download(client, job)[1])["features"]
    sensitive = [f["properties"] for f in features if f["properties"]["sensitive"]]
    assert [(row["area"], row["count"]) for row in sensitive] == [("El Chico", 5)]
    assert all(feature["geometry"] is None for feature in features)


def test_a_job_reports_progress_then_offers_its_file(client, public_concerns_data):
    with_commit = client.post(
        "/api/exports/",
        data=json.dumps({"dataset": "concerns", "format": "csv"}),
        content_type="application/json",
    )
    # The job is queued when the request commits; until then it waits.
    queued = with_commit.json()
    assert with_commit.status_code == 202
    assert queued["status"] == "queued"
    assert "download" not in queued["links"]
    assert with_commit["Location"] == f"/api/exports/{queued['id']}"
    assert len(queued["id"]) >= 20  # random, not a sequence number
    assert client.get(f"/api/exports/{queued['id']}/download").status_code == 404

    from diagnosis.services.open_data_exports import open_data_export_run

    assert open_data_export_run(export_id=queued["id"])
    polled = client.get(f"/api/exports/{queued['id']}").json()
    assert polled["status"] == "done"
    assert polled["progress"] == {"rows_done": 3, "rows_total": 3, "fraction": 1.0}
    assert polled["links"]["download"].endswith(f"/api/exports/{queued['id']}/download")
    assert download(client, polled)[1].count(b"\r\n") == 4  # header + 3 rows


def test_the_same_request_reuses_the_file_until_the_data_changes(
    ask, client, public_concerns_data, submit
):
    first = ask(dataset="concerns", format="csv").job
    again = ask(dataset="concerns", format="csv").job
    assert again["id"] == first["id"]
    assert OpenDataExport.objects.count() == 1
    # Another format or language is another file.
    assert ask(dataset="concerns", format="csv", lang="en").job["id"] != first["id"]

    approve(submit())
    changed = ask(dataset="concerns", format="csv").job
    assert changed["id"] != first["id"]
    assert changed["progress"]["rows_done"] == 4


def test_a_failed_export_says_so_and_offers_no_file(ask, client, public_concerns_data, settings):
    # Storage that cannot be written (a folder below a plain file).
    blocker = settings.MEDIA_ROOT / "not-a-folder"
    blocker.write_text("x")
    settings.MEDIA_ROOT = blocker / "media"
    job = ask(dataset="concerns", format="xlsx", query="?lang=en").job
    assert job["status"] == "failed"
    assert job["error"] == "The export failed. Please try again later."
    assert "download" not in job["links"]
    assert client.get(f"/api/exports/{job['id']}/download").status_code == 404
    assert not OpenDataExport.objects.get(pk=job["id"]).file


def test_an_export_the_broker_refuses_is_failed_with_a_message(ask, client, public_concerns_data):
    """No worker will ever take a job a broker did not accept: the reader is told at once."""
    with celery_publishing_to(f"redis://127.0.0.1:{closed_port()}/0", queue="nobody"):
        response = ask(dataset="concerns", format="csv", query="?lang=es")
    assert response.status_code == 202
    job = response.job
    assert job["status"] == "failed"
    with translation.override("es"):
        assert job["error"] == gettext(OpenDataExport.Error.NOT_QUEUED.label)
    assert "download" not in job["links"]
    export = OpenDataExport.objects.get(pk=job["id"])
    assert export.error == OpenDataExport.Error.NOT_QUEUED and "Error" in export.error_detail


def test_expired_files_are_deleted_by_the_cleanup(ask, client, public_concerns_data):
    job = ask(dataset="concerns", format="geojson").job
    export = OpenDataExport.objects.get(pk=job["id"])
    name = export.file.name
    assert default_storage.exists(name)
    open_data_exports_cleanup(now=timezone.now() + timedelta(hours=47))
    assert default_storage.exists(name)
    open_data_exports_cleanup(now=timezone.now() + timedelta(hours=49))
    assert not default_storage.exists(name)
    assert client.get(f"/api/exports/{job['id']}").json()["status"] == "expired"
    assert client.get(f"/api/exports/{job['id']}/download").status_code == 410
    # Asking again makes a new file.
    assert ask(dataset="concerns", format="geojson").job["id"] != job["id"]


def test_bad_input_is_refused_in_the_requests_language(ask, public_concerns_data):
    response = ask(dataset="everything", format="pdf", query="?lang=fr")
    assert response.status_code == 400
    body = response.json()
    assert set(body["fields"]) == {"dataset", "format"}
    assert "Sélectionnez un choix valide" in body["fields"]["dataset"][0]
    spanish = ask(dataset="concerns", headers={"Accept-Language": "es"})
    assert spanish.status_code == 400
    assert "format" in spanish.json()["fields"]
    unknown = ask(dataset="concerns", format="csv", consultation="no-such-thing", lang="en")
    assert unknown.status_code == 400
    assert "no-such-thing" in unknown.json()["fields"]["consultation"][0]
    not_an_object = ask(query="?lang=en")
    assert not_an_object.status_code == 400
    assert OpenDataExport.objects.count() == 0


def test_a_consultation_filter_by_slug_or_key(ask, client, public_concerns_data, consultation):
    by_slug = ask(dataset="concerns", format="csv", consultation="chapinero").job
    by_key = ask(
        dataset="concerns", format="csv", consultation=str(consultation.translation_key)
    ).job
    assert by_slug["id"] == by_key["id"]
    assert by_slug["consultation"] == str(consultation.translation_key)
    file, _content = download(client, by_slug)
    assert "convive-concerns-chapinero-es-" in file["Content-Disposition"]


def test_an_unknown_export_is_not_found(client, db):
    assert client.get("/api/exports/nope").status_code == 404
    assert client.get("/api/exports/nope/download").status_code == 404
    assert client.get("/es/open-data/exports/nope/").status_code == 404


def test_new_exports_are_rate_limited_per_client(ask, public_concerns_data, settings):
    settings.CONVIVE_RATE_LIMIT_ENABLED = True
    settings.CONVIVE_OPEN_DATA_EXPORT_RATE_LIMIT = "1/3600"
    first = ask(dataset="concerns", format="csv")
    assert first.status_code == 202
    # The same file again costs nothing and is not limited.
    assert ask(dataset="concerns", format="csv").status_code == 202
    limited = ask(dataset="concerns", format="xlsx", lang="en")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert "Try again in" in limited.json()["error"]
    assert OpenDataExport.objects.count() == 1


def test_the_workbook_speaks_the_language_asked_for(ask, client, public_concerns_data):
    from django.utils import translation
    from django.utils.translation import pgettext

    job = ask(dataset="concerns", format="xlsx", lang="es").job
    _file, content = download(client, job)
    about = openpyxl.load_workbook(io.BytesIO(content)).worksheets[1]
    with translation.override("es"):
        assert about.title == pgettext("spreadsheet sheet", "About") == "Acerca de"
