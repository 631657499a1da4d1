"""Recording safety-walk stops (maps.walks): the rules every entry path obeys, and sync that
stores each stop exactly once."""

import datetime
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from maps.models import SafetyWalk, WalkStop
from maps.walks import (
    StopRejected,
    walk_access_code_renew,
    walk_access_code_valid,
    walk_for_code,
    walk_stop_record,
)
from tests.conftest import OUTSIDE_POINT, along_route, gps_exif, jpeg_bytes


def record(walk, **overrides):
    kwargs = {
        "walk": walk,
        "idempotency_key": uuid.uuid4(),
        "point": along_route(0.5),
        "located_by": WalkStop.Located.GPS,
        "feeling": WalkStop.Feeling.UNCOMFORTABLE,
        "scores": {"lighting": "1", "openness": 2, "people": None, "walk_path": ""},
        "hazards": [WalkStop.Hazard.ENTRAPMENT, WalkStop.Hazard.NO_HELP],
        "notes": "  Muro largo sin ventanas.  ",
    }
    kwargs.update(overrides)
    return walk_stop_record(**kwargs)


def test_stop_keeps_scores_feeling_and_hazards(walk):
    result = record(walk)
    stop = WalkStop.objects.get(pk=result.stop.pk)
    assert result.created
    assert stop.scores() == {
        "lighting": 1,
        "openness": 2,
        "visibility": None,
        "people": None,
        "security": None,
        "walk_path": None,
        "transport": None,
        "gender_diversity": None,
    }
    assert stop.feeling == "uncomfortable"
    assert stop.hazards == ["entrapment", "no_help"]
    assert stop.notes == "Muro largo sin ventanas."
    assert stop.status == "pending"
    assert stop.reference


def test_first_stop_starts_the_walk(walk):
    assert walk.status == SafetyWalk.Status.PLANNED
    record(walk)
    walk.refresh_from_db()
    assert walk.status == SafetyWalk.Status.IN_PROGRESS


def test_same_key_stores_one_stop(walk):
    key = uuid.uuid4()
    first = record(walk, idempotency_key=key)
    again = record(walk, idempotency_key=key, notes="resent by the phone")
    assert again.stop.pk == first.stop.pk and not again.created
    assert WalkStop.objects.count() == 1
    assert WalkStop.objects.get().notes == "Muro largo sin ventanas."


def test_key_of_another_walk_is_refused(walk, night_walk):
    key = uuid.uuid4()
    record(walk, idempotency_key=key)
    with pytest.raises(StopRejected):
        record(night_walk, idempotency_key=key)
    assert WalkStop.objects.filter(walk=night_walk).count() == 0


def test_public_point_is_on_the_route_but_not_the_exact_point(walk):
    stop = record(walk, point=along_route(0.3)).stop
    assert stop.public_point.distance(stop.point) > 0
    assert walk.route.distance(stop.public_point) < 1e-9


def test_stop_far_from_the_route_is_refused(walk):
    with pytest.raises(StopRejected) as refusal:
        record(walk, point=Point(*OUTSIDE_POINT, srid=4326))
    assert refusal.value.field == "point"
    assert WalkStop.objects.count() == 0


def test_stop_near_but_off_the_route_is_kept(walk):
    # GPS in a street canyon is tens of metres off: ~100 m north of the route's middle.
    middle = along_route(0.5)
    stop = record(walk, point=Point(middle.x, middle.y + 0.0009, srid=4326)).stop
    assert stop.pk


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"feeling": ""}, "feeling"),
        ({"feeling": "terrified"}, "feeling"),
        ({"scores": {"lighting": "4"}}, "lighting"),
        ({"scores": {"openness": "bad"}}, "openness"),
        ({"hazards": ["aliens"]}, "hazards"),
        ({"point": None}, "point"),
        ({"notes": "x" * 2001}, "notes"),
    ],
)
def test_bad_stops_are_refused_and_nothing_is_stored(walk, overrides, field):
    with pytest.raises(StopRejected) as refusal:
        record(walk, **overrides)
    assert refusal.value.field == field
    assert refusal.value.message
    assert WalkStop.objects.count() == 0


def test_photo_is_stripped_of_its_location(walk, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("stop.jpg", jpeg_bytes(exif=gps_exif()), content_type="image/jpeg")
    stop = record(walk, photo=upload).stop
    with Image.open(stop.photo.path) as image:
        assert not image.getexif()
        assert "exif" not in image.info


def test_clock_far_in_the_future_is_replaced_by_the_server_time(walk):
    stop = record(walk, recorded_at=timezone.now() + datetime.timedelta(days=2)).stop
    assert stop.recorded_at <= timezone.now()


def test_offline_stop_keeps_the_time_it_was_recorded(walk):
    earlier = timezone.now() - datetime.timedelta(hours=3)
    stop = record(walk, recorded_at=earlier).stop
    assert stop.recorded_at == earlier


def test_access_code_opens_its_walk_only(walk, night_walk):
    assert walk_access_code_valid(walk=walk, code=walk.access_code.lower())
    assert walk_access_code_valid(walk=walk, code=f" {walk.access_code[:4]} {walk.access_code[4:]}")
    assert not walk_access_code_valid(walk=walk, code=night_walk.access_code)
    assert not walk_access_code_valid(walk=walk, code="")
    assert walk_for_code(night_walk.access_code) == night_walk


def test_renewed_code_shuts_out_the_old_one(walk):
    old = walk.access_code
    new = walk_access_code_renew(walk=walk)
    walk.refresh_from_db()
    assert new != old and walk.access_code == new
    assert not walk_access_code_valid(walk=walk, code=old)
    assert walk_for_code(old) is None
