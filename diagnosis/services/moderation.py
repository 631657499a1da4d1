"""Moderating concerns: the one path by which a concern's status changes after submission.

Every decision is a Wagtail log entry on the concern (`convive.concern.approve`, `.reject`,
`.hide`), so the admin's History view shows who decided what, when and why. Moderation never
touches what the resident wrote and never deletes: a rejected or hidden concern stays in the
database (nothing accepted is lost) and can be approved later.

A decision that makes a concern approved, or no longer approved, also updates the public map's
summary counts (`map_counts_adjust`) in the same transaction, so the map never disagrees with the
concerns.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import LogContext, log

from ..models import Concern
from .map_counts import map_counts_adjust

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


class ModerationRefused(Exception):
    """A decision that cannot be recorded; the message is already in the moderator's language."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def moderation_check(*, user, status: str, reason: str) -> str:
    """Validate a decision before anything is written; returns the cleaned reason.

    Kept apart from the write so a bulk action refuses the whole batch up front instead of
    stopping half-way.
    """
    if not (user and user.is_active and user.has_perm(MODERATE_PERMISSION)):
        raise PermissionDenied(_("You do not have permission to moderate concerns."))
    if status not in LOG_ACTIONS:
        raise ModerationRefused(_("Choose a decision: approve, reject or hide."), field="status")
    reason = (reason or "").strip()
    if status in REASON_REQUIRED and not reason:
        raise ModerationRefused(
            _("Give a reason to reject or hide a concern; it is kept in its history."),
            field="reason",
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ModerationRefused(
            _("The reason is too long (at most %(max)d characters).") % {"max": REASON_MAX_LENGTH},
            field="reason",
        )
    return reason


def _approved_delta(previous: str, status: str) -> int:
    """+1 when a decision approves a concern, -1 when it takes an approved one away, else 0."""
    approved = Concern.Status.APPROVED
    return (status == approved) - (previous == approved)


def _moderate_locked(*, concern_id: int, user, status: str, reason: str) -> tuple[Concern, int]:
    # The row lock makes two moderators deciding at once produce two ordered log entries
    # whose last one matches the stored status.
    concern = Concern.objects.select_for_update().get(pk=concern_id)
    previous = concern.status
    concern.status = status
    concern.moderation_reason = reason
    concern.moderated_at = timezone.now()
    concern.save(update_fields=["status", "moderation_reason", "moderated_at"])
    log(
        concern,
        LOG_ACTIONS[status],
        user=user,
        data={"status": {"old": previous, "new": status}, "reason": reason},
    )
    return concern, _approved_delta(previous, status)


def concern_moderate(*, concern: Concern, user, status: str, reason: str = "") -> Concern:
    """Approve, reject or hide one concern, recording the decision and its reason.

    Raises `ModerationRefused` (nothing changed) for a missing reason or an unknown decision,
    and `PermissionDenied` for a user without `diagnosis.moderate_concern`.
    """
    reason = moderation_check(user=user, status=status, reason=reason)
    with transaction.atomic():
        moderated, delta = _moderate_locked(
            concern_id=concern.pk, user=user, status=status, reason=reason
        )
        map_counts_adjust(changes=[(moderated, delta)])
    return moderated


def concern_moderate_bulk(
    *, concerns: Iterable[Concern], user, status: str, reason: str = ""
) -> int:
    """Apply one decision to many concerns, all or nothing. Returns how many were moderated.

    Each concern still gets its own log entry (its History shows the decision); the entries
    share one log UUID so the site history groups them as one action.
    """
    reason = moderation_check(user=user, status=status, reason=reason)
    ids = sorted({concern.pk for concern in concerns})
    with transaction.atomic(), LogContext(user=user):
        changes = [
            _moderate_locked(concern_id=concern_id, user=user, status=status, reason=reason)
            for concern_id in ids
        ]
        map_counts_adjust(changes=changes)
    return len(ids)
