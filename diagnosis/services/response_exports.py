"""Questionnaire responses: counts per version for the admin, and exports to CSV and XLSX.

An export is one row per response (respondent) and one column per question over *every* version
of the consultation's questionnaire, so a question kept across versions (same StreamField block
id) is one column, and answers given in any language sit together. Columns follow first
appearance (versions in the order they were first answered, questions in their order). Labels come
from the versions' frozen definitions in the language the facilitator chose, falling back to the
site's default language, then to any language the version has.

Exports run as a background job (`diagnosis.tasks.response_export`): responses are streamed in
chunks with their answers fetched per chunk, the file is written row by row (openpyxl in
write-only mode), so memory stays flat at any size; after every chunk a separate UPDATE records
progress, which the admin polls. The job claims its row with one conditional UPDATE, so a task
delivered twice writes one file, and any error marks the export failed (traceback to the log).

Files are personal data. They are stored outside MEDIA_ROOT (`response_export_storage`), served
only by the admin download view to the person who asked for them, and expire: an export older than
`EXPIRE_AFTER` is deleted, and a consultation keeps its `KEEP_PER_CONSULTATION` newest ones. The
clean-up runs whenever someone asks for an export.
"""

import csv
import logging
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from maps.walk_report import FORMULA_START

from ..models import Answer, QuestionnaireResponse, QuestionnaireVersion, ResponseExport
from ..pages import ConsultationPage
from ..questionnaire_blocks import (
    CHOICE_TYPES,
    NUMBER,
    QUESTION_BLOCKS,
    TIME_BAND,
    time_band_choices,
)
from .jobs import STALE_AFTER, job_claim, job_enqueue, job_error_detail
from .questionnaires import DEFINITION_FORMAT

logger = logging.getLogger("convive.exports")

# Responses read, and answers fetched, per round trip; progress is recorded after each chunk.
# 500 keeps the answers query's IN list under SQLite's parameter limit on any build.
CHUNK_SIZE = 500
EXPIRE_AFTER = timedelta(days=7)
KEEP_PER_CONSULTATION = 10
# A running export records a heartbeat with every chunk (well under a second each); one silent
# for this long has lost its worker.
MULTIPLE_SEPARATOR = "; "

Status = ResponseExport.Status


# --- Counts for the admin -----------------------------------------------------------------------


@dataclass(frozen=True)
class VersionSummary:
    number: int  # 1, 2, … per consultation, in the order versions were first answered
    version_id: int
    questions: int
    responses: int
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True)
class ResponseSummary:
    """What the admin shows about one consultation's responses."""

    consultation_key: uuid.UUID
    total: int = 0
    last: datetime | None = None
    versions: list[VersionSummary] = field(default_factory=list)
    languages: list[tuple[str, int]] = field(default_factory=list)  # most answered first
    sources: list[tuple[str, int]] = field(default_factory=list)


def version_numbers(versions: Iterable[QuestionnaireVersion]) -> dict[int, int]:
    """Version id → its short number within its consultation (1 for the first answered)."""
    numbers: dict[int, int] = {}
    counters: dict[uuid.UUID, int] = defaultdict(int)
    for version in sorted(versions, key=lambda v: (v.created_at, v.pk)):
        counters[version.consultation_key] += 1
        numbers[version.pk] = counters[version.consultation_key]
    return numbers


def response_summaries(*, keys: Iterable[uuid.UUID]) -> dict[uuid.UUID, ResponseSummary]:
    """Counts per version, language and source for each consultation key, in four queries
    whatever the number of responses (the database groups them)."""
    keys = list(keys)
    responses = QuestionnaireResponse.objects.filter(consultation_key__in=keys).order_by()
    per_version = {
        row["version"]: row
        for row in responses.values("version").annotate(
            n=Count("pk"), first=Min("submitted_at"), last=Max("submitted_at")
        )
    }
    versions = list(QuestionnaireVersion.objects.filter(consultation_key__in=keys))
    numbers = version_numbers(versions)
    by_language: dict[uuid.UUID, list[tuple[str, int]]] = defaultdict(list)
    for row in responses.values("consultation_key", "language").annotate(n=Count("pk")):
        by_language[row["consultation_key"]].append((row["language"], row["n"]))
    by_source: dict[uuid.UUID, list[tuple[str, int]]] = defaultdict(list)
    for row in responses.values("consultation_key", "source").annotate(n=Count("pk")):
        by_source[row["consultation_key"]].append((row["source"], row["n"]))

    version_rows: dict[uuid.UUID, list[VersionSummary]] = defaultdict(list)
    for version in sorted(versions, key=lambda v: numbers[v.pk]):
        counts = per_version.get(version.pk, {})
        version_rows[version.consultation_key].append(
            VersionSummary(
                number=numbers[version.pk],
                version_id=version.pk,
                questions=len(version.questions),
                responses=counts.get("n", 0),
                first=counts.get("first"),
                last=counts.get("last"),
            )
        )
    summaries = {}
    for key in keys:
        rows = version_rows.get(key, [])
        lasts = [row.last for row in rows if row.last]
        summaries[key] = ResponseSummary(
            consultation_key=key,
            total=sum(row.responses for row in rows),
            last=max(lasts) if lasts else None,
            versions=rows,
            languages=sorted(by_language.get(key, []), key=lambda item: (-item[1], item[0])),
            sources=sorted(by_source.get(key, []), key=lambda item: (-item[1], item[0])),
        )
    return summaries


# --- What goes in the file ----------------------------------------------------------------------


@dataclass
class QuestionColumn:
    """One question over every version that has it (same block id)."""

    block_id: str
    occurrences: list[tuple[int, dict]] = field(default_factory=list)  # (version number, def)

    @property
    def latest(self) -> dict:
        return self.occurrences[-1][1]

    @property
    def code(self) -> str:
        return self.latest.get("code", "")

    @property
    def type(self) -> str:
        return self.latest.get("type", "")


def _text(definitions: list[dict], key: str, languages: list[str]) -> str:
    """A text of a question in the first language that has it, newest wording first; else any."""
    for language in languages:
        for definition in reversed(definitions):
            text = (definition.get(key) or {}).get(language)
            if text:
                return text
    for definition in reversed(definitions):
        texts = definition.get(key) or {}
        for language in sorted(texts):
            if texts[language]:
                return texts[language]
    return ""


def _choice_labels(definition: dict) -> dict[str, dict[str, str]]:
    return {choice["value"]: choice.get("label") or {} for choice in definition.get("choices", [])}


class ExportPlan:
    """The columns of an export and how each response becomes a row, for one language.

    Built once per export from the consultation's versions (a handful of rows); every label is
    resolved here, so writing a row is dictionary look-ups only. Create it inside
    `translation.override(language)`: the fixed columns' labels come from the interface catalogue.
    """

    def __init__(self, *, consultation_key: uuid.UUID, language: str, cells: str):
        self.language = language
        self.codes = cells == ResponseExport.Cells.CODES
        default = settings.LANGUAGE_CODE
        self.languages = [language] if language == default else [language, default]
        versions = list(
            QuestionnaireVersion.objects.filter(consultation_key=consultation_key).order_by(
                "created_at", "pk"
            )
        )
        self.version_number = version_numbers(versions)
        self.columns: list[QuestionColumn] = []
        by_block: dict[str, QuestionColumn] = {}
        for version in versions:
            format_ = version.definition.get("format")
            if format_ != DEFINITION_FORMAT:
                raise ValueError(
                    f"Questionnaire version {version.pk} has definition format {format_!r}; "
                    f"this code reads format {DEFINITION_FORMAT}."
                )
            for question in version.questions:
                column = by_block.get(question["id"])
                if column is None:
                    column = by_block[question["id"]] = QuestionColumn(block_id=question["id"])
                    self.columns.append(column)
                column.occurrences.append((self.version_number[version.pk], question))
        # Per version: block id → (type, value → cell text) for choice questions; what a
        # respondent saw, labelled in the chosen language where any version has it.
        self.version_questions: dict[int, dict[str, tuple[str, dict[str, str]]]] = {}
        for version in versions:
            self.version_questions[version.pk] = {
                question["id"]: (question["type"], self._choice_cells(question, by_block))
                for question in version.questions
            }
        self.header = self._fixed_headers() + self._question_headers()

    # Labels.

    def _choice_cells(self, question: dict, by_block: dict[str, QuestionColumn]) -> dict:
        if question["type"] not in CHOICE_TYPES:
            return {}
        if self.codes:
            return {choice["value"]: choice["value"] for choice in question.get("choices", [])}
        others = [
            _choice_labels(definition)
            for _number, definition in reversed(by_block[question["id"]].occurrences)
        ]
        return {
            value: self._label(
                value, [labels, *(other.get(value, {}) for other in others)], kind=question["type"]
            )
            for value, labels in _choice_labels(question).items()
        }

    def _label(self, value: str, candidates: list[dict[str, str]], *, kind: str = "") -> str:
        """The label in the chosen language (the respondent's version first, then the others),
        else in the default language, else in any; the value itself as a last resort."""
        for position, language in enumerate(self.languages):
            for labels in candidates:
                if labels.get(language):
                    return labels[language]
            if position == 0 and kind == TIME_BAND:
                # Time bands are the interface's own words: every language has them.
                band = dict(time_band_choices()).get(value)
                if band:
                    return str(band)
        for labels in candidates:
            for language in sorted(labels):
                if labels[language]:
                    return labels[language]
        return value

    def _fixed_headers(self) -> list[str]:
        if self.codes:
            return [name for name, _label in self._fixed_columns()]
        return [label for _name, label in self._fixed_columns()]

    @staticmethod
    def _fixed_columns() -> list[tuple[str, str]]:
        return [
            ("response_id", _("Response")),
            ("submitted_at", _("Submitted (%(zone)s)") % {"zone": settings.TIME_ZONE}),
            ("filled_on", _("Date on the form")),
            ("language", _("Language")),
            ("source", _("Source")),
            ("version", _("Questionnaire version")),
            ("gender", _("Gender")),
            ("gender_description", _("Gender, in their words")),
            ("age_band", _("Age")),
        ]

    def _question_headers(self) -> list[str]:
        headers: list[str] = []
        seen: dict[str, int] = {}
        for column in self.columns:
            if self.codes:
                header = column.code
            else:
                text = _text([d for _n, d in column.occurrences], "text", self.languages)
                header = f"{text} [{column.code}]" if text else column.code
            # Two questions may share a code (one deleted, another added with its code).
            seen[header] = seen.get(header, 0) + 1
            headers.append(header if seen[header] == 1 else f"{header} ({seen[header]})")
        return headers

    def _profile_labels(self) -> dict[str, dict[str, str]]:
        field_choices = {
            name: dict(QuestionnaireResponse._meta.get_field(name).choices)
            for name in ("source", "gender", "age_band")
        }
        return {name: {k: str(v) for k, v in c.items()} for name, c in field_choices.items()}

    # Rows.

    def rows(self, responses: Iterable[tuple[tuple, dict]]) -> Iterator[list]:
        """One row per (response values, {block id: answer value})."""
        profile = {} if self.codes else self._profile_labels()
        for (
            pk,
            submitted_at,
            filled_on,
            language,
            source,
            version_id,
            gender,
            described,
            age,
        ), answers in responses:
            questions = self.version_questions.get(version_id, {})
            row = [
                pk,
                submitted_at,
                filled_on,
                language,
                profile.get("source", {}).get(source, source),
                self.version_number.get(version_id),
                profile.get("gender", {}).get(gender, gender),
                described,
                profile.get("age_band", {}).get(age, age),
            ]
            for column in self.columns:
                seen = questions.get(column.block_id)
                value = answers.get(column.block_id)
                if seen is None or value is None:
                    row.append(None)  # not in this version, or hidden by its condition
                    continue
                kind, choice_cells = seen
                if kind in CHOICE_TYPES:
                    values = value if isinstance(value, list) else [value]
                    row.append(MULTIPLE_SEPARATOR.join(choice_cells.get(v, v) for v in values))
                else:
                    row.append(value)
            yield row

    # The codebook.

    def codebook(self) -> list[list]:
        """Column, code, question, type, versions, value, label: one row per choice value."""
        rows = [
            [
                _("Column"),
                _("Code"),
                _("Question"),
                _("Type"),
                _("Versions"),
                _("Value"),
                _("Label"),
            ]
        ]
        for (name, label), header in zip(self._fixed_columns(), self.header, strict=False):
            if name in ("source", "gender", "age_band"):
                choices = QuestionnaireResponse._meta.get_field(name).choices
                for value, text in choices:
                    rows.append([header, name, label, _("Single choice"), "", value, str(text)])
            else:
                rows.append([header, name, label, "", "", "", ""])
        headers = self.header[len(self._fixed_columns()) :]
        for column, header in zip(self.columns, headers, strict=True):
            definitions = [d for _n, d in column.occurrences]
            question = _text(definitions, "text", self.languages)
            kind = self._type_label(column, definitions)
            versions = ", ".join(str(number) for number, _d in column.occurrences)
            values: dict[str, list[dict]] = {}
            for definition in reversed(definitions):
                for value, labels in _choice_labels(definition).items():
                    values.setdefault(value, []).append(labels)
            if column.type not in CHOICE_TYPES or not values:
                rows.append([header, column.code, question, kind, versions, "", ""])
                continue
            ordered = []
            for definition in definitions:  # values in first appearance order
                for choice in definition.get("choices", []):
                    if choice["value"] not in ordered:
                        ordered.append(choice["value"])
            for value in ordered:
                label = self._label(value, values[value], kind=column.type)
                rows.append([header, column.code, question, kind, versions, value, label])
        return rows

    def _type_label(self, column: QuestionColumn, definitions: list[dict]) -> str:
        block = QUESTION_BLOCKS.get(column.type)
        label = str(block().meta.label) if block else column.type
        if column.type == NUMBER:
            unit = _text(definitions, "unit", self.languages)
            if unit:
                return f"{label} ({unit})"
        return label


# --- Writers ------------------------------------------------------------------------------------


def csv_cell(value):
    """What a CSV cell holds: numbers as numbers, times in ISO 8601 in the site's time zone, and
    text that a spreadsheet would run as a formula defused with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class CsvWriter:
    """UTF-8 with a byte order mark, so Excel (in Spanish too) reads accents right."""

    extension = "csv"

    def __init__(self, path: Path):
        self.handle = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)

    def header(self, cells: list) -> None:
        self.writer.writerow([csv_cell(cell) for cell in cells])

    def rows(self, rows: Iterable[list]) -> None:
        self.writer.writerows([csv_cell(cell) for cell in row] for row in rows)

    def codebook(self, rows: list[list]) -> None:
        """A CSV file has one table; the codebook is in the XLSX export."""

    def close(self) -> None:
        self.handle.close()


class XlsxWriter:
    """openpyxl in write-only mode: rows go to disk as they come, whatever the size.

    Numbers are numeric cells and times real date-times (local time; the header names the zone).
    Text is always a text cell: openpyxl would store a string starting with "=" as a formula, so
    such cells are marked as strings explicitly, and characters XML cannot hold are dropped.
    """

    extension = "xlsx"

    def __init__(self, path: Path):
        self.path = path
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(_("Responses"))
        self.sheet.freeze_panes = "B2"

    def _cell(self, sheet, value, *, bold: bool = False):
        if isinstance(value, datetime):
            value = timezone.localtime(value).replace(tzinfo=None)
        elif isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if value.startswith("=") or bold:
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                if bold:
                    cell.font = Font(bold=True)
                return cell
        return value

    def header(self, cells: list) -> None:
        self.sheet.append([self._cell(self.sheet, cell, bold=True) for cell in cells])

    def rows(self, rows: Iterable[list]) -> None:
        for row in rows:
            self.sheet.append([self._cell(self.sheet, cell) for cell in row])

    def codebook(self, rows: list[list]) -> None:
        sheet = self.workbook.create_sheet(_("Codebook"))
        sheet.freeze_panes = "A2"
        header, *body = rows
        sheet.append([self._cell(sheet, cell, bold=True) for cell in header])
        for row in body:
            sheet.append([self._cell(sheet, cell) for cell in row])

    def close(self) -> None:
        self.workbook.save(self.path)


WRITERS = {ResponseExport.Format.CSV: CsvWriter, ResponseExport.Format.XLSX: XlsxWriter}


# --- Reading the responses ----------------------------------------------------------------------

RESPONSE_FIELDS = (
    "pk",
    "submitted_at",
    "filled_on",
    "language",
    "source",
    "version_id",
    "gender",
    "gender_description",
    "age_band",
)


def response_chunks(responses, *, chunk_size: int = CHUNK_SIZE) -> Iterator[list[tuple]]:
    """Lists of (response values, {block id: value}), `chunk_size` responses at a time.

    The responses come from one streamed query (a server-side cursor on PostgreSQL) and each
    chunk's answers from one more query, so memory holds one chunk, never the consultation.
    """
    rows = (
        responses.order_by("submitted_at", "pk")
        .values_list(*RESPONSE_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == chunk_size:
            yield _with_answers(batch)
            batch = []
    if batch:
        yield _with_answers(batch)


def _with_answers(batch: list[tuple]) -> list[tuple]:
    answers: dict[int, dict[str, object]] = defaultdict(dict)
    found = Answer.objects.filter(response_id__in=[row[0] for row in batch]).values_list(
        "response_id", "block_id", "value"
    )
    for response_id, block_id, value in found:
        answers[response_id][block_id] = value
    return [(row, answers.get(row[0], {})) for row in batch]


# --- Requesting, running, cleaning up -----------------------------------------------------------


def response_export_request(
    *, page: ConsultationPage, user, language: str, format: str, cells: str
) -> ResponseExport:
    """Record a request for an export and queue the job once the request's transaction commits.

    The same request by the same person while an identical export is still waiting or running
    returns that export (a double click makes one file, not two).
    """
    response_exports_cleanup(consultation_key=page.translation_key)
    in_flight = (
        ResponseExport.objects.filter(
            consultation_key=page.translation_key,
            requested_by=user,
            language=language,
            format=format,
            cells=cells,
            status__in=[Status.PENDING, Status.RUNNING],
        )
        .order_by("-created_at")
        .first()
    )
    if in_flight is not None:
        return in_flight
    export = ResponseExport.objects.create(
        consultation_key=page.translation_key,
        consultation=page,
        requested_by=user,
        language=language,
        format=format,
        cells=cells,
    )
    transaction.on_commit(lambda: response_export_enqueue(export_id=export.pk))
    return export


def response_export_enqueue(*, export_id: int) -> bool:
    """Hand the export to the workers (or run it here when no broker is configured).

    A broker that does not answer marks the export failed with a message saying so, rather than
    leaving it waiting for ever.
    """
    from ..tasks import response_export_task

    return job_enqueue(
        response_export_task,
        ResponseExport,
        export_id,
        waiting=Status.PENDING,
        failed=Status.FAILED,
        error=ResponseExport.Error.NOT_QUEUED,
    )


def response_export_run(*, export_id: int, chunk_size: int = CHUNK_SIZE) -> bool:
    """Write the export's file. Returns True if this call did it.

    Claims the row with one conditional UPDATE (waiting, or running with a stale heartbeat after a
    worker died), so a task delivered twice does the work once. Never raises: a failure is
    recorded on the export and its traceback logged.
    """
    export = _claim(export_id)
    if export is None:
        return False
    try:
        _write(export, chunk_size=chunk_size)
    except Exception as error:
        logger.exception("Response export %s failed", export_id)
        if export.file:
            export.file.delete(save=False)
        ResponseExport.objects.filter(pk=export_id).update(
            status=Status.FAILED,
            error=ResponseExport.Error.FAILED,
            error_detail=job_error_detail(error),
            file="",
            finished_at=timezone.now(),
        )
        return False
    return True


def _claim(export_id: int) -> ResponseExport | None:
    claimed = job_claim(
        ResponseExport,
        export_id,
        waiting=Status.PENDING,
        running=Status.RUNNING,
        rows_done=0,
        error="",
        error_detail="",
    )
    return (
        ResponseExport.objects.select_related("consultation").get(pk=export_id) if claimed else None
    )


def _write(export: ResponseExport, *, chunk_size: int) -> None:
    responses = QuestionnaireResponse.objects.filter(consultation_key=export.consultation_key)
    # What exists now is what is exported: responses arriving meanwhile wait for the next export,
    # so the progress total stays true.
    last_pk = responses.aggregate(last=Max("pk"))["last"] or 0
    responses = responses.filter(pk__lte=last_pk)
    total = responses.count()
    ResponseExport.objects.filter(pk=export.pk).update(rows_total=total)

    with translation.override(export.language), tempfile.TemporaryDirectory() as folder:
        plan = ExportPlan(
            consultation_key=export.consultation_key, language=export.language, cells=export.cells
        )
        writer_class = WRITERS[export.format]
        path = Path(folder) / f"export.{writer_class.extension}"
        writer = writer_class(path)
        try:
            writer.header(plan.header)
            done = 0
            for chunk in response_chunks(responses, chunk_size=chunk_size):
                writer.rows(plan.rows(chunk))
                done += len(chunk)
                # Its own UPDATE, committed at once (no transaction here), so the admin sees it.
                ResponseExport.objects.filter(pk=export.pk).update(
                    rows_done=done, heartbeat_at=timezone.now()
                )
            writer.codebook(plan.codebook())
        finally:
            writer.close()
        with path.open("rb") as handle:
            export.file.save(export_file_name(export), File(handle), save=False)

    finished = ResponseExport.objects.filter(pk=export.pk, status=Status.RUNNING).update(
        status=Status.DONE,
        file=export.file.name,
        rows_done=done,
        rows_total=done,
        heartbeat_at=timezone.now(),
        finished_at=timezone.now(),
    )
    if not finished:
        # Deleted (or marked interrupted) while it ran: keep no file nobody can reach.
        export.file.delete(save=False)


def export_file_name(export: ResponseExport) -> str:
    """The name on disk: unguessable, and no resident data in it."""
    return f"{export.pk}-{uuid.uuid4().hex}.{WRITERS[export.format].extension}"


def export_download_name(export: ResponseExport) -> str:
    """The name the browser saves: consultation, language of the labels, date."""
    slug = slugify(export.consultation.slug if export.consultation else "") or "consultation"
    when = timezone.localtime(export.finished_at or export.created_at)
    return f"{slug}-responses-{export.language}-{when:%Y%m%d-%H%M}.{export.format}"


def response_exports_mark_interrupted(*, now: datetime | None = None) -> int:
    """Running exports whose worker went silent are failed, with a message saying so."""
    now = now or timezone.now()
    return ResponseExport.objects.filter(
        status=Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    ).update(status=Status.FAILED, error=ResponseExport.Error.INTERRUPTED, finished_at=now)


def response_exports_cleanup(
    *, consultation_key: uuid.UUID | None = None, now: datetime | None = None
) -> int:
    """Delete expired exports (all consultations) and those of `consultation_key` beyond the
    newest `KEEP_PER_CONSULTATION`, files first. Exports still running are kept.
    Returns how many were deleted."""
    now = now or timezone.now()
    response_exports_mark_interrupted(now=now)
    finished = ResponseExport.objects.exclude(status__in=[Status.PENDING, Status.RUNNING])
    doomed = list(finished.filter(created_at__lt=now - EXPIRE_AFTER))
    if consultation_key is not None:
        doomed += list(
            finished.filter(
                consultation_key=consultation_key, created_at__gte=now - EXPIRE_AFTER
            ).order_by("-created_at", "-pk")[KEEP_PER_CONSULTATION:]
        )
    for export in doomed:
        if export.file:
            export.file.delete(save=False)
        export.delete()
    return len(doomed)


def response_export_expired(export: ResponseExport, *, now: datetime | None = None) -> bool:
    return export.created_at < (now or timezone.now()) - EXPIRE_AFTER
