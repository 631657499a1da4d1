"""Import area boundaries from a GeoJSON file (see docs/areas.md).

    manage.py import_areas maps/data/bogota/localidades.geojson \
        --name-field LocNombre --code-field LocCodigo --level district --code-prefix BOG-LOC-

The command only reads the file and prints the report; `maps.services.area_import` does the work.
Exit status is non-zero only when the file itself cannot be used; bad features are reported and
skipped while the good ones are imported.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from maps.models import Area
from maps.services import AreaImportError, area_import, geojson_features_read


class Command(BaseCommand):
    def add_arguments(self, parser):
        # Translated here, at run time, rather than as a class attribute: argparse needs real str.
        parser.description = _(
            "Create or update areas (boundaries, names, codes, population) from a GeoJSON file."
        )
        parser.add_argument("file", help=_("A GeoJSON file (FeatureCollection)."))
        parser.add_argument(
            "--name-field", required=True, help=_("Feature property holding the area's name.")
        )
        parser.add_argument(
            "--code-field",
            required=True,
            help=_("Feature property holding the publisher's unique code; re-imports match on it."),
        )
        parser.add_argument(
            "--level",
            choices=Area.Level.values,
            default=Area.Level.NEIGHBOURHOOD,
            help=_("Level of every area in the file (default: neighbourhood)."),
        )
        parents = parser.add_mutually_exclusive_group()
        parents.add_argument(
            "--parent", metavar="PARENT_CODE", help=_("Code of the area they are in.")
        )
        parents.add_argument(
            "--parent-auto",
            action="store_true",
            help=_("Put each area under the smallest existing larger area that contains it."),
        )
        parser.add_argument("--population-field", help=_("Feature property with total population."))
        parser.add_argument(
            "--population-year", type=int, help=_("Year of the population figures.")
        )
        parser.add_argument("--source", default="", help=_("Who published the boundaries."))
        parser.add_argument("--licence", default="", help=_("Licence of the boundaries."))
        parser.add_argument(
            "--code-prefix",
            default="",
            help=_("Prepended to every code, to keep codes of different publishers apart."),
        )

    def handle(self, *args, **options):
        path = options["file"]
        try:
            with open(path, encoding="utf-8-sig") as handle:
                document = json.load(handle)
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc.strerror}
            ) from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(
                _("%(file)s is not a GeoJSON file (it is not valid JSON: %(error)s).")
                % {"file": path, "error": exc}
            ) from exc

        parent = None
        if options["parent"]:
            parent = Area.objects.filter(code=options["parent"]).first()
            if parent is None:
                raise CommandError(
                    _("There is no area with code %(code)s to use as parent; import it first.")
                    % {"code": options["parent"]}
                )
        try:
            features, srid = geojson_features_read(document=document)
            report = area_import(
                features=features,
                name_field=options["name_field"],
                code_field=options["code_field"],
                level=options["level"],
                parent=parent,
                parent_auto=options["parent_auto"],
                population_field=options["population_field"],
                population_year=options["population_year"],
                source=options["source"],
                licence=options["licence"],
                code_prefix=options["code_prefix"],
                srid=srid,
            )
        except AreaImportError as exc:
            raise CommandError(f"{path}: {exc}") from exc

        for note in report.warnings:
            self.stdout.write(self.style.WARNING(str(note)))
        for note in report.skipped:
            self.stderr.write(self.style.ERROR(str(note)))
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "%(file)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
                    "%(skipped)s skipped."
                )
                % {
                    "file": path,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "skipped": len(report.skipped),
                }
            )
        )
