"""A real Celery worker on Redis for the integration tests.

The worker is another process, so it must see the rows a test commits: these tests use
transactional database access (rows are really committed) and the worker is given the test
database's own URL. A PostgreSQL test database is shared naturally; a SpatiaLite test database lives
in memory by default, so when worker tests are selected the SQLite test database is put in a
temporary file instead (the same change pytest-django makes for its xdist workers).

Which broker: CELERY_BROKER_URL when it is set (CI sets it; then a broker that does not answer is an
error), otherwise redis://127.0.0.1:6379/15 when a Redis answers there. With neither, the worker
tests are deselected and the run's summary says so. Every worker uses a queue of its own, so two
runs on one machine (SpatiaLite and PostGIS, say) never take each other's tasks.
"""

import email
import email.policy
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from celery import Celery

from cms.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/15"
WORKER_START_SECONDS = 60
_deselected_note: list[str] = []


def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL


def broker_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def pytest_collection_modifyitems(config, items):
    worker_tests = [item for item in items if item.get_closest_marker("celery_worker")]
    if not worker_tests:
        return
    url = broker_url()
    if not broker_answers(url):
        if os.environ.get("CELERY_BROKER_URL"):
            raise pytest.UsageError(
                f"CELERY_BROKER_URL={url} does not answer; the celery_worker tests need it."
            )
        config.hook.pytest_deselected(items=worker_tests)
        items[:] = [item for item in items if item not in worker_tests]
        _deselected_note.append(
            f"{len(worker_tests)} celery_worker tests deselected: no Redis answers at {url} "
            "(CI runs them with a real worker: bash .ci/run)."
        )
        return
    _sqlite_test_database_in_a_file()


def pytest_terminal_summary(terminalreporter):
    for line in _deselected_note:
        terminalreporter.write_line(line, yellow=True)


def _sqlite_test_database_in_a_file() -> None:
    from django.db import connections

    connection = connections["default"]
    if connection.vendor != "sqlite":
        return
    test_settings = connection.settings_dict.setdefault("TEST", {})
    if test_settings.get("NAME") in (None, "", ":memory:"):
        folder = Path(tempfile.mkdtemp(prefix="convive-test-db-"))
        test_settings["NAME"] = str(folder / "test_convive.sqlite3")


def worker_database_url(settings_dict: dict) -> str:
    """The URL of the test database (not the developer's), for the worker's DATABASE_URL."""
    name = settings_dict["NAME"]
    if settings_dict["ENGINE"].endswith("spatialite"):
        return f"spatialite:///{name}"
    configured = urlsplit(os.environ["DATABASE_URL"])
    return configured._replace(path=f"/{name}").geturl()


@dataclass(frozen=True)
class Worker:
    broker_url: str
    queue: str
    mailbox: Path
    log: Path

    def mail_subjects(self) -> list[str]:
        """Subjects of every message the worker sent (the file backend writes one file per
        connection, messages separated by a line of 79 dashes)."""
        subjects = []
        for path in sorted(self.mailbox.glob("*.log")):
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    message = email.message_from_bytes(chunk, policy=email.policy.default)
                    subjects.append(str(message["Subject"]))
        return subjects


@pytest.fixture
def celery_worker(transactional_db, tmp_path) -> Iterator[Worker]:
    """Start `celery -A cms worker` on the test database and a queue of its own, for one test.

    One worker per test, stopped before the test's flush: the flush's post_migrate handlers
    recreate content types under new ids, which a worker kept from an earlier test would still
    have cached (Wagtail's reference index writes them when a concern is saved).
    """
    from django.conf import settings
    from django.db import connection

    url = broker_url()
    queue = f"convive-test-{uuid.uuid4().hex[:12]}"
    folder = tmp_path
    mailbox = folder / "mailbox"
    mailbox.mkdir()
    log_path = folder / "worker.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
        "DATABASE_URL": worker_database_url(connection.settings_dict),
        "CELERY_BROKER_URL": url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CONVIVE_TEST_MAILBOX": str(mailbox),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "cms",
        "worker",
        "--pool=solo",
        "-Q",
        queue,
        "-n",
        f"{queue}@convive",
        "--loglevel=warning",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_worker(process, url, f"{queue}@convive", log_path)
        yield Worker(broker_url=url, queue=queue, mailbox=mailbox, log=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _forget_queue(url, queue)


def _wait_for_worker(process: subprocess.Popen, url: str, node: str, log_path: Path) -> None:
    """Wait until the worker answers a ping on the broker (it is then consuming its queue)."""
    control = Celery("convive-test-control", broker=url, set_as_current=False)
    try:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"The Celery worker exited:\n{log_path.read_text()}")
            if control.control.ping(destination=[node], timeout=0.5):
                return
        pytest.fail(
            f"The Celery worker did not answer within {WORKER_START_SECONDS} s:\n"
            f"{log_path.read_text()}"
        )
    finally:
        control.close()


def _forget_queue(url: str, queue: str) -> None:
    """Remove the worker's queue and kombu's bindings for it, so Redis does not collect them."""
    client = redis.Redis.from_url(url)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for member in client.smembers("_kombu.binding.celery"):
        if queue.encode() in member:
            client.srem("_kombu.binding.celery", member)


@contextmanager
def celery_publishing_to(url: str, *, queue: str) -> Iterator[None]:
    """Send this process's tasks (those the submit service and the sweep request) to `url`/`queue`.

    The Celery app remembers the connection and producer pools of the URL it first used; they are
    forgotten here (as Celery itself does after a fork) so the next task goes to the new broker.
    The pools themselves stay open in kombu's registry, keyed by URL, for when it is used again.
    """
    conf = celery_app.conf
    # broker_write_url too: Celery prefers the CELERY_BROKER_URL environment variable (set in CI)
    # to a broker_url given here, but takes an explicit write URL for publishing.
    keys = ("broker_url", "broker_write_url", "task_always_eager", "task_default_queue")
    saved = {key: conf[key] for key in keys}
    conf.update(
        broker_url=url, broker_write_url=url, task_always_eager=False, task_default_queue=queue
    )
    _drop_broker_connections()
    try:
        yield
    finally:
        conf.update(saved)
        _drop_broker_connections()


def _drop_broker_connections() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def closed_port() -> int:
    """A local TCP port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, *, timeout: float = 30.0, interval: float = 0.1):
    """Poll `check()` until it returns something truthy; return it (or the last falsy value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
