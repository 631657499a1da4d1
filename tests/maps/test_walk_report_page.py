"""The public pages of safety-walk reports: who may see them, what they show, their exports, the
consultation page's list of walks, and a query count that does not grow with the stops."""

import csv
import io
import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from maps.models import ModerationStatus, SafetyWalk, WalkParticipants, WalkStop
from maps.walks import walk_stop_record
from tests.conftest import along_route

C, U, F = "comfortable", "uncomfortable", "frightening"


def record(walk, fraction, feeling, *, status=ModerationStatus.APPROVED, notes="", **kwargs):
    stop = walk_stop_record(
        walk=walk,
        idempotency_key=uuid.uuid4(),
        point=along_route(fraction),
        located_by=WalkStop.Located.GPS,
        feeling=feeling,
        scores=kwargs.pop("scores", {}),
        hazards=kwargs.pop("hazards", []),
        notes=notes,
    ).stop
    WalkStop.objects.filter(pk=stop.pk).update(status=status, moderated_at=timezone.now())
    stop.refresh_from_db()
    return stop


def publish(*walks):
    SafetyWalk.objects.filter(pk__in=[w.pk for w in walks]).update(
        report_published_at=timezone.now(), status=SafetyWalk.Status.DONE
    )
    for walk in walks:
        walk.refresh_from_db()


def url(name, walk=None, language="es"):
    with translation.override(language):
        if walk is None:
            return reverse(f"walk_reports:{name}")
        return reverse(f"walk_reports:{name}", kwargs={"uuid": walk.uuid})


@pytest.fixture
def filled(walk, night_walk):
    """Day and night walks of the same route with approved, pending and rejected stops."""
    record(walk, 0.1, C, scores={"lighting": 3, "people": 2}, notes="Buena luz en la esquina.")
    record(walk, 0.4, C, scores={"lighting": 3, "people": 2})
    record(walk, 0.7, U, scores={"lighting": 2}, hazards=["entrapment"])
    record(walk, 0.9, F, scores={"lighting": 0}, status=ModerationStatus.PENDING, notes="PENDIENTE")
    record(night_walk, 0.1, F, scores={"lighting": 0, "people": 0}, hazards=["no_help"])
    record(night_walk, 0.4, U, scores={"lighting": 1, "people": 0})
    record(night_walk, 0.7, F, scores={"lighting": 0}, hazards=["entrapment"])
    record(night_walk, 0.8, C, status=ModerationStatus.REJECTED, notes="RECHAZADA")
    return walk, night_walk


# --- Who sees what ----------------------------------------------------------------------------


def test_index_lists_only_published_reports(client, filled):
    walk, night = filled
    publish(night)
    response = client.get(url("index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert night.title in html
    assert reverse("walk_reports:report", kwargs={"uuid": night.uuid}) in html
    assert f">{walk.title}<" not in html
    with translation.override("es"):
        assert ngettext("%(n)s stop", "%(n)s stops", 3) % {"n": 3} in html


def test_unpublished_report_and_exports_are_not_found_for_the_public(client, filled):
    walk, _night = filled
    for name in ("report", "geojson", "csv"):
        assert client.get(url(name, walk)).status_code == 404
    # A made-up uuid is a plain 404 too.
    assert client.get(f"/es/walks/{uuid.uuid4()}/").status_code == 404


def test_staff_see_a_preview_with_a_banner_that_is_never_cached(client, filled):
    walk, _night = filled
    staff = get_user_model().objects.create_user("ana", "ana@example.org", "pw", is_staff=True)
    client.force_login(staff)
    response = client.get(url("report", walk))
    assert response.status_code == 200
    with translation.override("es"):
        assert gettext("Preview: this report is not published.") in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert client.get(url("geojson", walk)).status_code == 200


def test_people_who_may_view_walks_see_the_preview_others_do_not(client, filled):
    walk, _night = filled
    User = get_user_model()
    viewer = User.objects.create_user("vera", "vera@example.org", "pw")
    viewer.user_permissions.add(Permission.objects.get(codename="view_safetywalk"))
    other = User.objects.create_user("otto", "otto@example.org", "pw")
    client.force_login(other)
    assert client.get(url("report", walk)).status_code == 404
    client.force_login(viewer)
    assert client.get(url("report", walk)).status_code == 200


def test_published_report_is_public_without_a_banner(client, filled):
    walk, night = filled
    publish(walk, night)
    response = client.get(url("report", night))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="walk-banner"' not in html
    with translation.override("es"):
        assert gettext("Preview: this report is not published.") not in html
    assert "public" in response["Cache-Control"]


# --- What the report shows --------------------------------------------------------------------


def test_report_shows_the_walk_its_numbers_and_the_day_night_comparison(client, filled, settings):
    walk, night = filled
    settings.CONVIVE_SUPPRESSION_K = 5
    WalkParticipants.objects.create(walk=night, gender="women", age_band="30-44", count=7)
    WalkParticipants.objects.create(walk=night, gender="men", age_band="30-44", count=2)
    publish(walk, night)
    response = client.get(url("report", night, "en"))
    html = response.content.decode()
    assert response.status_code == 200
    assert night.title in html
    assert "Night" in html and "Dark, street lights on" in html
    # Participants: 9 walked; "men" (2) is under k, and women is then hidden too (total shown).
    assert "9 people walked." in html
    assert "fewer than 5" in html
    assert ">7<" not in html
    # Approved stops only: 3 night stops, the rejected one's note never appears.
    assert "RECHAZADA" not in html and "PENDIENTE" not in html
    assert "Stops along the route" in html
    # All three night stops felt unsafe at poor lighting: "2 of 3"? No: lighting 0, 1, 0 are
    # all poor, and all three felt unsafe — too few to give a percentage.
    assert "3 of 3" in html and "too few to compare" in html
    # Comparison: day lighting 3, 3, 2 (2.7) and night 0, 1, 0 (0.3): worse, by −2.3.
    assert "Day and Night" in html
    assert "2.7" in html and "0.3" in html and "-2.3" in html
    assert 'class="verdict verdict--worse"' in html
    assert "<svg" in html and "<title" in html and "<desc" in html
    assert reverse("walk_reports:report", kwargs={"uuid": walk.uuid}) in html


@pytest.mark.parametrize("language", ["es", "en", "fr", "pt"])
def test_report_and_index_in_every_language(client, filled, language):
    walk, night = filled
    publish(walk, night)
    response = client.get(url("report", night, language))
    assert response.status_code == 200
    assert f'<html lang="{language}"' in response.content.decode()
    assert response.request["PATH_INFO"].startswith(f"/{language}/walks/")
    assert client.get(url("index", language=language)).status_code == 200


# --- Exports ----------------------------------------------------------------------------------


def test_geojson_export_has_approved_stops_at_public_points_only(client, filled):
    walk, night = filled
    publish(walk, night)
    response = client.get(url("geojson", night))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert "attachment;" in response["Content-Disposition"]
    assert (
        f"walk-{night.date.isoformat()}-camino-al-colegio-noche-stops.geojson"
        in (response["Content-Disposition"])
    )
    body = response.content.decode()
    data = json.loads(body)
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == 3
    approved = WalkStop.objects.filter(walk=night, status=ModerationStatus.APPROVED)
    by_reference = {stop.reference: stop for stop in approved}
    for feature in data["features"]:
        properties = feature["properties"]
        stop = by_reference[properties["reference"]]
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert (lon, lat) == (round(stop.public_point.x, 5), round(stop.public_point.y, 5))
        # The exact point, at any precision we publish, is nowhere in the file.
        assert f"{stop.point.x:.5f}" not in body or f"{stop.point.y:.5f}" not in body
        assert (round(stop.point.x, 5), round(stop.point.y, 5)) != (lon, lat)
        assert properties["walk"] == str(night.uuid)
        assert properties["time_of_day"] == "night"
        assert properties["recorded_date"] == timezone.localdate(stop.recorded_at).isoformat()
        assert set(properties) >= {"feeling", "lighting", "transport", "hazards", "notes"}
        assert properties["transport"] is None
    assert sorted(f["properties"]["order"] for f in data["features"]) == [1, 2, 3]
    assert data["walk"]["route"]["type"] == "LineString"
    assert "RECHAZADA" not in body


def test_csv_export_has_a_header_and_one_row_per_approved_stop(client, filled):
    walk, night = filled
    publish(walk, night)
    response = client.get(url("csv", walk))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('-stops.csv"')
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "walk",
        "reference",
        "order",
        "recorded_date",
        "time_of_day",
        "feeling",
        "lighting",
        "openness",
        "visibility",
        "people",
        "security",
        "walk_path",
        "transport",
        "gender_diversity",
        "hazards",
        "notes",
        "photo",
        "lon",
        "lat",
    ]
    assert len(rows) == 3
    first = rows[0]
    assert first["order"] == "1" and first["feeling"] == "comfortable"
    assert first["lighting"] == "3" and first["transport"] == ""
    assert first["notes"] == "Buena luz en la esquina."
    assert rows[2]["hazards"] == "entrapment"
    stop = WalkStop.objects.get(reference=first["reference"])
    assert (float(first["lon"]), float(first["lat"])) == (
        round(stop.public_point.x, 5),
        round(stop.public_point.y, 5),
    )
    assert "PENDIENTE" not in text


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(client, walk):
    record(walk, 0.3, C, notes='=HYPERLINK("http://example.org")')
    publish(walk)
    rows = list(
        csv.DictReader(io.StringIO(client.get(url("csv", walk)).content.decode("utf-8-sig")))
    )
    assert rows[0]["notes"].startswith("'=")


# --- Queries ----------------------------------------------------------------------------------


def queries_for(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_report_queries_do_not_grow_with_the_stops(client, walk, night_walk):
    publish(walk, night_walk)
    for index in range(5):
        record(walk, index / 5, C, scores={"lighting": 2})
        record(night_walk, index / 5, F, scores={"lighting": 0})
    few = queries_for(client, url("report", night_walk))
    few_export = queries_for(client, url("geojson", night_walk))
    for index in range(45):
        record(walk, index / 45, U, scores={"lighting": 1}, hazards=["entrapment"])
        record(night_walk, index / 45, F, scores={"lighting": 0}, hazards=["no_help"])
    many = queries_for(client, url("report", night_walk))
    assert many == few
    assert queries_for(client, url("geojson", night_walk)) == few_export
    assert many <= 10


# --- The consultation page --------------------------------------------------------------------


def test_consultation_page_lists_its_published_walks(client, consultation, filled):
    walk, night = filled
    publish(night)
    consultation.walks.set([walk, night])
    consultation.save_revision().publish()
    html = client.get(consultation.url).content.decode()
    assert reverse("walk_reports:report", kwargs={"uuid": night.uuid}) in html
    assert night.title in html
    assert reverse("walk_reports:report", kwargs={"uuid": walk.uuid}) not in html


def test_consultation_translation_keeps_the_same_walks(consultation, filled, locales):
    from wagtail_localize.fields import SynchronizedField, get_translatable_fields

    _walk, night = filled
    fields = {f.field_name: f for f in get_translatable_fields(type(consultation))}
    assert isinstance(fields["walks"], SynchronizedField)
    consultation.walks.set([night])
    consultation.save_revision().publish()
    english = consultation.copy_for_translation(locales["en"])
    assert [w.pk for w in english.walks.all()] == [night.pk]


def test_a_stop_approved_after_the_page_was_seen_shows_at_once(client, filled):
    walk, night = filled
    publish(walk, night)
    assert "PENDIENTE" not in client.get(url("report", walk)).content.decode()
    WalkStop.objects.filter(notes="PENDIENTE").update(
        status=ModerationStatus.APPROVED, moderated_at=timezone.now()
    )
    html = client.get(url("report", walk)).content.decode()
    assert "PENDIENTE" in html
    WalkStop.objects.filter(notes="PENDIENTE").update(
        status=ModerationStatus.HIDDEN, moderated_at=timezone.now()
    )
    assert "PENDIENTE" not in client.get(url("report", walk)).content.decode()


def test_an_unpublished_report_is_gone_at_once_even_if_its_page_was_cached(client, filled):
    walk, night = filled
    publish(walk, night)
    assert client.get(url("report", night)).status_code == 200
    SafetyWalk.objects.filter(pk=night.pk).update(report_published_at=None)
    assert client.get(url("report", night)).status_code == 404
