"""Shared by the benchmark scripts: a real gunicorn on 127.0.0.1, Django set up on the bench
database, HTTP helpers and percentiles. Benchmarks are never part of the test suite."""

import http.client
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def django_setup(database_url: str, settings_module: str = "cms.settings.base") -> None:
    """Django in this process, on the bench database (for setup queries and row counts)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(
    *, database_url: str, settings_module: str, workers: int = 4, env: dict | None = None
) -> Iterator[int]:
    """Run `gunicorn cms.wsgi -w N` on a free local port (DEBUG off); yield the port."""
    port = free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "CONVIVE_RATE_LIMIT_ENABLED": "0",
        **(env or {}),
    }
    log = open(Path(tempfile.gettempdir()) / f"convive-bench-gunicorn-{port}.log", "wb")
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "cms.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--backlog",
            "2048",
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                sys.exit(f"gunicorn exited; see {log.name}")
            try:
                if request("GET", port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"gunicorn did not answer within 60 s; see {log.name}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def request(
    method: str, port: int, path: str, *, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, dict[str, list[str]], bytes]:
    """One HTTP request on a fresh connection (gunicorn's sync workers close after each)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        payload = response.read()
        found: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            found.setdefault(name.lower(), []).append(value)
        return response.status, found, payload
    finally:
        connection.close()


def timed(port: int, path: str, count: int) -> tuple[list[float], bytes]:
    """`count` GETs of `path`, one at a time: their latencies (s) and the last body; each must
    answer 200."""
    latencies, body = [], b""
    for _ in range(count):
        started = time.monotonic()
        status, _headers, body = request("GET", port, path)
        latencies.append(time.monotonic() - started)
        assert status == 200, (status, path, body[:300])
    return latencies, body


def cookies_from(headers: dict[str, list[str]]) -> dict[str, str]:
    cookies = {}
    for line in headers.get("set-cookie", []):
        name, _, rest = line.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return cookies


def memory_kb(field: str) -> int:
    """This process's memory from /proc/self/status: VmRSS (now) or VmHWM (the peak so far)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({model or platform.machine()}), load average {load}"
