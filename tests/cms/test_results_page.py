"""The public results page of a snapshot: numbers in Spanish and English, downloads that parse,
only live pages, the cache and its invalidation when a new snapshot is published."""

import csv
import io
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from cms.models import ResultsPage
from diagnosis.models import SnapshotPublication
from tests.cms.test_results_publication import (  # noqa: F401  (fixtures)
    approved,
    facilitator,
    moderator,
    run_snapshot,
    snapshot,
)
from tests.conftest import EL_CHICO_POINT


def results_page(consultation, shown, *, publish=True) -> ResultsPage:
    page = ResultsPage(title="Resultados del diagnóstico", slug="resultados", snapshot=shown)
    consultation.add_child(instance=page)
    revision = page.save_revision()
    if publish:
        revision.publish()
    else:
        ResultsPage.objects.filter(pk=page.pk).update(live=False)
    return ResultsPage.objects.get(pk=page.pk)


@pytest.fixture
def page(approved, snapshot):  # noqa: F811
    return results_page(approved, snapshot)


def english(page, locales, categories):
    lighting = categories["lighting"].copy_for_translation(locales["en"])
    lighting.name = "Poor lighting"
    lighting.save()
    with translation.override("es"):
        translated = page.copy_for_translation(locales["en"], copy_parents=True)
    translated.title = "Diagnosis results"
    translated.save_revision().publish()
    return ResultsPage.objects.get(pk=translated.pk)


def download(client, page, name):
    return client.get(page.url + page.reverse_subpage("results_download", args=[name]))


def test_the_page_shows_the_published_numbers_in_spanish(client, page):
    response = client.get(page.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Resultados del diagnóstico" in html
    assert "Alumbrado deficiente" in html
    assert ">12<" in html  # lighting concerns, in the chart's data table
    with translation.override("es"):
        assert gettext("fewer than %(k)s") % {"k": 5} in html
    assert html.count("<svg") >= 3  # category, gender, age
    assert '<title id="chart-category-title">' in html
    assert '<desc id="chart-category-desc">' in html
    assert page.snapshot.content_hash in html
    assert "peligros" not in html.lower()
    # Bar sizes are SVG numbers, never Spanish decimals ("220,0" would draw no bar at all).
    geometry = re.findall(r'\s(?:x|y|width|height)="([^"]*)"', html)
    assert geometry and not [value for value in geometry if "," in value]


def test_the_page_reads_in_english(client, page, locales, categories):
    translated = english(page, locales, categories)
    response = client.get(translated.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Diagnosis results" in html
    assert "Poor lighting" in html
    assert "Concerns by category" in html
    assert "fewer than 5" in html
    assert "Who took part:" in html
    assert "dangerous" not in html.lower()


def test_csv_holds_every_published_table(client, page):
    response = download(client, page, "csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "table",
        "area",
        "category",
        "group",
        "subgroup",
        "count",
        "total",
        "share",
        "low",
        "high",
    ]
    by_category = {row["category"]: row for row in rows if row["table"] == "concerns_by_category"}
    assert by_category["Alumbrado deficiente"]["count"] == "12"
    assert by_category["Violencia intrafamiliar"]["count"] == "<k"
    assert {row["table"] for row in rows} >= {
        "concerns_by_category_gender",
        "concerns_by_area_category",
    }
    for row in rows:
        assert row["count"] in ("", "<k", "0") or int(row["count"]) >= 5


def test_geojson_has_areas_and_squares_but_no_point(client, page):
    response = download(client, page, "geojson")
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection"
    kinds = {feature["properties"]["kind"] for feature in data["features"]}
    assert "area" in kinds
    chico = next(f for f in data["features"] if f["properties"].get("name") == "El Chico")
    assert chico["properties"]["total"] == 17  # 9 lighting, 6 harassment, 2 domestic
    for feature in data["features"]:
        assert feature["geometry"]["type"] in ("MultiPolygon", "Polygon")
    text = response.content.decode()
    lon, lat = EL_CHICO_POINT
    assert f"{lon}," not in text and f"{lat}]" not in text


def test_pdf_report_has_the_title_and_numbers(client, page):
    response = download(client, page, "pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Resultados del diagnóstico" in text
    assert "Alumbrado deficiente" in text


def test_unknown_downloads_and_drafts_are_not_found(client, approved, snapshot):  # noqa: F811
    page = results_page(approved, snapshot, publish=False)
    assert download(client, page, "csv").status_code == 404
    live = results_page_live(page)
    assert download(client, live, "xlsx").status_code == 404
    assert download(client, live, "csv").status_code == 200


def results_page_live(page):
    page.save_revision().publish()
    return ResultsPage.objects.get(pk=page.pk)


def test_the_warm_page_reads_no_diagnosis_rows(client, page):
    client.get(page.url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page.url).status_code == 200
    assert not [q for q in queries if "diagnosis_diagnosisresult" in q["sql"]]


def test_publishing_a_new_snapshot_replaces_what_the_cache_served(
    client,
    page,
    approved,  # noqa: F811
    facilitator,  # noqa: F811
    submit,
    moderator,  # noqa: F811
    categories,
):
    first = page.snapshot
    assert SnapshotPublication.objects.filter(snapshot=first, page=page).count() == 1
    assert ">12<" in client.get(page.url).content.decode()  # warm
    for _ in range(3):
        from diagnosis.services import concern_moderate

        concern = submit(category=categories["lighting"])
        concern_moderate(concern=concern, user=moderator, status="approved")
    second = run_snapshot(approved, facilitator)
    page.snapshot = second
    page.save_revision().publish()
    html = client.get(page.url).content.decode()
    assert ">15<" in html and ">12<" not in html
    latest = SnapshotPublication.objects.filter(consultation_key=approved.translation_key).first()
    assert latest.snapshot == second


def map_data(client, page, **headers):
    return client.get(page.url + page.reverse_subpage("results_map_data"), **headers)


def test_the_map_data_route_sends_areas_and_squares_but_no_point_and_no_count_under_k(client, page):
    html = client.get(page.url).content.decode()
    assert "results-map-data" not in html  # no inline map JSON any more
    assert page.reverse_subpage("results_map_data") in html  # the script is told where
    response = map_data(client, page)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["ETag"] and "max-age" in response["Cache-Control"]
    data = json.loads(response.content)
    chico = next(f for f in data["areas"]["features"] if f["properties"]["name"] == "El Chico")
    assert chico["properties"]["text"].startswith("17")
    assert data["cells"]
    k = page.snapshot.parameters.get("k", 5)
    for cell_x, cell_y, count, flags in data["cells"]:
        assert isinstance(cell_x, int) and isinstance(cell_y, int)
        assert count is None or count >= k
        if count is None:
            assert not flags & 1  # never outlined as significant
    text = response.content.decode()
    lon, lat = EL_CHICO_POINT
    assert f"{lon}," not in text and f"{lat}]" not in text
    assert map_data(client, page, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_the_map_data_of_a_draft_is_not_found(client, approved, snapshot):  # noqa: F811
    page = results_page(approved, snapshot, publish=False)
    assert map_data(client, page).status_code == 404


def test_publishing_changes_the_map_data_version(client, page):
    first = map_data(client, page)["ETag"]
    page.save_revision().publish()
    assert map_data(client, page)["ETag"] != first
