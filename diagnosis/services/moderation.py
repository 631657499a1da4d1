"""Moderating concerns: the one path by which a concern's status changes after submission.

Every decision is a Wagtail log entry on the concern (`convive.concern.approve`, `.reject`,
`.hide`), so the admin's History view shows who decided what, when and why. Moderation never
touches what the resident wrote and never deletes: a rejected or hidden concern stays in the
database (nothing accepted is lost) and can be approved later.

The decision itself (permission, reason, row lock, log entry, all-or-nothing batches) is the
moderation core in `maps.moderation`, shared with walk stops; this module says how concerns are
moderated and adds what only concerns need: a decision that makes a concern approved, or no
longer approved, also updates the public map's summary counts (`map_counts_adjust`) in the same
transaction, so the map never disagrees with the concerns.
"""

from collections.abc import Iterable

from django.utils.translation import gettext_lazy

from maps.moderation import (
    Decision,
    ModerationPolicy,
    ModerationRefused,
    decision_check,
    decision_record,
    decision_record_bulk,
)

from ..models import Concern
from .map_counts import map_counts_adjust

__all__ = [
    "LOG_ACTIONS",
    "MODERATE_PERMISSION",
    "POLICY",
    "REASON_MAX_LENGTH",
    "REASON_REQUIRED",
    "ModerationRefused",
    "concern_moderate",
    "concern_moderate_bulk",
    "moderation_check",
]

MODERATE_PERMISSION = "diagnosis.moderate_concern"
REASON_MAX_LENGTH = Concern._meta.get_field("moderation_reason").max_length

# Decision → log action. Registered with labels and messages in diagnosis.wagtail_hooks.
LOG_ACTIONS = {
    Concern.Status.APPROVED: "convive.concern.approve",
    Concern.Status.REJECTED: "convive.concern.reject",
    Concern.Status.HIDDEN: "convive.concern.hide",
}
# Reject and hide take a concern away from the public: the resident (who can ask with their
# reference code) and other moderators are owed a reason.
REASON_REQUIRED = {Concern.Status.REJECTED, Concern.Status.HIDDEN}

POLICY = ModerationPolicy(
    model=Concern,
    permission=MODERATE_PERMISSION,
    log_actions=LOG_ACTIONS,
    reason_required=frozenset(REASON_REQUIRED),
    denied_message=gettext_lazy("You do not have permission to moderate concerns."),
    reason_missing_message=gettext_lazy(
        "Give a reason to reject or hide a concern; it is kept in its history."
    ),
)


def moderation_check(*, user, status: str, reason: str) -> str:
    """Validate a decision on concerns before anything is written; returns the cleaned reason.

    Kept apart from the write so a bulk action refuses the whole batch up front instead of
    stopping half-way.
    """
    return decision_check(policy=POLICY, user=user, status=status, reason=reason)


def _approved_delta(previous: str, status: str) -> int:
    """+1 when a decision approves a concern, -1 when it takes an approved one away, else 0."""
    approved = Concern.Status.APPROVED
    return (status == approved) - (previous == approved)


def _map_counts_follow(decisions: list[Decision]) -> None:
    map_counts_adjust(
        changes=[
            (concern, _approved_delta(previous, concern.status)) for concern, previous in decisions
        ]
    )


def concern_moderate(*, concern: Concern, user, status: str, reason: str = "") -> Concern:
    """Approve, reject or hide one concern, recording the decision and its reason.

    Raises `ModerationRefused` (nothing changed) for a missing reason or an unknown decision,
    and `PermissionDenied` for a user without `diagnosis.moderate_concern`.
    """
    return decision_record(
        policy=POLICY,
        obj=concern,
        user=user,
        status=status,
        reason=reason,
        after=_map_counts_follow,
    )


def concern_moderate_bulk(
    *, concerns: Iterable[Concern], user, status: str, reason: str = ""
) -> int:
    """Apply one decision to many concerns, all or nothing. Returns how many were moderated.

    Each concern still gets its own log entry (its History shows the decision); the entries
    share one log UUID so the site history groups them as one action.
    """
    return decision_record_bulk(
        policy=POLICY,
        objects=concerns,
        user=user,
        status=status,
        reason=reason,
        after=_map_counts_follow,
    )
