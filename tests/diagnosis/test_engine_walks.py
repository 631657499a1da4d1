"""Safety walk scores and feelings per area, worked by hand.

The consultation links two walks: one through El Chico with three approved stops (lighting 0, 1
and not observed; people around 3, 3, 2; two frightening, one comfortable) and one in Lago
Gaitán with one approved stop (lighting 3, comfortable). A pending stop and the stops of a walk
the consultation does not link do not count.
"""

import pytest

from diagnosis.services import MODERATORS
from maps.models import SafetyWalk
from tests.conftest import along_route
from tests.diagnosis.conftest import staff
from tests.diagnosis.engine_fixtures import approve_stops, compute, link_walks, record_stop


@pytest.fixture
def walked(consultation, barrios, walk):
    moderator = staff("mara", MODERATORS)
    chico, lago, _polo = barrios
    stops = [
        record_stop(walk, along_route(0.0), feeling="frightening", lighting=0, people=3),
        record_stop(walk, along_route(0.1), feeling="frightening", lighting=1, people=3),
        record_stop(walk, along_route(0.2), feeling="comfortable", people=2),
    ]
    lago_walk = SafetyWalk.objects.create(
        title="Lago", date=walk.date, time_band="night", target_group="women"
    )
    lago_walk.areas.set([lago])
    lago_walk.save()
    stops.append(
        record_stop(lago_walk, lago.geometry.point_on_surface, feeling="comfortable", lighting=3)
    )
    approve_stops(stops, moderator)
    record_stop(walk, along_route(0.3), feeling="frightening", lighting=0)  # pending
    other = SafetyWalk.objects.create(
        title="Otra", route=walk.route, date=walk.date, time_band="day", target_group="mixed"
    )
    approve_stops([record_stop(other, along_route(0.5), lighting=0)], moderator)
    link_walks(consultation, walk, lago_walk)
    return {"consultation": consultation, "chico": chico, "lago": lago}


def test_scores_are_averaged_per_area_over_the_stops_where_they_were_observed(walked):
    _computation, tables = compute(walked["consultation"])
    chico, lago = walked["chico"].pk, walked["lago"].pk
    scores = {(row.area_id, row.group): row for row in tables["walk_scores"]}
    lighting = scores[chico, "lighting"]
    assert (lighting.count, lighting.total, lighting.value) == (2, 3, 0.5)
    assert lighting.detail == {"distribution": {"0": 1, "1": 1, "2": 0, "3": 0}}
    people = scores[chico, "people"]
    assert (people.count, people.total) == (3, 3)
    assert people.value == pytest.approx(8 / 3)
    assert scores[lago, "lighting"].value == 3.0
    assert (scores[lago, "lighting"].count, scores[lago, "lighting"].total) == (1, 1)
    # A condition nobody scored in an area has no row (a missing row means zero stops).
    assert (chico, "security") not in scores and (lago, "people") not in scores


def test_feelings_are_shares_of_the_stops_in_each_area(walked):
    _computation, tables = compute(walked["consultation"])
    chico, lago = walked["chico"].pk, walked["lago"].pk
    assert {
        (row.area_id, row.group): (row.count, row.total) for row in tables["walk_feelings"]
    } == {
        (chico, "frightening"): (2, 3),
        (chico, "comfortable"): (1, 3),
        (lago, "comfortable"): (1, 1),
    }


def test_a_consultation_without_walks_has_no_walk_rows(consultation):
    _computation, tables = compute(consultation)
    assert "walk_scores" not in tables and "walk_feelings" not in tables
