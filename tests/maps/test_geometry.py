"""The public grid: what the public may see of a point is its cell, never the point itself."""

import math

import pytest
from django.contrib.gis.geos import Point, Polygon

from maps.geometry import (
    bbox_cells,
    cell_centre,
    cell_polygon_coords,
    grid_cell,
    public_location,
    to_mercator,
)
from tests.conftest import EL_CHICO_POINT

SANTIAGO = (-70.5655, -33.4566)  # Ñuñoa: western and southern hemispheres, both indices negative


def cell_outline(cx: int, cy: int, level: int = 0) -> Polygon:
    return Polygon(cell_polygon_coords(cx, cy, level=level), srid=4326)


@pytest.mark.parametrize("lonlat", [EL_CHICO_POINT, SANTIAGO, (2.3522, 48.8566)])
def test_the_public_point_is_in_the_same_cell_but_never_the_exact_point(lonlat):
    exact = Point(*lonlat, srid=4326)
    for seed in ("concern-1", "concern-2", "concern-3"):
        shown, cx, cy = public_location(*lonlat, seed=seed)

        assert (cx, cy) == grid_cell(*lonlat)
        assert (shown.x, shown.y) != lonlat
        assert shown.distance(exact) > 0
        assert cell_outline(cx, cy).contains(shown)
        assert grid_cell(shown.x, shown.y) == (cx, cy)


def test_the_public_point_is_the_same_every_time_for_the_same_seed():
    first = public_location(*EL_CHICO_POINT, seed="CV-7Q2K")
    again = public_location(*EL_CHICO_POINT, seed="CV-7Q2K")
    other = public_location(*EL_CHICO_POINT, seed="CV-8R3L")

    assert first[0].coords == again[0].coords
    assert first[0].coords != other[0].coords


def test_points_a_metre_apart_in_one_cell_are_shown_at_the_same_place_for_one_seed():
    lon, lat = EL_CHICO_POINT
    cx, cy = grid_cell(lon, lat)
    # Stay well inside the cell so both points share it.
    centre = cell_centre(cx, cy)
    nearby = (centre.x + 0.00001, centre.y)

    shown_a = public_location(centre.x, centre.y, seed="same")[0]
    shown_b = public_location(*nearby, seed="same")[0]

    assert shown_a.coords == shown_b.coords  # the shown spot carries nothing of the real one


def test_grid_indices_floor_towards_minus_infinity_west_and_south():
    assert grid_cell(0.0001, 0.0001) == (0, 0)
    assert grid_cell(-0.0001, -0.0001) == (-1, -1)
    cx, cy = grid_cell(*SANTIAGO)
    x, y = to_mercator(*SANTIAGO)
    assert (cx, cy) == (math.floor(x / 150), math.floor(y / 150))
    assert cx < 0 and cy < 0
    for level in (1, 3, 7):
        # The arithmetic shift the database uses for coarser cells is the floor too.
        assert cx >> level == math.floor(x / (150 * 2**level))
        assert cy >> level == math.floor(y / (150 * 2**level))
        assert cell_outline(cx >> level, cy >> level, level).contains(Point(*SANTIAGO))


@pytest.mark.parametrize("level", [0, 1, 2, 5])
def test_bbox_cells_cover_the_box_with_whole_cells_of_the_level(level):
    bbox = (-74.07, 4.62, -74.03, 4.68)  # Chapinero
    min_x, min_y, max_x, max_y = bbox_cells(bbox, level=level)
    base = bbox_cells(bbox)

    assert min_x <= base[0] and min_y <= base[1]
    assert max_x >= base[2] and max_y >= base[3]
    block = 2**level
    assert min_x % block == 0 and min_y % block == 0
    assert (max_x + 1) % block == 0 and (max_y + 1) % block == 0
    # Rounded outward by less than one coarse cell on each side.
    assert base[0] - min_x < block and max_x - base[2] < block


def test_bbox_cells_at_level_zero_are_the_cells_of_the_corners():
    bbox = (-70.6, -33.5, -70.5, -33.4)  # Santiago, negative indices

    assert bbox_cells(bbox) == (*grid_cell(-70.6, -33.5), *grid_cell(-70.5, -33.4))
