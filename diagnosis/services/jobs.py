"""What every background job row shares (diagnosis runs, response exports, open-data exports):
being handed to the workers, claimed once by whichever worker gets it first, and a failure
recorded on the row."""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger("convive.diagnosis")

# A running job whose heartbeat is older than this belongs to a worker that died.
STALE_AFTER = timedelta(minutes=10)


def job_claim(model, pk, *, waiting: str, running: str, **reset) -> bool:
    """Claim a job row with one conditional UPDATE: waiting, or running with a stale heartbeat.

    A task delivered twice, or a worker restarted mid-job, does the work once. `reset` gives the
    fields to clear on the claimed row (progress, errors). Returns True if this call claimed it.
    """
    now = timezone.now()
    claimable = Q(status=waiting) | Q(status=running, heartbeat_at__lt=now - STALE_AFTER)
    claimed = model.objects.filter(claimable, pk=pk).update(
        status=running, started_at=now, heartbeat_at=now, **reset
    )
    return claimed == 1


def job_error_detail(error: Exception) -> str:
    """The technical detail kept on a failed job (its message for the user is the error code)."""
    return f"{type(error).__name__}: {error}"[:500]


def job_enqueue(task, model, pk, *, waiting: str, failed: str, error: str) -> bool:
    """Hand the job to the workers (or run it here when no broker is configured).

    A broker that does not answer marks the job failed with `error` (a code whose message says
    so), rather than leaving it waiting for ever. Returns True if the task was sent.
    """
    try:
        task.apply_async(args=[pk], retry=False)
    except Exception as exception:
        logger.warning("Could not queue %s %s (%s)", model._meta.model_name, pk, exception)
        model.objects.filter(pk=pk, status=waiting).update(
            status=failed,
            error=error,
            error_detail=job_error_detail(exception),
            finished_at=timezone.now(),
        )
        return False
    return True
