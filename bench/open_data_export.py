"""How long a bulk open-data export of every public concern takes, and how much memory it needs.

    .venv/bin/python bench/open_data_export.py \
        --database-url postgis://postgres@127.0.0.1:5432/convive_bench [--formats csv,geojson,xlsx]

Run on the database `make bench-data` builds (1,000,000 concerns over the Chapinero barrios, by
`bench/generate_concerns.py`). The database is migrated first (the export table, and
`Concern.public_id` if the database predates it).

Each format runs in a fresh Python process that creates an `OpenDataExport` row (dataset
`concerns`, no consultation filter, Spanish) and calls the job's own service,
`open_data_export_run`, exactly as the Celery task does: the rows are read through
`diagnosis.public_data` from a server-side cursor, written to a temporary file and copied to
storage (a temporary MEDIA_ROOT). It reports the wall time, the rows written, the file size, the
memory after Django started (VmRSS) and the peak resident memory (VmHWM).
`--consultation KEY` exports one consultation only.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

from common import ROOT, django_setup, machine, memory_kb

MEDIA_ROOT = os.path.join(tempfile.gettempdir(), "convive-bench-open-data")


def child(database_url: str, format: str, consultation: str) -> None:
    os.environ["MEDIA_ROOT"] = MEDIA_ROOT
    django_setup(database_url)
    from django.db import connection

    from diagnosis.models import OpenDataExport
    from diagnosis.services.open_data_exports import open_data_export_run

    connection.ensure_connection()
    baseline = memory_kb("VmRSS")
    export = OpenDataExport.objects.create(
        dataset="concerns",
        format=format,
        language="es",
        data_version=f"bench-{time.time()}",
        consultation_key=consultation or None,
    )
    started = time.monotonic()
    ok = open_data_export_run(export_id=export.pk)
    elapsed = time.monotonic() - started
    export.refresh_from_db()
    result = {
        "format": format,
        "ok": ok and export.status == "done",
        "error": export.error_detail,
        "rows": export.rows_done,
        "bytes": export.size,
        "seconds": round(elapsed, 1),
        "baseline_kb": baseline,
        "peak_kb": memory_kb("VmHWM"),
    }
    if export.file:
        export.file.delete(save=False)
    export.delete()
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--formats", default="csv,geojson,xlsx")
    parser.add_argument("--consultation", default="", help="a translation key (filter)")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.database_url, args.child, args.consultation)
        return

    django_setup(args.database_url)
    from django.core.management import call_command

    from diagnosis.models import Concern

    call_command("migrate", verbosity=0)
    concerns = Concern.objects.count()
    print("Command:", shlex.join([".venv/bin/python", *sys.argv]))
    print(f"Machine: {machine()}")
    print(f"Concerns in the database: {concerns:,}")
    print("| format | rows | wall time | rows/s | file size | RSS after start | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for format in args.formats.split(","):
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--database-url",
                args.database_url,
                "--child",
                format,
                "--consultation",
                args.consultation,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            sys.exit(done.stderr)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if not result["ok"]:
            sys.exit(f"{format} failed: {result['error']}")
        print(
            f"| {format} | {result['rows']:,} | {result['seconds']} s "
            f"| {result['rows'] / max(result['seconds'], 0.1):,.0f} "
            f"| {result['bytes'] / 1e6:,.0f} MB | {result['baseline_kb'] / 1024:,.0f} MB "
            f"| {result['peak_kb'] / 1024:,.0f} MB |",
            flush=True,
        )
    print(f"Load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
