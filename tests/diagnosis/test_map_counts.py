"""The public map's summary counts follow moderation, and a rebuild gives the same numbers."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.core.management import CommandError, call_command

from diagnosis.models import Concern, ConcernAreaCount, ConcernCellCount
from diagnosis.selectors import public_concern_features
from diagnosis.services import ModerationRefused, concern_moderate, concern_moderate_bulk
from diagnosis.services.map_counts import map_counts_rebuild

CHAPINERO = (-74.08, 4.63, -74.02, 4.70)
# Two points of El Chico in different public cells.
EL_CHICO = [(-74.0512, 4.6735), (-74.0475, 4.6712)]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def moderator(db):
    return get_user_model().objects.create_user(
        "moderator", "moderator@example.org", "pw", is_staff=True, is_superuser=True
    )


@pytest.fixture
def decide(moderator):
    def _decide(status, *concerns):
        reason = "" if status == "approved" else "Not for the public map."
        if len(concerns) == 1:
            concern_moderate(concern=concerns[0], user=moderator, status=status, reason=reason)
        else:
            concern_moderate_bulk(concerns=concerns, user=moderator, status=status, reason=reason)

    return _decide


def cell_counts() -> dict:
    return {
        (row.consultation_key, row.cell_x, row.cell_y, row.category_key): row.count
        for row in ConcernCellCount.objects.all()
    }


def area_counts() -> dict:
    return {
        (row.consultation_key, row.area_id, row.category_key): row.count
        for row in ConcernAreaCount.objects.all()
    }


def shown(consultation, zoom=13) -> dict:
    data = public_concern_features(
        consultation_key=consultation.translation_key, bbox=CHAPINERO, zoom=zoom
    )
    categories = data["meta"]["categories"]
    on_map = sum(count for f in data["features"] for _index, count in f["properties"]["counts"])
    by_area = {
        (row["area"], categories[index]["code"]): count
        for name in ("area_counts", "sensitive_area_totals")
        for row in data["meta"][name]
        for index, count in row["counts"]
    }
    return {"on_map": on_map, "by_area": by_area}


def test_approving_a_concern_counts_it_in_its_cell_and_area(consultation, submit, decide):
    concern = submit()
    assert cell_counts() == {} and area_counts() == {}
    decide("approved", concern)
    assert cell_counts() == {
        (concern.consultation_key, concern.cell_x, concern.cell_y, concern.category_key): 1
    }
    assert area_counts() == {(concern.consultation_key, concern.area_id, concern.category_key): 1}
    assert shown(consultation) == {"on_map": 1, "by_area": {("El Chico", "poor-lighting"): 1}}


def test_hiding_an_approved_concern_takes_it_off_the_map(consultation, submit, decide):
    concern = submit()
    decide("approved", concern)
    decide("hidden", concern)
    assert cell_counts() == {} and area_counts() == {}  # no rows left at zero
    assert shown(consultation) == {"on_map": 0, "by_area": {}}
    decide("approved", concern)  # approved again later: back on the map
    assert shown(consultation)["on_map"] == 1


def test_approving_twice_counts_once(consultation, submit, decide):
    concern = submit()
    decide("approved", concern)
    decide("approved", concern)
    assert list(cell_counts().values()) == [1] and list(area_counts().values()) == [1]


def test_bulk_approval_counts_every_concern(consultation, submit, decide):
    decide("approved", submit(), submit(), submit())
    assert list(cell_counts().values()) == [3]
    assert shown(consultation) == {"on_map": 3, "by_area": {("El Chico", "poor-lighting"): 3}}
    # A bulk decision over approved and pending concerns moves only the approved ones.
    pending = submit()
    approved = Concern.objects.filter(status="approved")[:2]
    decide("rejected", pending, *approved)
    assert list(cell_counts().values()) == [1]


def test_rejecting_a_pending_concern_changes_nothing(consultation, submit, decide):
    decide("approved", submit())
    before = (cell_counts(), area_counts())
    decide("rejected", submit())
    assert (cell_counts(), area_counts()) == before


def test_a_refused_decision_leaves_the_counts_alone(consultation, submit, decide, moderator):
    concern = submit()
    decide("approved", concern)
    with pytest.raises(ModerationRefused):
        concern_moderate(concern=concern, user=moderator, status="hidden", reason="")
    assert list(cell_counts().values()) == [1]


def test_concern_placed_by_area_only_counts_in_the_area_not_on_the_grid(
    consultation, submit, decide, barrios
):
    concern = submit(point=None, area=barrios[1])
    decide("approved", concern)
    assert concern.cell_x is None
    assert cell_counts() == {}
    assert area_counts() == {(concern.consultation_key, barrios[1].pk, concern.category_key): 1}
    for zoom in (12, 17):
        assert shown(consultation, zoom) == {
            "on_map": 0,
            "by_area": {(barrios[1].name, "poor-lighting"): 1},
        }


def test_sensitive_concerns_stay_out_of_cells(consultation, submit, decide, categories):
    decide("approved", *[submit(category=categories["domestic"]) for _ in range(5)])
    for zoom in (11, 13, 16, 17):
        # Only the area total, and only because it reached k = 5.
        assert shown(consultation, zoom) == {
            "on_map": 0,
            "by_area": {("El Chico", "domestic-violence"): 5},
        }
    decide("hidden", Concern.objects.filter(status="approved").first())
    assert shown(consultation) == {"on_map": 0, "by_area": {}}


def test_rebuild_from_scratch_equals_the_incremental_counts(
    consultation, submit, decide, categories, barrios
):
    lighting = [submit(point=Point(*EL_CHICO[i % 2], srid=4326)) for i in range(5)]
    assets = [submit(category=categories["centre"], point=Point(*EL_CHICO[1])) for _ in range(2)]
    by_area = [submit(point=None, area=barrios[2]) for _ in range(2)]
    sensitive = [submit(category=categories["domestic"]) for _ in range(3)]
    decide("approved", *lighting, *assets, *by_area, *sensitive)
    decide("hidden", lighting[0], by_area[0])
    decide("rejected", submit())
    incremental = (cell_counts(), area_counts())
    assert sum(incremental[0].values()) == 4 + 2 + 3
    assert sum(incremental[1].values()) == 4 + 2 + 1 + 3

    ConcernCellCount.objects.all().delete()
    ConcernAreaCount.objects.all().delete()
    written = map_counts_rebuild()
    assert (cell_counts(), area_counts()) == incremental
    assert written == {"concerncellcount": len(incremental[0]), "concernareacount": 4}
    # Rebuilding one consultation leaves the others' rows alone.
    elsewhere = ConcernAreaCount.objects.create(
        consultation_key=uuid.uuid4(), category_key=uuid.uuid4(), area=barrios[0], count=7
    )
    map_counts_rebuild(consultation_key=consultation.translation_key)
    assert cell_counts() == incremental[0]
    assert area_counts() == {
        **incremental[1],
        (elsewhere.consultation_key, barrios[0].pk, elsewhere.category_key): 7,
    }


def test_rebuild_command_brings_bulk_loaded_concerns_onto_the_map(consultation, submit):
    # Concerns written without the services (an import, the benchmark generator).
    Concern.objects.filter(pk__in=[submit().pk, submit().pk]).update(status="approved")
    assert shown(consultation)["on_map"] == 0
    call_command("map_counts_rebuild", verbosity=0)
    assert shown(consultation) == {"on_map": 2, "by_area": {("El Chico", "poor-lighting"): 2}}
    call_command("map_counts_rebuild", consultation=str(consultation.translation_key))
    assert shown(consultation)["on_map"] == 2
    with pytest.raises(CommandError):
        call_command("map_counts_rebuild", consultation="chapinero")


def test_deleting_an_approved_concern_takes_it_off_the_map(submit, decide):
    kept, deleted = (
        submit(point=Point(*EL_CHICO[0], srid=4326)),
        submit(point=Point(*EL_CHICO[1], srid=4326)),
    )
    decide("approved", kept, deleted)
    deleted.delete()
    assert sum(cell_counts().values()) == 1
    assert sum(area_counts().values()) == 1
    rebuilt_cells, rebuilt_areas = cell_counts(), area_counts()
    map_counts_rebuild()
    assert (cell_counts(), area_counts()) == (rebuilt_cells, rebuilt_areas)
