"""`manage.py import_open311_csv <file> --consultation <slug|key>`: import reports from a CSV file.

The same steps as the admin's import (docs/open311-import.md): read the file, map its categories
(`--map "Noise - Residential=noise"`, else the suggestion from codes and names), check every row,
print the summary, and — unless `--dry-run` — store the accepted rows in one transaction.
"""

import os
import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from diagnosis.models import ConcernCategory
from diagnosis.open311_csv import (
    FileRefused,
    ImportRefused,
    open311_csv_read,
    open311_import_check,
    open311_import_run,
    open311_mapping_suggest,
    open311_targets,
)
from diagnosis.pages import ConsultationPage

SKIP = {"", "-", "skip", "none"}


class Command(BaseCommand):
    help = gettext_lazy(
        "Import reports from a CSV file of Open311 service requests or a NYC 311 / Socrata "
        "export into a consultation. Imported concerns wait for moderation."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=gettext_lazy("The CSV file."))
        parser.add_argument(
            "--consultation",
            required=True,
            help=gettext_lazy("The consultation's slug, translation key or page ID."),
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="SOURCE=CATEGORY",
            help=gettext_lazy(
                "A category of the file and the code (or translation key) of a category of the "
                "consultation, or “skip”. Repeat for each category; categories not named keep "
                "the suggestion made from codes and names."
            ),
        )
        parser.add_argument(
            "--source-system",
            default="",
            help=gettext_lazy("The source system's name (default: open311 or nyc311)."),
        )
        parser.add_argument(
            "--time-zone",
            default="",
            help=gettext_lazy("Time zone of dates without one (default: the site's TIME_ZONE)."),
        )
        parser.add_argument("--language", default="", help=gettext_lazy("Language of the texts."))
        parser.add_argument(
            "--user",
            default="",
            help=gettext_lazy("Username recorded as having entered the concerns."),
        )
        parser.add_argument(
            "--approve",
            action="store_true",
            help=gettext_lazy("Approve on import (the --user must be a moderator)."),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext_lazy("Check and print the summary; store nothing."),
        )

    def handle(self, *args, **options):
        from django.conf import settings

        consultation = self._consultation(options["consultation"])
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(_("No user “%(name)s”.") % {"name": options["user"]})
        try:
            with open(options["file"], "rb") as file:
                source = open311_csv_read(file)
        except OSError as error:
            raise CommandError(str(error)) from error
        except FileRefused as refused:
            raise CommandError(refused.message) from None
        mapping = open311_mapping_suggest(consultation=consultation, source=source)
        mapping.update(self._mapping(options["map"], consultation, source))
        try:
            plan = open311_import_check(
                consultation=consultation,
                source=source,
                mapping=mapping,
                source_system=options["source_system"],
                language=options["language"] or consultation.locale.language_code,
                time_zone=options["time_zone"] or settings.TIME_ZONE,
            )
        except FileRefused as refused:
            raise CommandError(refused.message) from None
        self._summary(os.path.basename(options["file"]), source, mapping, plan, consultation)
        if options["dry_run"]:
            self.stdout.write(_("Dry run: nothing was stored."))
            return
        try:
            outcome = open311_import_run(
                consultation=consultation, plan=plan, user=user, approve=options["approve"]
            )
        except ImportRefused as refused:
            raise CommandError(refused.message) from None
        except PermissionDenied:
            raise CommandError(
                _("This user may not import into this consultation (or approve concerns).")
            ) from None
        self.stdout.write(
            _("Imported: %(created)d. Already imported: %(already)d. Approved: %(approved)d.")
            % {
                "created": outcome.created,
                "already": outcome.already,
                "approved": outcome.approved,
            }
        )

    def _consultation(self, value: str) -> ConsultationPage:
        pages = ConsultationPage.objects.filter(slug=value)
        try:
            pages = pages | ConsultationPage.objects.filter(translation_key=uuid.UUID(value))
        except ValueError:
            pass
        if value.isdigit():
            pages = pages | ConsultationPage.objects.filter(pk=int(value))
        page = pages.order_by("pk").first()
        if page is None:
            raise CommandError(_("No consultation “%(value)s”.") % {"value": value})
        return page

    def _mapping(self, pairs, consultation, source) -> dict:
        known = {category.key for category in source.categories}
        enabled = {target.key for target in open311_targets(consultation)}
        mapping = {}
        for pair in pairs:
            name, sep, target = pair.rpartition("=")
            name, target = name.strip(), target.strip()
            if not sep or name not in known:
                raise CommandError(
                    _("“%(pair)s”: the file has no category “%(name)s”.")
                    % {"pair": pair, "name": name}
                )
            if target.lower() in SKIP:
                mapping[name] = None
                continue
            query = Q(code=target)
            try:
                query |= Q(translation_key=uuid.UUID(target))
            except ValueError:
                pass
            keys = set(
                ConcernCategory.objects.filter(query).values_list("translation_key", flat=True)
            )
            keys &= enabled
            if len(keys) != 1:
                raise CommandError(
                    _("“%(pair)s”: “%(target)s” is not a category of this consultation.")
                    % {"pair": pair, "target": target}
                )
            mapping[name] = keys.pop()
        return mapping

    def _summary(self, file_name, source, mapping, plan, consultation):
        names = {target.key: target.code for target in open311_targets(consultation)}
        self.stdout.write(
            _("%(file)s: %(rows)d requests (%(dialect)s), source system “%(system)s”.")
            % {
                "file": file_name,
                "rows": len(source.rows),
                "dialect": source.dialect_label,
                "system": plan.source_system,
            }
        )
        for category in source.categories:
            target = mapping.get(category.key)
            self.stdout.write(
                f"  {category.key} ({category.count}) → "
                + (names.get(target, "?") if target else _("do not import"))
            )
        self.stdout.write(
            _(
                "Will be imported: %(accepted)d (%(address)d by address only). "
                "Already imported: %(already)d. Skipped: %(skipped)d."
            )
            % {
                "accepted": len(plan.accepted),
                "address": plan.address_only,
                "already": len(plan.already),
                "skipped": plan.skipped_count,
            }
        )
        for reason in plan.reasons(examples=3):
            lines = ", ".join(str(row.line) for row in reason["examples"])
            self.stdout.write(
                "  "
                + _("%(reason)s: %(count)d (rows %(lines)s …)")
                % {"reason": reason["label"], "count": reason["count"], "lines": lines}
            )
        if source.contact_columns:
            self.stdout.write(
                _("Contact details, never imported: %(columns)s")
                % {"columns": ", ".join(source.contact_columns)}
            )
