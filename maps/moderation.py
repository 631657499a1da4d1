"""The moderation core shared by everything residents contribute: concerns and walk stops.

A contribution is moderated by one of three decisions — approve, reject, hide — and each decision
is the same operation whatever is being moderated: check who decides and why, change the status
under a row lock, and write a Wagtail log entry so the object's History shows who decided what,
when and why. Moderation never edits what a resident wrote and never deletes.

What differs between concerns and walk stops is described by a `ModerationPolicy` (the model, the
permission, the log actions and the messages); the app that owns the model keeps its own named
services (`concern_moderate`, `walk_stop_moderate`) on top of `decision_record`. Work that must
happen in the same transaction as the status change (the public map's counts for concerns) is
passed as `after`.

This module knows no app but `maps`: `diagnosis` builds on it, never the other way round.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import LogContext, log

from .models import ModerationStatus

# Reject and hide take a contribution away from the public: the resident (who can ask with their
# reference code) and other moderators are owed a reason.
REASON_REQUIRED = frozenset({ModerationStatus.REJECTED, ModerationStatus.HIDDEN})


class ModerationRefused(Exception):
    """A decision that cannot be recorded; the message is already in the moderator's language."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class ModerationPolicy:
    """How one kind of contribution is moderated.

    `log_actions` maps each decision (a status value) to its Wagtail log action; a status that is
    not a key is not a decision. The messages are lazy translations, evaluated when raised.
    The model needs `status`, `moderation_reason` and `moderated_at` fields.
    """

    model: type[models.Model]
    permission: str
    log_actions: Mapping[str, str]
    denied_message: str
    reason_missing_message: str
    reason_required: frozenset = REASON_REQUIRED

    @property
    def reason_max_length(self) -> int:
        return self.model._meta.get_field("moderation_reason").max_length


# One decision as the core saw it: the object after the change and its status before.
Decision = tuple[models.Model, str]


def moderation_allowed(*, policy: ModerationPolicy, user) -> bool:
    return bool(user and user.is_active and user.has_perm(policy.permission))


def decision_check(*, policy: ModerationPolicy, user, status: str, reason: str) -> str:
    """Validate a decision before anything is written; returns the cleaned reason.

    Kept apart from the write so a bulk action refuses the whole batch up front instead of
    stopping half-way.
    """
    if not moderation_allowed(policy=policy, user=user):
        raise PermissionDenied(str(policy.denied_message))
    if status not in policy.log_actions:
        raise ModerationRefused(_("Choose a decision: approve, reject or hide."), field="status")
    reason = (reason or "").strip()
    if status in policy.reason_required and not reason:
        raise ModerationRefused(str(policy.reason_missing_message), field="reason")
    limit = policy.reason_max_length
    if len(reason) > limit:
        raise ModerationRefused(
            _("The reason is too long (at most %(max)d characters).") % {"max": limit},
            field="reason",
        )
    return reason


def _decide_locked(*, policy: ModerationPolicy, pk, user, status: str, reason: str) -> Decision:
    # The row lock makes two moderators deciding at once produce two ordered log entries whose
    # last one matches the stored status.
    obj = policy.model._default_manager.select_for_update().get(pk=pk)
    previous = obj.status
    obj.status = status
    obj.moderation_reason = reason
    obj.moderated_at = timezone.now()
    obj.save(update_fields=["status", "moderation_reason", "moderated_at"])
    log(
        obj,
        policy.log_actions[status],
        user=user,
        data={"status": {"old": previous, "new": status}, "reason": reason},
    )
    return obj, previous


def decision_record(
    *,
    policy: ModerationPolicy,
    obj: models.Model,
    user,
    status: str,
    reason: str = "",
    after: Callable[[list[Decision]], None] | None = None,
):
    """Approve, reject or hide one object, recording the decision and its reason.

    Raises `ModerationRefused` (nothing changed) for a missing reason or an unknown decision,
    and `PermissionDenied` for a user without the policy's permission.
    """
    reason = decision_check(policy=policy, user=user, status=status, reason=reason)
    with transaction.atomic():
        decision = _decide_locked(policy=policy, pk=obj.pk, user=user, status=status, reason=reason)
        if after is not None:
            after([decision])
    return decision[0]


def decision_record_bulk(
    *,
    policy: ModerationPolicy,
    objects: Iterable[models.Model],
    user,
    status: str,
    reason: str = "",
    after: Callable[[list[Decision]], None] | None = None,
) -> int:
    """Apply one decision to many objects, all or nothing. Returns how many were moderated.

    Each object still gets its own log entry (its History shows the decision); the entries share
    one log UUID so the site history groups them as one action. Rows are locked in primary-key
    order so two bulk decisions at once cannot deadlock.
    """
    reason = decision_check(policy=policy, user=user, status=status, reason=reason)
    ids = sorted({obj.pk for obj in objects})
    with transaction.atomic(), LogContext(user=user):
        decisions = [
            _decide_locked(policy=policy, pk=pk, user=user, status=status, reason=reason)
            for pk in ids
        ]
        if after is not None:
            after(decisions)
    return len(ids)


def moderation_queue_order(queryset, *, arrived: str):
    """Pending first, oldest first (a fair queue); decided ones after, newest first.

    `arrived` names the field that says when a contribution reached the server.
    """
    pending = ModerationStatus.PENDING
    return queryset.order_by(
        Case(When(status=pending, then=Value(0)), default=Value(1), output_field=IntegerField()),
        Case(When(status=pending, then=F(arrived))).asc(),
        f"-{arrived}",
        "-pk",
    )
