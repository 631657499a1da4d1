"""`manage.py complaints_forward`: send residents' complaints that were stored but never sent.

Celery beat runs the same sweep every ten minutes (CELERY_BEAT_SCHEDULE); this command is for
operators after a mail server or broker outage, for cron where beat is not running, and after
adding a contact e-mail to a commitment whose complaints had nobody to go to. Sending is
recorded on each complaint, so running it twice sends nothing twice.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cms.feedback import complaints_sweep_unforwarded


class Command(BaseCommand):
    help = gettext_lazy(
        "E-mail residents' complaints about commitments that have not been sent yet, for "
        "example after the mail server was down."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-seconds",
            type=int,
            default=300,
            help=gettext_lazy(
                "Only complaints sent at least this long ago (default 300: newer ones are "
                "probably still on their way)."
            ),
        )

    def handle(self, *args, older_than_seconds: int, **options):
        if older_than_seconds < 0:
            raise CommandError(_("--older-than-seconds cannot be negative."))
        sent = complaints_sweep_unforwarded(older_than=timedelta(seconds=older_than_seconds))
        self.stdout.write(
            ngettext("Sent %(count)d complaint.", "Sent %(count)d complaints.", sent)
            % {"count": sent}
        )
