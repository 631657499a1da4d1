"""Latency and payload of the public map endpoint over many concerns, next to the raw SQL.

    .venv/bin/python bench/map_endpoint.py \
        --database-url postgis://postgres@127.0.0.1:5432/convive_bench [--requests 60]

Needs a database filled by bench/generate_concerns.py (1,000,000 concerns for the documented run).
Run `manage.py map_counts_rebuild` first if the concerns were loaded without the services
(generate_concerns.py does it). Starts `gunicorn cms.wsgi -w 4` (DEBUG off) and asks
`<consultation>/map/features/` for three views, one request at a time:

- city-wide: the consultation's whole extent (Chapinero's barrios) at zoom 13;
- street-level: a 1280×800 px view at zoom 17 on the centre of the busiest barrio;
- markers: a 1280×800 px view at zoom 19 where the summary holds at most POINTS_CAP / 2 reports
  (the busiest such view, at the edge of the data), so the endpoint shows individual fuzzed
  markers and reads them from the concerns table.

Each view is measured twice. "Cached": the same URL again and again, which the endpoint answers
from its cache after the first time (what most visitors of a busy page get). "Uncached": the view
panned by a whole grid cell at every request, so every request runs the database query (what the
first visitor of a view gets, and everyone while panning; up to 48 distinct pans of -3…3 cells).
Then the count-by-cell is sent as raw SQL through psycopg for the uncached views, twice: on the
concerns table (what the endpoint used to run, the issue's yardstick) and on the summary table
`diagnosis_concerncellcount` (what it runs now). The ratios endpoint / SQL say how much the web
stack adds to the database's work.
"""

import argparse
import gzip
import json
import math
import time

from common import django_setup, gunicorn, machine, percentile, request

TARGET_P95_MS = 150
TARGET_PAYLOAD_KB = 300
SCREEN = (1280, 800)  # px


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=49, help="per view and mode (max 49)")
    parser.add_argument("--workers", type=int, default=4)
    return parser.parse_args()


def screen_bbox(lon: float, lat: float, zoom: int) -> tuple[float, float, float, float]:
    """The lon/lat box a SCREEN-sized web map shows at `zoom` centred on (lon, lat)."""
    from maps.geometry import EARTH_RADIUS, from_mercator, to_mercator

    metres_per_pixel = 2 * math.pi * EARTH_RADIUS / (256 * 2**zoom)
    x, y = to_mercator(lon, lat)
    half_w, half_h = SCREEN[0] * metres_per_pixel / 2, SCREEN[1] * metres_per_pixel / 2
    west, south = from_mercator(x - half_w, y - half_h)
    east, north = from_mercator(x + half_w, y + half_h)
    return west, south, east, north


def pan(number: int) -> tuple[int, int]:
    """The `number`-th of 49 distinct small pans, -3…3 cells east and north (0 is no pan)."""
    return (number % 7) - 3, ((number // 7) % 7) - 3


def shifted(bbox, step: tuple[int, int], zoom: int):
    """The bbox panned by `step` (east, north) grid cells of the level the endpoint uses."""
    from diagnosis.selectors import POINTS_MIN_ZOOM, public_grid_level
    from maps.geometry import cell_size, from_mercator, to_mercator

    level = 0 if zoom >= POINTS_MIN_ZOOM else public_grid_level(zoom)
    dx, dy = cell_size(level) * step[0], cell_size(level) * step[1]
    west, south, east, north = bbox
    (x0, y0), (x1, y1) = to_mercator(west, south), to_mercator(east, north)
    west, south = from_mercator(x0 + dx, y0 + dy)
    east, north = from_mercator(x1 + dx, y1 + dy)
    return west, south, east, north


def markers_view(consultation_key, *, zoom: int):
    """The SCREEN-sized view at `zoom` centred on a cell that holds the most public reports while
    staying under POINTS_CAP / 2, so the endpoint answers with individual markers."""
    from django.db.models import Sum

    from diagnosis.models import ConcernCellCount
    from diagnosis.selectors import POINTS_CAP, category_catalogue
    from maps.geometry import bbox_cells, cell_centre

    public = [key for key, entry in category_catalogue().items() if not entry["sensitive"]]
    rows = (
        ConcernCellCount.objects.filter(consultation_key=consultation_key, category_key__in=public)
        .values("cell_x", "cell_y")
        .annotate(n=Sum("count"))
        .values_list("cell_x", "cell_y", "n")
    )
    totals = {(x, y): n for x, y, n in rows}
    best, best_bbox = -1, None
    for x, y in totals:
        centre = cell_centre(x, y)
        bbox = screen_bbox(centre.x, centre.y, zoom)
        x0, y0, x1, y1 = bbox_cells(bbox)
        shown = sum(totals.get((i, j), 0) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1))
        if best < shown <= POINTS_CAP // 2:
            best, best_bbox = shown, bbox
    return best_bbox


def query(bbox, zoom: int) -> str:
    return "bbox=" + ",".join(f"{v:.6f}" for v in bbox) + f"&zoom={zoom}"


def time_endpoint(port: int, path: str, urls: list[str]) -> tuple[list[float], list[int], dict]:
    latencies, sizes, last = [], [], {"modes": {}}
    for url in urls:
        started = time.monotonic()
        status, _, body = request("GET", port, f"{path}?{url}")
        latencies.append(time.monotonic() - started)
        assert status == 200, (status, body[:300])
        sizes.append(len(body))
        mode = json.loads(body)["meta"]["mode"]
        last["modes"][mode] = last["modes"].get(mode, 0) + 1
        last["body"] = body
        if len(body) >= len(last.get("largest", b"")):
            last["largest"] = body
    return latencies, sizes, last


def raw_sql_cells(
    cursor, *, consultation_key, public_keys, bbox, zoom, summary: bool = False
) -> tuple[float, int]:
    """The count-by-cell as plain SQL, on the concerns or the summary table. (seconds, rows)."""
    from diagnosis.selectors import POINTS_MIN_ZOOM, public_grid_level
    from maps.geometry import bbox_cells

    level = 0 if zoom >= POINTS_MIN_ZOOM else public_grid_level(zoom)
    cells = bbox_cells(bbox, level=level)
    if summary:
        source = "sum(count) FROM diagnosis_concerncellcount WHERE consultation_key = %(key)s"
    else:
        source = (
            "count(*) FROM diagnosis_concern WHERE consultation_key = %(key)s "
            "AND status = 'approved'"
        )
    started = time.monotonic()
    cursor.execute(
        "SELECT cell_x >> %(level)s AS gx, cell_y >> %(level)s AS gy, category_key, "
        f"{source} AND category_key = ANY(%(keys)s) AND cell_x BETWEEN %(x0)s AND %(x1)s "
        "AND cell_y BETWEEN %(y0)s AND %(y1)s GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        {
            "level": level,
            "key": consultation_key,
            "keys": public_keys,
            "x0": cells[0],
            "y0": cells[1],
            "x1": cells[2],
            "y1": cells[3],
        },
    )
    rows = cursor.fetchall()
    return time.monotonic() - started, len(rows)


def main() -> None:
    args = parse_args()
    django_setup(args.database_url)
    from django.contrib.gis.db.models import Extent
    from django.db import connection
    from django.db.models import Sum

    from diagnosis.models import ConcernAreaCount, ConsultationPage
    from diagnosis.selectors import category_catalogue
    from diagnosis.services.concerns import consultation_area_ids
    from maps.models import Area

    page = ConsultationPage.objects.get(slug="chapinero", locale__language_code="es")
    path = page.url + page.reverse_subpage("map_features")
    areas = Area.objects.filter(pk__in=consultation_area_ids(page))
    extent = areas.aggregate(extent=Extent("geometry"))["extent"]
    by_area = list(
        ConcernAreaCount.objects.filter(consultation_key=page.translation_key)
        .values("area_id")
        .annotate(n=Sum("count"))
        .order_by("-n")
    )
    if not by_area:
        raise SystemExit("No approved concerns in the summary: run manage.py map_counts_rebuild.")
    centre = Area.objects.get(pk=by_area[0]["area_id"]).geometry.point_on_surface
    markers = markers_view(page.translation_key, zoom=19)
    approved = sum(row["n"] for row in by_area)
    public_keys = [
        str(key) for key, entry in category_catalogue().items() if not entry["sensitive"]
    ]
    views = {
        "city-wide (z13, Chapinero extent)": (tuple(extent), 13),
        "street-level (z17, 1280x800 px)": (screen_bbox(centre.x, centre.y, 17), 17),
        "markers (z19, 1280x800 px)": (markers, 19),
    }
    print(f"Machine: {machine()}")
    print(f"{approved:,} approved concerns with an area in the consultation; endpoint {path}")

    results = []
    with gunicorn(
        database_url=args.database_url, settings_module="cms.settings.base", workers=args.workers
    ) as port:
        for name, (bbox, zoom) in views.items():
            # Warm every worker (imports, connections) on views that are not measured.
            for step in range(2 * args.workers):
                request("GET", port, f"{path}?{query(shifted(bbox, (4, step), zoom), zoom)}")
            same = [query(bbox, zoom)] * args.requests
            pans = [pan(n) for n in range(args.requests) if pan(n) != (0, 0)]
            panning = [query(shifted(bbox, step, zoom), zoom) for step in pans]
            cached, cached_sizes, last = time_endpoint(port, path, same)
            uncached, sizes, panned = time_endpoint(port, path, panning)
            data = json.loads(last["body"])
            with connection.cursor() as cursor:
                sql_times, summary_times = (
                    [
                        raw_sql_cells(
                            cursor,
                            consultation_key=page.translation_key,
                            public_keys=public_keys,
                            bbox=shifted(bbox, step, zoom),
                            zoom=zoom,
                            summary=summary,
                        )[0]
                        for step in pans
                    ]
                    for summary in (False, True)
                )
            results.append(
                {
                    "name": name,
                    "features": len(data["features"]),
                    "mode": data["meta"]["mode"],
                    "modes": panned["modes"],
                    "cached": cached,
                    "uncached": uncached,
                    "sql": sql_times,
                    "summary_sql": summary_times,
                    "payload": max(sizes + cached_sizes),
                    "gzip": len(gzip.compress(max(last["largest"], panned["largest"], key=len))),
                }
            )

    for row in results:
        ms = {
            key: (percentile(row[key], 50) * 1000, percentile(row[key], 95) * 1000)
            for key in ("cached", "uncached", "sql", "summary_sql")
        }
        ratio = ms["uncached"][0] / ms["sql"][0]
        summary_ratio = ms["uncached"][0] / ms["summary_sql"][0]
        met = ms["uncached"][1] < TARGET_P95_MS and row["payload"] / 1024 < TARGET_PAYLOAD_KB
        print(
            f"{row['name']}: {row['features']} features ({row['mode']}), payload "
            f"{row['payload'] / 1024:.0f} KB ({row['gzip'] / 1024:.0f} KB gzipped)\n"
            f"  cached   p50 {ms['cached'][0]:.0f} ms, p95 {ms['cached'][1]:.0f} ms\n"
            f"  uncached p50 {ms['uncached'][0]:.0f} ms, p95 {ms['uncached'][1]:.0f} ms "
            f"(modes {row['modes']})\n"
            f"  raw SQL on concerns p50 {ms['sql'][0]:.1f} ms, p95 {ms['sql'][1]:.1f} ms "
            f"(endpoint / SQL at p50: {ratio:.2f}x)\n"
            f"  raw SQL on summary  p50 {ms['summary_sql'][0]:.1f} ms, "
            f"p95 {ms['summary_sql'][1]:.1f} ms (endpoint / SQL at p50: {summary_ratio:.1f}x)\n"
            f"  targets (uncached p95 < {TARGET_P95_MS} ms, payload < {TARGET_PAYLOAD_KB} KB): "
            f"{'met' if met else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
