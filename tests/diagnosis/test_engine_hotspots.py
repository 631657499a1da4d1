"""Hotspots and assets on the public grid, worked by hand.

Three cells of the 150 m public grid in El Chico:
- A (the start of the walk's route): 12 poor-lighting concerns, 2 community centres (assets) and
  one concern of a sensitive category, which never counts at cell level;
- B: 2 harassment concerns and 10 community centres;
- C: 10 community centres;
- the 4 approved stops of a safety walk, near the end of its route (other cells).
Risks: 14; located contributions (exposure): 14 + 12 + 10 + 4 = 40. A pending stop, a rejected
concern and a stop of a walk the consultation does not link do not count.
"""

import math

import pytest
from django.contrib.gis.geos import Point

from diagnosis.services import MODERATORS
from maps.geometry import grid_cell
from maps.models import SafetyWalk
from tests.conftest import WALK_ROUTE, along_route
from tests.diagnosis.conftest import staff
from tests.diagnosis.engine_fixtures import (
    approve_concerns,
    approve_stops,
    compute,
    link_walks,
    record_stop,
)

# Three points of El Chico in three different cells; the walk's route ends in yet another.
A, B = WALK_ROUTE[:2]
C = (-74.0512, 4.6722)


def poisson_tail(observed: int, expected: float) -> float:
    return 1 - sum(math.exp(-expected) * expected**k / math.factorial(k) for k in range(observed))


@pytest.fixture
def mapped(consultation, categories, submit, walk):
    moderator = staff("mara", MODERATORS)
    at = lambda point: Point(*point, srid=4326)  # noqa: E731
    concerns = [submit(point=at(A)) for _ in range(12)]
    concerns += [submit(point=at(A), category=categories["centre"]) for _ in range(2)]
    concerns += [submit(point=at(A), category=categories["domestic"])]
    concerns += [submit(point=at(B), category=categories["harassment"]) for _ in range(2)]
    concerns += [submit(point=at(B), category=categories["centre"]) for _ in range(10)]
    concerns += [submit(point=at(C), category=categories["centre"]) for _ in range(10)]
    approve_concerns(concerns, moderator)
    rejected = submit(point=at(A))
    from diagnosis.services import concern_moderate

    concern_moderate(concern=rejected, user=moderator, status="rejected", reason="Duplicate.")
    stops = [record_stop(walk, along_route(fraction)) for fraction in (0.97, 0.98, 0.99, 1.0)]
    approve_stops(stops, moderator)
    record_stop(walk, along_route(1.0))  # pending
    elsewhere = SafetyWalk.objects.create(
        title="Otra", route=walk.route, date=walk.date, time_band="day", target_group="mixed"
    )
    approve_stops([record_stop(elsewhere, along_route(0.0))], moderator)
    link_walks(consultation, walk)
    return {"consultation": consultation, "stops": stops, "categories": categories}


def cells(rows):
    return {(row.cell_x, row.cell_y): row for row in rows}


def test_a_cell_with_more_risks_than_its_participation_predicts_is_flagged(mapped):
    _computation, tables = compute(mapped["consultation"])
    hotspots = cells(tables["hotspots"])
    a, b = grid_cell(*A), grid_cell(*B)
    stop_cells = {grid_cell(*stop.public_point.coords) for stop in mapped["stops"]}
    assert a not in stop_cells and b not in stop_cells
    assert set(hotspots) == {a, b, grid_cell(*C)} | stop_cells
    assert sum(row.total for row in hotspots.values()) == 40
    assert sum(row.count for row in hotspots.values()) == 14
    # A: 12 risks of 14 contributions; expected 14 risks · 14 / 40 = 4.9.
    cell_a = hotspots[a]
    assert (cell_a.count, cell_a.total) == (12, 14)
    assert cell_a.detail["expected"] == pytest.approx(4.9)
    assert cell_a.value == pytest.approx(12 / 4.9)
    assert cell_a.detail["p"] == pytest.approx(poisson_tail(12, 4.9))
    assert cell_a.detail["p"] < 0.005
    # Benjamini–Hochberg over the m tested cells: A has the smallest p, so p_adj = m · p.
    assert cell_a.detail["p_adjusted"] == pytest.approx(len(hotspots) * poisson_tail(12, 4.9))
    assert cell_a.detail["significant"] is True
    # B: 2 risks of 12, expected 4.2: fewer than expected, not flagged.
    cell_b = hotspots[b]
    assert (cell_b.count, cell_b.total) == (2, 12)
    assert cell_b.detail["expected"] == pytest.approx(4.2)
    assert cell_b.detail["p"] == pytest.approx(poisson_tail(2, 4.2))
    assert cell_b.detail["significant"] is False
    # Cells with only assets and stops are tested too (0 risks, p = 1).
    for key, row in hotspots.items():
        if key not in (a, b):
            assert row.count == 0 and row.detail["p"] == 1.0 and not row.detail["significant"]


def test_assets_are_counted_by_cell_and_category(mapped):
    _computation, tables = compute(mapped["consultation"])
    centre = mapped["categories"]["centre"].translation_key
    assert {
        ((row.cell_x, row.cell_y), row.category_key): (row.count, row.total)
        for row in tables["assets_by_cell"]
    } == {
        (grid_cell(*A), centre): (2, 22),
        (grid_cell(*B), centre): (10, 22),
        (grid_cell(*C), centre): (10, 22),
    }


def test_sensitive_categories_never_reach_a_cell_table(mapped):
    _computation, tables = compute(mapped["consultation"])
    domestic = mapped["categories"]["domestic"].translation_key
    assert all(row.category_key != domestic for row in tables["assets_by_cell"])
    # The sensitive concern is counted by category, as any other, but not in cell A's exposure.
    by_category = {row.category_key: row.count for row in tables["concerns_by_category"]}
    assert by_category[domestic] == 1
    assert cells(tables["hotspots"])[grid_cell(*A)].total == 14


def test_no_located_contribution_no_hotspot_rows(consultation):
    _computation, tables = compute(consultation)
    assert "hotspots" not in tables and "assets_by_cell" not in tables
