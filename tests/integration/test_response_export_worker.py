"""Questionnaire response exports made by a real Celery worker on Redis; a broker that does not
answer fails the export with a message instead of leaving it waiting."""

import io
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext
from django_celery_results.models import TaskResult
from openpyxl import load_workbook

from diagnosis.models import ResponseExport
from diagnosis.services import questionnaire_submit
from diagnosis.services.response_exports import response_export_request
from diagnosis.tasks import response_export_task
from tests.diagnosis.test_questionnaire_submit import QUESTIONS, VALID, questionnaire_set

from .conftest import celery_publishing_to, closed_port, wait_for

TRANSACTIONAL = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def facilitator(db):
    return get_user_model().objects.create_user("facilitadora", "f@example.org", "not-used")


@pytest.fixture
def surveyed(consultation):
    """The consultation's questionnaire, answered by three residents."""
    page = questionnaire_set(consultation, QUESTIONS)
    for minutes in ("5", "15", "40"):
        questionnaire_submit(
            consultation=page,
            answers={**VALID, "minutes": minutes},
            language="es",
            idempotency_key=uuid.uuid4(),
        )
    return page


def export_state(export: ResponseExport):
    return ResponseExport.objects.values_list("status", "rows_done").get(pk=export.pk)


@pytest.mark.celery_worker
@TRANSACTIONAL
def test_worker_writes_the_export_once(celery_worker, surveyed, facilitator):
    with celery_publishing_to(celery_worker.broker_url, queue=celery_worker.queue):
        # No transaction is open here, so the job is queued as soon as the row is saved.
        export = response_export_request(
            page=surveyed, user=facilitator, language="es", format="xlsx", cells="labels"
        )
        done = wait_for(lambda: export_state(export) == ("done", 3), timeout=60)
        assert done, celery_worker.log.read_text()

        export.refresh_from_db()
        path = Path(export.file.path)
        assert path.is_file()
        workbook = load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        assert len(rows) == 1 + 3
        assert sorted(row[12] for row in rows[1:]) == [5, 15, 40]  # minutes, as numbers

        # Delivered again (a redelivery after a lost acknowledgement): nothing is redone.
        again = response_export_task.apply_async(args=[export.pk])
        assert again.get(timeout=30) is False
    export.refresh_from_db()
    assert Path(export.file.path) == path
    assert sorted(
        TaskResult.objects.filter(task_name="diagnosis.tasks.response_export").values_list(
            "result", flat=True
        )
    ) == ["false", "true"]


def test_an_export_the_broker_refuses_is_failed_with_a_message(
    surveyed, facilitator, django_capture_on_commit_callbacks
):
    with (
        celery_publishing_to(f"redis://127.0.0.1:{closed_port()}/0", queue="nobody"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        export = response_export_request(
            page=surveyed, user=facilitator, language="es", format="csv", cells="labels"
        )
    export.refresh_from_db()
    assert export.status == ResponseExport.Status.FAILED
    assert export.error == ResponseExport.Error.NOT_QUEUED
    with translation.override("es"):
        assert export.get_error_display() == gettext(ResponseExport.Error.NOT_QUEUED.label)
    assert not export.file
