"""XLSForm import: read a KoboToolbox/ODK `.xlsx` form and turn it into questionnaire blocks.

An XLSForm is a spreadsheet with a `survey` sheet (one row per question, group or calculation),
a `choices` sheet (the answer lists) and an optional `settings` sheet. Facilitators often have
one already — from a national survey, an NGO, UNHCR's Results Monitoring Survey — and should not
have to type it again. Convive's questionnaire is deliberately smaller than XLSForm: one answer is
one person (no repeats), a question is shown on at most one condition (one earlier choice question
has one answer), and there are no calculations, notes, dates, media or locations. So the import
maps what has an honest equivalent and lists everything else in a report, row by row, in plain
words: what was imported, what was imported with a difference the facilitator should know about,
and what was left out and why. Nothing is reworded: a text that does not fit Convive's limits
makes the question not imported rather than cut short.

`xlsform_parse` does the reading and mapping and returns an `XLSFormImport`: the raw StreamField
blocks in every language the form has (the same codes and values in each), the translations
that can be offered to wagtail-localize, and the report. It writes nothing; the admin view
(`diagnosis.xlsform_admin`) shows the preview and saves a draft revision on confirmation.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import load_workbook

from .questionnaire_blocks import (
    CODE_MAX_LENGTH,
    LIKERT,
    LIKERT_MAX_POINTS,
    LIKERT_MIN_POINTS,
    LONG_TEXT,
    MULTIPLE_CHOICE,
    NUMBER,
    QUESTION_MAX_LENGTH,
    SHORT_TEXT,
    SINGLE_CHOICE,
)

# Bounds that keep a hostile or broken spreadsheet from costing more than a real form. The
# largest real forms we know (UNHCR RMS) have ~420 survey rows and ~630 choices.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_SURVEY_ROWS = 3000
MAX_CHOICE_ROWS = 20000
MAX_COLUMNS = 200
# Limits of the questionnaire blocks (diagnosis.questionnaire_blocks).
HELP_TEXT_MAX_LENGTH = 300
CHOICE_LABEL_MAX_LENGTH = 200
SHORT_TEXT_DEFAULT = 200
LONG_TEXT_DEFAULT = 2000
# Data format of `XLSFormImport.to_data`, checked when a signed preview comes back.
DATA_FORMAT = 1

# Outcomes of a survey row.
IMPORTED = "imported"
NOTED = "noted"  # imported, with a difference the facilitator should read
SKIPPED = "skipped"  # not imported
LAYOUT = "layout"  # begin/end of a group or repeat: structure, not a question
OUTCOMES = (IMPORTED, NOTED, SKIPPED, LAYOUT)

# Language names seen in `label::<name>` headers without a `(code)`, in English and in the
# language itself, lower-cased.
LANGUAGE_NAMES = {
    "english": "en",
    "inglés": "en",
    "ingles": "en",
    "anglais": "en",
    "inglês": "en",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "castellano": "es",
    "espagnol": "es",
    "espanhol": "es",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "francés": "fr",
    "frances": "fr",
    "francês": "fr",
    "portuguese": "pt",
    "português": "pt",
    "portugues": "pt",
    "portugués": "pt",
    "portugais": "pt",
    "arabic": "ar",
    "العربية": "ar",
    "árabe": "ar",
    "arabe": "ar",
    "haitian creole": "ht",
    "kreyòl ayisyen": "ht",
    "kreyol": "ht",
    "créole haïtien": "ht",
    "quechua": "qu",
    "runasimi": "qu",
    "guarani": "gn",
    "guaraní": "gn",
    "aymara": "ay",
    "german": "de",
    "deutsch": "de",
    "italian": "it",
    "italiano": "it",
    "russian": "ru",
    "русский": "ru",
    "ukrainian": "uk",
    "українська": "uk",
    "chinese": "zh",
    "中文": "zh",
    "swahili": "sw",
    "kiswahili": "sw",
    "persian": "fa",
    "farsi": "fa",
    "فارسی": "fa",
    "turkish": "tr",
    "türkçe": "tr",
    "somali": "so",
}

# Row types that are not questions Convive can ask, with the reason in plain words. Read through
# `_not_imported_reason` so the messages are translated when used.
METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "start-geopoint",
        "background-geopoint",
        "instanceid",
        "uri:deviceid",
        "uri:email",
        "uri:phonenumber",
        "uri:simserial",
        "uri:subscriberid",
        "uri:username",
    }
)
TYPE_ALIASES = {
    "begin group": "begin_group",
    "end group": "end_group",
    "begin repeat": "begin_repeat",
    "end repeat": "end_repeat",
    "int": "integer",
}
SELECT_ALIASES = (
    (re.compile(r"^select[ _]one(?=\s|$)", re.IGNORECASE), "select_one"),
    (re.compile(r"^select[ _]multiple(?=\s|$)", re.IGNORECASE), "select_multiple"),
    (re.compile(r"^select all that apply(?=\s|$)", re.IGNORECASE), "select_multiple"),
)

LANGUAGE_COLUMN = re.compile(r"^(label|hint)\s*::\s*(.+)$", re.IGNORECASE)
LANGUAGE_CODE = re.compile(r"\(\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*\)\s*$")
NAME = r"[A-Za-z_][A-Za-z0-9._-]*"
REFERENCE = re.compile(r"\$\{\s*(" + NAME + r")\s*\}")
LITERAL = r"(?:'([^'\"]*)'|\"([^'\"]*)\"|(-?\d+(?:\.\d+)?))"
RELEVANT_EQUALS = re.compile(r"^\$\{\s*(" + NAME + r")\s*\}\s*=\s*" + LITERAL + r"$")
RELEVANT_SELECTED = re.compile(
    r"^selected\(\s*\$\{\s*(" + NAME + r")\s*\}\s*,\s*(?:'([^'\"]*)'|\"([^'\"]*)\")\s*\)$"
)
NUMBER_LITERAL = r"(-?\d+(?:\.\d+)?)"
COMPARISON = r"(>=|<=|>|<|=)"
BOUND_DOT_FIRST = re.compile(r"^\.\s*" + COMPARISON + r"\s*" + NUMBER_LITERAL + r"$")
BOUND_DOT_LAST = re.compile(r"^" + NUMBER_LITERAL + r"\s*" + COMPARISON + r"\s*\.$")
FLIPPED = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "=": "="}
# Formatting Kobo and Enketo render in labels: HTML tags and simple markdown.
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
HTML_BREAK = re.compile(r"<(?:br|p|div|li)\b[^<>]*>", re.IGNORECASE)
MARKDOWN = (
    re.compile(r"\*\*(.+?)\*\*"),
    re.compile(r"__(.+?)__"),
    re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"),
    re.compile(r"\[([^\]]+)\]\([^)]*\)"),
)
MARKDOWN_HEADING = re.compile(r"^\s*#{1,6}\s+")
TRUE_VALUES = frozenset({"yes", "true", "true()", "1"})
FALSE_VALUES = frozenset({"", "no", "false", "false()", "0"})


class XLSFormError(Exception):
    """The file cannot be read as an XLSForm; `message` says why, in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ReportEntry:
    """What happened to one row of the survey sheet."""

    row: int  # the spreadsheet's row number, as the facilitator sees it
    name: str
    type: str
    outcome: str
    reasons: tuple[str, ...] = ()
    code: str = ""  # the question code it became, when imported

    @property
    def imported(self) -> bool:
        return self.outcome in (IMPORTED, NOTED)


@dataclass
class XLSFormImport:
    """The result of reading one XLSForm for one page.

    `blocks` maps each language found in the file to the raw questionnaire blocks in that
    language (`[{"type": ..., "value": {...}}]`, see docs/questionnaires.md); every language has
    the same questions, codes and values, and a cell left empty in one language holds the text
    of the page's column instead. `source_language` is the column whose wording the page gets.
    `translations` maps each text of that column to its real translations in the other
    languages (empty cells and texts too long for Convive left out), for `offer_translations`.
    """

    title: str
    languages: list[str]
    language_names: dict[str, str]
    source_language: str
    page_language: str
    blocks: dict[str, list[dict]]
    translations: dict[str, dict[str, str]]
    report: list[ReportEntry]
    notes: list[str] = field(default_factory=list)  # about the file as a whole

    @property
    def questions(self) -> list[dict]:
        """The blocks the page will get, in its column's wording."""
        return self.blocks.get(self.source_language, [])

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for entry in self.report:
            counts[entry.outcome] += 1
        counts["rows"] = len(self.report)
        counts["questions"] = len(self.questions)
        return counts

    def entries(self, outcome: str) -> list[ReportEntry]:
        return [entry for entry in self.report if entry.outcome == outcome]

    def to_data(self) -> dict:
        data = asdict(self)
        data["format"] = DATA_FORMAT
        return data

    @classmethod
    def from_data(cls, data: dict) -> XLSFormImport:
        """Rebuild a result from `to_data` (a signed preview); KeyError/TypeError if malformed."""
        if data.get("format") != DATA_FORMAT:
            raise ValueError("unknown format")
        values = {key: data[key] for key in cls.__dataclass_fields__}
        values["report"] = [
            ReportEntry(**{**entry, "reasons": tuple(entry["reasons"])})
            for entry in values["report"]
        ]
        return cls(**values)


# --- Reading the workbook -------------------------------------------------------------------


def _cell_text(value) -> str:
    """A cell as text: numbers without a trailing .0, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return repr(value)
    return str(value).strip()


@dataclass
class _Sheet:
    """A sheet as its header (lower-cased column names) and its non-empty rows."""

    columns: list[str]
    headers: list[str]  # the same, as written (language names keep their case)
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row number, column -> text)


def _read_sheet(worksheet, *, limit: int, what: str) -> _Sheet:
    rows = worksheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    headers = [_cell_text(cell) for cell in header[:MAX_COLUMNS]]
    columns = [" ".join(name.split()).lower() for name in headers]
    table = []
    for number, values in enumerate(rows, start=2):
        if not any(cell not in (None, "") for cell in values):
            continue
        if len(table) >= limit:
            raise XLSFormError(
                _(
                    "The %(sheet)s sheet has more than %(limit)d rows. Convive imports forms of "
                    "up to %(limit)d rows; split the form or remove rows you do not need."
                )
                % {"sheet": what, "limit": limit}
            )
        row = {}
        for column, cell in zip(columns, values, strict=False):
            if column and column not in row:
                row[column] = _cell_text(cell)
        table.append((number, row))
    return _Sheet(columns=columns, headers=headers, rows=table)


def _not_xlsx() -> XLSFormError:
    return XLSFormError(
        _(
            "This file could not be read as an .xlsx spreadsheet. Save the form as an Excel "
            "workbook (.xlsx) — an older .xls or a .csv file will not do — and upload it again."
        )
    )


def _read_workbook(file) -> dict[str, _Sheet]:
    """The survey, choices and settings sheets (names matched without regard to case).

    openpyxl raises many kinds of exception on a damaged or foreign file (zip, XML, key and
    value errors); none of them is a bug here, so every one becomes the same clear message.
    """
    with warnings.catch_warnings():
        # openpyxl warns about features it drops (conditional formatting, data validation);
        # none of them matters for the questions.
        warnings.simplefilter("ignore", UserWarning)
        try:
            workbook = load_workbook(file, read_only=True, data_only=True)
        except Exception:
            raise _not_xlsx() from None
        try:
            by_name = {name.strip().lower(): name for name in workbook.sheetnames}
            if "survey" not in by_name:
                raise XLSFormError(
                    _(
                        "This spreadsheet has no sheet called “survey”, so it is not an "
                        "XLSForm. Its sheets are: %(sheets)s."
                    )
                    % {"sheets": ", ".join(workbook.sheetnames)}
                )
            limits = {"survey": MAX_SURVEY_ROWS, "choices": MAX_CHOICE_ROWS, "settings": 10}
            sheets = {
                key: _read_sheet(workbook[by_name[key]], limit=limit, what=key)
                for key, limit in limits.items()
                if key in by_name
            }
        except XLSFormError:
            raise
        except Exception:
            raise _not_xlsx() from None
        finally:
            workbook.close()
    survey = sheets["survey"]
    missing = [column for column in ("type", "name") if column not in survey.columns]
    if missing:
        raise XLSFormError(
            _(
                "The survey sheet needs the columns “type” and “name” in its first row; "
                "“%(missing)s” is missing. Its first row has: %(columns)s."
            )
            % {
                "missing": "”, “".join(missing),
                "columns": ", ".join(c for c in survey.headers if c) or _("nothing"),
            }
        )
    return sheets


# --- Languages ------------------------------------------------------------------------------


def language_code(spec: str, *, default: str = "") -> str:
    """The language code of a column name such as `English (en)`, `Español` or `fr`.

    A code in brackets wins; then a known language name; then a bare code. Region subtags are
    dropped (`pt-BR` is `pt`): the site's locales are plain languages. Unknown names give the
    name itself, lower-cased, so the column can still be chosen, never matched to a locale.
    """
    spec = " ".join(spec.split())
    if not spec:
        return default
    match = LANGUAGE_CODE.search(spec)
    if match:
        return match.group(1).lower()
    name = spec.lower()
    if name in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[name]
    if re.fullmatch(r"[a-z]{2,3}(?:[-_][a-z0-9]+)*", name):
        return re.split(r"[-_]", name)[0]
    return name


@dataclass
class _Columns:
    """Which column holds the label (or hint) in which language, in file order."""

    label: dict[str, list[str]] = field(default_factory=dict)
    hint: dict[str, list[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # language code -> name in the header


def _language_columns(sheet: _Sheet, *, plain_language: str) -> _Columns:
    found = _Columns()
    for column, header in zip(sheet.columns, sheet.headers, strict=True):
        kind, language, name = "", "", ""
        match = LANGUAGE_COLUMN.match(" ".join(header.split()))
        if match:
            kind, name = match.group(1).lower(), match.group(2).strip()
            language = language_code(name)
        elif column in ("label", "hint"):
            kind, language = column, plain_language
        if not kind or not language:
            continue
        # A language's own column first, the plain one (if it is the same language) after.
        target = found.label if kind == "label" else found.hint
        if match:
            target.setdefault(language, []).insert(0, column)
        else:
            target.setdefault(language, []).append(column)
        if name:
            found.names.setdefault(language, LANGUAGE_CODE.sub("", name).strip() or name)
    return found


def _texts(row: dict[str, str], columns: dict[str, list[str]]) -> dict[str, str]:
    """A row's text in each language (the first non-empty column of that language)."""
    texts = {}
    for language, names in columns.items():
        for name in names:
            text = row.get(name, "")
            if text:
                texts[language] = text
                break
    return texts


def _language_name(code: str, names: dict[str, str]) -> str:
    site = dict(settings.LANGUAGES)
    if code in site:
        return str(site[code])
    return names.get(code, code)


# --- Text -----------------------------------------------------------------------------------


def _plain(text: str) -> tuple[str, bool]:
    """Text without the HTML tags and simple markdown Kobo renders, whitespace collapsed.

    Returns the text and whether any formatting was removed. The words are never changed.
    """
    plain = HTML_TAG.sub("", HTML_BREAK.sub(" ", text))
    for pattern in MARKDOWN:
        plain = pattern.sub(r"\1", plain)
    plain = "\n".join(MARKDOWN_HEADING.sub("", line) for line in plain.splitlines())
    collapsed = " ".join(plain.split())
    return collapsed, plain != text


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_-]+", "-", ascii_text.lower()).strip("-")
    return re.sub(r"-{2,}", "-", slug)


def _unique(base: str, used: set[str]) -> str:
    base = base[:CODE_MAX_LENGTH].rstrip("-_") or "q"
    candidate, number = base, 1
    while candidate in used:
        number += 1
        suffix = f"-{number}"
        candidate = base[: CODE_MAX_LENGTH - len(suffix)].rstrip("-_") + suffix
    used.add(candidate)
    return candidate


def _strip_parentheses(expression: str) -> str:
    """`((x))` → `x`, only when the outer brackets enclose the whole expression."""
    expression = expression.strip()
    while expression.startswith("(") and expression.endswith(")"):
        depth = 0
        for index, char in enumerate(expression):
            depth += (char == "(") - (char == ")")
            if depth == 0 and index < len(expression) - 1:
                return expression
        expression = expression[1:-1].strip()
    return expression


# --- The survey -----------------------------------------------------------------------------


@dataclass
class _Choice:
    value: str
    texts: dict[str, str]


@dataclass
class _Imported:
    """A question already mapped, for the conditions of later questions."""

    code: str
    type: str
    values: dict[str, str]  # the form's choice name -> the value it became


@dataclass
class _Frame:
    """An open group or repeat."""

    kind: str  # begin_group / begin_repeat
    name: str
    label: str
    row: int
    entry: int  # index of its entry in the report
    relevant: str = ""
    condition: tuple[str, str] | None = None  # the group's condition, when Convive can keep it
    why: str = ""  # why it cannot be kept, or the difference when it is
    rows: int = 0
    imported: int = 0


class _Parser:
    """One pass over the survey sheet; see `xlsform_parse`."""

    def __init__(self, sheets, *, page_language: str, language: str, existing_codes):
        self.sheets = sheets
        self.page_language = page_language
        settings_rows = sheets.get("settings")
        form_settings = settings_rows.rows[0][1] if settings_rows and settings_rows.rows else {}
        self.title = form_settings.get("form_title", "")
        self.default_language = language_code(form_settings.get("default_language", ""), default="")
        plain = self.default_language or page_language
        survey = sheets["survey"]
        self.columns = _language_columns(survey, plain_language=plain)
        choices = sheets.get("choices")
        self.choice_columns = (
            _language_columns(choices, plain_language=plain) if choices else _Columns()
        )
        self.languages = list(dict.fromkeys([*self.columns.label, *self.choice_columns.label])) or [
            plain
        ]
        self.names = {**self.choice_columns.names, **self.columns.names}
        self.notes: list[str] = []
        self.source = self._source_language(language or page_language)
        self.used_codes = set(existing_codes)
        self.existing_codes = set(existing_codes)
        self.lists = self._choice_lists(choices)
        self.report: list[dict] = []
        self.questions: list[dict] = []  # mapped questions, language-neutral + texts
        self.imported: dict[str, _Imported] = {}
        self.not_imported: dict[str, int] = {}  # form name -> row, for condition messages
        self.stack: list[_Frame] = []
        # (row, texts) of the note or header row just above a table's rows (list-nolabel).
        self.table_stem: tuple[int, dict[str, str]] | None = None

    # The language whose wording the page gets, and the order in which empty cells fall back.

    def _source_language(self, wanted: str) -> str:
        if wanted in self.languages:
            return wanted
        for candidate in (self.default_language, "en", *self.languages):
            if candidate in self.languages:
                self.notes.append(
                    _(
                        "The form has no %(wanted)s column; the questions take the wording of "
                        "its %(used)s column. Rewrite them in %(wanted)s in the Questionnaire "
                        "tab before publishing."
                    )
                    % {
                        "wanted": _language_name(wanted, self.names),
                        "used": _language_name(candidate, self.names),
                    }
                )
                return candidate
        return wanted

    def _fallbacks(self, language: str) -> list[str]:
        order = [language, self.source, self.default_language, "en", *self.languages]
        return [code for code in dict.fromkeys(order) if code]

    # Choices

    def _choice_lists(self, sheet: _Sheet | None) -> dict[str, list[tuple[int, str, dict]]]:
        lists: dict[str, list[tuple[int, str, dict]]] = {}
        if sheet is None:
            return lists
        list_column = "list_name" if "list_name" in sheet.columns else "list name"
        for number, row in sheet.rows:
            list_name = row.get(list_column, "")
            if list_name:
                texts = _texts(row, self.choice_columns.label)
                lists.setdefault(list_name, []).append((number, row.get("name", ""), texts))
        return lists

    # Report

    def _entry(self, number, row, outcome, reasons=(), code="") -> int:
        self.report.append(
            {
                "row": number,
                "name": row.get("name", ""),
                "type": " ".join(row.get("type", "").split()),
                "outcome": outcome,
                "reasons": list(reasons),
                "code": code,
            }
        )
        for frame in self.stack:
            frame.rows += 1
            frame.imported += outcome in (IMPORTED, NOTED)
        return len(self.report) - 1

    def _skip(self, number, row, reason: str):
        name = row.get("name", "")
        if name:
            self.not_imported[name] = number
        self._entry(number, row, SKIPPED, [reason])

    # The walk

    def run(self) -> XLSFormImport:
        for number, row in self.sheets["survey"].rows:
            self._row(number, row)
        for frame in reversed(self.stack):
            self._close(frame, number=None)
        return self._result()

    def _row(self, number: int, row: dict[str, str]):
        raw_type = " ".join(row.get("type", "").split())
        kind = _normalised_type(raw_type)
        repeat = next((f for f in self.stack if f.kind == "begin_repeat"), None)
        if repeat is not None:
            self._inside_repeat(number, row, kind, repeat)
            return
        if kind in ("begin_group", "begin_repeat"):
            self._open(number, row, kind)
        elif kind in ("end_group", "end_repeat"):
            self._end(number, row, kind)
        elif not kind:
            self._skip(number, row, _("The row has no type, so it is not a question."))
        else:
            self._question(number, row, kind, raw_type)

    def _open(self, number, row, kind):
        self.table_stem = None
        label = self._pick(_texts(row, self.columns.label), self.source)
        entry = self._entry(number, row, LAYOUT)
        relevant = row.get("relevant", "").strip() if kind == "begin_group" else ""
        condition, why = self._simple_condition(relevant) if relevant else (None, "")
        self.stack.append(
            _Frame(
                kind=kind,
                name=row.get("name", ""),
                label=_plain(label)[0],
                row=number,
                entry=entry,
                relevant=relevant,
                condition=condition,
                why=why,
            )
        )

    def _end(self, number, row, kind):
        wanted = "begin_group" if kind == "end_group" else "begin_repeat"
        frame = next((f for f in reversed(self.stack) if f.kind == wanted), None)
        if frame is None:
            self._entry(
                number,
                row,
                LAYOUT,
                [_("This row closes a group or repeat that was never opened; it is ignored.")],
            )
            return
        self.table_stem = None
        while self.stack and self.stack[-1] is not frame:
            self._close(self.stack.pop(), number=None)
        self.stack.pop()
        self._close(frame, number=number)
        self._entry(
            number,
            row,
            LAYOUT,
            [
                _("End of “%(name)s” (opened in row %(row)d).")
                % {"name": frame.name, "row": frame.row}
            ],
        )

    def _close(self, frame: _Frame, *, number: int | None):
        """Write the group's (or repeat's) summary into its opening row's entry."""
        if frame.entry < 0:  # a group inside a repeat: reported as part of the repeat
            return
        title = frame.label or frame.name
        if frame.kind == "begin_repeat":
            reason = ngettext(
                "Repeat “%(title)s”: its questions are asked again for each person or item "
                "(a household roster, for instance). In Convive one questionnaire answer is one "
                "person, so the %(count)d row inside it is not imported.",
                "Repeat “%(title)s”: its questions are asked again for each person or item "
                "(a household roster, for instance). In Convive one questionnaire answer is one "
                "person, so the %(count)d rows inside it are not imported.",
                frame.rows,
            ) % {"title": title, "count": frame.rows}
        else:
            reason = ngettext(
                "Group “%(title)s”: flattened — its questions keep their order, without the "
                "group's heading. %(imported)d of its %(count)d row imported.",
                "Group “%(title)s”: flattened — its questions keep their order, without the "
                "group's heading. %(imported)d of its %(count)d rows imported.",
                frame.rows,
            ) % {"title": title, "imported": frame.imported, "count": frame.rows}
        reasons = [reason]
        if frame.relevant and frame.condition is not None:
            reasons.append(
                _(
                    "The group was shown only if “%(expression)s”. Its questions keep that "
                    "condition, unless they have their own (a Convive question has one)."
                )
                % {"expression": frame.relevant}
            )
        elif frame.relevant:
            reasons.append(
                _(
                    "The group was shown only if “%(expression)s”. That condition is not "
                    "imported: %(why)s Its questions are shown without it."
                )
                % {"expression": frame.relevant, "why": frame.why}
            )
        if number is None:
            reasons.append(
                _(
                    "It has no end row of its own; it ends where the group around it, or the "
                    "form, ends."
                )
            )
        self.report[frame.entry]["reasons"] = reasons

    def _inside_repeat(self, number, row, kind, repeat: _Frame):
        if kind in ("begin_group", "begin_repeat"):
            self._entry(
                number, row, LAYOUT, [_("Part of the repeat in row %(row)d.") % {"row": repeat.row}]
            )
            self.stack.append(
                _Frame(kind=kind, name=row.get("name", ""), label="", row=number, entry=-1)
            )
            return
        if kind in ("end_group", "end_repeat"):
            wanted = "begin_group" if kind == "end_group" else "begin_repeat"
            frame = next((f for f in reversed(self.stack) if f.kind == wanted), None)
            if frame is repeat:
                self._end(number, row, kind)
                return
            if frame is not None:
                while self.stack and self.stack[-1] is not frame:
                    self.stack.pop()
                self.stack.pop()
            self._entry(
                number, row, LAYOUT, [_("Part of the repeat in row %(row)d.") % {"row": repeat.row}]
            )
            return
        self._skip(
            number,
            row,
            _("Part of the repeat in row %(row)d (asked once per person or item).")
            % {"row": repeat.row},
        )

    # Questions

    def _question(self, number, row, kind, raw_type):
        appearance = row.get("appearance", "").lower().split()
        stem = self.table_stem
        # A table (ODK's list-nolabel rows) is introduced by a note or a header row just above.
        labels = _texts(row, self.columns.label)
        if kind == "note" or "label" in appearance:
            self.table_stem = (number, labels) if labels else stem
        elif "list-nolabel" not in appearance:
            self.table_stem = None
        reason = _not_imported_reason(kind)
        if reason:
            self._skip(number, row, reason)
            return
        name = row.get("name", "")
        if not name:
            self._skip(number, row, _("The question has no name, which XLSForm requires."))
            return
        base = kind.split(" ")[0]
        notes: list[str] = []
        question = {"row": number, "name": name, "required": False, "notes": notes}
        if base in ("select_one", "select_multiple"):
            if not self._select(question, row, kind, raw_type, appearance):
                return
        elif base in ("integer", "decimal"):
            question["type"] = NUMBER
            question["decimal"] = base == "decimal"
            question["min_value"], question["max_value"] = None, None
        elif base == "text":
            long = "multiline" in appearance
            question["type"] = LONG_TEXT if long else SHORT_TEXT
            question["max_length"] = LONG_TEXT_DEFAULT if long else SHORT_TEXT_DEFAULT
        else:
            self._skip(
                number,
                row,
                _("Convive does not know the question type “%(type)s”.") % {"type": raw_type},
            )
            return

        texts = self._wording(question, row, stem=stem if "list-nolabel" in appearance else None)
        if texts is None:
            return
        question["texts"], question["hints"] = texts
        self._required(question, row)
        self._constraint(question, row)
        self._condition(question, row)
        self._code(question)
        self._extras(question, row)
        self.questions.append(question)
        self.imported[name] = _Imported(
            code=question["code"],
            type=question["type"],
            values={
                original: choice.value
                for original, choice in question.get("choice_map", {}).items()
            },
        )
        self._entry(number, row, NOTED if notes else IMPORTED, notes, code=question["code"])

    def _select(self, question, row, kind, raw_type, appearance) -> bool:
        number = question["row"]
        parts = kind.split(" ")
        list_name = parts[1] if len(parts) > 1 else ""
        or_other = len(parts) > 2 and parts[2] == "or_other"
        if "label" in appearance:
            self._skip(
                number,
                row,
                _(
                    "A table's header row (appearance “label”): it only shows the answers above "
                    "the rows of a table and asks nothing."
                ),
            )
            return False
        if not list_name:
            self._skip(number, row, _("The type names no list of choices."))
            return False
        if "${" in list_name:
            self._skip(
                number,
                row,
                _(
                    "Its choices are built from earlier answers (%(list)s), for instance the "
                    "names of household members; Convive needs a fixed list of choices."
                )
                % {"list": list_name},
            )
            return False
        if len(parts) > 2 and not or_other:
            self._skip(
                number,
                row,
                _("Convive does not know the question type “%(type)s”.") % {"type": raw_type},
            )
            return False
        entries = self.lists.get(list_name)
        if entries is None:
            self._skip(
                number,
                row,
                _("The choices sheet has no list called “%(list)s”.") % {"list": list_name},
            )
            return False
        multiple = parts[0] == "select_multiple"
        choices, choice_map, used = [], {}, set()
        for choice_row, original, texts in entries:
            if not original:
                question["notes"].append(
                    _("The choice in row %(row)d of the choices sheet has no name; left out.")
                    % {"row": choice_row}
                )
                continue
            value = _unique(_slug(original) or f"choice-{len(choices) + 1}", used)
            if value != original.lower():
                question["notes"].append(
                    _("The choice “%(name)s” has the value “%(value)s” here.")
                    % {"name": original, "value": value}
                )
            choice = _Choice(value=value, texts=texts)
            choices.append(choice)
            choice_map.setdefault(original, choice)
        if or_other and "other" not in used:
            texts = {}
            for language in self.languages:
                with translation.override(language):
                    texts[language] = _("Other")
            choices.append(_Choice(value="other", texts=texts))
            choice_map.setdefault("other", choices[-1])
            question["notes"].append(
                _(
                    "“or_other”: an “Other” choice (value “other”) is added. The box where "
                    "people wrote which other is not created; add a short text question shown "
                    "when this answer is “other” if you need it."
                )
            )
        if len(choices) < 2:
            self._skip(
                number,
                row,
                _(
                    "The list “%(list)s” has fewer than 2 choices; a choice question needs at "
                    "least 2."
                )
                % {"list": list_name},
            )
            return False
        if multiple:
            question["type"] = MULTIPLE_CHOICE
        elif "likert" in appearance:
            if LIKERT_MIN_POINTS <= len(choices) <= LIKERT_MAX_POINTS:
                question["type"] = LIKERT
            else:
                question["type"] = SINGLE_CHOICE
                question["notes"].append(
                    _(
                        "Shown as a scale in the form, but a Convive scale has at most %(max)d "
                        "points: imported as a single choice question."
                    )
                    % {"max": LIKERT_MAX_POINTS}
                )
        else:
            question["type"] = SINGLE_CHOICE
        question["choices"] = choices
        question["choice_map"] = choice_map
        if row.get("choice_filter"):
            question["notes"].append(
                _(
                    "The form showed only some of the choices, depending on earlier answers "
                    "(“%(filter)s”); here everyone sees all %(count)d choices."
                )
                % {"filter": row["choice_filter"], "count": len(choices)}
            )
        return True

    def _wording(self, question, row, *, stem) -> tuple[dict, dict] | None:
        """Texts of the question, its hint and its choices in every language, checked.

        Returns None (and reports the row) when the page's column cannot be imported as it is
        written. A text of another language that is too long is left out (not offered as a
        translation) and said so.
        """
        number, notes = question["row"], question["notes"]
        formatting = False

        def cleaned(texts: dict[str, str]) -> dict[str, str]:
            nonlocal formatting
            result = {}
            for language, text in texts.items():
                result[language], changed = _plain(text)
                formatting |= changed
            return {language: text for language, text in result.items() if text}

        texts = cleaned(_texts(row, self.columns.label))
        help_texts = cleaned(_texts(row, self.columns.hint))
        choices = question.get("choices", [])
        for choice in choices:
            choice.texts = cleaned(choice.texts)

        if stem is not None:
            stem_texts = cleaned(stem[1])
            if not help_texts and len(self._pick(stem_texts, self.source)) <= HELP_TEXT_MAX_LENGTH:
                help_texts = stem_texts
                notes.append(
                    _(
                        "A row of a table: its text is only the row's heading. The table's "
                        "question (row %(row)d) becomes its help text."
                    )
                    % {"row": stem[0]}
                )
            else:
                notes.append(
                    _(
                        "A row of a table: its text is only the row's heading. Check that it "
                        "makes sense on its own."
                    )
                )

        source_text = self._pick(texts, self.source)
        if not source_text:
            self._skip(number, row, _("The question has no text in any language."))
            return None
        if len(source_text) > QUESTION_MAX_LENGTH:
            self._skip(
                number,
                row,
                _(
                    "The question's text has %(length)d characters; Convive allows %(limit)d. "
                    "It is not cut short: shorten it in the form and import again, or add the "
                    "question by hand."
                )
                % {"length": len(source_text), "limit": QUESTION_MAX_LENGTH},
            )
            return None
        for index, choice in enumerate(choices, start=1):
            label = self._pick(choice.texts, self.source)
            if not label:
                self._skip(
                    number,
                    row,
                    _("Choice %(number)d (“%(value)s”) has no text in any language.")
                    % {"number": index, "value": choice.value},
                )
                return None
            if len(label) > CHOICE_LABEL_MAX_LENGTH:
                self._skip(
                    number,
                    row,
                    _(
                        "Choice “%(value)s” has %(length)d characters; Convive allows %(limit)d "
                        "for a choice. It is not cut short: shorten it in the form and import "
                        "again."
                    )
                    % {
                        "value": choice.value,
                        "length": len(label),
                        "limit": CHOICE_LABEL_MAX_LENGTH,
                    },
                )
                return None
        source_help = self._pick(help_texts, self.source)
        if len(source_help) > HELP_TEXT_MAX_LENGTH:
            notes.append(
                _(
                    "The hint has %(length)d characters; Convive allows %(limit)d for help "
                    "text. Imported without the hint (it is not cut short)."
                )
                % {"length": len(source_help), "limit": HELP_TEXT_MAX_LENGTH}
            )
            help_texts = {}

        self._missing(
            texts, notes, _("No %(language)s text for the question; the %(fallback)s text is used.")
        )
        for choice in choices:
            self._missing(
                choice.texts,
                notes,
                _(
                    "No %(language)s text for the choice “%(value)s”; the %(fallback)s text is "
                    "used."
                ),
                value=choice.value,
            )
        too_long = sorted(
            {
                language
                for group, limit in (
                    (texts, QUESTION_MAX_LENGTH),
                    (help_texts, HELP_TEXT_MAX_LENGTH),
                    *((c.texts, CHOICE_LABEL_MAX_LENGTH) for c in choices),
                )
                for language, text in list(group.items())
                if len(text) > limit and group.pop(language)
            }
        )
        if too_long:
            notes.append(
                _(
                    "Its %(languages)s wording is longer than Convive allows, so it is not "
                    "offered as a translation."
                )
                % {"languages": ", ".join(_language_name(code, self.names) for code in too_long)}
            )

        every_text = [source_text, self._pick(help_texts, self.source)] + [
            self._pick(c.texts, self.source) for c in choices
        ]
        references = list(
            dict.fromkeys(m.group(0) for text in every_text for m in REFERENCE.finditer(text))
        )
        if references:
            notes.append(
                _(
                    "Its wording shows earlier answers (%(references)s). Convive shows the text "
                    "as written, with those references; reword it in the Questionnaire tab."
                )
                % {"references": ", ".join(references)}
            )
        if formatting:
            notes.append(
                _(
                    "Formatting (bold, italics, HTML) was removed from its texts; the words are "
                    "kept."
                )
            )
        return texts, help_texts

    def _missing(self, texts: dict[str, str], notes: list[str], message: str, **extra):
        if self.source not in texts:
            notes.append(
                message
                % {
                    "language": _language_name(self.source, self.names),
                    "fallback": _language_name(self._pick_language(texts, self.source), self.names),
                    **extra,
                }
            )

    def _pick_language(self, texts: dict[str, str], language: str) -> str:
        return next((code for code in self._fallbacks(language) if texts.get(code)), "")

    def _pick(self, texts: dict[str, str], language: str) -> str:
        code = self._pick_language(texts, language)
        return texts.get(code, "") if code else ""

    def _required(self, question, row):
        required = row.get("required", "").strip()
        if required.lower() in TRUE_VALUES:
            question["required"] = True
        elif required.lower() not in FALSE_VALUES:
            question["notes"].append(
                _(
                    "Required only when “%(expression)s”: Convive cannot tell, so the question "
                    "is optional."
                )
                % {"expression": required}
            )

    def _constraint(self, question, row):
        constraint = row.get("constraint", "").strip()
        if not constraint:
            return
        if question["type"] != NUMBER:
            question["notes"].append(
                _(
                    "The check on answers “%(expression)s” is not imported: Convive only checks "
                    "the smallest and largest number, the length of texts and the choices."
                )
                % {"expression": constraint}
            )
            return
        bounds = _number_bounds(constraint, name=question["name"], decimal=question["decimal"])
        if bounds is None:
            question["notes"].append(
                _(
                    "The check on answers “%(expression)s” is not imported: Convive can only "
                    "keep a smallest and a largest allowed number (such as “. >= 0 and . <= "
                    "120”). Any number is accepted."
                )
                % {"expression": constraint}
            )
            return
        question["min_value"], question["max_value"] = bounds

    def _condition(self, question, row):
        """Keep at most one condition: the question's own, else its innermost group's.

        A group's condition applies to every question in it, but a Convive question has one
        condition; so a question keeps its group's condition only when it has none of its own.
        Whatever is dropped is said, with who will now see the question.
        """
        notes = question["notes"]
        kept = None
        own = row.get("relevant", "").strip()
        dropped_own = False
        if own:
            kept, why = self._simple_condition(own)
            if kept is None:
                dropped_own = True
                notes.append(
                    _("The condition “%(expression)s” is not imported: %(why)s")
                    % {"expression": own, "why": why}
                )
            elif why:  # kept, with a difference to explain
                notes.append(why)
        dropped_groups = []
        for frame in reversed(self.stack):
            if not frame.relevant:
                continue
            if frame.condition is not None and kept is None:
                kept = frame.condition
                notes.append(
                    _("It keeps the condition of the group in row %(row)d: “%(expression)s”.")
                    % {"row": frame.row, "expression": frame.relevant}
                )
                if frame.why:
                    notes.append(frame.why)
            else:
                dropped_groups.append(frame)
        if dropped_groups:
            notes.append(
                ngettext(
                    "The condition of its group (row %(rows)s) is not kept (see that row).",
                    "The conditions of its groups (rows %(rows)s) are not kept (see those rows).",
                    len(dropped_groups),
                )
                % {"rows": ", ".join(str(frame.row) for frame in reversed(dropped_groups))}
            )
        if dropped_own or dropped_groups:
            if kept is None:
                notes.append(_("The question will be shown to everyone."))
            else:
                notes.append(
                    _("The question will be shown whenever “%(question)s” is answered “%(value)s”.")
                    % {"question": kept[0], "value": kept[1]}
                )
        question["condition"] = kept

    def _simple_condition(self, expression: str) -> tuple[tuple[str, str] | None, str]:
        """`(code, value)` for a condition Convive can keep, or None and the reason why not."""
        text = _strip_parentheses(expression)
        match = RELEVANT_EQUALS.match(text) or RELEVANT_SELECTED.match(text)
        if match is None:
            lowered = f" {text.lower()} "
            if any(word in lowered for word in (" and ", " or ", "not(", "not (")):
                why = _("it combines several conditions (and / or / not).")
            elif "count" in lowered or "sum(" in lowered:
                why = _("it counts or adds answers.")
            elif any(op in text for op in ("!=", ">", "<")):
                why = _("it compares with “not equal”, “greater” or “smaller”.")
            else:
                why = _("it is not of the form ${question} = 'answer' or selected(…).")
            return None, why + " " + _(
                "Convive can only show a question when one earlier choice question has one "
                "given answer."
            )
        name = match.group(1)
        value = next((g for g in match.groups()[1:] if g is not None), "")
        target = self.imported.get(name)
        if target is None:
            if name in self.not_imported:
                return None, _("it depends on “%(name)s” (row %(row)d), which is not imported.") % {
                    "name": name,
                    "row": self.not_imported[name],
                }
            return None, _("it depends on “%(name)s”, which is not an earlier question.") % {
                "name": name
            }
        if target.type not in (SINGLE_CHOICE, MULTIPLE_CHOICE, LIKERT):
            return None, _("it depends on “%(name)s”, which is not a choice question.") % {
                "name": name
            }
        if value not in target.values:
            return None, _("“%(value)s” is not one of the choices of “%(name)s”.") % {
                "value": value,
                "name": name,
            }
        difference = ""
        if target.type == MULTIPLE_CHOICE and match.re is RELEVANT_EQUALS:
            difference = _(
                "In the form, “%(expression)s” on the multiple choice question “%(name)s” meant "
                "“only that answer”; here the question is shown when “%(value)s” is among the "
                "answers ticked."
            ) % {"expression": expression, "name": name, "value": value}
        return (target.code, target.values[value]), difference

    def _code(self, question):
        name = question["name"]
        code = _unique(_slug(name) or f"q{question['row']}", self.used_codes)
        if code != name.lower():
            base = _slug(name)[:CODE_MAX_LENGTH]
            if base in self.existing_codes:
                reason = _(
                    "The code “%(base)s” is already used in this questionnaire; this question "
                    "gets the code “%(code)s”."
                )
            elif base and base != code:
                reason = _(
                    "Another question already has the code “%(base)s”; this one gets the "
                    "code “%(code)s”."
                )
            else:
                reason = _(
                    "Its name “%(name)s” is not a valid Convive code; it gets the code “%(code)s”."
                )
            question["notes"].append(reason % {"base": base, "code": code, "name": name})
        question["code"] = code

    def _extras(self, question, row):
        ignored = [
            column
            for column in ("calculation", "default", "read_only", "repeat_count", "trigger")
            if row.get(column) and row[column].lower() not in FALSE_VALUES
        ]
        if ignored:
            question["notes"].append(
                _("Not imported from this row: %(columns)s.") % {"columns": ", ".join(ignored)}
            )

    # The result

    def _result(self) -> XLSFormImport:
        blocks = {language: [] for language in self.languages}
        translations: dict[str, dict[str, str]] = {}
        for question in self.questions:
            source_block = self._block(question, self.source)
            for language in self.languages:
                block = source_block if language == self.source else self._block(question, language)
                blocks[language].append(block)
            self._translations(question, translations)
        return XLSFormImport(
            title=self.title,
            languages=self.languages,
            language_names={code: _language_name(code, self.names) for code in self.languages},
            source_language=self.source,
            page_language=self.page_language,
            blocks=blocks,
            translations=translations,
            report=[
                ReportEntry(**{**entry, "reasons": tuple(entry["reasons"])})
                for entry in self.report
            ],
            notes=self.notes,
        )

    def _block(self, question, language: str) -> dict:
        condition = question["condition"]
        value = {
            "code": question["code"],
            "question": self._pick(question["texts"], language),
            "help_text": self._pick(question["hints"], language),
            "required": question["required"],
            "condition": {
                "question": condition[0] if condition else "",
                "answer": condition[1] if condition else "",
            },
        }
        kind = question["type"]
        if kind in (SINGLE_CHOICE, MULTIPLE_CHOICE, LIKERT):
            value["choices"] = [
                {
                    "value": choice.value,
                    "label": self._pick(choice.texts, language),
                }
                for choice in question["choices"]
            ]
        elif kind == NUMBER:
            value.update(
                min_value=question["min_value"],
                max_value=question["max_value"],
                decimal=question["decimal"],
                unit="",
            )
        else:
            value["max_length"] = question["max_length"]
        return {"type": kind, "value": value}

    def _translations(self, question, translations):
        """Source text -> real translations, leaving out empty cells and texts that are too long."""
        pairs = [
            (question["texts"], QUESTION_MAX_LENGTH),
            (question["hints"], HELP_TEXT_MAX_LENGTH),
        ]
        pairs += [(choice.texts, CHOICE_LABEL_MAX_LENGTH) for choice in question.get("choices", [])]
        for texts, limit in pairs:
            source = self._pick(texts, self.source)
            if not source or len(source) > limit:
                continue
            for language, text in texts.items():
                if language in (self.source, self.page_language) or not text or len(text) > limit:
                    continue
                translations.setdefault(source, {}).setdefault(language, text)


def _normalised_type(raw_type: str) -> str:
    """The type with XLSForm's aliases resolved; the list name keeps its case."""
    text = raw_type.strip()
    for pattern, replacement in SELECT_ALIASES:
        text = pattern.sub(replacement, text, count=1)
    parts = text.split(" ")
    head = parts[0].lower()
    lowered = " ".join(p.lower() for p in parts)
    if lowered in TYPE_ALIASES:
        return TYPE_ALIASES[lowered]
    head = TYPE_ALIASES.get(head, head)
    if head in ("select_one", "select_multiple"):
        tail = parts[1:]
        if len(tail) > 1:
            tail = [tail[0], *(p.lower() for p in tail[1:])]
        return " ".join([head, *tail])
    return " ".join([head, *(p.lower() for p in parts[1:])])


def _not_imported_reason(kind: str) -> str:
    """Why a row of this type is not a Convive question, or "" if it may be one."""
    base = kind.split(" ")[0]
    if base in METADATA_TYPES:
        return _(
            "Form metadata recorded by the device (start and end time, device, user…), not a "
            "question. Convive records what it needs itself and never identifies the device."
        )
    reasons = {
        "note": _(
            "A note shows text and asks nothing. Convive has no notes between questions; put "
            "what matters in a question's help text or in the consultation's introduction."
        ),
        "calculate": _("A calculation is worked out by the form, not asked."),
        "date": _(
            "Convive has no date question. A short text question, or a time of day question "
            "for when something happens, can replace it."
        ),
        "time": _("Convive has no clock-time question; a time of day question can replace it."),
        "datetime": _("Convive has no date and time question."),
        "geopoint": _(
            "Convive asks where things happen through concerns and their map, not in the "
            "questionnaire, so that locations are protected the same way everywhere."
        ),
        "image": _(
            "Convive's questionnaire takes no files: photos belong with concerns, where they "
            "are cleaned of metadata and moderated."
        ),
        "barcode": _("Scanning codes is not something residents do in Convive."),
        "acknowledge": _(
            "A box to confirm something (such as consent) is not a question Convive stores."
        ),
        "rank": _(
            "Convive has no ranking question yet; a multiple choice question can replace it."
        ),
        "range": _(
            "Convive has no slider; a number question with a smallest and largest value "
            "can replace it."
        ),
        "select_one_from_file": _(
            "Its choices are in a separate file attached to the form, not in the spreadsheet."
        ),
        "hidden": _("A hidden field is not shown to anyone, so it is not a question."),
    }
    for alias, same in (
        ("geotrace", "geopoint"),
        ("geoshape", "geopoint"),
        ("audio", "image"),
        ("video", "image"),
        ("file", "image"),
        ("background-audio", "image"),
        ("select_multiple_from_file", "select_one_from_file"),
        ("select_one_external", "select_one_from_file"),
        ("xml-external", "select_one_from_file"),
        ("csv-external", "select_one_from_file"),
    ):
        reasons[alias] = reasons[same]
    if base in reasons:
        return reasons[base]
    if base in ("select_one", "select_multiple", "integer", "decimal", "text"):
        return ""
    return _("Convive does not know the question type “%(type)s”.") % {"type": kind}


def _number_bounds(constraint: str, *, name: str, decimal: bool) -> tuple | None:
    """(min, max) from a constraint such as `. >= 0 and . <= 120`, or None if it is not one.

    `${name}` for the question itself counts as `.`. For whole numbers a strict bound becomes the
    next whole number (`. > 0` is "at least 1"); for decimals it has no equivalent in Convive's
    inclusive limits, so the constraint is not imported.
    """
    text = REFERENCE.sub(lambda m: "." if m.group(1) == name else m.group(0), constraint)
    text = _strip_parentheses(" ".join(text.split()))
    if " or " in f" {text.lower()} " or "$" in text:
        return None
    low, high = None, None
    for clause in re.split(r"\s+and\s+", text, flags=re.IGNORECASE):
        clause = _strip_parentheses(clause)
        if "(" in clause or ")" in clause:
            return None
        match = BOUND_DOT_FIRST.match(clause)
        if match:
            operator, number = match.group(1), float(match.group(2))
        else:
            match = BOUND_DOT_LAST.match(clause)
            if match is None:
                return None
            operator, number = FLIPPED[match.group(2)], float(match.group(1))
        if operator in (">", "<"):
            if decimal:
                return None
            number = math.floor(number) + 1 if operator == ">" else math.ceil(number) - 1
            operator += "="
        elif not decimal:
            number = math.ceil(number) if operator == ">=" else math.floor(number)
        if operator in (">=", "="):
            low = number if low is None else max(low, number)
        if operator in ("<=", "="):
            high = number if high is None else min(high, number)
    if low is not None and high is not None and low > high:
        return None
    return low, high


def xlsform_parse(
    file,
    *,
    page_language: str,
    language: str = "",
    existing_codes: Iterable[str] = (),
) -> XLSFormImport:
    """Read an XLSForm (`.xlsx`, a path or a file object) and map it to questionnaire blocks.

    `page_language` is the language of the page that will receive the questions; `language`
    the column whose wording it gets (by default the page's own; if the form has no such column:
    the form's `default_language`, then English, then its first language). A cell left empty in
    that column falls back in the same order, and the report says so. `existing_codes` are the
    codes already in the questionnaire when the questions are appended: a clash gets a suffix.
    Raises `XLSFormError` when the file is not an XLSForm.
    """
    sheets = _read_workbook(file)
    parser = _Parser(
        sheets, page_language=page_language, language=language, existing_codes=existing_codes
    )
    return parser.run()
