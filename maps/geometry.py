"""Geometry services: the public grid that keeps exact points private.

Exact points are kept for analysis, but the public only sees a location snapped to a square grid
in Web Mercator metres (EPSG:3857) of side `CONVIVE_PUBLIC_GRID_METRES` (default 150). Each point
stores its grid indices (`cell_x`, `cell_y`) at write time; coarser cells for low zoom levels are
`cell >> level` (cells of side 150·2^level m), which both PostgreSQL and SQLite compute as an
arithmetic shift — the floor, also for the negative indices of the western and southern
hemispheres — so aggregation is a GROUP BY on two integers, with no geometry work at read time.

Mercator metres shrink on the ground by cos(latitude): a 150 m cell is 150 m across in Bogotá,
143 m in Mexico City and 126 m in Santiago. Publishing the cell and never the point is what matters
for privacy; the small scale difference is documented in docs/privacy.md.
"""

import hashlib
import hmac
import math

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db.models import FloatField, Func

EARTH_RADIUS = 6378137.0


class Lon(Func):
    """A point column's longitude, read in SQL (ST_X on both PostGIS and SpatiaLite), so that
    listings of public points need no geometry objects in Python."""

    function = "ST_X"
    output_field = FloatField()


class Lat(Func):
    """A point column's latitude, read in SQL (ST_Y)."""

    function = "ST_Y"
    output_field = FloatField()


MAX_LATITUDE = 85.0511287798


def _metres() -> float:
    return float(settings.CONVIVE_PUBLIC_GRID_METRES)


def to_mercator(lon: float, lat: float) -> tuple[float, float]:
    lat = max(min(lat, MAX_LATITUDE), -MAX_LATITUDE)
    x = EARTH_RADIUS * math.radians(lon)
    y = EARTH_RADIUS * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return x, y


def from_mercator(x: float, y: float) -> tuple[float, float]:
    lon = math.degrees(x / EARTH_RADIUS)
    lat = math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS)) - math.pi / 2)
    return lon, lat


def grid_cell(lon: float, lat: float, *, metres: float | None = None) -> tuple[int, int]:
    """Integer indices of the base public cell that contains (lon, lat)."""
    size = metres or _metres()
    x, y = to_mercator(lon, lat)
    return math.floor(x / size), math.floor(y / size)


def cell_size(level: int = 0, *, metres: float | None = None) -> float:
    return (metres or _metres()) * (2**level)


def cell_centre(cx: int, cy: int, *, level: int = 0, metres: float | None = None) -> Point:
    """Centre (lon/lat) of cell (cx, cy) at a zoom level of the grid."""
    size = cell_size(level, metres=metres)
    lon, lat = from_mercator((cx + 0.5) * size, (cy + 0.5) * size)
    return Point(lon, lat, srid=4326)


def cell_polygon_coords(
    cx: int, cy: int, *, level: int = 0, metres: float | None = None
) -> list[list[float]]:
    """The cell's outline as a GeoJSON ring (lon/lat)."""
    size = cell_size(level, metres=metres)
    corners = [(cx, cy), (cx + 1, cy), (cx + 1, cy + 1), (cx, cy + 1), (cx, cy)]
    return [list(from_mercator(i * size, j * size)) for i, j in corners]


def bbox_cells(
    bbox: tuple[float, float, float, float], *, level: int = 0, metres: float | None = None
) -> tuple[int, int, int, int]:
    """Inclusive range of base-cell indices (min_x, min_y, max_x, max_y) covering a lon/lat bbox,
    rounded outward to whole cells of `level` so an aggregated cell is never cut in half."""
    west, south, east, north = bbox
    size = metres or _metres()
    min_x, min_y = grid_cell(west, south, metres=size)
    max_x, max_y = grid_cell(east, north, metres=size)
    if level:
        min_x, min_y = (min_x >> level) << level, (min_y >> level) << level
        max_x, max_y = ((max_x >> level) + 1 << level) - 1, ((max_y >> level) + 1 << level) - 1
    return min_x, min_y, max_x, max_y


def public_location(lon: float, lat: float, *, seed: str) -> tuple[Point, int, int]:
    """Where the public may see a point: inside its base cell, never at the exact spot.

    The shown position is the cell centre plus an offset of up to 35 % of the cell side drawn from a
    keyed hash of `seed` (the record's reference), not from the point. Markers in one cell thus do
    not stack, the offset carries no information about the real position, and because it is
    deterministic, repeated requests cannot be averaged to recover anything.
    """
    size = _metres()
    cx, cy = grid_cell(lon, lat, metres=size)
    digest = hmac.new(settings.SECRET_KEY.encode(), seed.encode(), hashlib.sha256).digest()
    dx = (int.from_bytes(digest[:4], "big") / 2**32 - 0.5) * 0.7
    dy = (int.from_bytes(digest[4:8], "big") / 2**32 - 0.5) * 0.7
    plon, plat = from_mercator((cx + 0.5 + dx) * size, (cy + 0.5 + dy) * size)
    return Point(plon, plat, srid=4326), cx, cy


def zoom_to_level(zoom: int, *, max_level: int = 12) -> int:
    """Grid level to aggregate at for a web-map zoom: about 8 screen cells per 256 px tile.

    A tile at zoom z spans 40 075 km / 2^z; we want cells of roughly a tenth of that.
    """
    tile_metres = 2 * math.pi * EARTH_RADIUS / (2**zoom)
    level = math.floor(math.log2(max(tile_metres / 10 / _metres(), 1)))
    return max(0, min(level, max_level))


def point_from_fields(latitude: str, longitude: str) -> Point | None:
    """The point a form's hidden latitude/longitude fields carry, None when both are empty.

    Raises ValueError when they do not make a position on Earth (text, NaN, out of range, one of
    the two missing): the forms turn that into a message asking to place the pin again.
    """
    latitude, longitude = (latitude or "").strip(), (longitude or "").strip()
    if not latitude and not longitude:
        return None
    lat, lon = float(latitude), float(longitude)  # ValueError for text or a missing half
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"not a position: {latitude!r}, {longitude!r}")
    return Point(lon, lat, srid=4326)
