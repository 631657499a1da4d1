"""Diagnosis runs computed by a real Celery worker on Redis; a broker that does not answer fails
the run with a message instead of leaving it waiting (and blocking the consultation)."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext
from django_celery_results.models import TaskResult

from diagnosis.engine import STEPS_TOTAL
from diagnosis.models import Concern, DiagnosisResult, DiagnosisRun, DiagnosisSnapshot
from diagnosis.services import concern_moderate
from diagnosis.services.diagnosis_runs import diagnosis_run_start
from diagnosis.tasks import diagnosis_run

from .conftest import celery_publishing_to, closed_port, wait_for

TRANSACTIONAL = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def facilitator(db):
    return get_user_model().objects.create_user(
        "facilitadora", "f@example.org", "not-used", is_superuser=True
    )


@pytest.fixture
def approved(submit, facilitator, categories):
    """Three approved concerns, one of them about harassment."""
    concerns = [
        submit(),
        submit(gender="woman", age_band="18-29"),
        submit(category=categories["harassment"]),
    ]
    for concern in concerns:
        concern_moderate(concern=concern, user=facilitator, status="approved")
    return concerns


def run_state(run: DiagnosisRun):
    return DiagnosisRun.objects.values_list("status", "steps_done").get(pk=run.pk)


@pytest.mark.celery_worker
@TRANSACTIONAL
def test_worker_computes_the_run_once(celery_worker, consultation, approved, facilitator):
    with celery_publishing_to(celery_worker.broker_url, queue=celery_worker.queue):
        # No transaction is open here, so the job is queued as soon as the row is saved.
        run = diagnosis_run_start(page=consultation, user=facilitator)
        done = wait_for(lambda: run_state(run) == ("done", STEPS_TOTAL), timeout=60)
        assert done, celery_worker.log.read_text()

        snapshot = DiagnosisSnapshot.objects.get(run=run)
        assert snapshot.input_counts["concerns"] == 3
        by_category = DiagnosisResult.objects.filter(
            snapshot=snapshot, table="concerns_by_category"
        )
        assert sorted(by_category.values_list("count", "total")) == [(1, 3), (2, 3)]

        # Delivered again (a redelivery after a lost acknowledgement): nothing is redone.
        again = diagnosis_run.apply_async(args=[run.pk])
        assert again.get(timeout=30) is False
    assert DiagnosisSnapshot.objects.count() == 1
    assert sorted(
        TaskResult.objects.filter(task_name="diagnosis.tasks.diagnosis_run").values_list(
            "result", flat=True
        )
    ) == ["false", "true"]
    assert Concern.objects.count() == 3


def test_a_run_the_broker_refuses_is_failed_with_a_message_and_frees_the_consultation(
    consultation, facilitator, django_capture_on_commit_callbacks
):
    with (
        celery_publishing_to(f"redis://127.0.0.1:{closed_port()}/0", queue="nobody"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = diagnosis_run_start(page=consultation, user=facilitator)
    run.refresh_from_db()
    assert run.status == DiagnosisRun.Status.FAILED
    assert run.error == DiagnosisRun.Error.NOT_QUEUED
    with translation.override("es"):
        assert run.get_error_display() == gettext(DiagnosisRun.Error.NOT_QUEUED.label)
    assert not DiagnosisSnapshot.objects.exists()
    # Nothing is left waiting: the next start is accepted (and runs in-process here).
    with django_capture_on_commit_callbacks(execute=True):
        again = diagnosis_run_start(page=consultation, user=facilitator)
    again.refresh_from_db()
    assert again.status == DiagnosisRun.Status.DONE
    assert uuid.UUID(str(again.consultation_key)) == consultation.translation_key
