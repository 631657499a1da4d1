"""`manage.py concern_sweep`: request processing of concerns the broker never delivered.

Celery beat runs the same sweep every minute (CELERY_BEAT_SCHEDULE); this command is for operators
after a broker outage, or for cron where beat is not running. Requesting twice is harmless: the
task processes a concern once.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from diagnosis.services import concern_sweep_pending


class Command(BaseCommand):
    help = gettext_lazy(
        "Request processing (thumbnail, moderators' notice) of concerns still waiting for it, "
        "for example after the task broker was down."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-seconds",
            type=int,
            default=120,
            help=gettext_lazy(
                "Only concerns submitted at least this long ago (default 120: newer ones are "
                "probably still in the queue)."
            ),
        )

    def handle(self, *args, older_than_seconds: int, **options):
        if older_than_seconds < 0:
            raise CommandError(_("--older-than-seconds cannot be negative."))
        requested = concern_sweep_pending(older_than=timedelta(seconds=older_than_seconds))
        self.stdout.write(
            ngettext(
                "Requested processing of %(count)d concern.",
                "Requested processing of %(count)d concerns.",
                requested,
            )
            % {"count": requested}
        )
