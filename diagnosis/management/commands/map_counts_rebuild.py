"""`manage.py map_counts_rebuild`: recompute the public map's summary of approved concerns.

Moderation keeps the summary up to date by itself; run this after loading or importing concerns
without the services (`bench/generate_concerns.py`, a restore, a data migration), or to check that
nothing drifted. It is one INSERT … SELECT … GROUP BY per table, done by the database.
"""

import time
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from diagnosis.services.map_counts import map_counts_rebuild


class Command(BaseCommand):
    help = gettext_lazy(
        "Recompute the public map's counts of approved concerns per cell and per area, for "
        "example after a bulk import."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--consultation",
            metavar="TRANSLATION_KEY",
            help=gettext_lazy("Only this consultation (its translation key); default: all."),
        )

    def handle(self, *args, consultation: str | None = None, **options):
        key = None
        if consultation:
            try:
                key = uuid.UUID(consultation)
            except ValueError:
                raise CommandError(
                    _("--consultation must be a consultation's translation key (a UUID).")
                ) from None
        started = time.monotonic()
        written = map_counts_rebuild(consultation_key=key)
        self.stdout.write(
            _("Map counts rebuilt in %(seconds).1f s: %(cells)d cell rows, %(areas)d area rows.")
            % {
                "seconds": time.monotonic() - started,
                "cells": written["concerncellcount"],
                "areas": written["concernareacount"],
            }
        )
