"""Install the default concern categories in Spanish, English, French and Portuguese.

    manage.py seed_categories

Safe to run again: rows are matched by code and language, names are refreshed, nothing duplicated.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from diagnosis.taxonomy import categories_seed


class Command(BaseCommand):
    help = "Create or update the default concern categories in every content language."

    def handle(self, *args, **options):
        report = categories_seed()
        self.stdout.write(
            self.style.SUCCESS(
                _("Categories: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
                % {
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                }
            )
        )
