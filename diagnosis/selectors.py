"""Reads of the participation app for the public: what residents reported, under the data rules.

`public_concern_features` is the one door through which concern locations leave the database for
the public (the map API, the consultation page's table, and whatever comes later). The rules it
applies are product features (see docs/privacy.md):

- only approved concerns;
- never the exact `point`: cells of the public grid, or the fuzzed `public_point` at high zoom;
- sensitive categories never as points or cells, only as per-area totals of at least k;
- no text, photo, reference, gender or age — category, kind and count only.

Counting happens in the database, on summary tables kept by moderation
(`diagnosis.services.map_counts`); Python only shapes the few aggregated rows.
"""

import uuid
from collections.abc import Iterable

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Polygon
from django.db.models import F, Sum
from django.utils.translation import get_language

from maps.geometry import bbox_cells, cell_size, from_mercator, zoom_to_level
from maps.models import Area
from maps.suppression import suppression_k

from .models import Concern, ConcernAreaCount, ConcernCategory, ConcernCellCount

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


def categories_localized(
    *, keys: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, ConcernCategory]:
    """One category row per translation key, in the language the reader is using.

    The row of the active locale, else the default locale's, else any row: a resident reading in
    Portuguese still gets a name when the category was not translated yet. The form, the map and
    the tables all label categories through this.
    """
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]

    def preference(row: ConcernCategory) -> int:
        code = row.locale.language_code
        return 0 if code == language else 1 if code == settings.LANGUAGE_CODE else 2

    rows = ConcernCategory.objects.select_related("locale")
    if keys is not None:
        rows = rows.filter(translation_key__in=list(keys))
    chosen: dict[uuid.UUID, ConcernCategory] = {}
    for row in sorted(rows, key=preference, reverse=True):
        chosen[row.translation_key] = row
    return chosen


def category_catalogue() -> dict[uuid.UUID, dict]:
    """Every category by translation key, labelled in the active language (categories_localized).

    A key counts as sensitive if ANY of its rows is (the flag is synchronised, but being wrong here
    would put a sensitive concern on the map, so we fail closed). The table holds tens of rows.
    """
    sensitive = set(
        ConcernCategory.objects.filter(sensitive=True).values_list("translation_key", flat=True)
    )
    return {
        key: {
            "key": str(key),
            "code": row.code,
            "name": row.name,
            "kind": row.kind,
            "icon": row.icon,
            "sensitive": key in sensitive,
            "sort_order": row.sort_order,
        }
        for key, row in categories_localized().items()
    }


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


def _in_cells(queryset, cells: tuple[int, int, int, int]):
    min_x, min_y, max_x, max_y = cells
    return queryset.filter(
        cell_x__gte=min_x, cell_y__gte=min_y, cell_x__lte=max_x, cell_y__lte=max_y
    )


def _area_rows(
    *,
    consultation_key: uuid.UUID,
    category_keys: Iterable[uuid.UUID],
    view: Polygon | None = None,
    at_least: int = 1,
) -> list[tuple]:
    """(area id, area name, category key, count) from the summary, for areas meeting `view`.

    `at_least` suppresses in SQL: totals under it never leave the database, not even as "0".
    """
    rows = ConcernAreaCount.objects.filter(
        consultation_key=consultation_key, category_key__in=list(category_keys)
    )
    if view is not None:
        rows = rows.filter(area__geometry__intersects=view)
    if at_least > 1:
        rows = rows.filter(count__gte=at_least)
    return list(
        rows.values_list("area_id", "area__name", "category_key", "count").order_by(
            "area__name", "area_id", "category_key"
        )
    )


class _CategoryIndex:
    """Short indices for the categories a response mentions, listed once in `meta.categories`.

    Repeating each category's key, code, name and kind in every feature made a city-wide view
    weigh 832 KB; an index per count keeps it a few tens of KB.
    """

    def __init__(self, catalogue: dict):
        self.catalogue = catalogue
        self.used: set[uuid.UUID] = set()

    def collect(self, keys: Iterable[uuid.UUID]) -> None:
        self.used.update(keys)

    def finish(self) -> tuple[list[dict], dict[uuid.UUID, int]]:
        ordered = sorted(
            self.used,
            key=lambda key: (
                self.catalogue[key]["kind"] == ConcernCategory.Kind.ASSET,
                self.catalogue[key]["sort_order"],
                self.catalogue[key]["code"],
            ),
        )
        listing = [
            {name: self.catalogue[key][name] for name in ("key", "code", "name", "kind")}
            for key in ordered
        ]
        return listing, {key: index for index, key in enumerate(ordered)}


def public_concern_features(
    *,
    consultation_key: uuid.UUID,
    bbox: tuple[float, float, float, float],
    zoom: int,
    category_keys: Iterable[uuid.UUID] | None = None,
) -> dict:
    """What the public may see of a consultation's concerns inside `bbox` at a web-map `zoom`.

    Returns a GeoJSON FeatureCollection (plain dict). Each feature's `properties.counts` is a list
    of `[category index, count]`, the index pointing into `meta.categories`:

    - below zoom POINTS_MIN_ZOOM, one feature per grid cell (`properties.cell`) at its centre; the
      grid level grows as the map zooms out (`public_grid_level`);
    - from POINTS_MIN_ZOOM on, one feature per concern at its fuzzed `public_point` (a count of 1),
      unless the view holds more than POINTS_CAP of them: then base cells as above;
    - `meta.area_counts`: approved non-sensitive concerns per area and category for areas in view,
      including those placed by area only (they have no cell);
    - `meta.sensitive_area_totals`: sensitive categories per area and category, only totals >= k.

    Counts come from the summary tables kept by moderation (`diagnosis.services.map_counts`), a
    few thousand rows at most; only the individual markers of a high-zoom view read concerns, and
    only once the summary says there are few enough. The bbox is turned into ranges of grid
    indices, so the result depends only on the covered cells: callers can cache by cell range.
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
    cell_counts = ConcernCellCount.objects.filter(
        consultation_key=consultation_key, category_key__in=public_keys
    ).order_by()
    index = _CategoryIndex(catalogue)

    level = public_grid_level(zoom)
    mode = "cells"
    points: list = []
    if zoom >= POINTS_MIN_ZOOM:
        level = 0
        cells = bbox_cells(bbox, level=0)
        in_view = _in_cells(cell_counts, cells).aggregate(n=Sum("count"))["n"] or 0
        if in_view <= POINTS_CAP:
            # The summary says few enough: fetch them through the concern_public_cells index.
            points = list(
                _in_cells(
                    Concern.objects.filter(
                        consultation_key=consultation_key,
                        status=Concern.Status.APPROVED,
                        category_key__in=public_keys,
                        public_point__isnull=False,
                    ),
                    cells,
                )
                .order_by("reference")
                .values_list("category_key", "public_point")[: POINTS_CAP + 1]
            )
            mode = "points" if len(points) <= POINTS_CAP else "cells"
    else:
        cells = bbox_cells(bbox, level=level)

    grouped: list[tuple] = []
    if mode == "points":
        index.collect(key for key, _point in points)
    else:
        grouped = list(
            _in_cells(cell_counts, cells)
            .annotate(gx=F("cell_x").bitrightshift(level), gy=F("cell_y").bitrightshift(level))
            .values("gx", "gy", "category_key")
            .annotate(n=Sum("count"))
            .order_by("gx", "gy", "category_key")
            .values_list("gx", "gy", "category_key", "n")
        )
        index.collect(key for _gx, _gy, key, _n in grouped)

    view = _cells_bbox(cells)
    area_counts = _area_rows(
        consultation_key=consultation_key, category_keys=public_keys, view=view
    )
    k = suppression_k()
    sensitive_totals = _area_rows(
        consultation_key=consultation_key, category_keys=sensitive_keys, view=view, at_least=k
    )
    index.collect(key for _area, _name, key, _count in area_counts + sensitive_totals)
    categories, position = index.finish()

    features: list[dict] = []
    if mode == "points":
        for key, point in points:
            features.append(_feature([point.x, point.y], [[position[key], 1]]))
    else:
        size = cell_size(level)
        for gx, gy, key, count in grouped:
            last = features[-1]["properties"] if features else None
            if last is not None and last["cell"] == [gx, gy]:
                last["counts"].append([position[key], count])
                continue
            # The cell's centre (maps.geometry.cell_centre without building a GEOS point).
            centre = from_mercator((gx + 0.5) * size, (gy + 0.5) * size)
            features.append(_feature(list(centre), [[position[key], count]], cell=[gx, gy]))
    return {
        "type": "FeatureCollection",
        "features": features,
        "meta": {
            "mode": mode,
            "level": level,
            "cell_metres": round(cell_size(level)),
            "cells": list(cells),
            "suppression_k": k,
            "categories": categories,
            "area_counts": _by_area(area_counts, position),
            "sensitive_area_totals": _by_area(sensitive_totals, position),
        },
    }


def _feature(coordinates: list[float], counts: list[list[int]], **extra) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": _round_coords(coordinates)},
        "properties": {**extra, "counts": counts},
    }


def _by_area(rows: list[tuple], position: dict[uuid.UUID, int]) -> list[dict]:
    """Rows (sorted by area) as one entry per area with its `[category index, count]` pairs."""
    grouped: list[dict] = []
    for area_id, name, key, count in rows:
        if not grouped or grouped[-1]["area_id"] != area_id:
            grouped.append({"area_id": area_id, "area": name, "counts": []})
        grouped[-1]["counts"].append([position[key], count])
    return grouped


def public_area_table(*, consultation_key: uuid.UUID, area_ids: Iterable[int]) -> dict:
    """Counts per area × category for the consultation page's server-rendered table.

    Read from the same summary and under the same rules as the map's `meta.area_counts` and
    `meta.sensitive_area_totals` (the page works without JavaScript and never shows more than the
    map), for every area of the consultation.
    """
    extent = Area.objects.filter(pk__in=list(area_ids)).aggregate(extent=Extent("geometry"))[
        "extent"
    ]
    k = suppression_k()
    if extent is None:
        return {"categories": [], "rows": [], "sensitive": [], "extent": None, "suppression_k": k}
    catalogue = category_catalogue()
    public_keys = [key for key, entry in catalogue.items() if not entry["sensitive"]]
    sensitive_keys = [key for key, entry in catalogue.items() if entry["sensitive"]]
    area_counts = _area_rows(consultation_key=consultation_key, category_keys=public_keys)
    sensitive = _area_rows(
        consultation_key=consultation_key, category_keys=sensitive_keys, at_least=k
    )
    used = {key for _area, _name, key, _count in area_counts}
    categories = sorted(
        (catalogue[key] for key in used),
        key=lambda entry: (entry["kind"] == ConcernCategory.Kind.ASSET, entry["sort_order"]),
    )
    counts = {(area_id, key): count for area_id, _name, key, count in area_counts}
    areas = sorted({(name, area_id) for area_id, name, _key, _count in area_counts})
    rows = [
        {
            "area": name,
            "cells": [counts.get((area_id, uuid.UUID(entry["key"])), 0) for entry in categories],
        }
        for name, area_id in areas
    ]
    return {
        "categories": categories,
        "rows": rows,
        "sensitive": [
            {"area": name, **catalogue[key], "count": count}
            for _area_id, name, key, count in sensitive
        ],
        "extent": [round(value, COORD_DECIMALS) for value in extent],
        "suppression_k": k,
    }
