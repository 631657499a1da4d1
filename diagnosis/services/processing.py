"""Post-submit work for a concern (thumbnail, moderators' notice), never lost and never done twice.

A concern is saved first; the work is only *requested* after the commit. If the broker is down the
request fails quietly, the row keeps `processed_at = NULL`, and `concern_sweep_pending` (a periodic
task and a management command) requests it again later. `concern_process` takes a row lock and
checks `processed_at` before doing anything, so a row delivered twice (by the original request and a
sweep) is processed once.
"""

import io
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from PIL import Image

from ..models import Concern
from .groups import MODERATORS

logger = logging.getLogger("convive.processing")

THUMBNAIL_SIZE = (480, 480)


def concern_enqueue_processing(*, concern_id: int) -> bool:
    """Ask the workers to process a concern. Returns False (and logs) when the broker is down."""
    from ..tasks import concern_process_task

    try:
        concern_process_task.apply_async(args=[concern_id], retry=False)
    except Exception as error:
        # A dead broker raises transport-specific errors (and with no broker configured the task
        # runs here, so its own errors land here too). Either way the row stays unprocessed and
        # the sweep asks again; the resident's submission has already succeeded.
        logger.warning(
            "Could not request processing of concern %s (%s); left for the sweep",
            concern_id,
            error,
        )
        return False
    return True


def concern_process(*, concern_id: int) -> bool:
    """Make the thumbnail and notify moderators, once. Returns True if this call did the work."""
    with transaction.atomic():
        concern = (
            Concern.objects.select_for_update()
            .filter(pk=concern_id, processed_at__isnull=True)
            .first()
        )
        if concern is None:
            return False
        if concern.photo and not concern.photo_thumbnail:
            _make_thumbnail(concern)
        _notify_moderators(concern)
        concern.processed_at = timezone.now()
        concern.save(update_fields=["photo_thumbnail", "processed_at"])
    return True


def concern_sweep_pending(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Re-request processing for concerns the broker never delivered. Returns how many."""
    cutoff = timezone.now() - older_than
    ids = list(
        Concern.objects.filter(processed_at__isnull=True, submitted_at__lte=cutoff)
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:1000]
    )
    requested = 0
    for concern_id in ids:
        if not concern_enqueue_processing(concern_id=concern_id):
            break
        requested += 1
    return requested


def _make_thumbnail(concern: Concern) -> None:
    with concern.photo.open("rb") as handle, Image.open(handle) as image:
        image = image.convert("RGB")
        image.thumbnail(THUMBNAIL_SIZE)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80, optimize=True)
    concern.photo_thumbnail.save(f"{concern.reference}.jpg", ContentFile(buffer.getvalue()), False)


def moderator_emails() -> list[str]:
    """Who is told of something to moderate: the active Moderators with an address, and
    `CONVIVE_MODERATOR_EMAILS`. Also used for complaints that have nobody else to go to."""
    users = (
        get_user_model().objects.filter(groups__name=MODERATORS, is_active=True).exclude(email="")
    )
    return sorted({u.email for u in users} | set(settings.CONVIVE_MODERATOR_EMAILS))


def _notify_moderators(concern: Concern) -> None:
    if concern.source == Concern.Source.IMPORT:
        # An import tells moderators once for the whole file (moderators_notify_import).
        return
    recipients = moderator_emails()
    if not recipients:
        return
    # Moderators read the admin in the site's default language; the notice carries no resident text.
    with override(settings.LANGUAGE_CODE):
        subject = _("New concern to moderate: %(reference)s") % {"reference": concern.reference}
        body = _(
            "A new concern (%(category)s) was submitted to “%(consultation)s” and awaits "
            "moderation.\n\n%(url)s"
        ) % {
            "category": concern.category.name,
            "consultation": concern.consultation.title,
            "url": f"{settings.WAGTAILADMIN_BASE_URL}/admin/snippets/diagnosis/concern/",
        }
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


def moderators_notify_import(*, consultation, count: int) -> None:
    """One notice for a whole imported file, instead of one per concern (a 311 export holds
    hundreds of rows). Carries no text from the file."""
    recipients = moderator_emails()
    if not recipients or count <= 0:
        return
    with override(settings.LANGUAGE_CODE):
        subject = _("%(count)d imported concerns to moderate") % {"count": count}
        body = _(
            "%(count)d concerns were imported from a file into “%(consultation)s” and await "
            "moderation.\n\n%(url)s"
        ) % {
            "count": count,
            "consultation": consultation.title,
            "url": f"{settings.WAGTAILADMIN_BASE_URL}/admin/snippets/diagnosis/concern/",
        }
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
