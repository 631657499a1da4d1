"""Commitments in spreadsheets: export a programme's commitments to CSV and import them back.

Agencies keep their commitments in spreadsheets; the import lets them update the programme from
the sheet they already keep, and the export gives them (and the public) the same columns back.
One column list (`COLUMNS`) serves both directions, so an exported file can be edited and
imported again.

The import is **idempotent by external ID**: a row updates the commitment of the programme with
the same `external_id`, or adds one when there is none, and a row that changes nothing makes no
new revision, so importing the same file twice changes nothing the second time. It checks every
row before storing anything and refuses the whole file when one row is wrong, with a message per
row and column (rows numbered as the spreadsheet numbers them: the header is row 1). Facts are
written to the original page of each commitment (`cms.commitments.commitment_original`) and new
commitments are written in the programme's original language; translations pick the facts up
from there.

What spreadsheets do to files is accepted on the way in: UTF-8 with or without a byte order
mark, or Windows-1252 (what Excel's plain "CSV" writes on Windows); commas, semicolons (Excel in
Spanish, French and Portuguese) or tabs between columns; decimal commas; day-first dates;
area codes that lost their leading zeros. The details are in docs/commitment-spreadsheets.md.
"""

import csv
import datetime
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.coreutils import find_available_slug
from wagtail.log_actions import LogContext
from wagtail.models import Page

from diagnosis.models import PreventionType
from maps.models import Area
from maps.walk_report import FORMULA_START

from .commitment_forms import programme_areas, programme_problems
from .commitments import (
    commitments_progress,
    localized,
    programme_commitments,
    progress_display,
)
from .models import CommitmentPage, CommitmentStatus, ProgrammePage

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
LIST_SEPARATOR = ";"
# On import, list cells may also be split on commas and line breaks: codes and IDs never hold them.
LIST_SPLIT = re.compile(r"[;,\n]")


@dataclass(frozen=True)
class Column:
    """One column of the spreadsheet. `imported` columns are read back by the import; the others
    are there for people reading the file and are ignored on import. `public` columns are in
    the download on the programme's public page."""

    name: str
    help: str
    imported: bool = True
    public: bool = True


COLUMNS = (
    Column(
        "external_id",
        _(
            "The commitment's ID in your spreadsheet (required). The import updates the "
            "commitment with this ID, or adds one if the programme has none."
        ),
    ),
    Column(
        "parent_external_id",
        _("The ID of the larger commitment this one is part of; empty if none."),
    ),
    Column("title", _("What will be done, in the programme's language.")),
    Column("description", _("More detail, in the programme's language.")),
    Column("status", _("The status key, e.g. planned, in-progress, completed.")),
    Column("status_name", _("The status as the public reads it (ignored on import)."), False),
    Column("progress", _("Progress in whole percent, 0 to 100; empty = the status's default.")),
    Column(
        "weight",
        _("How much it counts in the progress of the larger commitment; empty = 1."),
    ),
    Column("agency", _("The responsible agency (required).")),
    Column("contact_name", _("The person answering for it.")),
    Column(
        "contact_email",
        _("Residents' complaints are sent here. Not in the public download."),
        public=False,
    ),
    Column("contact_phone", _("Not in the public download."), public=False),
    Column("prevention_type", _("situational, social, community or psychosocial; or empty.")),
    Column("budget_planned", _("A plain number, e.g. 1234.50, without currency symbol.")),
    Column("budget_spent", _("A plain number, e.g. 1234.50, without currency symbol.")),
    Column("funding_source", _("Where the money comes from.")),
    Column("start_date", _("A date, 2026-03-31 (or 31/03/2026).")),
    Column("end_date", _("A date, 2026-03-31 (or 31/03/2026).")),
    Column(
        "problems",
        _(
            "The IDs of the diagnosed problems it answers, separated by “;”. The export "
            "lists them; the page “Import commitments” lists those of this programme."
        ),
    ),
    Column("problem_titles", _("The problems' titles (ignored on import)."), False),
    Column("areas", _("The codes of the areas it covers, separated by “;”.")),
    Column("area_names", _("The areas' names (ignored on import)."), False),
    Column(
        "published", _("yes or no: whether the public sees it (ignored on import)."), False, False
    ),
    Column("url", _("Its public page (ignored on import)."), False),
    Column(
        "progress_shown",
        _(
            "The progress the public sees, with the weighted average of its parts for a "
            "commitment that has parts (ignored on import)."
        ),
        False,
    ),
)
COLUMN_NAMES = tuple(column.name for column in COLUMNS)
IMPORTED = tuple(column.name for column in COLUMNS if column.imported)

# Columns that are model fields of the same name, read as text.
TEXT_FIELDS = (
    "title",
    "description",
    "agency",
    "contact_name",
    "contact_email",
    "contact_phone",
    "funding_source",
)
DECIMAL_FIELDS = ("weight", "budget_planned", "budget_spent")
DATE_FIELDS = ("start_date", "end_date")
REQUIRED_TO_CREATE = ("title", "status", "agency")


# --- Which commitments ---------------------------------------------------------------------


def programme_original(programme: ProgrammePage) -> ProgrammePage:
    """The programme in the language it was first written in, where new commitments go."""
    return (
        ProgrammePage.objects.filter(translation_key=programme.translation_key)
        .order_by("pk")
        .first()
        or programme
    )


def _latest(page: CommitmentPage) -> CommitmentPage:
    """The commitment as the editor shows it: its latest revision, draft or not."""
    latest = page.get_latest_revision_as_object() if page.latest_revision_id else page
    latest.live = page.live
    return latest


# --- Export ----------------------------------------------------------------------------------


def _number(value, *, decimal_comma: bool = False) -> str:
    if value is None:
        return ""
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return text.replace(".", ",") if decimal_comma else text


def _text_cell(value) -> str:
    """Text a spreadsheet would run as a formula is defused with a leading apostrophe (the
    import takes it off again)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def commitments_export(
    *, programme: ProgrammePage, public: bool = False, request=None, decimal_comma: bool = False
) -> Iterator[list[str]]:
    """The header and one row per commitment, as text cells.

    The admin export (`public=False`) has every commitment of the programme, published or not,
    as the editor shows it (latest revision), with titles in the language it was written in:
    the file to edit and import back. The public export has the live commitments only, in the
    language of `programme` where they are translated, without the contact's e-mail and phone.
    Numbers are plain ("1234.50"; "1234,50" with `decimal_comma` for spreadsheets in languages
    that write decimal commas), dates ISO 8601.
    """
    columns = [c for c in COLUMNS if c.public or not public]
    yield [c.name for c in columns]
    if public:
        commitments = programme_commitments(programme)
        # One query per relation for the whole file, not per row.
        prefetch_related_objects(
            commitments,
            "problems",
            Prefetch("areas", queryset=Area.objects.defer("geometry")),
        )
        shown = localized(commitments, programme.locale)
    else:
        commitments = [_latest(page) for page in programme_commitments(programme, live_only=False)]
        shown = {c.translation_key: c for c in commitments}
    progress = commitments_progress(commitments)
    by_pk = {c.pk: c for c in commitments}
    statuses = {}
    if public:
        statuses = localized(
            CommitmentStatus.objects.filter(
                pk__in={c.status_id for c in commitments if c.status_id}
            ),
            programme.locale,
        )
    problems_shown = {}
    if public:
        problems_shown = localized(
            {p for c in commitments for p in c.problems.all()}, programme.locale
        )
    for commitment in commitments:
        text = shown[commitment.translation_key]
        problems = list(commitment.problems.all())
        if public:
            problems = [problems_shown[p.translation_key] for p in problems]
        status = commitment.status
        if status is not None and public:
            status = statuses.get(status.translation_key, status)
        areas = sorted(commitment.areas.all(), key=lambda area: area.code)
        values = {
            "external_id": commitment.external_id,
            "parent_external_id": _parent_external_id(commitment, by_pk),
            "title": text.title,
            "description": text.description,
            "status": status.key if status else "",
            "status_name": status.name if status else "",
            "progress": _number(commitment.progress),
            "weight": _number(commitment.weight, decimal_comma=decimal_comma),
            "agency": commitment.agency,
            "contact_name": commitment.contact_name,
            "contact_email": commitment.contact_email,
            "contact_phone": commitment.contact_phone,
            "prevention_type": commitment.prevention_type,
            "budget_planned": _number(commitment.budget_planned, decimal_comma=decimal_comma),
            "budget_spent": _number(commitment.budget_spent, decimal_comma=decimal_comma),
            "funding_source": commitment.funding_source,
            "start_date": commitment.start_date.isoformat() if commitment.start_date else "",
            "end_date": commitment.end_date.isoformat() if commitment.end_date else "",
            "problems": LIST_SEPARATOR.join(str(p.translation_key) for p in problems),
            "problem_titles": f"{LIST_SEPARATOR} ".join(p.title for p in problems),
            "areas": LIST_SEPARATOR.join(area.code for area in areas),
            "area_names": f"{LIST_SEPARATOR} ".join(area.name for area in areas),
            "published": gettext("yes") if commitment.live else gettext("no"),
            "url": text.get_full_url(request) if text.live else "",
            "progress_shown": str(progress_display(progress[commitment.pk])),
        }
        yield [_text_cell(values[c.name]) for c in columns]


def _parent_external_id(commitment: CommitmentPage, by_pk: dict) -> str:
    if not commitment.parent_commitment_id:
        return ""
    parent = by_pk.get(commitment.parent_commitment_id)
    if parent is None:  # a translation, or a page outside what was listed
        found = CommitmentPage.objects.filter(pk=commitment.parent_commitment_id).first()
        if found is None:
            return ""
        parent = (
            CommitmentPage.objects.filter(translation_key=found.translation_key)
            .order_by("pk")
            .first()
        )
    return parent.external_id


def commitments_csv(rows, *, delimiter: str = ",") -> bytes:
    """Rows as a CSV file in UTF-8 with a byte order mark, so Excel shows accents right."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def commitments_csv_response(*, request, programme: ProgrammePage) -> HttpResponse:
    """The public download (`commitments/csv/` under the programme's page): live commitments
    only, in the page's language where translated.

    The responsible agency and contact person are in it, as on the public page; the contact's
    e-mail and telephone are not: residents reach the contact through the complaint form,
    which also counts complaints publicly, and a named person's direct line does not belong in
    an open-data file.
    """
    rows = commitments_export(programme=programme, public=True, request=request)
    return csv_download(commitments_csv(rows), f"{programme.slug}-commitments.csv")


# --- Import: reading the file --------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """What is wrong, where: `line` is the spreadsheet's row number (the header is row 1), or
    None for the file as a whole."""

    line: int | None
    column: str
    value: str
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class FileRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = str(message)


def _decode(data: bytes) -> str:
    if data[:2] == b"PK":
        raise FileRefused(
            _(
                "This is an Excel workbook, not a CSV file. In Excel, use “Save as” and choose "
                "“CSV UTF-8 (comma delimited)”."
            )
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel's plain "CSV" on Windows in Spanish, French or Portuguese.
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise FileRefused(
            _("The file's characters could not be read. Save it as “CSV UTF-8” and try again.")
        ) from error


def _delimiter(text: str) -> str:
    """The column separator, from the header row: the header holds column names only, so the
    separator is the character it has most of."""
    header = text.split("\n", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise FileRefused(
            _("The file is not a CSV file that can be read: %(error)s") % {"error": error}
        ) from error


def _clean_text(value: str) -> str:
    """A cell's text: line breaks as "\\n", no surrounding spaces, and the apostrophe the export
    puts before text a spreadsheet would run as a formula taken off."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_START:
        value = value[1:]
    return value


# --- Import: reading the cells ---------------------------------------------------------------

NUMBER = re.compile(r"[+-]?[\d.,]+")
SPACES = re.compile(r"[\s\u00a0\u202f]")
GROUPED = {",": re.compile(r"\d{1,3}(,\d{3})+"), ".": re.compile(r"\d{1,3}(\.\d{3})+")}


def parse_decimal(text: str, *, decimal_comma: bool) -> Decimal:
    """A number as spreadsheets write it: "1234.50", "1.234,50", "1,234.50", "1 234,50".

    With both marks, the last is the decimal mark. With one, the file decides: in a file whose
    columns are separated by semicolons (Excel in Spanish, French, Portuguese) a comma is the
    decimal mark, else a point is. The other mark groups thousands ("1.234.567") or, alone and
    once, is the decimal mark after all ("1.5"); anything else is refused rather than guessed,
    since a misread budget is worse than a message.
    """
    value = SPACES.sub("", text)
    if not NUMBER.fullmatch(value) or not any(ch.isdigit() for ch in value):
        raise ValidationError(
            _("Write a number such as 1234.50, without currency symbols or letters.")
        )
    decimal_mark = "," if decimal_comma else "."
    if "," in value and "." in value:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
    group_mark = "." if decimal_mark == "," else ","
    if group_mark in value:
        whole = value.split(decimal_mark)[0].lstrip("+-")
        if GROUPED[group_mark].fullmatch(whole):
            value = value.replace(group_mark, "")
        elif decimal_mark not in value and value.count(group_mark) == 1:
            decimal_mark = group_mark  # "1.5" in a file of decimal commas: a point after all
        else:
            raise ValidationError(
                _("“%(value)s” is not clear: write it without thousands separators, e.g. 1234.50.")
                % {"value": text}
            )
    if value.count(decimal_mark) > 1:
        raise ValidationError(_("Write a number such as 1234.50."))
    try:
        return Decimal(value.replace(decimal_mark, "."))
    except InvalidOperation as error:
        raise ValidationError(_("Write a number such as 1234.50.")) from error


ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def parse_date(text: str) -> datetime.date:
    """ISO 8601 ("2026-03-31"), or day first ("31/03/2026"), as a spreadsheet in Spanish, French
    or Portuguese writes dates when it saves a file. Month-first dates are not read."""
    match = ISO_DATE.fullmatch(text)
    if match:
        year, month, day = match.groups()
    else:
        match = DAY_FIRST.fullmatch(text)
        if not match:
            raise ValidationError(_("Write the date as 2026-03-31 (year-month-day)."))
        day, month, year = match.groups()
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError as error:
        raise ValidationError(_("There is no such date.")) from error


def _field(name):
    return CommitmentPage._meta.get_field(name)


@dataclass
class _Context:
    """What every row is checked against, loaded once per file."""

    programme: ProgrammePage
    decimal_comma: bool
    statuses: dict  # (locale_id, key) → CommitmentStatus
    status_keys: dict  # locale_id → [keys]
    problems: dict  # locale_id → {translation_key: ResultsProblem}
    areas: dict  # code → Area

    def problems_in(self, locale):
        if locale.pk not in self.problems:
            self.problems[locale.pk] = {
                str(problem.translation_key): problem
                for problem in programme_problems(self.programme, locale=locale)
            }
        return self.problems[locale.pk]


def _context(programme: ProgrammePage, *, decimal_comma: bool) -> _Context:
    statuses, keys = {}, {}
    for status in CommitmentStatus.objects.order_by("sort_order", "pk"):
        statuses[(status.locale_id, status.key)] = status
        keys.setdefault(status.locale_id, []).append(status.key)
    return _Context(
        programme=programme,
        decimal_comma=decimal_comma,
        statuses=statuses,
        status_keys=keys,
        problems={},
        areas={area.code: area for area in programme_areas(programme).defer("geometry")},
    )


def _read_status(text, *, context, locale):
    key = text.lower()
    found = context.statuses.get((locale.pk, key))
    if found is None:
        raise ValidationError(
            _("There is no status “%(value)s”. Use one of: %(allowed)s.")
            % {"value": text, "allowed": ", ".join(context.status_keys.get(locale.pk, []))}
        )
    return found


def _read_progress(text, *, context):
    if not text:
        return None
    value = parse_decimal(text.rstrip("%").strip(), decimal_comma=context.decimal_comma)
    if value != value.to_integral_value() or not 0 <= value <= 100:
        raise ValidationError(_("Progress is a whole percent from 0 to 100."))
    return int(value)


def _read_prevention_type(text):
    value = text.lower()
    if value and value not in PreventionType.values:
        raise ValidationError(
            _(
                "There is no prevention type “%(value)s”. Use one of: %(allowed)s, or leave it "
                "empty."
            )
            % {"value": text, "allowed": ", ".join(PreventionType.values)}
        )
    return value


def _read_problems(text, *, context, locale):
    allowed = context.problems_in(locale)
    chosen, unknown = [], []
    for item in filter(None, (part.strip().lower() for part in LIST_SPLIT.split(text))):
        if item in allowed:
            chosen.append(allowed[item])
        else:
            unknown.append(item)
    if unknown:
        listed = "; ".join(f"{key} ({problem.title})" for key, problem in allowed.items())
        raise ValidationError(
            _(
                "%(unknown)s: not a problem of the diagnoses this programme answers. "
                "Its problems are: %(allowed)s."
            )
            % {
                "unknown": ", ".join(unknown),
                "allowed": listed or gettext("none (link the programme to a results page)"),
            }
        )
    return list({p.pk: p for p in chosen}.values())


def _find_area(code: str, areas: dict) -> Area | None:
    if code in areas:
        return areas[code]
    if code.isdigit():
        # A spreadsheet reads "008308" as the number 8308 and saves it without its zeros.
        matches = [a for c, a in areas.items() if c.isdigit() and c.lstrip("0") == code.lstrip("0")]
        if len(matches) == 1:
            return matches[0]
    return None


def _read_areas(text, *, context):
    chosen, unknown = [], []
    for code in filter(None, (part.strip() for part in LIST_SPLIT.split(text))):
        area = _find_area(code, context.areas)
        if area is None:
            unknown.append(code)
        else:
            chosen.append(area)
    if unknown:
        if len(context.areas) <= 30:
            hint = _("The area codes are: %(allowed)s.") % {
                "allowed": ", ".join(
                    f"{code} ({area.name})" for code, area in sorted(context.areas.items())
                )
            }
        else:
            hint = gettext("The codes are listed on the page “Import commitments”.")
        raise ValidationError(
            _(
                "%(unknown)s: not the code of an area of the consultations this programme "
                "answers. %(hint)s"
            )
            % {"unknown": ", ".join(f"“{code}”" for code in unknown), "hint": hint}
        )
    return list({a.pk: a for a in chosen}.values())


def _read_cell(name, text, *, context, locale):
    """A cell's value for the model, or ValidationError with the reason in the user's
    language (Django's own messages for lengths, e-mail addresses and limits)."""
    if name in TEXT_FIELDS:
        return _field(name).clean(text, None)
    if name == "status":
        if not text:
            raise ValidationError(_("Give the commitment a status."))
        return _read_status(text, context=context, locale=locale)
    if name == "progress":
        return _read_progress(text, context=context)
    if name in DECIMAL_FIELDS:
        if not text:
            return Decimal(1) if name == "weight" else None
        value = parse_decimal(text, decimal_comma=context.decimal_comma)
        return _field(name).clean(value, None)
    if name in DATE_FIELDS:
        return parse_date(text) if text else None
    if name == "prevention_type":
        return _read_prevention_type(text)
    if name == "problems":
        return _read_problems(text, context=context, locale=locale)
    if name == "areas":
        return _read_areas(text, context=context)
    raise KeyError(name)


# --- Import: the rows ------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    external_id: str
    values: dict  # model field name → value, for the columns the file has
    parent_id: str | None  # None when the file has no parent column
    page: CommitmentPage | None  # the existing original, None for a new commitment
    current: CommitmentPage | None = None  # its latest revision, or the new page
    node: str = ""  # in the graph of parts: a translation key, or "file:<id>" for a new one
    parent_row: "_Row | None" = None  # the parent, when the file has it
    parent_page: CommitmentPage | None = None  # the parent, when only the programme has it


def _messages(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def commitments_import(
    *, programme: ProgrammePage, file, user, publish: bool = True
) -> ImportResult:
    """Create or update the programme's commitments from a CSV file, all or nothing.

    Every row is checked first; one wrong row refuses the file and nothing is stored. Rows are
    matched to commitments by `external_id` within the programme (a row without one is
    refused). A changed commitment gets a new revision, attributed to `user` and published
    when `publish`; an unchanged one gets none. With `publish` off, changes are saved as
    drafts for someone to review and publish in the editor.

    PermissionDenied unless `user` can edit the programme and add commitments to it (and
    publish them, when `publish`).
    """
    programme = programme_original(programme)
    permissions = programme.permissions_for_user(user)
    if not (permissions.can_edit() and permissions.can_add_subpage()):
        raise PermissionDenied
    if publish and not permissions.can_publish_subpage():
        raise PermissionDenied
    result = ImportResult()
    try:
        rows = _read_file(programme=programme, file=file, user=user, result=result)
    except FileRefused as refused:
        result.errors.append(RowError(None, "", "", refused.message))
        return result
    if result.errors:
        return result
    try:
        with transaction.atomic(), LogContext(user=user):
            Page.objects.select_for_update().filter(pk=programme.pk).first()
            _write(programme=programme, rows=rows, user=user, publish=publish, result=result)
    except (ValidationError, IntegrityError) as error:
        messages = error.messages if isinstance(error, ValidationError) else [str(error)]
        result.created = result.updated = result.unchanged = 0
        result.errors.append(RowError(None, "", "", " ".join(str(m) for m in messages)))
    return result


def _read_file(*, programme, file, user, result: ImportResult) -> list[_Row]:
    data = file.read(MAX_BYTES + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise FileRefused(
            _("The file is larger than %(size)d MB. Split it into smaller files.")
            % {"size": MAX_BYTES // (1024 * 1024)}
        )
    text = _decode(data)
    delimiter = _delimiter(text)
    records = _records(text, delimiter)
    if not records or not any(cell.strip() for cell in records[0]):
        raise FileRefused(_("The file is empty: its first row must name the columns."))
    header = [cell.strip().lstrip("\ufeff").lower() for cell in records[0]]
    if "external_id" not in header:
        raise FileRefused(
            _(
                "The first row must name the columns, and one of them must be external_id. "
                "The columns are: %(columns)s."
            )
            % {"columns": ", ".join(COLUMN_NAMES)}
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise FileRefused(
            _("These columns appear twice: %(columns)s.") % {"columns": ", ".join(repeated)}
        )
    result.ignored_columns = [name for name in header if name and name not in COLUMN_NAMES]
    data_rows = [
        (number, record)
        for number, record in enumerate(records[1:], start=2)
        if any(cell.strip() for cell in record)
    ]
    if len(data_rows) > MAX_ROWS:
        raise FileRefused(
            _("The file has %(count)d commitments; at most %(max)d can be imported at once.")
            % {"count": len(data_rows), "max": MAX_ROWS}
        )
    if not data_rows:
        raise FileRefused(_("The file has no commitments, only the row naming the columns."))

    context = _context(programme, decimal_comma=delimiter == ";")
    existing = programme_commitments(programme, live_only=False)
    by_external_id: dict[str, list[CommitmentPage]] = {}
    for page in existing:
        if page.external_id:
            by_external_id.setdefault(page.external_id, []).append(page)
    untitled = {" ".join(page.title.split()).lower() for page in existing if not page.external_id}

    rows, seen = [], {}
    for line, record in data_rows:
        cells = {
            name: _clean_text(record[index]) if index < len(record) else ""
            for index, name in enumerate(header)
            if name in IMPORTED
        }
        rows.append(
            _read_row(
                line=line,
                cells=cells,
                context=context,
                programme=programme,
                by_external_id=by_external_id,
                untitled=untitled,
                seen=seen,
                user=user,
                errors=result.errors,
            )
        )
    _check_parents(rows, existing=existing, by_external_id=by_external_id, errors=result.errors)
    result.errors.sort(
        key=lambda e: (e.line or 0, COLUMN_NAMES.index(e.column) if e.column in COLUMN_NAMES else 0)
    )
    return rows


def _read_row(
    *, line, cells, context, programme, by_external_id, untitled, seen, user, errors
) -> _Row:
    def error(column, message):
        errors.append(RowError(line, column, cells.get(column, "")[:100], str(message)))

    external_id = cells["external_id"]
    page = None
    if not external_id:
        error("external_id", _("Give every commitment an ID: the import matches rows by it."))
    elif len(external_id) > _field("external_id").max_length:
        error(
            "external_id",
            _("An ID has at most %(max)d characters.") % {"max": _field("external_id").max_length},
        )
    elif external_id in seen:
        error(
            "external_id",
            _("Row %(line)d has the same ID: each commitment appears once.")
            % {"line": seen[external_id]},
        )
    else:
        seen[external_id] = line
        matches = by_external_id.get(external_id, [])
        if len(matches) > 1:
            error(
                "external_id",
                _("Several commitments of this programme have this ID; fix them in the editor."),
            )
        elif matches:
            page = matches[0]
            if not page.permissions_for_user(user).can_edit():
                error("external_id", _("You may not edit this commitment."))
            elif page.permissions_for_user(user).page_locked():
                error(
                    "external_id",
                    _("This commitment is locked in the editor; ask whoever locked it."),
                )
    locale = page.locale if page is not None else programme.locale
    values = {}
    for name in IMPORTED:
        if name in ("external_id", "parent_external_id") or name not in cells:
            continue
        try:
            values[name] = _read_cell(name, cells[name], context=context, locale=locale)
        except ValidationError as invalid:
            error(name, _messages(invalid))
    if page is None and external_id:
        for name in REQUIRED_TO_CREATE:
            if name not in cells:
                error(
                    name,
                    _("A new commitment needs the column %(column)s.") % {"column": name},
                )
        title = " ".join(cells.get("title", "").split()).lower()
        if title and title in untitled:
            error(
                "external_id",
                _(
                    "A commitment with this title has no ID in Convive yet. Give it this ID in "
                    "its editor (Promote tab) first, so that the import updates it instead of "
                    "adding a second one."
                ),
            )
    start = values.get("start_date", page.start_date if page else None)
    end = values.get("end_date", page.end_date if page else None)
    if start and end and end < start and ("start_date" in values or "end_date" in values):
        error("end_date", _("The commitment cannot end before it starts."))
    parent_id = cells.get("parent_external_id")
    if parent_id is not None and parent_id == external_id and external_id:
        error("parent_external_id", _("A commitment cannot be part of itself."))
    return _Row(line=line, external_id=external_id, values=values, parent_id=parent_id, page=page)


def _check_parents(rows, *, existing, by_external_id, errors):
    """Every parent named must exist in the file or the programme, and no commitment may end up
    part of itself, through any number of steps, once the file is stored."""
    in_file = {row.external_id: row for row in rows if row.external_id}
    # Nodes are translation keys for commitments that exist, "file:<id>" for new ones.
    node_of_page = {page.pk: str(page.translation_key) for page in existing}
    parent_of = {}
    for page in existing:
        current = _latest(page)
        parent_of[str(page.translation_key)] = _page_node(
            current.parent_commitment_id, node_of_page
        )
    for row in rows:
        if not row.external_id:
            continue
        node = str(row.page.translation_key) if row.page else f"file:{row.external_id}"
        row.node = node
        if row.parent_id is None:
            if row.page is None:
                parent_of[node] = None
            continue
        if not row.parent_id:
            parent_of[node] = None
        elif row.parent_id in in_file:
            parent = in_file[row.parent_id]
            row.parent_row = parent
            parent_of[node] = (
                str(parent.page.translation_key) if parent.page else f"file:{parent.external_id}"
            )
        elif len(by_external_id.get(row.parent_id, [])) == 1:
            row.parent_page = by_external_id[row.parent_id][0]
            parent_of[node] = str(row.parent_page.translation_key)
        else:
            errors.append(
                RowError(
                    row.line,
                    "parent_external_id",
                    row.parent_id,
                    str(
                        _(
                            "No commitment has the ID “%(value)s”, in this file or in this "
                            "programme."
                        )
                        % {"value": row.parent_id}
                    ),
                )
            )
            parent_of[node] = None
    for row in rows:
        if not row.external_id or not row.parent_id or row.parent_id == row.external_id:
            continue
        seen, current = {row.node}, parent_of.get(row.node)
        while current is not None and current not in seen:
            seen.add(current)
            current = parent_of.get(current)
        if current == row.node:
            errors.append(
                RowError(
                    row.line,
                    "parent_external_id",
                    row.parent_id,
                    gettext(
                        "This would make the commitment part of itself: “%(value)s” is already "
                        "part of it."
                    )
                    % {"value": row.parent_id},
                )
            )
    return parent_of


def _page_node(pk, node_of_page):
    if pk is None:
        return None
    if pk in node_of_page:
        return node_of_page[pk]
    found = CommitmentPage.objects.filter(pk=pk).values_list("translation_key", flat=True).first()
    return str(found) if found else None


# --- Import: storing -------------------------------------------------------------------------


def _parents_first(rows: list[_Row]) -> list[_Row]:
    """The rows with every parent named in the file before its parts, so each commitment is
    stored when the one it becomes part of already has its final place (the editor's loop
    check reads stored parents)."""
    ordered, done = [], set()

    def visit(row):
        if id(row) in done:
            return
        done.add(id(row))
        if row.parent_row is not None:
            visit(row.parent_row)
        ordered.append(row)

    for row in rows:
        visit(row)
    return ordered


def _same(before, after) -> bool:
    if isinstance(before, str) or isinstance(after, str):
        return (before or "").replace("\r\n", "\n").strip() == (after or "").replace(
            "\r\n", "\n"
        ).strip()
    return before == after


def _apply(page: CommitmentPage, row: _Row, parent_pk) -> bool:
    """Set the row's values on `page` (a revision's content); True when anything differs."""
    changed = False
    for name, value in row.values.items():
        if name == "problems":
            if {p.translation_key for p in page.problems.all()} != {
                p.translation_key for p in value
            }:
                page.problems.set(value)
                changed = True
        elif name == "areas":
            if {a.pk for a in page.areas.all()} != {a.pk for a in value}:
                page.areas.set(value)
                changed = True
        elif name == "status":
            if page.status_id != value.pk:
                page.status = value
                changed = True
        elif not _same(getattr(page, name), value):
            setattr(page, name, value)
            changed = True
    if row.parent_id is not None and page.parent_commitment_id != parent_pk:
        keys = dict(
            CommitmentPage.objects.filter(
                pk__in=[pk for pk in (page.parent_commitment_id, parent_pk) if pk]
            ).values_list("pk", "translation_key")
        )
        if keys.get(page.parent_commitment_id) != keys.get(parent_pk) or None in (
            page.parent_commitment_id,
            parent_pk,
        ):
            page.parent_commitment_id = parent_pk
            changed = True
    return changed


def _write(*, programme, rows: list[_Row], user, publish: bool, result: ImportResult) -> None:
    # New commitments first, without their parent (it may be further down the file).
    for row in rows:
        if row.page is not None:
            row.current = _latest(row.page)
            continue
        fields = {
            name: value for name, value in row.values.items() if name not in ("problems", "areas")
        }
        page = CommitmentPage(
            external_id=row.external_id,
            slug=find_available_slug(programme, slugify(fields["title"]) or "commitment"),
            locale=programme.locale,
            owner=user,
            live=False,
            has_unpublished_changes=True,
            **fields,
        )
        page.problems.set(row.values.get("problems", []))
        page.areas.set(row.values.get("areas", []))
        programme.add_child(instance=page)  # logs "wagtail.create" for its owner
        row.current = page
    for row in _parents_first(rows):
        parent_pk = None
        if row.parent_row is not None:
            parent_pk = row.parent_row.current.pk
        elif row.parent_page is not None:
            parent_pk = row.parent_page.pk
        page = row.current
        changed = _apply(page, row, parent_pk)
        if row.page is None or changed:
            revision = page.save_revision(user=user, log_action=True, clean=False)
            if publish:
                revision.publish(user=user)
            if row.page is None:
                result.created += 1
            else:
                result.updated += 1
        elif publish and (not row.page.live or row.page.has_unpublished_changes):
            # The draft already says what the file says: publishing it is the change.
            row.page.get_latest_revision().publish(user=user)
            result.updated += 1
        else:
            result.unchanged += 1
