"""Concerns processed by a real Celery worker on Redis; nothing lost while the broker is down."""

import io
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import translation
from django_celery_results.models import TaskResult
from PIL import Image

from diagnosis.models import Concern
from diagnosis.services import MODERATORS
from diagnosis.services.processing import THUMBNAIL_SIZE
from diagnosis.tasks import concern_process_task

from .conftest import celery_publishing_to, closed_port, wait_for

# Rows must really be committed for the worker (another process) to see them. serialized_rollback
# reloads the migrated rows (Wagtail's tree, locales, groups) that each test's flush removes, as
# every transactional test of the suite does.
pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def moderator(db):
    group, _ = Group.objects.get_or_create(name=MODERATORS)
    user = get_user_model().objects.create_user(
        "moderadora", email="moderadora@example.org", password="not-used-here"
    )
    user.groups.add(group)
    return user


@pytest.fixture
def worker(celery_worker):
    """The worker, with this process sending its tasks to it."""
    with celery_publishing_to(celery_worker.broker_url, queue=celery_worker.queue):
        yield celery_worker


def processed_at(concern: Concern):
    return Concern.objects.values_list("processed_at", flat=True).get(pk=concern.pk)


def notices_about(worker, concern: Concern) -> list[str]:
    return [subject for subject in worker.mail_subjects() if concern.reference in subject]


def sweep(*args: str) -> str:
    """The operator's command, read in English (the site's default language is Spanish)."""
    out = io.StringIO()
    with translation.override("en"):
        call_command("concern_sweep", *args, stdout=out)
    return out.getvalue()


def test_worker_makes_the_thumbnail_and_notifies_moderators_once(
    worker, submit, photo_with_gps, moderator
):
    concern = submit(photo=photo_with_gps)

    assert wait_for(lambda: processed_at(concern)), worker.log.read_text()
    concern.refresh_from_db()
    with Image.open(concern.photo_thumbnail.path) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert max(thumbnail.size) <= max(THUMBNAIL_SIZE)
    assert len(notices_about(worker, concern)) == 1

    # The same task delivered again (a sweep racing the first request) does nothing the second time.
    again = concern_process_task.apply_async(args=[concern.pk])
    assert again.get(timeout=30) is False
    results = wait_for(
        lambda: TaskResult.objects.filter(task_name="diagnosis.tasks.concern_process").count() == 2
    )
    assert results, worker.log.read_text()
    assert sorted(
        TaskResult.objects.filter(task_name="diagnosis.tasks.concern_process").values_list(
            "result", flat=True
        )
    ) == ["false", "true"]
    assert len(notices_about(worker, concern)) == 1


def test_concern_accepted_while_broker_is_down_is_processed_once_by_the_sweep(
    celery_worker, submit, moderator
):
    with celery_publishing_to(celery_worker.broker_url, queue=celery_worker.queue):
        started = time.monotonic()
        before = submit(description="Con el broker en marcha.")
        normal = time.monotonic() - started
        assert wait_for(lambda: processed_at(before)), celery_worker.log.read_text()

    with celery_publishing_to(f"redis://127.0.0.1:{closed_port()}/0", queue=celery_worker.queue):
        started = time.monotonic()
        concern = submit(description="Con el broker caído.")
        slowed = time.monotonic() - started - normal
        assert "Requested processing of 0 concerns" in sweep("--older-than-seconds", "0")

    # The resident got their answer at once, and what they sent is in the database.
    assert slowed < 2.0
    assert Concern.objects.filter(pk=concern.pk, processed_at__isnull=True).exists()

    with celery_publishing_to(celery_worker.broker_url, queue=celery_worker.queue):
        assert "Requested processing of 1 concern" in sweep("--older-than-seconds", "0")
        assert wait_for(lambda: processed_at(concern)), celery_worker.log.read_text()
        assert "Requested processing of 0 concerns" in sweep("--older-than-seconds", "0")

    assert len(notices_about(celery_worker, concern)) == 1
    assert len(notices_about(celery_worker, before)) == 1
