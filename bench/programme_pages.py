"""Latency and size of a large programme's public pages: the programme, an area, a problem, a
commitment with parts, its feeds and its spreadsheet.

    .venv/bin/python bench/programme_pages.py \
        --database-url postgis://postgres@127.0.0.1:5432/convive_bench [--commitments 200]

Creates (or reuses, when it has the asked size) a programme of its own under the Spanish home
page (slug `bench-programme`) on the bench database, through the same page API the admin uses:
`--commitments` commitments in groups of one parent and three weighted parts, each with three
milestones and an indicator, each published twice (first as planned, then as it stands), so the
change history and the feeds have two revisions per commitment to read; 20 residents' answers per
commitment through `feedback_submit`. When the database holds a live results page with problems
(`bench/diagnosis_snapshot.py` makes one on a million concerns), the programme answers it and the
commitments answer its problems, so "what we heard" reads published numbers too.

Then starts `gunicorn cms.wsgi -w 4` (DEBUG off) and asks, one request at a time after warming
every worker: the programme page, an area page, a problem page (when there are problems), a parent
commitment's page, the programme's Atom feed and its public CSV. None of these pages is cached:
each request reads and renders. Target: p95 < 300 ms for the programme page at 200 commitments.

`--drop` deletes the benchmark programme (with its feedback) and exits.
"""

import argparse
import gzip
import time
from datetime import date, timedelta
from decimal import Decimal

from common import django_setup, gunicorn, machine, percentile, timed

SLUG = "bench-programme"
TARGET_P95_MS = 300
PARTS = 3
MILESTONES = 3
ANSWERS = 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--commitments", type=int, default=200)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--drop", action="store_true", help="delete the benchmark programme")
    return parser.parse_args()


def programme_drop() -> None:
    from cms.models import CommitmentFeedback, CommitmentPage, ProgrammePage

    for programme in ProgrammePage.objects.filter(slug=SLUG):
        CommitmentFeedback.objects.filter(
            commitment__in=CommitmentPage.objects.descendant_of(programme)
        ).delete()
        programme.delete()


def programme_prepare(size: int):
    """The benchmark programme with `size` commitments (rebuilt when it has another size)."""
    from cms.commitments import programme_commitments
    from cms.feedback import feedback_submit
    from cms.models import (
        CommitmentIndicator,
        CommitmentMilestone,
        CommitmentPage,
        CommitmentStatus,
        HomePage,
        ProgrammePage,
        ResultsPage,
    )
    from maps.models import Area

    existing = ProgrammePage.objects.filter(slug=SLUG).first()
    if existing is not None and len(programme_commitments(existing)) == size:
        print(f"Reusing the benchmark programme ({size} commitments)")
        return existing
    programme_drop()
    started = time.monotonic()
    home = HomePage.objects.filter(locale__language_code="es").first()
    results = ResultsPage.objects.live().filter(problems__isnull=False).distinct().first()
    problems = list(results.problems.all()) if results else []
    areas = list(Area.objects.order_by("pk")[:20])
    statuses = {s.key: s for s in CommitmentStatus.objects.filter(locale=home.locale)}
    programme = ProgrammePage(
        title="Programa de referencia",
        slug=SLUG,
        responsible_body="Alcaldía de referencia",
        period_start=date(2026, 1, 1),
        period_end=date(2027, 12, 31),
        total_budget=Decimal(10_000_000_000),
    )
    home.add_child(instance=programme)
    if results:
        programme.diagnoses.set([results])
    programme.save_revision().publish()
    parent = None
    for number in range(size):
        is_parent = number % (PARTS + 1) == 0
        page = CommitmentPage(
            title=f"Compromiso {number + 1}",
            slug=f"compromiso-{number + 1}",
            description="Un compromiso de referencia. " * 8,
            agency=f"Entidad {number % 7 + 1}",
            contact_email="contacto@example.org",
            status=statuses["planned"],
            budget_planned=None if is_parent else Decimal(50_000_000 + number * 1000),
            start_date=date(2026, 2, 1),
            end_date=date(2027, 6, 30),
            parent_commitment=None if is_parent else parent,
            weight=Decimal(1 + number % 3),
            external_id=f"BENCH-{number + 1}",
        )
        programme.add_child(instance=page)
        if problems:
            page.problems.set([problems[number % len(problems)]])
        page.areas.set([areas[number % len(areas)]] if areas else [])
        page.save_revision().publish()
        page = CommitmentPage.objects.get(pk=page.pk)
        page.status = statuses["in-progress"]
        page.progress = None if is_parent else number % 101
        page.budget_spent = None if is_parent else Decimal(10_000_000 + number * 500)
        page.milestones = [
            CommitmentMilestone(
                date=date(2026, 3, 1) + timedelta(days=30 * m + number),
                title=f"Hito {m + 1} del compromiso {number + 1}",
                text="Lo que pasó en este hito, contado para los vecinos. " * 3,
            )
            for m in range(MILESTONES)
        ]
        page.indicators = [
            CommitmentIndicator(
                name="Luminarias funcionando",
                unit="%",
                baseline=Decimal(40),
                target=Decimal(95),
                latest_value=Decimal(60 + number % 30),
                latest_date=date(2026, 10, 1),
            )
        ]
        page.save_revision().publish()
        if is_parent:
            parent = page
        for answer in range(ANSWERS):
            feedback_submit(
                commitment=page,
                happening=("yes", "partly", "no", "unknown")[answer % 4],
                rating=1 + answer % 5,
                comment="",
                language="es",
            )
    print(f"Built {size} commitments in {time.monotonic() - started:.1f} s")
    return programme


def main() -> None:
    args = parse_args()
    django_setup(args.database_url)
    from django.core.management import call_command
    from django.utils import translation

    if args.drop:
        programme_drop()
        print("Deleted the benchmark programme.")
        return
    call_command("migrate", verbosity=0)
    with translation.override("es"):
        programme = programme_prepare(args.commitments)
        from cms.commitments import programme_commitments

        commitments = programme_commitments(programme)
        parent = next(c for c in commitments if c.children.exists())
        area = next(a for c in commitments for a in c.areas.all())
        problem = next((p for c in commitments for p in c.problems.all()), None)
        base = programme.url
        paths = {
            f"programme page ({len(commitments)} commitments)": (base, args.requests),
            "area page": (base + programme.reverse_subpage("programme_area", args=[area.pk]), 50),
            "commitment with parts": (parent.url, args.requests),
            "Atom feed": (base + programme.reverse_subpage("programme_feed", args=["atom"]), 50),
            "public CSV": (base + programme.reverse_subpage("programme_commitments_csv"), 30),
        }
        if problem is not None:
            paths["problem page"] = (
                base
                + programme.reverse_subpage("programme_problem", args=[problem.translation_key]),
                50,
            )
    print(f"Machine: {machine()}")
    results = []
    with gunicorn(
        database_url=args.database_url, settings_module="cms.settings.base", workers=args.workers
    ) as port:
        for name, (path, count) in paths.items():
            timed(port, path, 2 * args.workers)  # warm every worker
            latencies, body = timed(port, path, count)
            results.append((name, count, latencies, len(body), len(gzip.compress(body))))
    print(f"Load average after the run: {machine().split('load average ')[1]}")
    for name, count, latencies, size, zipped in results:
        p50, p95 = percentile(latencies, 50) * 1000, percentile(latencies, 95) * 1000
        line = (
            f"{name}: {count} requests, p50 {p50:.0f} ms, p95 {p95:.0f} ms, max "
            f"{max(latencies) * 1000:.0f} ms, {size / 1024:.0f} KB ({zipped / 1024:.0f} KB gzipped)"
        )
        if name.startswith("programme page"):
            met = "met" if p95 < TARGET_P95_MS else "NOT met"
            line += f" — target p95 < {TARGET_P95_MS} ms: {met}"
        print(line)


if __name__ == "__main__":
    main()
