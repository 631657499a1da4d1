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

from .groups import FACILITATORS, MODERATORS, groups_ensure
from .moderation import ModerationRefused, concern_moderate, concern_moderate_bulk
from .questionnaires import (
    QuestionnaireRejected,
    questionnaire_definition,
    questionnaire_submit,
    questionnaire_version_for,
)

__all__ += [
    "FACILITATORS",
    "MODERATORS",
    "ModerationRefused",
    "concern_moderate",
    "concern_moderate_bulk",
    "groups_ensure",
]

__all__ += [
    "QuestionnaireRejected",
    "questionnaire_definition",
    "questionnaire_submit",
    "questionnaire_version_for",
]
