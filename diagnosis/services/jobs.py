"""What every background job row shares: being claimed once by whichever worker gets it first."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

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
