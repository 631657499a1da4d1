"""Celery tasks of the participation app: each takes ids, calls one service, nothing more."""

from celery import shared_task

from .services.processing import concern_process, concern_sweep_pending


@shared_task(name="diagnosis.tasks.concern_process")
def concern_process_task(concern_id: int) -> bool:
    return concern_process(concern_id=concern_id)


@shared_task(name="diagnosis.tasks.concern_sweep")
def concern_sweep() -> int:
    return concern_sweep_pending()
