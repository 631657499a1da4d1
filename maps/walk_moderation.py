"""Decisions about what the public sees of a safety walk: its stops and its report.

A stop is moderated exactly like a concern (the shared core in `maps.moderation`): approve, reject
or hide, a reason for the last two, a row lock, and a Wagtail log entry on the stop
(`convive.walkstop.approve`, `.reject`, `.hide`). Only approved stops appear in a published
report, at their public point.

A walk's report is published by someone with `maps.publish_walk_report`, and only once the walk
is done: a report of a walk still in progress would show a half-walked route as if it were the
group's verdict. Publishing and withdrawing are logged on the walk (`convive.walk.report_publish`,
`convive.walk.report_unpublish`), as is a new participants' access code
(`convive.walk.access_code_renew`). The log actions are registered in `maps.wagtail_hooks`.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.log_actions import log

from .models import ModerationStatus, SafetyWalk, WalkStop
from .moderation import ModerationPolicy, decision_check, decision_record, decision_record_bulk
from .walks import walk_access_code_renew

MODERATE_PERMISSION = "maps.moderate_walkstop"
PUBLISH_PERMISSION = "maps.publish_walk_report"
CHANGE_WALK_PERMISSION = "maps.change_safetywalk"

LOG_ACTIONS = {
    ModerationStatus.APPROVED: "convive.walkstop.approve",
    ModerationStatus.REJECTED: "convive.walkstop.reject",
    ModerationStatus.HIDDEN: "convive.walkstop.hide",
}
LOG_REPORT_PUBLISH = "convive.walk.report_publish"
LOG_REPORT_UNPUBLISH = "convive.walk.report_unpublish"
LOG_ACCESS_CODE_RENEW = "convive.walk.access_code_renew"

POLICY = ModerationPolicy(
    model=WalkStop,
    permission=MODERATE_PERMISSION,
    log_actions=LOG_ACTIONS,
    denied_message=gettext_lazy("You do not have permission to moderate walk stops."),
    reason_missing_message=gettext_lazy(
        "Give a reason to reject or hide a walk stop; it is kept in its history."
    ),
)


class ReportRefused(Exception):
    """A report that cannot be published now; the message is in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def walk_stop_moderation_check(*, user, status: str, reason: str) -> str:
    """Validate a decision on walk stops before anything is written; returns the reason."""
    return decision_check(policy=POLICY, user=user, status=status, reason=reason)


def walk_stop_moderate(*, stop: WalkStop, user, status: str, reason: str = "") -> WalkStop:
    """Approve, reject or hide one stop, recording the decision and its reason.

    Raises `ModerationRefused` (nothing changed) for a missing reason or an unknown decision,
    and `PermissionDenied` for a user without `maps.moderate_walkstop`.
    """
    return decision_record(policy=POLICY, obj=stop, user=user, status=status, reason=reason)


def walk_stop_moderate_bulk(
    *, stops: Iterable[WalkStop], user, status: str, reason: str = ""
) -> int:
    """Apply one decision to many stops, all or nothing. Returns how many were moderated."""
    return decision_record_bulk(
        policy=POLICY, objects=stops, user=user, status=status, reason=reason
    )


def _require(user, permission: str, message: str) -> None:
    if not (user and user.is_active and user.has_perm(permission)):
        raise PermissionDenied(message)


def walk_report_publish(*, walk: SafetyWalk, user) -> SafetyWalk:
    """Make the walk's report public, stamped now. Only a walk whose status is done.

    Publishing an already published report keeps its first date (the public link and what it
    said since then do not change) and logs nothing.
    """
    _require(user, PUBLISH_PERMISSION, _("You do not have permission to publish walk reports."))
    with transaction.atomic():
        locked = SafetyWalk.objects.select_for_update().get(pk=walk.pk)
        if locked.status != SafetyWalk.Status.DONE:
            raise ReportRefused(
                _(
                    "Only a walk that is done can have its report published. This walk is "
                    "“%(status)s”: set its status to “Done” once the group has finished."
                )
                % {"status": locked.get_status_display()}
            )
        if locked.report_published_at is None:
            locked.report_published_at = timezone.now()
            locked.save(update_fields=["report_published_at", "updated_at"])
            log(
                locked,
                LOG_REPORT_PUBLISH,
                user=user,
                data={"published_at": locked.report_published_at.isoformat()},
            )
    walk.report_published_at = locked.report_published_at
    return walk


def walk_report_unpublish(*, walk: SafetyWalk, user) -> SafetyWalk:
    """Withdraw the walk's report from the public site (its stops and moderation stay)."""
    _require(user, PUBLISH_PERMISSION, _("You do not have permission to publish walk reports."))
    with transaction.atomic():
        locked = SafetyWalk.objects.select_for_update().get(pk=walk.pk)
        if locked.report_published_at is not None:
            previous = locked.report_published_at
            locked.report_published_at = None
            locked.save(update_fields=["report_published_at", "updated_at"])
            log(
                locked,
                LOG_REPORT_UNPUBLISH,
                user=user,
                data={"published_at": previous.isoformat()},
            )
    walk.report_published_at = None
    return walk


def walk_access_code_replace(*, walk: SafetyWalk, user) -> str:
    """Give the walk a new participants' code (the old one stops working) and log who did it.

    The codes themselves are not logged: the history says that a code was replaced, and the
    old one is of no use to anybody any more.
    """
    _require(
        user, CHANGE_WALK_PERMISSION, _("You do not have permission to change this safety walk.")
    )
    with transaction.atomic():
        code = walk_access_code_renew(walk=walk)
        log(walk, LOG_ACCESS_CODE_RENEW, user=user)
    return code
