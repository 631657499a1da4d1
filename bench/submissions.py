"""How many concerns per second the real form accepts, next to a bare one-row Django view.

    .venv/bin/python bench/submissions.py \
        --database-url postgis://postgres@127.0.0.1:5432/convive_bench [--clients 50 --seconds 30]

Starts `gunicorn cms.wsgi -w 4` on 127.0.0.1 (DEBUG off, rate limit off, tasks sent to a Redis
broker with no worker so that the web path is what is measured), then N client threads each GET
the concern form once (CSRF cookie and token, the category ids) and POST it, each POST with a fresh
idempotency key and a point inside a real barrio. A 303 redirect is an accepted concern. Three runs:

1. closed loop: every client posts again as soon as it is answered — the capacity;
2. open loop: the clients together offer --rate posts per second (default 150, the target) on a
   fixed schedule — the latency residents get at that load;
3. closed loop against a bare view in the same server (bench/bareapp: CSRF, sessions and the
   whole middleware stack, one INSERT, a 303) — the yardstick for run 1.

Finally, rows in the database are counted against the 303s.

Needs a database prepared by bench/generate_concerns.py (any --count, even 0 rows are enough).
"""

import argparse
import re
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field

from common import cookies_from, django_setup, gunicorn, machine, percentile, request

BROKER_URL = "redis://127.0.0.1:6379/13"
TARGET_ACCEPTED_PER_SECOND = 150
TARGET_P95_MS = 150


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    measured_seconds: float = 0.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup-seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGET_ACCEPTED_PER_SECOND,
        help="requests per second offered by all clients together in the open-loop run",
    )
    return parser.parse_args()


def run_clients(
    *, clients: int, seconds: float, warmup: float, make_client, rate: float | None = None
) -> Outcome:
    """`clients` threads; each is prepared (its GET), then all POST until the time is up.

    Without `rate` the loop is closed: each client sends again as soon as it has an answer, which
    measures capacity (and makes latency = clients / throughput, by Little's law). With `rate` the
    loop is open: together the clients offer `rate` requests per second on a fixed schedule, as
    residents do, and latency is counted from the scheduled moment, so a client held up by a slow
    answer is charged for the wait (no coordinated omission). Requests that start during the
    warm-up are made but not measured."""
    outcome = Outcome()
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    timing = {}

    def worker(number: int) -> None:
        post = make_client(number)
        ready.wait()
        interval = clients / rate if rate else 0.0
        scheduled = timing["start"] + interval * number / clients
        while True:
            if rate:
                pause = scheduled - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                started = scheduled
                scheduled += interval
            else:
                started = time.monotonic()
            if started >= timing["end"]:
                return
            try:
                status = post()
            except OSError:
                with lock:
                    outcome.errors += 1
                continue
            took = time.monotonic() - started
            with lock:
                if status == 303:
                    outcome.accepted += 1
                    if started >= timing["measure_from"]:
                        outcome.latencies.append(took)
                else:
                    outcome.refused[status] = outcome.refused.get(status, 0) + 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    now = time.monotonic()
    timing["start"] = now
    timing["measure_from"] = now + warmup
    timing["end"] = now + warmup + seconds
    ready.wait()
    for thread in threads:
        thread.join()
    outcome.measured_seconds = seconds
    return outcome


def form_client(port: int, form_path: str, points: list[tuple[float, float]], marker: str):
    def make(number: int):
        status, headers, body = request("GET", port, form_path)
        assert status == 200, f"GET {form_path} answered {status}"
        html = body.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        categories = re.findall(r'name="category" value="(\d+)"', html)
        cookies = cookies_from(headers)
        counter = {"n": number}

        def post() -> int:
            counter["n"] += 1
            lon, lat = points[counter["n"] % len(points)]
            fields = {
                "csrfmiddlewaretoken": token,
                "idempotency_key": str(uuid.uuid4()),
                "category": categories[counter["n"] % len(categories)],
                "description": marker,
                "latitude": f"{lat:.6f}",
                "longitude": f"{lon:.6f}",
                "time_band": "night",
                "day_type": "both",
                "frequency": "often",
                "affected": "women",
            }
            status, response_headers, _ = request(
                "POST",
                port,
                form_path,
                body=urllib.parse.urlencode(fields).encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                },
            )
            cookies.update(cookies_from(response_headers))  # the session, as a browser keeps it
            return status

        return post

    return make


def bare_client(port: int, marker: str):
    path = "/bench/bare/"

    def make(number: int):
        status, headers, body = request("GET", port, path)
        assert status == 200, f"GET {path} answered {status}"
        token = re.search(r'value="([^"]+)"', body.decode()).group(1)
        cookies = cookies_from(headers)

        def post() -> int:
            fields = {"csrfmiddlewaretoken": token, "key": str(uuid.uuid4()), "body": marker}
            status, _, _ = request(
                "POST",
                port,
                path,
                body=urllib.parse.urlencode(fields).encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                },
            )
            return status

        return post

    return make


def report(name: str, outcome: Outcome) -> dict:
    rate = len(outcome.latencies) / outcome.measured_seconds
    p50 = percentile(outcome.latencies, 50) * 1000
    p95 = percentile(outcome.latencies, 95) * 1000
    print(
        f"{name}: {rate:.0f} accepted/s, p50 {p50:.0f} ms, p95 {p95:.0f} ms "
        f"({outcome.accepted} accepted in all, refused {outcome.refused or 0}, "
        f"connection errors {outcome.errors})"
    )
    return {"rate": rate, "p50": p50, "p95": p95}


def main() -> None:
    args = parse_args()
    django_setup(args.database_url)
    import redis
    from django.db import connection

    from diagnosis.models import Concern, ConsultationPage

    page = ConsultationPage.objects.get(slug="chapinero", locale__language_code="es")
    form_path = page.url + page.reverse_subpage("concern_form")
    with connection.cursor() as cursor:
        # Points inside the consultation's barrios, made by PostGIS (the form refuses others).
        cursor.execute(
            "SELECT ST_X(g.geom), ST_Y(g.geom) FROM (SELECT (ST_Dump(ST_GeneratePoints("
            "ST_Union(a.geometry), 2000, 7))).geom FROM maps_area a JOIN "
            "diagnosis_consultationpage_areas ca ON ca.area_id = a.id "
            "WHERE ca.consultationpage_id = %s) AS g",
            [page.pk],
        )
        points = cursor.fetchall()
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_bare_row (id bigserial PRIMARY KEY, "
            "key uuid NOT NULL UNIQUE, body text NOT NULL, created timestamptz NOT NULL)"
        )
    connection.close()
    marker = f"bench {uuid.uuid4().hex[:10]}"
    print(f"Machine: {machine()}")
    print(
        f"{args.clients} clients, {args.seconds:.0f} s measured after {args.warmup_seconds:.0f} s "
        f"warm-up, gunicorn -w {args.workers}, form {form_path}"
    )

    broker = redis.Redis.from_url(BROKER_URL)
    with gunicorn(
        database_url=args.database_url,
        settings_module="bench.bareapp.settings",
        workers=args.workers,
        env={"CELERY_BROKER_URL": BROKER_URL},
    ) as port:
        form = run_clients(
            clients=args.clients,
            seconds=args.seconds,
            warmup=args.warmup_seconds,
            make_client=form_client(port, form_path, points, marker),
        )
        paced = run_clients(
            clients=args.clients,
            seconds=args.seconds,
            warmup=args.warmup_seconds,
            make_client=form_client(port, form_path, points, marker),
            rate=args.rate,
        )
        bare = run_clients(
            clients=args.clients,
            seconds=args.seconds,
            warmup=args.warmup_seconds,
            make_client=bare_client(port, marker),
        )
    queued = broker.llen("celery")
    broker.delete("celery")  # the processing requests nobody consumed (no worker on purpose)

    form_result = report("Concern form, closed loop (capacity)", form)
    paced_result = report(f"Concern form, open loop at {args.rate:.0f}/s offered", paced)
    bare_result = report("Bare one-row view, closed loop", bare)
    stored = Concern.objects.filter(description=marker).count()
    accepted = form.accepted + paced.accepted
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_bare_row WHERE body = %s", [marker])
        bare_stored = cursor.fetchone()[0]
    print(f"Rows stored: {stored} concerns for {accepted} accepted (303) responses; ")
    print(f"             {bare_stored} bare rows for {bare.accepted}; {queued} tasks were queued")
    print(
        f"Form / bare: {form_result['rate'] / bare_result['rate']:.2f} of the throughput, "
        f"{form_result['p95'] / bare_result['p95']:.2f}x the p95 latency"
    )
    capacity = form_result["rate"] >= TARGET_ACCEPTED_PER_SECOND
    sustained = (
        paced_result["rate"] >= TARGET_ACCEPTED_PER_SECOND * 0.98  # the schedule's own rounding
        and paced_result["p95"] < TARGET_P95_MS
        and not paced.refused
        and not paced.errors
    )
    print(
        f"Targets: capacity >= {TARGET_ACCEPTED_PER_SECOND} accepted/s "
        f"{'met' if capacity else 'NOT met'}; {TARGET_ACCEPTED_PER_SECOND}/s accepted with "
        f"p95 < {TARGET_P95_MS} ms {'met' if sustained else 'NOT met'}; rows == successes: "
        f"{'yes' if stored == accepted and bare_stored == bare.accepted else 'NO'}"
    )


if __name__ == "__main__":
    main()
