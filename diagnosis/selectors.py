"""Reads of the participation app for the public: what residents reported, under the data rules.

`public_concern_features` is the one door through which concern locations leave the database for
the public (the map API, the consultation page's table, and whatever comes later). The rules it
applies are product features (see docs/privacy.md):

- only approved concerns;
- never the exact `point`: cells of the public grid, or the fuzzed `public_point` at high zoom;
- sensitive categories never as points or cells, only as per-area totals of at least k;
- no text, photo, reference, gender or age — category, kind and count only.

Counting happens in the database (values()/annotate()); Python only shapes the few aggregated rows.
"""

import uuid
from collections.abc import Iterable

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Polygon
from django.db.models import Count, F
from django.utils.translation import get_language

from maps.geometry import bbox_cells, cell_centre, cell_size, from_mercator, zoom_to_level
from maps.models import Area

from .models import Concern, ConcernCategory

# From this zoom on, individual (fuzzed) markers are shown: a 150 m cell is ~60 px wide at z16,
# so markers of one cell no longer pile up into an unreadable blob.
POINTS_MIN_ZOOM = 16
# More individual markers than this in one view fall back to cells: the payload stays small and
# a crowded view reads better as counts.
POINTS_CAP = 400
# Coordinates are published with 5 decimals (about 1 m): more precision would only add bytes.
COORD_DECIMALS = 5


def _round_coords(value):
    if isinstance(value, (list, tuple)):
        return [_round_coords(item) for item in value]
    return round(value, COORD_DECIMALS)


def public_grid_level(zoom: int) -> int:
    """Grid level at which cells are counted for a web-map zoom (below POINTS_MIN_ZOOM).

    One level coarser than `maps.geometry.zoom_to_level`: its cells are ~16 px on screen, too small
    for a count mark to sit in without covering its neighbours; ~32 px cells leave room for the
    number, and coarser cells only protect residents more.
    """
    return min(zoom_to_level(zoom) + 1, 12)


def suppression_k() -> int:
    # Never below 3 whatever the settings say (cms.checks also refuses it at start-up).
    return max(int(getattr(settings, "CONVIVE_SUPPRESSION_K", 5)), 3)


def category_catalogue() -> dict[uuid.UUID, dict]:
    """Every category by translation key, labelled in the active language.

    The label is the row of the active locale, else the default locale's, else any row: a resident
    reading in Portuguese still gets a name when the category was not translated yet. A key counts
    as sensitive if ANY of its rows is (the flag is synchronised, but being wrong here would put a
    sensitive concern on the map, so we fail closed). The table holds tens of rows.
    """
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    rows = list(
        ConcernCategory.objects.values(
            "translation_key",
            "code",
            "name",
            "kind",
            "icon",
            "sensitive",
            "sort_order",
            "locale__language_code",
        )
    )
    sensitive = {row["translation_key"] for row in rows if row["sensitive"]}

    def preference(row: dict) -> int:
        code = row["locale__language_code"]
        return 0 if code == language else 1 if code == settings.LANGUAGE_CODE else 2

    catalogue: dict[uuid.UUID, dict] = {}
    for row in sorted(rows, key=preference, reverse=True):
        key = row["translation_key"]
        catalogue[key] = {
            "key": str(key),
            "code": row["code"],
            "name": row["name"],
            "kind": row["kind"],
            "icon": row["icon"],
            "sensitive": key in sensitive,
            "sort_order": row["sort_order"],
        }
    return catalogue


def category_keys_resolve(*, values: Iterable[str]) -> set[uuid.UUID]:
    """Translation keys for filter values given as category codes or translation keys.

    Unknown values resolve to nothing, so a filter on them shows nothing rather than everything.
    """
    keys: set[uuid.UUID] = set()
    codes: set[str] = set()
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            keys.add(uuid.UUID(value))
        except ValueError:
            codes.add(value)
    if codes:
        keys |= set(
            ConcernCategory.objects.filter(code__in=codes).values_list("translation_key", flat=True)
        )
    return keys


def _cells_bbox(cells: tuple[int, int, int, int]) -> Polygon:
    """The lon/lat rectangle covered by a range of base cells (outer edges)."""
    min_x, min_y, max_x, max_y = cells
    size = cell_size(0)
    west, south = from_mercator(min_x * size, min_y * size)
    east, north = from_mercator((max_x + 1) * size, (max_y + 1) * size)
    return Polygon.from_bbox((west, south, east, north))


def public_concern_features(
    *,
    consultation_key: uuid.UUID,
    bbox: tuple[float, float, float, float],
    zoom: int,
    category_keys: Iterable[uuid.UUID] | None = None,
) -> dict:
    """What the public may see of a consultation's concerns inside `bbox` at a web-map `zoom`.

    Returns a GeoJSON FeatureCollection (plain dict) whose `meta` says how it was built:

    - below zoom POINTS_MIN_ZOOM, one feature per (grid cell, category) with its count, at the cell
      centre; the grid level grows as the map zooms out (`public_grid_level`);
    - from POINTS_MIN_ZOOM on, one feature per concern at its fuzzed `public_point`, unless the view
      holds more than POINTS_CAP of them, in which case base cells are returned instead;
    - `meta.area_counts`: approved non-sensitive concerns per (area, category) for areas in view,
      including those placed by area only (they have no cell);
    - `meta.sensitive_area_totals`: sensitive categories per (area, category), only totals >= k.

    The bbox is turned into ranges of grid indices (indexed integer columns), so the result depends
    only on the covered cells: callers can cache by cell range.
    """
    catalogue = category_catalogue()
    wanted = set(category_keys) if category_keys is not None else None
    public_keys = [
        key
        for key, entry in catalogue.items()
        if not entry["sensitive"] and (wanted is None or key in wanted)
    ]
    sensitive_keys = [
        key
        for key, entry in catalogue.items()
        if entry["sensitive"] and (wanted is None or key in wanted)
    ]
    approved = Concern.objects.filter(
        consultation_key=consultation_key, status=Concern.Status.APPROVED
    ).order_by()
    public = approved.filter(category_key__in=public_keys)

    level = public_grid_level(zoom)
    features: list[dict] = []
    mode = "cells"
    if zoom >= POINTS_MIN_ZOOM:
        level = 0
        cells = bbox_cells(bbox, level=0)
        in_view = public.filter(
            cell_x__gte=cells[0],
            cell_y__gte=cells[1],
            cell_x__lte=cells[2],
            cell_y__lte=cells[3],
            public_point__isnull=False,
        )
        rows = list(
            in_view.order_by("reference").values_list("category_key", "public_point")[
                : POINTS_CAP + 1
            ]
        )
        if len(rows) <= POINTS_CAP:
            mode = "points"
            for key, point in rows:
                features.append(
                    _feature(
                        [point.x, point.y], catalogue[key], count=1, extra={"individual": True}
                    )
                )
    else:
        cells = bbox_cells(bbox, level=level)

    if mode == "cells":
        grouped = (
            public.filter(
                cell_x__gte=cells[0],
                cell_y__gte=cells[1],
                cell_x__lte=cells[2],
                cell_y__lte=cells[3],
            )
            .annotate(gx=F("cell_x").bitrightshift(level), gy=F("cell_y").bitrightshift(level))
            .values("gx", "gy", "category_key")
            .annotate(count=Count("id"))
            .order_by("gx", "gy", "category_key")
        )
        for row in grouped:
            centre = cell_centre(row["gx"], row["gy"], level=level)
            features.append(
                _feature(
                    [centre.x, centre.y],
                    catalogue[row["category_key"]],
                    count=row["count"],
                    extra={"cell": [row["gx"], row["gy"]]},
                )
            )

    view = _cells_bbox(cells)
    k = suppression_k()
    area_counts = (
        public.filter(area__isnull=False, area__geometry__intersects=view)
        .values("area_id", "area__name", "category_key")
        .annotate(count=Count("id"))
        .order_by("area__name", "category_key")
    )
    sensitive_totals = (
        approved.filter(
            category_key__in=sensitive_keys,
            area__isnull=False,
            area__geometry__intersects=view,
        )
        .values("area_id", "area__name", "category_key")
        .annotate(count=Count("id"))
        # Suppression in SQL: totals under k never leave the database, not even as "0".
        .filter(count__gte=k)
        .order_by("area__name", "category_key")
    )
    return {
        "type": "FeatureCollection",
        "features": features,
        "meta": {
            "mode": mode,
            "level": level,
            "cell_metres": round(cell_size(level)),
            "cells": list(cells),
            "suppression_k": k,
            "area_counts": [_area_row(row, catalogue) for row in area_counts],
            "sensitive_area_totals": [_area_row(row, catalogue) for row in sensitive_totals],
        },
    }


def _category_properties(entry: dict) -> dict:
    return {
        "category": entry["key"],
        "code": entry["code"],
        "name": entry["name"],
        "kind": entry["kind"],
    }


def _feature(coordinates: list[float], entry: dict, *, count: int, extra: dict) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": _round_coords(coordinates)},
        "properties": {**_category_properties(entry), "count": count, **extra},
    }


def _area_row(row: dict, catalogue: dict) -> dict:
    return {
        "area_id": row["area_id"],
        "area": row["area__name"],
        **_category_properties(catalogue[row["category_key"]]),
        "count": row["count"],
    }


def public_area_table(*, consultation_key: uuid.UUID, area_ids: Iterable[int]) -> dict:
    """Counts per area × category for the consultation page's server-rendered table.

    Built from `public_concern_features` over the areas' extent, so the table obeys exactly the
    rules of the map (the page works without JavaScript and never shows more than the map).
    """
    extent = Area.objects.filter(pk__in=list(area_ids)).aggregate(extent=Extent("geometry"))[
        "extent"
    ]
    if extent is None:
        return {
            "categories": [],
            "rows": [],
            "sensitive": [],
            "extent": None,
            "suppression_k": suppression_k(),
        }
    data = public_concern_features(consultation_key=consultation_key, bbox=extent, zoom=0)
    meta = data["meta"]
    catalogue = category_catalogue()
    used = {row["category"] for row in meta["area_counts"]}
    categories = sorted(
        (entry for entry in catalogue.values() if entry["key"] in used),
        key=lambda entry: (entry["kind"] == ConcernCategory.Kind.ASSET, entry["sort_order"]),
    )
    counts = {(row["area_id"], row["category"]): row["count"] for row in meta["area_counts"]}
    areas = sorted({(row["area"], row["area_id"]) for row in meta["area_counts"]})
    rows = [
        {
            "area": name,
            "cells": [counts.get((area_id, entry["key"]), 0) for entry in categories],
        }
        for name, area_id in areas
    ]
    return {
        "categories": categories,
        "rows": rows,
        "sensitive": meta["sensitive_area_totals"],
        "extent": [round(value, COORD_DECIMALS) for value in extent],
        "suppression_k": meta["suppression_k"],
    }
