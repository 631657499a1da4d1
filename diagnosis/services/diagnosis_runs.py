"""Diagnosis runs: start one, cancel it, run it (the Celery task calls `diagnosis_run_execute`).

A run is one row (`DiagnosisRun`) whose life is queued → running → done | failed | cancelled.
Every transition is one conditional UPDATE, so two actors (two facilitators, a worker and the
admin, a task delivered twice) can never both win it:

- start: an INSERT that the database refuses while the consultation has a queued or running run
  (a partial unique constraint), so two starts at the same moment make exactly one run;
- the worker claims the run queued → running (or running → running when its previous worker went
  silent for `STALE_AFTER`), so a redelivered task does the work once;
- cancel: a queued run is cancelled at once; a running one gets `cancel_requested`, which the
  engine honours at its next step (`diagnosis.engine.RunRecorder`);
- any error marks the run failed with a code (translated when shown) and a technical detail, its
  traceback in the log; a running run whose heartbeat stopped is marked interrupted when anyone
  looks, so nothing stays "running" silently and a new run can start.

The computation itself is `diagnosis.engine`.
"""

import logging
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..engine import (
    DEFAULT_K,
    STEP_LABELS,
    STEPS_TOTAL,
    diagnosis_run_compute,
    log_entry,
    parameters_check,
)
from ..models import DiagnosisRun, DiagnosisSnapshot
from ..pages import ConsultationPage
from .jobs import STALE_AFTER, job_claim, job_error_detail

logger = logging.getLogger("convive.diagnosis")

# The engine records a heartbeat after every step (seconds each, even on a million concerns), so
# a running run silent for `STALE_AFTER` has lost its worker.

Status = DiagnosisRun.Status


class DiagnosisRunRefused(Exception):
    """A run cannot start or be cancelled; `message` says why, in the reader's language."""

    def __init__(self, message: str, *, active: DiagnosisRun | None = None):
        super().__init__(message)
        self.message = message
        self.active = active


def _user_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


# --- Starting -----------------------------------------------------------------------------------


def diagnosis_run_start(
    *,
    page: ConsultationPage,
    user,
    k: int = DEFAULT_K,
    window_from: date | None = None,
    window_to: date | None = None,
) -> DiagnosisRun:
    """Record a run of the consultation's diagnosis and queue it once the transaction commits.

    Raises ValueError for parameters a run may not use, and DiagnosisRunRefused while another run
    of the same consultation (in any language) is queued or running.
    """
    parameters = parameters_check(k=k, window_from=window_from, window_to=window_to)
    diagnosis_runs_mark_interrupted()
    try:
        # A savepoint, so a refusal leaves the caller's transaction usable.
        with transaction.atomic():
            run = DiagnosisRun.objects.create(
                consultation_key=page.translation_key,
                consultation=page,
                requested_by=user,
                parameters=parameters.as_json(),
                steps_total=STEPS_TOTAL,
                log=[log_entry("queued", user=_user_name(user))],
            )
    except IntegrityError:
        active = diagnosis_run_active(consultation_key=page.translation_key)
        if active is None:
            raise
        raise DiagnosisRunRefused(
            _(
                "A diagnosis of this consultation is already waiting or in progress (requested "
                "%(when)s). Wait for it to finish or cancel it before starting another."
            )
            % {"when": date_format(timezone.localtime(active.created_at), "DATETIME_FORMAT")},
            active=active,
        ) from None
    transaction.on_commit(lambda: diagnosis_run_enqueue(run_id=run.pk))
    return run


def diagnosis_run_active(*, consultation_key) -> DiagnosisRun | None:
    return (
        DiagnosisRun.objects.filter(
            consultation_key=consultation_key, status__in=DiagnosisRun.ACTIVE
        )
        .order_by("-created_at")
        .first()
    )


def diagnosis_run_enqueue(*, run_id: int) -> bool:
    """Hand the run to the workers (or run it here when no broker is configured). A broker that
    does not answer fails the run with a message saying so, rather than leaving it waiting."""
    from ..tasks import diagnosis_run as diagnosis_run_task

    try:
        diagnosis_run_task.apply_async(args=[run_id], retry=False)
    except Exception as error:
        logger.warning("Could not queue diagnosis run %s (%s)", run_id, error)
        _fail(run_id, DiagnosisRun.Error.NOT_QUEUED, error, only_status=Status.QUEUED)
        return False
    return True


# --- Running ------------------------------------------------------------------------------------


def diagnosis_run_execute(*, run_id: int) -> bool:
    """Claim the run and compute it. Returns True if this call ran it (to done or cancelled).

    Never raises: a failure is recorded on the run, its traceback logged.
    """
    run = _claim(run_id)
    if run is None:
        return False
    try:
        diagnosis_run_compute(run)
    except Exception as error:
        logger.exception("Diagnosis run %s failed", run_id)
        _fail(run_id, DiagnosisRun.Error.FAILED, error, only_status=Status.RUNNING)
        return False
    return True


def _claim(run_id: int) -> DiagnosisRun | None:
    # Running before the claim means a silent worker's run is being taken over: said in the log.
    restarted = DiagnosisRun.objects.filter(pk=run_id, status=Status.RUNNING).exists()
    claimed = job_claim(
        DiagnosisRun,
        run_id,
        waiting=Status.QUEUED,
        running=Status.RUNNING,
        steps_done=0,
        steps_total=STEPS_TOTAL,
    )
    if not claimed:
        return None
    run = DiagnosisRun.objects.get(pk=run_id)
    run.log = [*run.log, log_entry("restarted" if restarted else "started")]
    DiagnosisRun.objects.filter(pk=run_id).update(log=run.log)
    return run


def _fail(run_id: int, code: str, error: Exception, *, only_status: str) -> None:
    run = DiagnosisRun.objects.filter(pk=run_id).first()
    if run is None:
        return
    DiagnosisRun.objects.filter(pk=run_id, status=only_status).update(
        status=Status.FAILED,
        error=code,
        error_detail=job_error_detail(error),
        log=[*run.log, log_entry("failed", error=code)],
        finished_at=timezone.now(),
    )


def diagnosis_runs_mark_interrupted(*, now: datetime | None = None) -> int:
    """Running runs whose worker went silent are failed, with a message saying so."""
    now = now or timezone.now()
    return DiagnosisRun.objects.filter(
        status=Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    ).update(
        status=Status.FAILED,
        error=DiagnosisRun.Error.INTERRUPTED,
        finished_at=now,
    )


# --- Cancelling ---------------------------------------------------------------------------------


def diagnosis_run_cancel(*, run: DiagnosisRun, user) -> DiagnosisRun:
    """Cancel a queued run at once, or ask a running one to stop at its next step.

    A run that already finished cannot be cancelled (DiagnosisRunRefused).
    """
    current = DiagnosisRun.objects.get(pk=run.pk)
    entry = log_entry("cancel_requested", user=_user_name(user))
    if current.status == Status.QUEUED:
        cancelled = DiagnosisRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
            status=Status.CANCELLED,
            cancel_requested=True,
            log=[*current.log, entry, log_entry("cancelled", steps=0)],
            finished_at=timezone.now(),
        )
        if cancelled:
            return DiagnosisRun.objects.get(pk=run.pk)
        current = DiagnosisRun.objects.get(pk=run.pk)  # a worker claimed it meanwhile
    if current.status == Status.RUNNING:
        # The worker owns the log while it runs; it records the cancellation when it stops.
        DiagnosisRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(cancel_requested=True)
        return DiagnosisRun.objects.get(pk=run.pk)
    raise DiagnosisRunRefused(
        _("This diagnosis has already finished (%(status)s); there is nothing to cancel.")
        % {"status": current.get_status_display()}
    )


# --- Reading a run ------------------------------------------------------------------------------

LOG_MESSAGES = {
    "queued": gettext_lazy("Requested by %(user)s."),
    "started": gettext_lazy("Started."),
    "restarted": gettext_lazy("Started again: the previous worker stopped."),
    "inputs": gettext_lazy(
        "Approved concerns in the time window: %(concerns)s. Questionnaire responses: "
        "%(responses)s. Concerns still awaiting moderation, not included: %(pending)s."
    ),
    "step": gettext_lazy("%(step)s: done (result rows: %(rows)s)."),
    "stored": gettext_lazy("Snapshot stored (result rows: %(rows)s)."),
    "cancel_requested": gettext_lazy("Cancellation requested by %(user)s."),
    "cancelled": gettext_lazy("Cancelled. Nothing was stored."),
    "failed": gettext_lazy("Stopped by an error. Nothing was stored."),
}


def log_lines(run: DiagnosisRun) -> list[dict]:
    """The run's log in the reader's language: [{"at": datetime, "text": str}]."""
    lines = []
    for entry in run.log:
        args = dict(entry.get("args") or {})
        for name, value in args.items():
            if isinstance(value, int) and not isinstance(value, bool):
                args[name] = number_format(value, force_grouping=True)
        if "step" in args:
            args["step"] = str(STEP_LABELS.get(args["step"], args["step"]))
        if not args.get("user", True):
            args["user"] = _("someone whose account was deleted")
        template = LOG_MESSAGES.get(entry.get("code"))
        try:
            text = str(template) % args if template else entry.get("code", "")
        except (KeyError, TypeError, ValueError):
            text = entry.get("code", "")
        try:
            at = datetime.fromisoformat(entry.get("at", ""))
        except (TypeError, ValueError):
            at = None
        lines.append({"at": at, "text": text, "code": entry.get("code", "")})
    if run.status == Status.FAILED and run.error == DiagnosisRun.Error.INTERRUPTED:
        lines.append(
            {"at": run.finished_at, "text": str(run.get_error_display()), "code": "interrupted"}
        )
    return lines


def run_snapshot(run: DiagnosisRun) -> DiagnosisSnapshot | None:
    try:
        return run.snapshot
    except DiagnosisSnapshot.DoesNotExist:
        return None
