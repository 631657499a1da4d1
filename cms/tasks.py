"""Celery tasks of the site app: each takes ids, calls one service, nothing more."""

from smtplib import SMTPException

from celery import shared_task

from .feedback import complaint_send, complaints_sweep_unforwarded


@shared_task(bind=True, name="cms.tasks.complaint_forward", max_retries=5)
def complaint_forward(self, complaint_id: int) -> bool:
    """E-mail a stored complaint to the commitment's contact; False when it was already sent.

    On a worker a failed send is retried with a growing delay (1, 2, 4… minutes). Run in-process
    (no broker) it is not: the resident's request must not wait on a mail server, and the
    complaint is picked up by `complaint_sweep`.
    """
    try:
        return complaint_send(complaint_id=complaint_id)
    except (SMTPException, OSError) as error:
        if self.request.is_eager:
            raise
        raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error


@shared_task(name="cms.tasks.complaint_sweep")
def complaint_sweep() -> int:
    """Send complaints that are stored but were never sent (for the beat schedule)."""
    return complaints_sweep_unforwarded()
