"""Latency and size of a safety-walk report page and its exports, for a walk of many stops
compared with another walk of the same route.

    .venv/bin/python bench/walk_report.py \
        --database-url postgis://postgres@127.0.0.1:5432/convive_bench [--requests 100]

Creates (or reuses) two walks of its own on the bench database, identified by fixed UUIDs so a
second run finds them and nothing else is touched: a day walk and the same route at night
(`repeats`, `other_time`), each with `--stops` approved stops inserted in bulk (public points
computed by `maps.walks.stop_public_point`, as the recording service does), participants, and a
published report. Then starts `gunicorn cms.wsgi -w 4` (DEBUG off) and asks, one request at a
time after warming every worker:

- the night walk's report page (`/es/walks/<uuid>/`), which renders its stops and the day/night
  comparison, so both walks' stops are read: as the public gets it (the rendered page is cached
  until a stop or a walk changes), and rendered every time (a query string skips the cache);
- the GeoJSON and CSV exports of the night walk;
- the index of published reports.

`--drop` deletes the two benchmark walks and exits.
"""

import argparse
import gzip
import random
import time
import uuid
from datetime import datetime, timedelta

from common import django_setup, gunicorn, machine, percentile, timed

TARGET_P95_MS = 200
BENCH_UUIDS = {
    "day": uuid.uuid5(uuid.NAMESPACE_URL, "https://convive.invalid/bench/walk-report/day"),
    "night": uuid.uuid5(uuid.NAMESPACE_URL, "https://convive.invalid/bench/walk-report/night"),
}
# Hand-placed along Carrera 13 in Chapinero Central (the demo's route).
ROUTE = ((-74.0655, 4.6418), (-74.0648, 4.6443), (-74.0641, 4.6466), (-74.0634, 4.6487))
NOTES = (
    "Poste apagado frente al parqueadero.",
    "Muro largo sin ventanas.",
    "Andén roto y con huecos.",
    "Hay tiendas abiertas y gente.",
    "",
    "",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--stops", type=int, default=500, help="approved stops per walk")
    parser.add_argument("--requests", type=int, default=100, help="report requests to time")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--drop", action="store_true", help="delete the benchmark walks")
    return parser.parse_args()


def walks_prepare(stops_per_walk: int):
    """The two benchmark walks with `stops_per_walk` approved stops each (rebuilt if different)."""
    from django.contrib.gis.geos import LineString, Point
    from django.db import transaction
    from django.utils import timezone

    from maps.models import (
        WALK_PARAMETER_FIELDS,
        ModerationStatus,
        SafetyWalk,
        WalkParticipants,
        WalkStop,
    )
    from maps.walks import stop_public_point

    existing = SafetyWalk.objects.filter(uuid__in=BENCH_UUIDS.values())
    if existing.count() == 2 and all(
        walk.stops.filter(status=ModerationStatus.APPROVED).count() == stops_per_walk
        for walk in existing
    ):
        return SafetyWalk.objects.get(uuid=BENCH_UUIDS["day"]), SafetyWalk.objects.get(
            uuid=BENCH_UUIDS["night"]
        )
    existing.delete()
    rng = random.Random(11)
    route = LineString(ROUTE, srid=4326)
    now = timezone.now()
    started = time.monotonic()
    with transaction.atomic():
        walks = {}
        for key, band, light in (("day", "day", "daylight"), ("night", "night", "dark_lit")):
            walks[key] = SafetyWalk.objects.create(
                uuid=BENCH_UUIDS[key],
                title=f"Benchmark walk ({key})",
                route=route,
                meeting_point=Point(*ROUTE[0], srid=4326),
                meeting_place="Carrera 13 con calle 57",
                date=(now - timedelta(days=3)).date(),
                time_band=band,
                target_group="women",
                light=light,
                status="done",
                repeats=walks.get("day"),
                repeat_kind="other_time" if key == "night" else "",
                report_published_at=now,
            )
            WalkParticipants.objects.bulk_create(
                [
                    WalkParticipants(walk=walks[key], gender=g, age_band=a, count=c, sort_order=i)
                    for i, (g, a, c) in enumerate(
                        [("women", "18-29", 6), ("women", "30-44", 5), ("men", "30-44", 2)]
                    )
                ]
            )
            shift = 0 if key == "day" else -1
            rows = []
            for index in range(stops_per_walk):
                fraction = (index + rng.random()) / stops_per_walk
                on = route.interpolate_normalized(fraction)
                point = Point(
                    on.x + rng.uniform(-1e-4, 1e-4), on.y + rng.uniform(-1e-4, 1e-4), srid=4326
                )
                scores = {
                    name: None
                    if rng.random() < 0.1
                    else min(max(rng.randint(0, 3) + shift * (rng.random() < 0.5), 0), 3)
                    for name in WALK_PARAMETER_FIELDS
                }
                stop = WalkStop(
                    walk=walks[key],
                    idempotency_key=uuid.uuid4(),
                    point=point,
                    located_by="gps",
                    feeling=rng.choice(["comfortable", "uncomfortable", "frightening"]),
                    hazards=sorted(
                        rng.sample(["entrapment", "no_escape", "maintenance", "no_help"], 2)
                    )
                    if rng.random() < 0.4
                    else [],
                    notes=rng.choice(NOTES),
                    photo=f"walks/bench/{index}.jpg" if rng.random() < 0.1 else "",
                    recorded_at=datetime.combine(walks[key].date, datetime.min.time(), now.tzinfo)
                    + timedelta(seconds=20 * index),
                    source="facilitator",
                    language="es",
                    status=ModerationStatus.APPROVED,
                    moderated_at=now,
                    **scores,
                )
                stop.public_point = stop_public_point(
                    walk=walks[key], point=point, seed=stop.reference
                )
                rows.append(stop)
            WalkStop.objects.bulk_create(rows, batch_size=1000)
    print(
        f"Created 2 walks × {stops_per_walk} approved stops in {time.monotonic() - started:.1f} s"
    )
    return walks["day"], walks["night"]


def main() -> None:
    args = parse_args()
    django_setup(args.database_url)
    from django.core.management import call_command

    from maps.models import SafetyWalk

    if args.drop:
        deleted, _ = SafetyWalk.objects.filter(uuid__in=BENCH_UUIDS.values()).delete()
        print(f"Deleted {deleted} rows.")
        return
    call_command("migrate", verbosity=0)
    _day, night = walks_prepare(args.stops)
    report = f"/es/walks/{night.uuid}/"
    paths = {
        f"report ({args.stops} + {args.stops} stops, day/night comparison)": (
            report,
            args.requests,
        ),
        # A query string bypasses the page cache: every request reads and renders.
        "report, rendered every time (uncached)": (f"{report}?uncached=1", args.requests),
        "GeoJSON export": (f"{report}stops.geojson", max(args.requests // 2, 10)),
        "CSV export": (f"{report}stops.csv", max(args.requests // 2, 10)),
        "index of published reports": ("/es/walks/", max(args.requests // 4, 10)),
    }
    print(f"Machine: {machine()}")
    results = []
    with gunicorn(
        database_url=args.database_url, settings_module="cms.settings.base", workers=args.workers
    ) as port:
        for name, (path, count) in paths.items():
            timed(port, path, 3 * args.workers)  # warm every worker
            latencies, body = timed(port, path, count)
            results.append((name, count, latencies, len(body), len(gzip.compress(body))))
    print(f"Load average after the run: {machine().split('load average ')[1]}")
    for name, count, latencies, size, zipped in results:
        p50, p95 = percentile(latencies, 50) * 1000, percentile(latencies, 95) * 1000
        line = (
            f"{name}: {count} requests, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
            f"{size / 1024:.0f} KB ({zipped / 1024:.0f} KB gzipped)"
        )
        if name.startswith("report"):
            line += (
                f" — target p95 < {TARGET_P95_MS} ms: {'met' if p95 < TARGET_P95_MS else 'NOT met'}"
            )
        print(line)


if __name__ == "__main__":
    main()
