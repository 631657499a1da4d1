"""Writes of the participation app. Views, admin, commands and tasks call these; nothing else
changes concerns."""

from .concerns import ConcernRejected, concern_submit
from .processing import concern_enqueue_processing, concern_process, concern_sweep_pending

__all__ = [
    "ConcernRejected",
    "concern_enqueue_processing",
    "concern_process",
    "concern_submit",
    "concern_sweep_pending",
]
