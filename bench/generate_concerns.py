"""Fill a PostGIS database with many concerns over the real Chapinero barrios, fast.

    .venv/bin/python bench/generate_concerns.py --count 1000000 \
        --database-url postgis://postgres@127.0.0.1:5432/convive_bench

The database is migrated and given the demo consultation (`load_demo --concerns 0`) when it has
none. Rows are made by the database itself, `INSERT … SELECT` over `ST_GeneratePoints` in batches,
not by the submit service: a million concerns through Python would take hours and measure nothing
we want. The public grid is computed in SQL with the very formulas of `maps.geometry` (spherical
Web Mercator, floor of metres / cell side; the fuzzed public point from an HMAC of the reference
with SECRET_KEY, via pgcrypto) and checked against `maps.geometry.public_location` on a sample.

Shape of the data: points spread over the consultation's barrios in proportion to their size times
a per-barrio intensity (some barrios report much more), 2 % placed by area only (no point),
categories weighted like load_demo (risks 3, assets 1), 90 % approved, 7 % pending, 3 % rejected,
submitted over the last 60 days. PostgreSQL only (it is what production runs).

The rows bypass the moderation service, so the public map's summary counts are rebuilt at the end
(`diagnosis.services.map_counts.map_counts_rebuild`, as `manage.py map_counts_rebuild` does).
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # diagnosis.models.new_reference's alphabet
# Generated references are base-32 numbers from this offset, far from what a small demo holds.
REFERENCE_OFFSET = 17 * 32**7


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--database-url", required=True, help="postgis://user@host:port/name")
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--approved", type=float, default=0.90)
    parser.add_argument("--sample", type=int, default=5000, help="rows checked against Python")
    return parser.parse_args()


def reference_sql(number: str) -> str:
    """SQL for the 'ABCD-EFGH' reference that encodes `number` (a bigint expression) in base 32."""
    digits = [
        f"substr('{ALPHABET}', (({number} >> {5 * (7 - i)}) & 31)::int + 1, 1)" for i in range(8)
    ]
    return " || ".join([*digits[:4], "'-'", *digits[4:]])


def insert_sql() -> str:
    # %(…)s are psycopg parameters. Mercator and the public offset mirror maps.geometry exactly.
    # Only constants are formatted in; every value is a query parameter.
    return f"""
WITH counts AS (
    SELECT * FROM unnest(%(area_ids)s::bigint[], %(counts)s::int[], %(seeds)s::int[])
        AS c(area_id, n, seed)
),
points AS (
    SELECT c.area_id, (ST_Dump(ST_GeneratePoints(a.geometry, c.n, c.seed))).geom AS p
    FROM counts c JOIN maps_area a ON a.id = c.area_id
    WHERE c.n > 0
),
numbered AS (
    SELECT area_id, p, %(first)s::bigint + row_number() OVER () AS n, random() AS r_status,
           random() AS r_cat, random() AS r_time, random() AS r_areaonly
    FROM points
),
located AS (
    SELECT *,
        {reference_sql("n")} AS reference,
        floor(6378137.0 * radians(ST_X(p)) / %(size)s)::int AS cx,
        floor(6378137.0 * ln(tan(pi() / 4 + radians(ST_Y(p)) / 2)) / %(size)s)::int AS cy
    FROM numbered
),
fuzzed AS (
    SELECT *, hmac(reference, %(secret)s, 'sha256') AS h FROM located
),
shaped AS (
    SELECT *,
        (%(cat_ids)s::bigint[])[1 + floor(r_cat * %(cat_n)s)::int] AS category_id,
        (%(cat_keys)s::uuid[])[1 + floor(r_cat * %(cat_n)s)::int] AS category_key,
        CASE WHEN r_status < %(approved)s THEN 'approved'
             WHEN r_status < %(approved)s + (1 - %(approved)s) * 0.7 THEN 'pending'
             ELSE 'rejected' END AS status,
        now() - (r_time * interval '60 days') AS submitted,
        r_areaonly < 0.02 AS area_only,
        ((('x' || encode(substring(h FROM 1 FOR 4), 'hex'))::bit(32)::bigint / 4294967296.0)
            - 0.5) * 0.7 AS dx,
        ((('x' || encode(substring(h FROM 5 FOR 4), 'hex'))::bit(32)::bigint / 4294967296.0)
            - 0.5) * 0.7 AS dy
    FROM fuzzed
)
INSERT INTO diagnosis_concern (
    consultation_id, consultation_key, category_id, category_key, description, point, area_id,
    place_description, public_point, cell_x, cell_y, time_band, day_type, frequency, affected,
    gender, gender_description, age_band, source, language, reference, public_id,
    idempotency_key, submitted_at, status, moderation_reason, moderated_at, processed_at
)
SELECT
    %(consultation_id)s, %(consultation_key)s, category_id, category_key, '',
    CASE WHEN area_only THEN NULL ELSE p END, area_id,
    CASE WHEN area_only THEN 'Cerca del parque' ELSE '' END,
    CASE WHEN area_only THEN NULL ELSE ST_SetSRID(ST_MakePoint(
        degrees((cx + 0.5 + dx) * %(size)s / 6378137.0),
        degrees(2 * atan(exp((cy + 0.5 + dy) * %(size)s / 6378137.0)) - pi() / 2)
    ), 4326) END,
    CASE WHEN area_only THEN NULL ELSE cx END,
    CASE WHEN area_only THEN NULL ELSE cy END,
    (ARRAY['morning', 'afternoon', 'evening', 'night', 'any'])[1 + floor(r_time * 5)::int],
    'both', 'often', '[]'::jsonb, '', '', '', 'online', 'es', reference,
    upper(substr(md5(reference || gen_random_uuid()::text), 1, 12)), gen_random_uuid(),
    submitted, status, '',
    CASE WHEN status = 'pending' THEN NULL ELSE submitted + interval '1 day' END,
    submitted + interval '5 seconds'
FROM shaped
ON CONFLICT DO NOTHING
"""  # noqa: S608


def main() -> None:
    args = parse_args()
    if not args.database_url.startswith(("postgis://", "postgres://", "postgresql://")):
        sys.exit("This generator needs PostgreSQL with PostGIS (--database-url postgis://…).")
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.base")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count

    from diagnosis.models import Concern, ConsultationPage
    from diagnosis.services.concerns import consultation_area_ids
    from diagnosis.services.map_counts import map_counts_rebuild
    from maps.geometry import public_location
    from maps.models import Area

    call_command("migrate", verbosity=0)
    page = ConsultationPage.objects.filter(slug="chapinero", locale__language_code="es").first()
    if page is None:
        call_command("load_demo", concerns=0, verbosity=0)
        page = ConsultationPage.objects.get(slug="chapinero", locale__language_code="es")
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")

    rng = random.Random(args.seed)
    areas = list(Area.objects.filter(pk__in=consultation_area_ids(page)).order_by("pk"))
    # Size times an intensity: a few barrios report far more than others, as in real consultations.
    weights = [area.geometry.area * rng.lognormvariate(0, 0.8) for area in areas]
    categories = list(page.categories.order_by("pk"))
    cat_ids, cat_keys = [], []
    for category in categories:
        weight = 1 if category.kind == "asset" else 3
        cat_ids += [category.pk] * weight
        cat_keys += [str(category.translation_key)] * weight

    before = Concern.objects.count()
    print(
        f"{len(areas)} barrios, {len(categories)} categories; "
        f"{before} concerns already; adding {args.count:,} in batches of {args.batch:,}"
    )
    started = time.monotonic()
    made = 0
    batch_number = 0
    while made < args.count:
        size = min(args.batch, args.count - made)
        counts = _split(size, weights, rng)
        batch_started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [rng.random() * 2 - 1])
            cursor.execute(
                insert_sql(),
                {
                    "area_ids": [area.pk for area in areas],
                    "counts": counts,
                    "seeds": [rng.randrange(1, 2**31) for _ in areas],
                    "first": REFERENCE_OFFSET + before + made + batch_number * 7,
                    "size": float(settings.CONVIVE_PUBLIC_GRID_METRES),
                    "secret": settings.SECRET_KEY,
                    "cat_ids": cat_ids,
                    "cat_keys": cat_keys,
                    "cat_n": len(cat_ids),
                    "approved": args.approved,
                    "consultation_id": page.pk,
                    "consultation_key": str(page.translation_key),
                },
            )
            inserted = cursor.rowcount
        made += inserted
        batch_number += 1
        elapsed = time.monotonic() - batch_started
        print(f"  +{inserted:,} in {elapsed:.1f} s ({inserted / elapsed:,.0f} rows/s)", flush=True)
        if inserted == 0:
            sys.exit("No rows inserted: is the consultation empty of areas?")
    total = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE diagnosis_concern")
    print(f"Inserted {made:,} concerns in {total:.1f} s: {made / total:,.0f} rows/s")
    # The rows bypassed moderation: recompute the public map's counts from them.
    started = time.monotonic()
    written = map_counts_rebuild(consultation_key=page.translation_key)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE diagnosis_concerncellcount")
        cursor.execute("ANALYZE diagnosis_concernareacount")
    print(
        f"Map counts rebuilt in {time.monotonic() - started:.1f} s: "
        f"{written['concerncellcount']:,} cell rows, {written['concernareacount']:,} area rows"
    )

    # The SQL grid must be the Python grid: same cell and the same fuzzed public point.
    sample = (
        Concern.objects.filter(point__isnull=False)
        .order_by("?")
        .values_list("reference", "point", "public_point", "cell_x", "cell_y")[: args.sample]
    )
    wrong_cells = wrong_points = 0
    checked = 0
    for reference, point, public_point, cell_x, cell_y in sample:
        expected, ex, ey = public_location(point.x, point.y, seed=reference)
        checked += 1
        wrong_cells += (ex, ey) != (cell_x, cell_y)
        wrong_points += (
            max(abs(expected.x - public_point.x), abs(expected.y - public_point.y)) > 1e-9
        )
    print(
        f"Checked {checked:,} rows against maps.geometry.public_location: "
        f"{wrong_cells} wrong cells, {wrong_points} wrong public points"
    )
    counts = dict(
        Concern.objects.filter(consultation_key=page.translation_key)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    print(f"Concerns by status: {counts}")
    if wrong_cells or wrong_points:
        sys.exit(1)


def _split(total: int, weights: list[float], rng: random.Random) -> list[int]:
    """`total` split in proportion to `weights` (largest remainders), as whole numbers."""
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


if __name__ == "__main__":
    main()
