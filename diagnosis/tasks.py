"""Celery tasks of the participation app: each takes ids, calls one service, nothing more."""

from celery import shared_task

from .services.processing import concern_process, concern_sweep_pending
from .services.response_exports import response_export_run, response_exports_cleanup


@shared_task(name="diagnosis.tasks.concern_process")
def concern_process_task(concern_id: int) -> bool:
    return concern_process(concern_id=concern_id)


@shared_task(name="diagnosis.tasks.concern_sweep")
def concern_sweep() -> int:
    return concern_sweep_pending()


@shared_task(name="diagnosis.tasks.response_export")
def response_export_task(export_id: int) -> bool:
    """Write a questionnaire responses export; False when another delivery already did."""
    return response_export_run(export_id=export_id)


@shared_task(name="diagnosis.tasks.response_export_cleanup")
def response_export_cleanup() -> int:
    """Delete expired exports even where nobody asks for a new one (for the beat schedule)."""
    return response_exports_cleanup()


@shared_task(name="diagnosis.tasks.diagnosis_run")
def diagnosis_run(run_id: int) -> bool:
    """Compute a diagnosis run; False when another delivery already claimed it (or it failed,
    which is recorded on the run)."""
    from .services.diagnosis_runs import diagnosis_run_execute

    return diagnosis_run_execute(run_id=run_id)


@shared_task(name="diagnosis.tasks.open_data_export")
def open_data_export_task(export_id: str) -> bool:
    """Write an open-data export file; False when another delivery already did (or it failed,
    which is recorded on the export)."""
    from .services.open_data_exports import open_data_export_run

    return open_data_export_run(export_id=export_id)


@shared_task(name="diagnosis.tasks.open_data_export_cleanup")
def open_data_export_cleanup() -> int:
    """Delete expired open-data files (for the beat schedule)."""
    from .services.open_data_exports import open_data_exports_cleanup

    return open_data_exports_cleanup()
