"""Bulk open-data exports: public concerns, area totals and walk stops as CSV, GeoJSON or XLSX.

Anyone may ask for a file (the open-data page, or `POST /api/exports/`). A request becomes an
`OpenDataExport` row; a background job (`diagnosis.tasks.open_data_export`, in-process when no
broker is configured) writes the file and records its progress on the row.

- **Only public data.** Rows come from `diagnosis.public_data` and nothing else, so the files obey
  the same rules as every other open-data output (docs/privacy.md, docs/open-data.md).
- **One file per version of the data.** A request is keyed on dataset, format, consultation,
  language and a *data version* (`data_version`): a fingerprint of what the file would hold.
  While a matching export is waiting, running or done, the same request returns it; a crowd
  asking for the same file costs one export. A moderation decision, a new concern, a published
  page or a renamed category changes the version, and the next request makes a new file.
- **Flat memory.** Concerns are streamed from a server-side cursor (`PublicConcerns.iterate`) and
  written straight to a temporary file; the XLSX writer here streams the sheet XML into the zip
  (openpyxl's write-only mode is several times slower at a million rows). The finished file is then
  copied to storage, so a failure never leaves a half-written file to download.
- **Expiry.** A file is kept for `CONVIVE_OPEN_DATA_EXPORT_HOURS` (48 by default) after it is
  finished, then deleted and its row marked expired (`open_data_exports_cleanup`, run by the beat
  schedule and with every request).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from maps.suppression import suppression_k
from maps.walk_report import FORMULA_START

from .. import public_data
from ..models import Concern, OpenDataExport
from ..pages import ConsultationPage
from ..selectors import category_catalogue
from .jobs import STALE_AFTER, job_claim, job_enqueue, job_error_detail

logger = logging.getLogger("convive.exports")

Dataset = OpenDataExport.Dataset
Format = OpenDataExport.Format
Status = OpenDataExport.Status

# Progress and heartbeat are written every this many rows (one UPDATE each).
PROGRESS_EVERY = 20_000
# A running export writes a heartbeat every few seconds at most; one silent this long lost its
# worker.
# Rows of failed and expired exports are kept this long (so a polling client learns what
# happened), then deleted.
FORGET_AFTER = timedelta(days=30)

CONTENT_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.GEOJSON: "application/geo+json",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {Format.CSV: "csv", Format.GEOJSON: "geojson", Format.XLSX: "xlsx"}


def expire_after() -> timedelta:
    return timedelta(hours=float(getattr(settings, "CONVIVE_OPEN_DATA_EXPORT_HOURS", 48)))


# --- Columns ------------------------------------------------------------------------------------

# Column key → what it means. Keys are stable English (machine-friendly); meanings are translated
# in the XLSX "About" sheet and described in docs/open-data.md.
COLUMN_MEANINGS = {
    "id": gettext_lazy("Public identifier (random; not the resident's reference code)"),
    "consultation": gettext_lazy("Consultation (translation key, the same in every language)"),
    "category": gettext_lazy("Category code"),
    "category_name": gettext_lazy("Category name in the language of the file"),
    "kind": gettext_lazy(
        "risk (something that makes people feel unsafe) or asset (a protective place or service)"
    ),
    "area_id": gettext_lazy("Area identifier (as in the OGC API – Features areas collection)"),
    "area": gettext_lazy("Area name"),
    "date": gettext_lazy("Day the concern was sent (no time of day is published)"),
    "status": gettext_lazy("Status of the concern"),
    "lon": gettext_lazy(
        "Longitude of the public point (WGS 84, fuzzed inside a grid cell; empty "
        "when placed by area only)"
    ),
    "lat": gettext_lazy(
        "Latitude of the public point (WGS 84, fuzzed; empty when placed by area only)"
    ),
    "sensitive": gettext_lazy("Sensitive category (published only as totals of at least k)"),
    "count": gettext_lazy("Number of approved concerns"),
    "walk": gettext_lazy("Safety walk (identifier)"),
    "walk_title": gettext_lazy("Title of the safety walk"),
    "walk_date": gettext_lazy("Date of the safety walk"),
    "time_of_day": gettext_lazy("Time of day of the walk: day, dusk or night"),
    "order": gettext_lazy("Order of the stop along the route"),
    "feeling": gettext_lazy("How the place felt to the walkers"),
    "lighting": gettext_lazy("Score: lighting"),
    "openness": gettext_lazy("Score: openness"),
    "visibility": gettext_lazy("Score: visibility"),
    "people": gettext_lazy("Score: people around"),
    "security": gettext_lazy("Score: formal security"),
    "walk_path": gettext_lazy("Score: walk path"),
    "transport": gettext_lazy("Score: public transport"),
    "gender_diversity": gettext_lazy("Score: gender diversity of people around"),
    "hazards": gettext_lazy('Hazards seen (separated by "; ")'),
    "notes": gettext_lazy("Notes of the walkers (moderated)"),
}

AREA_TOTAL_FIELDS = (
    "consultation",
    "area_id",
    "area",
    "category",
    "category_name",
    "kind",
    "sensitive",
    "count",
)

COLUMNS = {
    Dataset.CONCERNS: public_data.CONCERN_FIELDS,
    Dataset.AREA_TOTALS: AREA_TOTAL_FIELDS,
    Dataset.WALK_STOPS: public_data.STOP_FIELDS,
}


# --- Reading the data (through diagnosis.public_data only) -------------------------------------


def consultation_find(value: str) -> ConsultationPage | None:
    """A live consultation by translation key or slug (any language), or None."""
    value = (value or "").strip()
    if not value:
        return None
    pages = ConsultationPage.objects.live()
    try:
        key = uuid.UUID(value)
    except ValueError:
        return pages.filter(slug=value).order_by("pk").first()
    return pages.filter(translation_key=key).order_by("pk").first()


def consultation_for_key(key: uuid.UUID | None, language: str) -> ConsultationPage | None:
    if key is None:
        return None
    pages = ConsultationPage.objects.live().filter(translation_key=key)
    return pages.filter(locale__language_code=language).first() or pages.order_by("pk").first()


def _walk_uuids(consultation_key: uuid.UUID) -> set[str]:
    walks = set()
    for page in ConsultationPage.objects.filter(translation_key=consultation_key):
        walks |= {str(value) for value in page.walks.values_list("uuid", flat=True)}
    return walks


class DatasetReader:
    """The rows of one dataset, filtered to one consultation or not, as dicts."""

    def __init__(self, dataset: str, consultation_key: uuid.UUID | None):
        self.dataset = dataset
        self.consultation_key = consultation_key
        self.columns = COLUMNS[dataset]
        self._small: list[dict] | None = None

    def _keys(self):
        return None if self.consultation_key is None else frozenset({self.consultation_key})

    def _small_rows(self) -> list[dict]:
        if self._small is None:
            if self.dataset == Dataset.AREA_TOTALS:
                keys = self._keys()
                self._small = public_data.public_area_totals(
                    consultation_keys=keys, sensitive=False
                ) + public_data.public_area_totals(consultation_keys=keys, sensitive=True)
            else:
                rows = public_data.public_walk_stops()
                if self.consultation_key is not None:
                    walks = _walk_uuids(self.consultation_key)
                    rows = [row for row in rows if row["walk"] in walks]
                self._small = rows
        return self._small

    def _concerns(self) -> public_data.PublicConcerns:
        return public_data.public_concerns(
            public_data.ConcernFilter(consultation_keys=self._keys())
        )

    def count(self) -> int:
        if self.dataset == Dataset.CONCERNS:
            return self._concerns().count()
        return len(self._small_rows())

    def rows(self) -> Iterator[dict]:
        if self.dataset == Dataset.CONCERNS:
            return self._concerns().iterate(chunk_size=5000)
        return iter(self._small_rows())

    def version(self) -> str:
        """A fingerprint of what the file would hold now (in the active language).

        Small datasets are hashed whole. For concerns, one aggregate over the table (number of
        rows, approved rows, newest id and newest moderation time) plus the live consultations and
        the category catalogue (names, sensitivity) stand for the rows: any change that could
        change a row changes one of them.
        """
        digest = hashlib.sha256(f"{self.dataset}:{suppression_k()}".encode())
        if self.dataset == Dataset.CONCERNS:
            rows = Concern.objects.all()
            if self.consultation_key is not None:
                rows = rows.filter(consultation_key=self.consultation_key)
            summary = rows.order_by().aggregate(
                n=Count("pk"),
                approved=Count("pk", filter=Q(status="approved")),
                last=Max("pk"),
                moderated=Max("moderated_at"),
            )
            pages = sorted(
                (str(key), str(published))
                for key, published in ConsultationPage.objects.live().values_list(
                    "translation_key", "last_published_at"
                )
            )
            catalogue = sorted(
                (str(key), entry["code"], entry["name"], entry["kind"], entry["sensitive"])
                for key, entry in category_catalogue().items()
            )
            payload = [sorted((k, str(v)) for k, v in summary.items()), pages, catalogue]
        else:
            payload = self._small_rows()
        digest.update(json.dumps(payload, default=str, sort_keys=True).encode())
        return digest.hexdigest()


# --- Writers ------------------------------------------------------------------------------------


def _csv_value(value):
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        # Text a spreadsheet would run as a formula is defused with a leading apostrophe.
        return "'" + value if value.startswith(FORMULA_START) else value
    if kind is bool:
        return "true" if value else "false"
    if kind is list:
        return _csv_value("; ".join(str(item) for item in value))
    if kind is date or kind is datetime:
        return value.isoformat()
    return value


class CsvWriter:
    """UTF-8 with a byte order mark, comma-separated, CRLF line ends (RFC 4180).

    The BOM makes Excel (whatever the system's locale) read accents right; LibreOffice and
    Python's `utf-8-sig` skip it. Numbers use a dot as the decimal separator.
    """

    def __init__(self, path: Path, columns: tuple[str, ...], about: list[list]):
        self.columns = columns
        self.handle = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(columns)

    def rows(self, rows: Iterable[dict]) -> None:
        columns = self.columns
        value = _csv_value
        self.writer.writerows([value(row[key]) for key in columns] for row in rows)

    def close(self) -> None:
        self.handle.close()


def _json_default(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


class GeoJsonWriter:
    """An RFC 7946 FeatureCollection: WGS 84 longitude/latitude with 5 decimals (about 1 m, and
    the points are fuzzed far more than that), a null geometry for rows without a public point.
    Each feature's `id` is the row's public identifier where it has one."""

    def __init__(self, path: Path, columns: tuple[str, ...], about: list[list]):
        self.has_point = "lon" in columns
        self.handle = path.open("w", encoding="utf-8")
        self.handle.write('{"type":"FeatureCollection","features":[\n')
        self.first = True

    def rows(self, rows: Iterable[dict]) -> None:
        dumps = json.JSONEncoder(
            ensure_ascii=False, separators=(",", ":"), default=_json_default
        ).encode
        has_point = self.has_point
        parts = []
        for row in rows:
            properties = dict(row)
            if has_point:
                lon, lat = properties.pop("lon"), properties.pop("lat")
                geometry = (
                    "null" if lon is None else f'{{"type":"Point","coordinates":[{lon!r},{lat!r}]}}'
                )
            else:
                geometry = "null"
            identifier = f'"id":{dumps(row["id"])},' if row.get("id") is not None else ""
            parts.append(
                f'{{"type":"Feature",{identifier}"geometry":{geometry},'
                f'"properties":{dumps(properties)}}}'
            )
        if parts:
            self.handle.write(("" if self.first else ",\n") + ",\n".join(parts))
            self.first = False

    def close(self) -> None:
        self.handle.write("\n]}\n")
        self.handle.close()


_ILLEGAL_XML = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])
_EXCEL_EPOCH = date(1899, 12, 30)
_SHEET_NAME_DROP = str.maketrans("", "", "[]:*?/\\")


def _sheet_name(text: str) -> str:
    return text.translate(_SHEET_NAME_DROP)[:31] or "Sheet"


class XlsxWriter:
    """A minimal Office Open XML workbook written as a stream: no workbook in memory.

    Sheet 1 holds the data (a bold, frozen header row; numbers as numeric cells, dates as date
    cells, booleans as booleans, text as inline strings — never formulas); sheet 2, "About",
    says what the file is, its source, licence, date, the data rules and each column's meaning.
    Checked by reading the result with openpyxl in the tests.
    """

    STYLES = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )

    def __init__(self, path: Path, columns: tuple[str, ...], about: list[list]):
        self.columns = columns
        self._texts: dict[str, str] = {}
        self.about = about
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.sheet = self.zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self.row_number = 0
        self.sheet.write(
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            b'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
        )
        self.sheet.write(self._row(list(columns), bold=True).encode())

    def _text(self, value: str, bold: bool = False) -> str:
        cell = self._texts.get(value) if not bold else None
        if cell is None:
            text = escape(value.translate(_ILLEGAL_XML))
            space = ' xml:space="preserve"' if text != text.strip() else ""
            style = ' s="2"' if bold else ""
            cell = f'<c{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'
            # Category and area names repeat on every row: remember a bounded number of cells.
            if not bold and len(self._texts) < 10_000:
                self._texts[value] = cell
        return cell

    def _cell(self, value, bold: bool = False) -> str:
        # Cells carry no `r` reference: it is optional in SpreadsheetML (a cell follows the one
        # before it), and leaving it out makes a million-row sheet markedly faster to write.
        if value is None or value == "":
            return "<c/>"
        kind = type(value)
        if kind is str:
            return self._text(value, bold)
        if kind is bool:
            return f'<c t="b"><v>{int(value)}</v></c>'
        if kind is int or kind is float:
            return f"<c><v>{value!r}</v></c>"
        if kind is date:
            return f'<c s="1"><v>{(value - _EXCEL_EPOCH).days}</v></c>'
        if kind is list:
            return self._cell("; ".join(str(item) for item in value))
        return self._text(str(value), bold)

    def _row(self, values: list, bold: bool = False) -> str:
        self.row_number += 1
        cell = self._cell
        return (
            f'<row r="{self.row_number}">{"".join([cell(value, bold) for value in values])}</row>'
        )

    def rows(self, rows: Iterable[dict]) -> None:
        columns = self.columns
        self.sheet.write(
            "".join([self._row([row[key] for key in columns]) for row in rows]).encode()
        )

    def close(self) -> None:
        self.sheet.write(b"</sheetData></worksheet>")
        self.sheet.close()
        self.row_number = 0
        about = "".join(self._row(row, bold=(i == 0)) for i, row in enumerate(self.about))
        self.zip.writestr(
            "xl/worksheets/sheet2.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<cols><col min="1" max="1" width="28" customWidth="1"/>'
            '<col min="2" max="2" width="100" customWidth="1"/></cols>'
            f"<sheetData>{about}</sheetData></worksheet>",
        )
        names = [
            escape(_sheet_name(_("Data")), {'"': "&quot;"}),
            escape(_sheet_name(pgettext("spreadsheet sheet", "About")), {'"': "&quot;"}),
        ]
        self.zip.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>",
        )
        self.zip.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        self.zip.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{names[0]}" sheetId="1" r:id="rId1"/>'
            f'<sheet name="{names[1]}" sheetId="2" r:id="rId2"/></sheets></workbook>',
        )
        self.zip.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet2.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/styles" Target="styles.xml"/></Relationships>',
        )
        self.zip.writestr("xl/styles.xml", self.STYLES)
        self.zip.close()


WRITERS = {Format.CSV: CsvWriter, Format.GEOJSON: GeoJsonWriter, Format.XLSX: XlsxWriter}


def data_rules_text() -> str:
    return _(
        "Only approved concerns of published consultations are included. Each concern is shown "
        "at a public point moved at random inside a grid cell of about %(metres)s m, never where "
        "it was marked, and with the day it was sent, not the time. Descriptions, photos, "
        "reference codes, gender, age and contact details are never published. Sensitive "
        "categories (such as domestic or sexual violence) appear only as totals per area of at "
        "least %(k)s concerns."
    ) % {
        "metres": f"{float(getattr(settings, 'CONVIVE_PUBLIC_GRID_METRES', 150)):g}",
        "k": suppression_k(),
    }


def about_rows(export: OpenDataExport, *, rows: int) -> list[list]:
    """The "About" sheet: what the file is, where it comes from, its licence and its columns."""
    name, url = public_data.licence()
    page = consultation_for_key(export.consultation_key, export.language)
    base = getattr(settings, "WAGTAILADMIN_BASE_URL", "") or ""
    table = [
        [_("Field"), _("Value")],
        [_("Dataset"), str(Dataset(export.dataset).label)],
        [_("Consultation"), page.title if page else _("All consultations")],
        [_("Source"), f"Convive {base}".strip()],
        [_("Licence"), f"{name} {url}"],
        [_("Generated"), timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")],
        [_("Rows"), rows],
        [_("Data rules"), data_rules_text()],
        [None, None],
        [_("Column"), _("Meaning")],
    ]
    table += [[key, str(COLUMN_MEANINGS.get(key, ""))] for key in COLUMNS[export.dataset]]
    return table


# --- Requesting ---------------------------------------------------------------------------------


class RateLimited(Exception):
    """A new export was needed and this client has asked for too many."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def data_version(*, dataset: str, consultation_key: uuid.UUID | None, language: str) -> str:
    with translation.override(language):
        return DatasetReader(dataset, consultation_key).version()


def open_data_export_request(
    *,
    dataset: str,
    format: str,
    consultation_key: uuid.UUID | None,
    language: str,
    may_create: Callable[[], int | None] | None = None,
) -> tuple[OpenDataExport, bool]:
    """The export for this request: a matching one (same data version) if there is one, else a
    new one, queued once the transaction commits. Returns (export, created).

    `may_create` is asked only when a new export is needed; it returns None to allow it, or the
    seconds to wait (then `RateLimited` is raised and nothing is stored).
    """
    open_data_exports_cleanup()
    version = data_version(dataset=dataset, consultation_key=consultation_key, language=language)
    match = {
        "dataset": dataset,
        "format": format,
        "consultation_key": consultation_key,
        "language": language,
        "data_version": version,
    }
    for export in OpenDataExport.objects.filter(
        **match, status__in=[Status.QUEUED, Status.RUNNING, Status.DONE]
    ).order_by("-created_at")[:3]:
        if export.status != Status.DONE or (
            export.file and export.file.storage.exists(export.file.name)
        ):
            return export, False
        # The file went missing from storage: do not offer it again.
        OpenDataExport.objects.filter(pk=export.pk).update(status=Status.EXPIRED, file="")
    if may_create is not None:
        retry_after = may_create()
        if retry_after is not None:
            raise RateLimited(retry_after)
    export = OpenDataExport.objects.create(**match)
    transaction.on_commit(lambda: open_data_export_enqueue(export_id=export.pk))
    return export, True


def open_data_export_enqueue(*, export_id: str) -> bool:
    """Hand the export to the workers (or run it here when no broker is configured)."""
    from ..tasks import open_data_export_task

    return job_enqueue(
        open_data_export_task,
        OpenDataExport,
        export_id,
        waiting=Status.QUEUED,
        failed=Status.FAILED,
        error=OpenDataExport.Error.NOT_QUEUED,
    )


# --- Running ------------------------------------------------------------------------------------


def _claim(export_id: str) -> OpenDataExport | None:
    claimed = job_claim(
        OpenDataExport,
        export_id,
        waiting=Status.QUEUED,
        running=Status.RUNNING,
        rows_done=0,
        error="",
    )
    return OpenDataExport.objects.get(pk=export_id) if claimed else None


def open_data_export_run(*, export_id: str) -> bool:
    """Write the export's file. Returns True if this call did it.

    Claims the row with one conditional UPDATE, so a task delivered twice does the work once.
    Never raises: a failure is recorded on the export (with no file) and logged.
    """
    export = _claim(export_id)
    if export is None:
        return False
    try:
        with translation.override(export.language):
            _write(export)
    except Exception as error:
        logger.exception("Open-data export %s failed", export_id)
        if export.file:
            export.file.delete(save=False)
        OpenDataExport.objects.filter(pk=export_id).update(
            status=Status.FAILED,
            error=OpenDataExport.Error.FAILED,
            error_detail=job_error_detail(error),
            file="",
            finished_at=timezone.now(),
        )
        return False
    return True


def _chunks(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(export: OpenDataExport) -> None:
    reader = DatasetReader(export.dataset, export.consultation_key)
    total = reader.count()
    OpenDataExport.objects.filter(pk=export.pk).update(rows_total=total)
    extension = EXTENSIONS[export.format]
    done = 0
    with tempfile.TemporaryDirectory(prefix="convive-open-data-") as folder:
        path = Path(folder) / f"export.{extension}"
        writer = WRITERS[export.format](
            path, reader.columns, about_rows(export, rows=total) if export.format == "xlsx" else []
        )
        try:
            for chunk in _chunks(reader.rows(), 2000):
                writer.rows(chunk)
                done += len(chunk)
                if done % PROGRESS_EVERY < len(chunk):
                    # Its own UPDATE, committed at once, so a polling client sees it.
                    OpenDataExport.objects.filter(pk=export.pk).update(
                        rows_done=done, heartbeat_at=timezone.now()
                    )
        finally:
            writer.close()
        size = path.stat().st_size
        with path.open("rb") as handle:
            export.file.save(f"{export.pk}.{extension}", File(handle), save=False)
    finished = OpenDataExport.objects.filter(pk=export.pk, status=Status.RUNNING).update(
        status=Status.DONE,
        file=export.file.name,
        size=size,
        rows_done=done,
        # Rows may have been approved or hidden while the file was written: the file is the truth.
        rows_total=done,
        heartbeat_at=timezone.now(),
        finished_at=timezone.now(),
    )
    if not finished:
        export.file.delete(save=False)


# --- Reading a job ------------------------------------------------------------------------------


def open_data_export_expires_at(export: OpenDataExport) -> datetime | None:
    if export.status != Status.DONE or export.finished_at is None:
        return None
    return export.finished_at + expire_after()


def open_data_export_download_name(export: OpenDataExport) -> str:
    """The name the browser saves: dataset, consultation, language, day."""
    page = consultation_for_key(export.consultation_key, export.language)
    parts = ["convive", export.dataset]
    if page is not None:
        parts.append(slugify(page.slug) or "consultation")
    when = timezone.localtime(export.finished_at or export.created_at)
    parts += [export.language, f"{when:%Y%m%d}"]
    return "-".join(parts) + "." + EXTENSIONS[export.format]


# --- Cleaning up --------------------------------------------------------------------------------


def open_data_exports_cleanup(*, now: datetime | None = None) -> int:
    """Expire finished files older than `CONVIVE_OPEN_DATA_EXPORT_HOURS` (file deleted, row kept
    as "expired"), fail exports whose worker went silent, forget old failed/expired rows.
    Returns how many files were deleted."""
    now = now or timezone.now()
    OpenDataExport.objects.filter(status=Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER).update(
        status=Status.FAILED, error=OpenDataExport.Error.INTERRUPTED, finished_at=now
    )
    deleted = 0
    for export in OpenDataExport.objects.filter(
        status=Status.DONE, finished_at__lt=now - expire_after()
    ):
        if export.file:
            export.file.delete(save=False)
            deleted += 1
        OpenDataExport.objects.filter(pk=export.pk).update(status=Status.EXPIRED, file="")
    OpenDataExport.objects.filter(
        status__in=[Status.FAILED, Status.EXPIRED], created_at__lt=now - FORGET_AFTER
    ).delete()
    return deleted
