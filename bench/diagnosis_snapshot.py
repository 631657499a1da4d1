"""How long a full diagnosis snapshot takes on a large consultation, against bare SQL, and how
fast its public results page answers.

    .venv/bin/python bench/diagnosis_snapshot.py [--keep] \
        [--concerns 1000000 --responses 100000 --stops 10000 --areas 300] \
        [--database-url postgis://postgres@127.0.0.1:5432/convive_bench_diag]

The database (default `convive_bench_diag`) is the script's own: it is dropped and created again
with PostGIS, then migrated, unless `--keep` finds it already holding a benchmark consultation of
the asked sizes. The data is made by PostgreSQL itself (`INSERT … SELECT generate_series`), not by
the submit services, which would take hours and measure nothing we want here:

- `--areas` square areas of 0.005° (about 550 m) on a grid south-west of central Bogotá, each with
  population figures by sex × age band;
- a consultation (`bench-diagnosis`, Spanish) over those areas with 12 categories (8 risks, one
  of them sensitive, and 4 assets) and the demo questionnaire of question-bank items
  (`load_demo.DEMO_QUESTIONS`), published so its `QuestionnaireVersion` is made by the real
  service;
- `--concerns` approved concerns, denser in the first areas (a few areas report far more, as in
  real consultations): area, category (risks three times as likely as assets), gender, age band,
  time band, the affected list, 2 % placed by area only; the exact point, its public grid cell and
  the fuzzed public point computed with the formulas of `maps.geometry` (checked against
  `public_location` on a sample);
- `--responses` questionnaire responses with answers: perception items leaning towards "unsafe"
  for women, follow-up questions answered only when their condition is met, 5 % of items left
  empty;
- `--stops` approved stops over safety walks of 500 stops each (one per row of areas, linked to
  the consultation), on the walk's route, with audit scores (10 % not observed) and feelings.

Then everything is ANALYZEd and measured in one run:

(a) bare SQL: for each step of `diagnosis.engine.STEPS`, the least hand-written SQL that returns
    the same groupings (`BARE_BY_STEP` below; for a step the script does not know by code,
    statements per table it produced, `BARE_BY_TABLE`). A warm-up pass, then `--passes` (3), the
    median kept. A step with no bare statement is reported as missing.
(b) the snapshot through the real service path, `diagnosis_run_start` + `diagnosis_run_execute`
    (in-process, the task queue bypassed), in a fresh Python process: wall time, peak resident
    memory (`ru_maxrss`) and the memory after Django started, and each step's own time. Target:
    (b) ≤ 3 × (a), peak below 1 GB.
(c) the results page (`cms.models.ResultsPage`) under the consultation, with the snapshot,
    published; `--requests` GETs with Django's test client after a warm-up: p50 / p95 / max.
    Target: p95 < 50 ms. The map cells (`map/`, fetched by the page's script) are timed too.

`--explain` prints EXPLAIN (ANALYZE, BUFFERS) of the slowest engine query and of the bare SQL of
every step that took more than twice its bare time.

The results are printed as a table and as one JSON line (starting `RESULT `).
"""

import argparse
import dataclasses
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from urllib.parse import urlparse

from common import ROOT, django_setup, machine, memory_kb, percentile

DEFAULT_URL = "postgis://postgres@127.0.0.1:5432/convive_bench_diag"
SLUG = "bench-diagnosis"
AREA_PREFIX = "BENCH-DIAG-"
LON0, LAT0, SIDE = -74.20, 4.50, 0.005  # south-west corner of the grid; a square's side (°)
STOPS_PER_WALK = 500
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # diagnosis.models.new_reference's alphabet
CONCERN_REFERENCE_OFFSET = 19 * 32**7
STOP_REFERENCE_OFFSET = 23 * 32**7
CONCERN_BATCH = 200_000
SEXES = ("female", "male")
AGE_BANDS = ("0-11", "12-17", "18-29", "30-44", "45-64", "65+")
# (code, kind, sensitive, prevention type); risks are drawn three times as often as assets.
CATEGORIES = (
    ("bench-poor-lighting", "risk", False, "situational"),
    ("bench-abandoned-places", "risk", False, "situational"),
    ("bench-street-harassment", "risk", False, "social"),
    ("bench-robbery", "risk", False, "situational"),
    ("bench-drug-selling", "risk", False, "social"),
    ("bench-alcohol-violence", "risk", False, "community"),
    ("bench-traffic", "risk", False, "situational"),
    ("bench-domestic-violence", "risk", True, "psychosocial"),
    ("bench-community-centre", "asset", False, "community"),
    ("bench-well-lit-route", "asset", False, "situational"),
    ("bench-safe-place", "asset", False, "community"),
    ("bench-school", "asset", False, "social"),
)
AFFECTED = (
    '["everyone"]',
    '["women"]',
    '["women", "children"]',
    '["youth"]',
    '["older"]',
    '["children"]',
    '["me"]',
    '["migrants", "lgbti"]',
    '["disabled"]',
    "[]",
)
# Perception items the bare SQL groups when `diagnosis.indicators` is not there.
PERCEPTION_CODES = ("bank-safe-night", "bank-safe-day", "bank-safe-transport")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--concerns", type=int, default=1_000_000)
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--stops", type=int, default=10_000)
    parser.add_argument("--areas", type=int, default=300)
    parser.add_argument("--requests", type=int, default=200, help="results page requests")
    parser.add_argument("--passes", type=int, default=3, help="passes of the bare SQL")
    parser.add_argument("--keep", action="store_true", help="reuse the database if it fits")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="EXPLAIN ANALYZE the engine's and the bare SQL of steps over twice their bare time",
    )
    parser.add_argument("--run-snapshot", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.database_url.startswith(("postgis://", "postgres://", "postgresql://")):
        parser.error("this benchmark needs PostgreSQL with PostGIS (--database-url postgis://…)")
    if min(args.concerns, args.responses, args.stops) < 0 or args.areas < 1:
        parser.error("sizes must be positive")
    return args


# --- The database ------------------------------------------------------------------------------


def server_connection(url: str):
    """psycopg on the server's maintenance database, to create or drop the bench database."""
    import psycopg

    parts = urlparse(url)
    return psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )


def database_exists(url: str) -> bool:
    name = urlparse(url).path.lstrip("/")
    with server_connection(url) as connection:
        return bool(
            connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        )


def database_recreate(url: str) -> None:
    """Drop and create the bench database, with PostGIS and pgcrypto (the public point's HMAC)."""
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if not name.startswith("convive_bench"):
        sys.exit(f"Refusing to drop {name!r}: the bench database's name starts with convive_bench.")
    with server_connection(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlparse(url)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname=name,
        autocommit=True,
    ) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        connection.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")


def sql(statement: str, params=None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


# --- Generating the data -----------------------------------------------------------------------


def grid(areas: int) -> tuple[int, int]:
    """Columns and full rows of the area grid (about 4:3)."""
    columns = max(1, math.ceil(math.sqrt(areas * 4 / 3)))
    return columns, max(1, areas // columns)


def reference_sql(number: str) -> str:
    """SQL for the 'ABCD-EFGH' reference that encodes `number` (a bigint) in base 32."""
    digits = [
        f"substr('{ALPHABET}', (({number} >> {5 * (7 - i)}) & 31)::int + 1, 1)" for i in range(8)
    ]
    return " || ".join([*digits[:4], "'-'", *digits[4:]])


def areas_generate(count: int) -> list[int]:
    """Square areas on a grid, with population by sex × age band; returns their ids in order."""
    columns, _rows = grid(count)
    sql(
        f"""
        INSERT INTO maps_area (name, code, level, parent_id, geometry, population_total,
                               population_year, source, licence, updated_at)
        SELECT 'Sector ' || n, '{AREA_PREFIX}' || lpad(n::text, 5, '0'), 'neighbourhood', NULL,
               ST_Multi(ST_MakeEnvelope(
                   %(lon0)s + mod(n, %(columns)s) * %(side)s,
                   %(lat0)s + (n / %(columns)s) * %(side)s,
                   %(lon0)s + (mod(n, %(columns)s) + 1) * %(side)s,
                   %(lat0)s + (n / %(columns)s + 1) * %(side)s, 4326)),
               NULL, 2024, 'Convive benchmark', '', now()
        FROM generate_series(0, %(count)s - 1) AS g(n)
        """,  # noqa: S608
        {"lon0": LON0, "lat0": LAT0, "side": SIDE, "columns": columns, "count": count},
    )
    sql(
        """
        INSERT INTO maps_areapopulation (area_id, sex, age_band, count)
        SELECT a.id, s.sex, b.band,
               (300 + 1500 * random() * CASE b.band WHEN '65+' THEN 0.5 ELSE 1 END)::int
        FROM maps_area a, unnest(%(sexes)s::text[]) AS s(sex), unnest(%(bands)s::text[]) AS b(band)
        WHERE a.code LIKE %(prefix)s
        """,
        {"sexes": list(SEXES), "bands": list(AGE_BANDS), "prefix": AREA_PREFIX + "%"},
    )
    sql(
        """
        UPDATE maps_area a SET population_total = p.total
        FROM (SELECT area_id, sum(count) AS total FROM maps_areapopulation GROUP BY 1) p
        WHERE p.area_id = a.id AND a.code LIKE %(prefix)s
        """,
        {"prefix": AREA_PREFIX + "%"},
    )
    return [
        row[0]
        for row in sql(
            "SELECT id FROM maps_area WHERE code LIKE %s ORDER BY code", [AREA_PREFIX + "%"]
        )
    ]


def walks_create(count: int, area_ids: list[int]):
    """One walk per row of areas (wrapping round), its route straight across the row."""
    import datetime

    from django.contrib.gis.geos import LineString
    from django.utils import timezone

    from maps.models import SafetyWalk

    columns, rows = grid(len(area_ids))
    walks = []
    for number in range(count):
        row = number % rows
        latitude = LAT0 + (row + 0.5) * SIDE
        walk = SafetyWalk.objects.create(
            title=f"Recorrido de prueba {number + 1}",
            route=LineString((LON0, latitude), (LON0 + columns * SIDE, latitude), srid=4326),
            date=datetime.date(2026, 10, 1) + datetime.timedelta(days=number),
            time_band=SafetyWalk.TimeBand.NIGHT if number % 2 else SafetyWalk.TimeBand.DAY,
            target_group=SafetyWalk.TargetGroup.WOMEN,
            status=SafetyWalk.Status.DONE,
            report_published_at=timezone.now(),
        )
        walk.areas.set(area_ids[row * columns : (row + 1) * columns])
        walk.save()
        walks.append(walk)
    return walks


def consultation_create(area_ids: list[int], walks):
    """The consultation, its categories and its question-bank questionnaire (published)."""
    from cms.management.commands.load_demo import DEMO_QUESTIONS
    from cms.models import HomePage
    from diagnosis.models import ConcernCategory, ConsultationPage
    from diagnosis.question_bank import BANK_BY_CODE, bank_blocks
    from diagnosis.questionnaire_blocks import questionnaire_stream
    from diagnosis.services.questionnaires import questionnaire_version_for

    home = HomePage.objects.filter(locale__language_code="es").first()
    if home is None:
        sys.exit("No Spanish home page: is this database migrated?")
    categories = [
        ConcernCategory.objects.create(
            locale=home.locale,
            code=code,
            name=code.removeprefix("bench-").replace("-", " ").capitalize(),
            kind=kind,
            sensitive=sensitive,
            prevention_type=prevention,
            sort_order=position,
        )
        for position, (code, kind, sensitive, prevention) in enumerate(CATEGORIES)
    ]
    page = ConsultationPage(
        title="Diagnóstico de prueba", slug=SLUG, phase=ConsultationPage.Phase.DIAGNOSIS
    )
    home.add_child(instance=page)
    page.areas.set(area_ids)
    page.categories.set(categories)
    page.walks.set(walks)
    items = [BANK_BY_CODE[code] for code in DEMO_QUESTIONS]
    page.questionnaire = questionnaire_stream(bank_blocks(items, "es"))
    page.save_revision().publish()
    page = ConsultationPage.objects.get(pk=page.pk)
    return page, categories, questionnaire_version_for(page)


def concerns_generate(page, categories, area_ids: list[int], count: int) -> float:
    """Approved concerns in batches, all in SQL; returns the seconds it took."""
    from django.conf import settings
    from django.db import transaction

    columns, _rows = grid(len(area_ids))
    cat_ids, cat_keys = [], []
    for category in categories:
        weight = 1 if category.kind == "asset" else 3
        cat_ids += [category.pk] * weight
        cat_keys += [str(category.translation_key)] * weight
    statement = f"""
WITH base AS (
    SELECT g.n, floor(power(random(), 1.6) * %(areas)s)::int AS ai, random() AS rx,
           random() AS ry, random() AS rc, random() AS rg, random() AS ra, random() AS rt,
           random() AS rf, random() AS rs, random() AS rd
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g(n)
),
placed AS (
    SELECT *, %(lon0)s + (mod(ai, %(columns)s) + rx) * %(side)s AS lon,
           %(lat0)s + (ai / %(columns)s + ry) * %(side)s AS lat,
           {reference_sql("n")} AS reference
    FROM base
),
located AS (
    SELECT *,
        floor(6378137.0 * radians(lon) / %(size)s)::int AS cx,
        floor(6378137.0 * ln(tan(pi() / 4 + radians(lat) / 2)) / %(size)s)::int AS cy,
        hmac(reference, %(secret)s, 'sha256') AS h
    FROM placed
),
shaped AS (
    SELECT *,
        ((('x' || encode(substring(h FROM 1 FOR 4), 'hex'))::bit(32)::bigint / 4294967296.0)
            - 0.5) * 0.7 AS dx,
        ((('x' || encode(substring(h FROM 5 FOR 4), 'hex'))::bit(32)::bigint / 4294967296.0)
            - 0.5) * 0.7 AS dy,
        rs < 0.02 AS area_only,
        now() - rd * interval '60 days' AS submitted
    FROM located
)
INSERT INTO diagnosis_concern (
    consultation_id, consultation_key, category_id, category_key, description, point, area_id,
    place_description, public_point, cell_x, cell_y, time_band, day_type, frequency, affected,
    gender, gender_description, age_band, source, language, reference, idempotency_key,
    submitted_at, status, moderation_reason, moderated_at, processed_at
)
SELECT
    %(page)s, %(key)s,
    (%(cat_ids)s::bigint[])[1 + floor(rc * %(cat_n)s)::int],
    (%(cat_keys)s::uuid[])[1 + floor(rc * %(cat_n)s)::int], '',
    CASE WHEN area_only THEN NULL ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END,
    (%(area_ids)s::bigint[])[ai + 1],
    CASE WHEN area_only THEN 'Cerca del parque' ELSE '' END,
    CASE WHEN area_only THEN NULL ELSE ST_SetSRID(ST_MakePoint(
        degrees((cx + 0.5 + dx) * %(size)s / 6378137.0),
        degrees(2 * atan(exp((cy + 0.5 + dy) * %(size)s / 6378137.0)) - pi() / 2)
    ), 4326) END,
    CASE WHEN area_only THEN NULL ELSE cx END,
    CASE WHEN area_only THEN NULL ELSE cy END,
    CASE WHEN rt < 0.1 THEN ''
         ELSE (ARRAY['morning', 'afternoon', 'evening', 'night', 'any'])
             [1 + floor((rt - 0.1) / 0.9 * 5)::int] END,
    'both', 'often',
    (%(affected)s::jsonb[])[1 + floor(rf * %(affected_n)s)::int],
    CASE WHEN rg < 0.50 THEN 'woman' WHEN rg < 0.88 THEN 'man' WHEN rg < 0.91 THEN 'non-binary'
         WHEN rg < 0.95 THEN 'unsaid' ELSE '' END,
    '',
    CASE WHEN ra < 0.05 THEN '12-17' WHEN ra < 0.33 THEN '18-29' WHEN ra < 0.63 THEN '30-44'
         WHEN ra < 0.85 THEN '45-64' WHEN ra < 0.95 THEN '65+' ELSE '' END,
    'online', 'es', reference, gen_random_uuid(), submitted, 'approved', '',
    submitted + interval '1 day', submitted + interval '5 seconds'
FROM shaped
"""  # noqa: S608
    started = time.perf_counter()
    made = 0
    while made < count:
        size = min(CONCERN_BATCH, count - made)
        batch_started = time.perf_counter()
        with transaction.atomic():
            sql(
                statement,
                {
                    "areas": len(area_ids),
                    "area_ids": area_ids,
                    "columns": columns,
                    "lon0": LON0,
                    "lat0": LAT0,
                    "side": SIDE,
                    "first": CONCERN_REFERENCE_OFFSET + made,
                    "last": CONCERN_REFERENCE_OFFSET + made + size - 1,
                    "size": float(settings.CONVIVE_PUBLIC_GRID_METRES),
                    "secret": settings.SECRET_KEY,
                    "cat_ids": cat_ids,
                    "cat_keys": cat_keys,
                    "cat_n": len(cat_ids),
                    "affected": list(AFFECTED),
                    "affected_n": len(AFFECTED),
                    "page": page.pk,
                    "key": str(page.translation_key),
                },
            )
        made += size
        print(
            f"  concerns: {made:,} ({size / (time.perf_counter() - batch_started):,.0f} rows/s)",
            flush=True,
        )
    return time.perf_counter() - started


def concerns_check(sample: int = 2000) -> tuple[int, int]:
    """(wrong cells, wrong public points) on a random sample, against maps.geometry."""
    from diagnosis.models import Concern
    from maps.geometry import public_location

    wrong_cells = wrong_points = 0
    rows = (
        Concern.objects.filter(point__isnull=False)
        .order_by("?")
        .values_list("reference", "point", "public_point", "cell_x", "cell_y")[:sample]
    )
    for reference, point, public_point, cell_x, cell_y in rows:
        expected, ex, ey = public_location(point.x, point.y, seed=reference)
        wrong_cells += (ex, ey) != (cell_x, cell_y)
        wrong_points += (
            max(abs(expected.x - public_point.x), abs(expected.y - public_point.y)) > 1e-9
        )
    return wrong_cells, wrong_points


def _answer_value_sql(question: dict) -> str:
    """SQL for one random answer to `question`, for the response `r` (choices in %(choices)s)."""
    kind = question["type"]
    if kind == "multiple_choice" or (kind == "time_band" and question.get("multiple")):
        # Correlated on r.id so each response draws its own subset.
        return (
            "(SELECT coalesce(jsonb_agg(c ORDER BY o), "
            "jsonb_build_array((%(choices)s::text[])[1])) "
            "FROM unnest(%(choices)s::text[]) WITH ORDINALITY AS u(c, o) "
            "WHERE random() < 0.25 AND r.id IS NOT NULL)"
        )
    if kind == "likert":
        # Four scale points first, then the answers analysis leaves out (don't know, …); women
        # lean towards the unsafe end, as perception surveys find.
        return (
            "CASE WHEN random() < 0.06 AND %(n)s > 4 "
            "THEN to_jsonb((%(choices)s::text[])[5 + floor(random() * (%(n)s - 4))::int]) "
            "ELSE to_jsonb((%(choices)s::text[])[1 + least(3, floor(power(random(), "
            "CASE WHEN r.gender = 'woman' THEN 0.7 ELSE 1.3 END) * 4))::int]) END"
        )
    return "to_jsonb((%(choices)s::text[])[1 + floor(random() * %(n)s)::int])"


def responses_generate(page, version, count: int) -> float:
    """Responses in one INSERT, then the answers question by question (follow-ups only where the
    condition is met). Returns the seconds it took."""
    from django.db import transaction

    from diagnosis.questionnaire_blocks import time_band_choices

    started = time.perf_counter()
    with transaction.atomic():
        sql(
            """
            INSERT INTO diagnosis_questionnaireresponse (
                consultation_id, consultation_key, version_id, language, submitted_at,
                idempotency_key, source, filled_on, entered_by_id, gender, gender_description,
                age_band)
            SELECT %(page)s, %(key)s, %(version)s, CASE WHEN rl < 0.85 THEN 'es' ELSE 'en' END,
                   now() - rd * interval '60 days', gen_random_uuid(),
                   CASE WHEN rl < 0.12 THEN 'paper' ELSE 'online' END, NULL, NULL,
                   CASE WHEN rg < 0.50 THEN 'woman' WHEN rg < 0.88 THEN 'man'
                        WHEN rg < 0.91 THEN 'non-binary' WHEN rg < 0.95 THEN 'unsaid' ELSE '' END,
                   '',
                   CASE WHEN ra < 0.06 THEN '12-17' WHEN ra < 0.34 THEN '18-29'
                        WHEN ra < 0.64 THEN '30-44' WHEN ra < 0.86 THEN '45-64'
                        WHEN ra < 0.96 THEN '65+' ELSE '' END
            FROM (SELECT random() AS rl, random() AS rd, random() AS rg, random() AS ra
                  FROM generate_series(1, %(count)s)) AS g
            """,
            {
                "page": page.pk,
                "key": str(page.translation_key),
                "version": version.pk,
                "count": count,
            },
        )
        blocks = {question["code"]: question["id"] for question in version.questions}
        bands = [band for band, _label in time_band_choices()]
        for question in version.questions:
            choices = [choice["value"] for choice in question.get("choices", [])] or bands
            params = {
                "key": str(page.translation_key),
                "block": question["id"],
                "code": question["code"],
                "choices": choices,
                "n": len(choices),
            }
            value = _answer_value_sql(question)
            condition = question.get("condition")
            if condition:
                params |= {"parent": blocks[condition["question"]], "answer": condition["value"]}
                source = (
                    "diagnosis_questionnaireresponse r JOIN diagnosis_answer p "
                    "ON p.response_id = r.id AND p.block_id = %(parent)s "
                    "AND (p.value = to_jsonb(%(answer)s::text) "
                    "OR p.value @> jsonb_build_array(%(answer)s::text))"
                )
            else:
                source = "diagnosis_questionnaireresponse r"
            sql(
                "INSERT INTO diagnosis_answer (response_id, block_id, question_code, value) "  # noqa: S608
                f"SELECT r.id, %(block)s, %(code)s, {value} FROM {source} "
                "WHERE r.consultation_key = %(key)s AND random() >= 0.05",
                params,
            )
    return time.perf_counter() - started


def stops_generate(walks, count: int) -> float:
    """Approved stops on the walks' routes (a few metres off), with scores and feelings."""
    from django.db import transaction

    from maps.models import WALK_PARAMETER_FIELDS

    scores = ", ".join(
        "CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 4)::int END"
        for _name in WALK_PARAMETER_FIELDS
    )
    started = time.perf_counter()
    with transaction.atomic():
        sql(
            f"""
            WITH base AS (
                SELECT g.n, (%(walks)s::bigint[])[1 + mod(g.n, %(walks_n)s)] AS walk_id,
                       random() AS f, random() AS j, random() AS rf, random() AS rh
                FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g(n)
            ),
            placed AS (
                SELECT b.*, w.date, ST_LineInterpolatePoint(w.route, b.f) AS on_route
                FROM base b JOIN maps_safetywalk w ON w.id = b.walk_id
            )
            INSERT INTO maps_walkstop (
                walk_id, reference, idempotency_key, point, located_by, accuracy_m, public_point,
                {", ".join(WALK_PARAMETER_FIELDS)}, feeling, hazards, notes, photo, recorded_at,
                received_at, source, recorded_by_id, language, status, moderation_reason,
                moderated_at)
            SELECT walk_id, {reference_sql("n")}, gen_random_uuid(),
                   ST_Translate(on_route, 0, (j - 0.5) * 0.0004), 'route', NULL, on_route,
                   {scores},
                   CASE WHEN rf < 0.5 THEN 'comfortable' WHEN rf < 0.8 THEN 'uncomfortable'
                        ELSE 'frightening' END,
                   CASE WHEN rh < 0.6 THEN '[]'::jsonb WHEN rh < 0.8 THEN '["maintenance"]'::jsonb
                        ELSE '["entrapment", "no_help"]'::jsonb END,
                   '', '', date + time '19:00' + f * interval '2 hours', now(), 'participant',
                   NULL, 'es', 'approved', '', now()
            FROM placed
            """,  # noqa: S608
            {
                "walks": [walk.pk for walk in walks],
                "walks_n": len(walks),
                "first": STOP_REFERENCE_OFFSET,
                "last": STOP_REFERENCE_OFFSET + count - 1,
            },
        )
    return time.perf_counter() - started


def data_generate(args) -> dict:
    started = time.perf_counter()
    area_ids = areas_generate(args.areas)
    walks = walks_create(
        max(1, math.ceil(args.stops / STOPS_PER_WALK)) if args.stops else 0, area_ids
    )
    page, categories, version = consultation_create(area_ids, walks)
    print(
        f"  {len(area_ids)} areas, {len(categories)} categories, {len(walks)} walks, "
        f"consultation {page.pk}"
    )
    timings = {"concerns": concerns_generate(page, categories, area_ids, args.concerns)}
    timings["responses"] = responses_generate(page, version, args.responses)
    print(f"  responses: {args.responses:,} in {timings['responses']:.1f} s", flush=True)
    timings["stops"] = stops_generate(walks, args.stops) if walks else 0.0
    print(f"  stops: {args.stops:,} in {timings['stops']:.1f} s", flush=True)
    analyse_started = time.perf_counter()
    sql("ANALYZE")
    timings["analyze"] = time.perf_counter() - analyse_started
    timings["total"] = time.perf_counter() - started
    wrong_cells, wrong_points = concerns_check()
    print(f"  sample check: {wrong_cells} wrong cells, {wrong_points} wrong public points")
    if wrong_cells or wrong_points:
        sys.exit("The SQL grid does not match maps.geometry.")
    return timings


def data_fits(args) -> bool:
    """Whether the kept database holds the benchmark consultation at the asked sizes."""
    from diagnosis.models import ConsultationPage

    page = ConsultationPage.objects.filter(slug=SLUG).first()
    if page is None:
        return False
    have = sql(
        """
        SELECT (SELECT count(*) FROM diagnosis_concern WHERE consultation_key = %(key)s),
               (SELECT count(*) FROM diagnosis_questionnaireresponse
                WHERE consultation_key = %(key)s),
               (SELECT count(*) FROM maps_walkstop),
               (SELECT count(*) FROM maps_area WHERE code LIKE %(prefix)s)
        """,
        {"key": str(page.translation_key), "prefix": AREA_PREFIX + "%"},
    )[0]
    return tuple(have) == (args.concerns, args.responses, args.stops, args.areas)


def data_counts(page) -> dict:
    key = str(page.translation_key)
    concerns, responses, answers, stops = sql(
        """
        SELECT (SELECT count(*) FROM diagnosis_concern WHERE consultation_key = %(key)s),
               (SELECT count(*) FROM diagnosis_questionnaireresponse
                WHERE consultation_key = %(key)s),
               (SELECT count(*) FROM diagnosis_answer a JOIN diagnosis_questionnaireresponse r
                       ON r.id = a.response_id WHERE r.consultation_key = %(key)s),
               (SELECT count(*) FROM maps_walkstop)
        """,
        {"key": key},
    )[0]
    return {
        "concerns": concerns,
        "responses": responses,
        "answers": answers,
        "stops": stops,
        "areas": page.areas.count(),
        "walks": page.walks.count(),
    }


# --- (a) Bare SQL ------------------------------------------------------------------------------

APPROVED = "FROM diagnosis_concern c WHERE c.consultation_key = %(key)s AND c.status = 'approved'"
WITH_CATEGORY = (
    "FROM diagnosis_concern c JOIN diagnosis_concerncategory k ON k.id = c.category_id "
    "WHERE c.consultation_key = %(key)s AND c.status = 'approved'"
)
ANSWERS = (
    "FROM diagnosis_answer a JOIN diagnosis_questionnaireresponse r ON r.id = a.response_id "
    "WHERE r.consultation_key = %(key)s AND a.question_code = ANY(%(perception)s)"
)
RESPONSES = "FROM diagnosis_questionnaireresponse r WHERE r.consultation_key = %(key)s"
STOPS = "FROM maps_walkstop s WHERE s.walk_id = ANY(%(walks)s) AND s.status = 'approved'"
STOPS_IN_AREAS = (
    "FROM maps_walkstop s JOIN maps_area ar ON ar.id = ANY(%(areas)s) "
    "AND ST_Contains(ar.geometry, s.point) "
    "WHERE s.walk_id = ANY(%(walks)s) AND s.status = 'approved'"
)
POPULATION = (
    "SELECT sex, age_band, sum(count) FROM maps_areapopulation WHERE area_id = ANY(%(areas)s) "
    "GROUP BY 1, 2"
)
PARTICIPATION_CONCERNS = f"SELECT c.gender, c.age_band, count(*) {APPROVED} GROUP BY 1, 2"
PARTICIPATION_RESPONSES = f"SELECT r.gender, r.age_band, count(*) {RESPONSES} GROUP BY 1, 2"
PREVIOUS_PUBLICATION = (
    "SELECT snapshot_id FROM diagnosis_snapshotpublication WHERE consultation_key = %(previous)s "
    "ORDER BY published_at DESC LIMIT 1"
)


def _walks_sql() -> str:
    """Stops per area with every score's and feeling's count (the spatial join in SQL)."""
    from maps.models import WALK_PARAMETER_FIELDS, WalkStop

    columns = [
        f"count(*) FILTER (WHERE s.{name} = {score})"
        for name in WALK_PARAMETER_FIELDS
        for score in range(4)
    ]
    columns += [f"count(*) FILTER (WHERE s.feeling = '{x}')" for x in WalkStop.Feeling.values]
    return f"SELECT ar.id, count(*), {', '.join(columns)} {STOPS_IN_AREAS} GROUP BY 1"


WALKS_BY_AREA = "__walks__"
PERCEPTION_ANSWERS = (
    f"SELECT a.question_code, a.value, r.gender, r.age_band, count(*) {ANSWERS} GROUP BY 1, 2, 3, 4"
)
HOTSPOTS = [
    "SELECT c.cell_x, c.cell_y, count(*) FILTER (WHERE k.kind = 'risk'), count(*) "
    f"{WITH_CATEGORY} AND NOT k.sensitive AND c.cell_x IS NOT NULL GROUP BY 1, 2",
    "SELECT floor(6378137.0 * radians(ST_X(s.public_point)) / %(size)s)::int, "
    "floor(6378137.0 * ln(tan(pi() / 4 + radians(ST_Y(s.public_point)) / 2)) / %(size)s)::int, "
    f"count(*) {STOPS} AND s.public_point IS NOT NULL GROUP BY 1, 2",
]
CHANGE_TABLES = "('concerns_by_area_category', 'perception')"
CHANGE = [
    f"""SELECT "table", area_id, category_key, "group", count, total, value, low, high
    FROM diagnosis_diagnosisresult
    WHERE snapshot_id = ({PREVIOUS_PUBLICATION}) AND "table" IN {CHANGE_TABLES}"""  # noqa: S608
]
AFFECTED_SQL = [
    "SELECT c.category_key, a.value, count(*) FROM diagnosis_concern c, "
    "jsonb_array_elements_text(c.affected) AS a(value) "
    "WHERE c.consultation_key = %(key)s AND c.status = 'approved' GROUP BY 1, 2",
    f"SELECT c.category_key, count(*) {APPROVED} AND c.affected = '[]'::jsonb GROUP BY 1",
]

# The least SQL each step of the engine needs to read from the database: the same groupings,
# nothing else. A step that only reuses what earlier steps counted has an empty list.
BARE_BY_STEP = {
    "inputs": [
        "SELECT count(*) FILTER (WHERE status = 'approved'), "
        "count(*) FILTER (WHERE status = 'approved' AND area_id IS NOT NULL), "
        "count(*) FILTER (WHERE status = 'approved' AND cell_x IS NOT NULL), "
        "count(*) FILTER (WHERE status = 'pending'), "
        "min(submitted_at) FILTER (WHERE status = 'approved'), "
        "max(submitted_at) FILTER (WHERE status = 'approved') "
        "FROM diagnosis_concern WHERE consultation_key = %(key)s",
        f"SELECT count(*) {RESPONSES}",
        PREVIOUS_PUBLICATION,
    ],
    "by_category": [f"SELECT c.category_key, count(*) {APPROVED} GROUP BY 1"],
    "by_prevention_type": [f"SELECT k.prevention_type, count(*) {WITH_CATEGORY} GROUP BY 1"],
    "by_category_gender": [f"SELECT c.category_key, c.gender, count(*) {APPROVED} GROUP BY 1, 2"],
    "by_category_age": [f"SELECT c.category_key, c.age_band, count(*) {APPROVED} GROUP BY 1, 2"],
    "by_area_category": [f"SELECT c.area_id, c.category_key, count(*) {APPROVED} GROUP BY 1, 2"],
    "by_category_time_band": [
        f"SELECT c.category_key, c.time_band, count(*) {APPROVED} GROUP BY 1, 2"
    ],
    "by_category_affected": AFFECTED_SQL,
    "participation_concerns": [PARTICIPATION_CONCERNS],
    "participation_responses": [PARTICIPATION_RESPONSES],
    # One GROUP BY serves the raw, by-gender and by-age indicators.
    "perception": [PERCEPTION_ANSWERS],
    "perception_weighted": [POPULATION],
    # Reuses the participation counts and the population read above.
    "participation_profile": [],
    "hotspots": HOTSPOTS,
    "assets_by_cell": [
        f"SELECT c.cell_x, c.cell_y, c.category_key, count(*) {WITH_CATEGORY} "
        "AND k.kind = 'asset' AND NOT k.sensitive AND c.cell_x IS NOT NULL GROUP BY 1, 2, 3"
    ],
    "walks": [WALKS_BY_AREA],
    "change": CHANGE,
}
# For a step this script does not know by code: statements per table it produced.
BARE_BY_TABLE = {
    "concerns_by_category": BARE_BY_STEP["by_category"],
    "concerns_by_prevention_type": BARE_BY_STEP["by_prevention_type"],
    "concerns_by_category_gender": BARE_BY_STEP["by_category_gender"],
    "concerns_by_category_age": BARE_BY_STEP["by_category_age"],
    "concerns_by_area_category": BARE_BY_STEP["by_area_category"],
    "concerns_by_category_time_band": BARE_BY_STEP["by_category_time_band"],
    "concerns_by_category_affected": AFFECTED_SQL,
    "participation_concerns": [PARTICIPATION_CONCERNS],
    "participation_responses": [PARTICIPATION_RESPONSES],
    "perception": [PERCEPTION_ANSWERS],
    "perception_by_gender": [PERCEPTION_ANSWERS],
    "perception_by_age": [PERCEPTION_ANSWERS],
    "perception_weighted": [PERCEPTION_ANSWERS, POPULATION],
    "participation_profile": [PARTICIPATION_CONCERNS, PARTICIPATION_RESPONSES, POPULATION],
    "hotspots": HOTSPOTS,
    "assets_by_cell": BARE_BY_STEP["assets_by_cell"],
    "walk_scores": [WALKS_BY_AREA],
    "walk_feelings": [WALKS_BY_AREA],
    "change_area_category": CHANGE,
    "change_perception": CHANGE,
}


def bare_statements(step_code: str, tables: list[str]) -> list[str] | None:
    """The bare statements standing for one engine step ([] when it reads nothing new), or None
    when this script has none for it."""
    if step_code in BARE_BY_STEP:
        names = [step_code]
        source = BARE_BY_STEP
    elif tables:
        names, source = tables, BARE_BY_TABLE
    else:
        return None
    found = []
    for name in names:
        for statement in source.get(name, []):
            statement = _walks_sql() if statement == WALKS_BY_AREA else statement
            if statement not in found:
                found.append(statement)
    if not found and source is BARE_BY_TABLE:
        return None
    return found


def perception_codes() -> list[str]:
    """The questions the engine reads as perception indicators."""
    try:
        from diagnosis.indicators import INDICATORS
    except ImportError:
        return list(PERCEPTION_CODES)
    return list(INDICATORS)


def bare_params(page) -> dict:
    from django.conf import settings

    previous = page.previous_round
    return {
        "key": str(page.translation_key),
        "areas": list(page.areas.values_list("pk", flat=True)),
        "walks": list(page.walks.values_list("pk", flat=True)),
        "perception": perception_codes(),
        "size": float(settings.CONVIVE_PUBLIC_GRID_METRES),
        "previous": str(previous.translation_key) if previous else None,
    }


def bare_pass(plan: dict[str, list[str]], params: dict) -> dict[str, float]:
    """Seconds per step for one pass of every bare statement (fetching all rows)."""
    seconds = {}
    for code, statements in plan.items():
        started = time.perf_counter()
        for statement in statements:
            sql(statement, params)
        seconds[code] = time.perf_counter() - started
    return seconds


def explain(statement: str, params=None) -> str:
    return "\n".join(row[0] for row in sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params))


def explain_slow_steps(snapshot: dict, bare: dict, plan: dict, params: dict) -> None:
    """For each step that took over twice its bare SQL: the plans of its slowest engine query
    and of its bare statements, to see where the difference is."""
    for step in snapshot["steps"]:
        seconds = bare["per_step"].get(step["code"])
        if not seconds or step["seconds"] < 2 * seconds or step["seconds"] < 0.2:
            continue
        print(f"\n=== {step['code']}: engine {step['seconds']:.2f} s, bare {seconds:.2f} s")
        if step.get("queries"):
            slowest = max(step["queries"], key=lambda query: query["seconds"])
            print(f"--- slowest engine query ({slowest['seconds']:.2f} s):\n{slowest['sql']}")
            print(explain(slowest["sql"]))
        for statement in plan[step["code"]]:
            print(f"--- bare:\n{statement}")
            print(explain(statement, params))


# --- (b) The snapshot, in a fresh process ------------------------------------------------------


def run_snapshot_here(page_id: int, *, record_queries: bool) -> None:
    """In the child: start a run and execute it as the task would; print what it cost as JSON.

    With `record_queries` each step also reports the SQL it sent and how long each took (for
    `--explain`; recording costs a little time)."""
    from django.db import connection

    from diagnosis import engine
    from diagnosis.models import ConsultationPage, DiagnosisRun
    from diagnosis.services import diagnosis_runs

    page = ConsultationPage.objects.get(pk=page_id)
    steps = []

    def recorder(queries):
        def record(execute, statement, params, many, context):
            started = time.perf_counter()
            try:
                return execute(statement, params, many, context)
            finally:
                cursor = context["cursor"]
                queries.append(
                    {
                        "sql": connection.ops.last_executed_query(cursor, statement, params),
                        "seconds": time.perf_counter() - started,
                    }
                )

        return record

    def timed(step):
        def compute(context):
            queries = []
            started = time.perf_counter()
            if record_queries:
                with connection.execute_wrapper(recorder(queries)):
                    rows = step.compute(context)
            else:
                rows = step.compute(context)
            steps.append(
                {
                    "code": step.code,
                    "seconds": time.perf_counter() - started,
                    "rows": len(rows),
                    "tables": sorted({row.table for row in rows}),
                    "rss_kb": memory_kb("VmRSS"),
                    "queries": queries,
                }
            )
            return rows

        return dataclasses.replace(step, compute=compute)

    store = engine.snapshot_store
    stored = {}

    def store_timed(**kwargs):
        started = time.perf_counter()
        snapshot = store(**kwargs)
        stored["seconds"] = time.perf_counter() - started
        return snapshot

    engine.STEPS = tuple(timed(step) for step in engine.STEPS)
    engine.snapshot_store = store_timed
    # In-process, as the task runs it: the queue is bypassed and the run executed here.
    diagnosis_runs.diagnosis_run_enqueue = lambda *, run_id: True
    before = memory_kb("VmRSS")
    started = time.perf_counter()
    run = diagnosis_runs.diagnosis_run_start(page=page, user=None)
    start_seconds = time.perf_counter() - started
    ok = diagnosis_runs.diagnosis_run_execute(run_id=run.pk)
    seconds = time.perf_counter() - started
    run = DiagnosisRun.objects.get(pk=run.pk)
    snapshot = diagnosis_runs.run_snapshot(run)
    print(
        json.dumps(
            {
                "ok": ok,
                "status": run.status,
                "error": run.error_detail,
                "seconds": seconds,
                "steps": steps,
                "start_seconds": start_seconds,
                "store_seconds": stored.get("seconds"),
                # Claiming the run, the progress UPDATE after each step, sorting and hashing.
                "other_seconds": seconds
                - start_seconds
                - stored.get("seconds", 0)
                - sum(step["seconds"] for step in steps),
                "rss_before_kb": before,
                "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "snapshot": snapshot.pk if snapshot else None,
                "rows": snapshot.results.count() if snapshot else 0,
            }
        )
    )


def snapshot_in_child(args, page) -> dict:
    command = [
        sys.executable,
        __file__,
        "--database-url",
        args.database_url,
        "--run-snapshot",
        str(page.pk),
        *(["--explain"] if args.explain else []),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True)
    if done.returncode:
        sys.exit(done.stderr.decode())
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


# --- (c) The results page ----------------------------------------------------------------------


def results_page_measure(page, snapshot_id: int, requests: int) -> dict:
    """Publish a results page with the snapshot and time `requests` warm GETs."""
    from django.core.cache import cache
    from django.test import Client

    from cms.models import ResultsPage
    from diagnosis.models import DiagnosisSnapshot

    snapshot = DiagnosisSnapshot.objects.get(pk=snapshot_id)
    results = ResultsPage.objects.child_of(page).first()
    if results is None:
        results = ResultsPage(
            title="Resultados del diagnóstico", slug="resultados", snapshot=snapshot
        )
        page.add_child(instance=results)
    else:
        results = results.specific
        ResultsPage.objects.filter(pk=results.pk).update(snapshot=snapshot)
        results.snapshot = snapshot
    results.save_revision().publish()
    results = ResultsPage.objects.get(pk=results.pk)
    client = Client(HTTP_HOST="localhost")
    url = results.get_url()
    started = time.perf_counter()
    first = client.get(url)
    cold_ms = (time.perf_counter() - started) * 1000
    if first.status_code != 200:
        return {"status": "pending", "why": f"GET {url} answered {first.status_code}"}
    print(
        f"  results page: first GET {cold_ms:.0f} ms, {len(first.content) / 1024:.0f} KB",
        flush=True,
    )
    for _warm in range(10):
        client.get(url)
    times = []
    for _request in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            return {"status": "failed", "why": f"GET {url} answered {response.status_code}"}
    map_url = url.rstrip("/") + "/" + results.reverse_subpage("results_map_data")
    map_times = []
    for _request in range(requests):
        started = time.perf_counter()
        answer = client.get(map_url)
        map_times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            return {"status": "failed", "why": f"GET {map_url} answered {answer.status_code}"}
    cold = []  # the first visitor after a publish: every cached fragment is rebuilt
    for _request in range(min(requests, 20)):
        cache.clear()
        started = time.perf_counter()
        client.get(url)
        cold.append((time.perf_counter() - started) * 1000)
    return {
        "status": "measured",
        "url": url,
        "requests": requests,
        "bytes": len(response.content),
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "max_ms": max(times),
        "first_ms": cold_ms,
        "map_bytes": len(answer.content),
        "map_p95_ms": percentile(map_times, 95),
        "cold_p50_ms": percentile(cold, 50),
        "cold_max_ms": max(cold),
    }


# --- Reporting ---------------------------------------------------------------------------------


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def report(result: dict) -> None:
    data, snap, bare = result["data"], result["snapshot"], result["bare"]
    print()
    print(f"Machine: {result['machine']}")
    print(
        f"Data: {data['concerns']:,} concerns, {data['responses']:,} responses "
        f"({data['answers']:,} answers), {data['stops']:,} stops on {data['walks']} walks, "
        f"{data['areas']} areas"
    )
    print()
    print(f"{'step':32} {'bare SQL':>10} {'engine':>10} {'ratio':>7} {'rows':>7}")
    for step in snap["steps"]:
        seconds = bare["per_step"].get(step["code"])
        shown = "missing" if seconds is None else f"{seconds:9.2f}s"
        ratio = f"{step['seconds'] / seconds:6.1f}×" if seconds and seconds >= 0.001 else "      –"
        print(f"{step['code']:32} {shown:>10} {step['seconds']:9.2f}s {ratio:>7} {step['rows']:7,}")
    print(f"{'storing the snapshot':32} {'':>10} {snap['store_seconds'] or 0:9.2f}s")
    print(
        f"{'start, claim, progress, hash':32} {'':>10} "
        f"{snap['start_seconds'] + snap['other_seconds']:9.2f}s"
    )
    print(
        f"{'total':32} {bare['total']:9.2f}s {snap['seconds']:9.2f}s "
        f"{result['ratio']:6.2f}× {snap['rows']:7,}"
    )
    print(f"  bare SQL passes: {', '.join(f'{x:.2f} s' for x in bare['passes'])} (median kept)")
    if bare["missing"]:
        print(f"  MISSING bare SQL for steps: {', '.join(bare['missing'])}")
    print(
        f"Snapshot: {snap['status']}, {snap['seconds']:.1f} s, ratio {result['ratio']:.2f} "
        f"(target ≤ 3: {'met' if result['ratio'] <= 3 else 'NOT met'}); peak RSS "
        f"{snap['peak_kb'] / 1024:.0f} MB (after Django start "
        f"{snap['rss_before_kb'] / 1024:.0f} MB; "
        f"target < 1024 MB: {'met' if snap['peak_kb'] < 1024 * 1024 else 'NOT met'})"
    )
    page = result["results_page"]
    if page["status"] == "measured":
        print(
            f"Results page: {page['requests']} GETs, p50 {page['p50_ms']:.1f} ms, p95 "
            f"{page['p95_ms']:.1f} ms, max {page['max_ms']:.1f} ms, {page['bytes'] / 1024:.0f} KB "
            f"(target p95 < 50 ms: {'met' if page['p95_ms'] < 50 else 'NOT met'}); "
            f"map cells p95 {page['map_p95_ms']:.1f} ms ({page['map_bytes'] / 1024:.0f} KB); "
            f"cache cleared first: p50 {page['cold_p50_ms']:.0f} / max {page['cold_max_ms']:.0f} ms"
        )
    else:
        print(f"Results page: {page['status']} ({page['why']})")
    print(f"Load average: {result['load_before']} before, {result['load_after']} after")
    print("RESULT " + json.dumps(result, default=str))


def main() -> None:
    args = parse_args()
    if args.run_snapshot:
        django_setup(args.database_url)
        run_snapshot_here(args.run_snapshot, record_queries=args.explain)
        return
    load_before = load()
    fresh = not (args.keep and database_exists(args.database_url))
    if fresh:
        database_recreate(args.database_url)
    django_setup(args.database_url)
    from django.core.management import call_command

    from diagnosis import engine
    from diagnosis.models import ConsultationPage

    call_command("migrate", verbosity=0)
    generation = None
    if not fresh and not data_fits(args):
        print("The kept database does not hold these sizes: making it again.")
        from django.db import connections

        connections.close_all()
        database_recreate(args.database_url)
        call_command("migrate", verbosity=0)
        fresh = True
    if fresh:
        print(f"Generating data ({machine()})")
        generation = data_generate(args)
    page = ConsultationPage.objects.get(slug=SLUG)
    data = data_counts(page)

    params = bare_params(page)
    # Which tables each step makes is known after a run; before it, from the step's code.
    steps = [step.code for step in engine.STEPS]
    plan = {code: bare_statements(code, []) for code in steps}
    snapshot = snapshot_in_child(args, page)
    if not snapshot["ok"] or snapshot["status"] != "done":
        sys.exit(f"The run did not finish: {snapshot['status']} {snapshot['error']}")
    for step in snapshot["steps"]:
        statements = bare_statements(step["code"], step["tables"])
        plan[step["code"]] = statements
    missing = [code for code, statements in plan.items() if statements is None]
    plan = {code: statements for code, statements in plan.items() if statements is not None}
    bare_pass(plan, params)  # warm-up, as the snapshot ran on a warm cache too
    passes = [bare_pass(plan, params) for _pass in range(args.passes)]
    totals = [sum(found.values()) for found in passes]
    median_index = totals.index(statistics.median_low(totals))
    bare = {
        "per_step": passes[median_index],
        "total": totals[median_index],
        "passes": totals,
        "missing": missing,
    }
    if args.explain:
        explain_slow_steps(snapshot, bare, plan, params)
    if args.requests:
        results_page = results_page_measure(page, snapshot["snapshot"], args.requests)
    else:
        results_page = {"status": "skipped", "why": "--requests 0"}
    result = {
        "benchmark": "diagnosis_snapshot",
        "machine": machine(),
        "load_before": load_before,
        "load_after": load(),
        "data": data,
        "generation_seconds": generation,
        "bare": bare,
        "snapshot": {
            **snapshot,
            "steps": [
                {k: v for k, v in step.items() if k != "queries"} for step in snapshot["steps"]
            ],
        },
        "ratio": snapshot["seconds"] / bare["total"] if bare["total"] else None,
        "results_page": results_page,
    }
    report(result)


if __name__ == "__main__":
    main()
