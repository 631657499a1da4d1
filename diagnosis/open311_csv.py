"""Importing reports from another system's CSV file: Open311 GeoReport v2 requests, or the NYC
311 / Socrata export that many cities copy.

A facilitator brings reports that a municipal 311 system or an older reporting app collected
into a consultation, so they go through the same moderation and diagnosis as residents' own.
Four steps, each a function here, called by the admin (`diagnosis.open311_csv_admin`) and the
command (`import_open311_csv`):

1. `open311_csv_read` reads the file and finds its columns (`FileRefused` with a translated
   message for anything that is not such a file: wrong columns, not UTF-8, empty, too big).
2. `open311_mapping_suggest` proposes a Convive category for each of the file's categories (by
   code or name); the facilitator confirms or changes it, or chooses "do not import".
3. `open311_import_check` checks every row against the mapping and the consultation's rules
   *without storing anything* and says which rows will be imported, which are skipped and why.
4. `open311_import_run` stores the accepted rows in one transaction (all or nothing) through
   `concern_submit`, the one path by which concerns enter the database, with
   `source=IMPORT`, the original request date and an idempotency key derived from the source
   system's name and the row's request ID: the same file imported twice adds nothing.

What is kept: the request ID (only inside the idempotency key), category, the sub-category text
(`description` / NYC `descriptor`) as the concern's text, the request date, the exact point
(the public sees it fuzzed, as any concern), and the address as the place description when a
row has no coordinates. What is dropped: status, status notes, agency, media URLs and every
contact column (name, e-mail, phone, device or account ID) — contact details are never read
from a file. Imported concerns wait for moderation unless a moderator asks to approve them on
import. See docs/open311-import.md.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.log_actions import log

from maps.models import Area

from .models import Concern, ConcernCategory
from .pages import ConsultationPage
from .selectors import category_catalogue
from .services import ConcernRejected, concern_moderate_bulk, concern_submit
from .services.concerns import CategoryChoice, consultation_area_ids, consultation_category_keys
from .services.moderation import MODERATE_PERMISSION
from .services.processing import moderators_notify_import

# Limits, overridable in settings (docs/open311-import.md).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ROWS = 20_000
# How many example rows the preview lists for each reason a row is skipped.
EXAMPLES_PER_REASON = 10

# uuid5(source system + request ID) under this namespace is a row's idempotency key: a fixed
# value, so keys are the same on every installation and across versions of this code.
IMPORT_NAMESPACE = uuid.UUID("6f0d9a52-3c1e-5b8f-9a41-0e7c2d311c5a")

OPEN311, NYC311 = "open311", "nyc311"
DIALECT_LABELS = {
    OPEN311: gettext_lazy("Open311 GeoReport v2"),
    NYC311: gettext_lazy("NYC 311 / Socrata"),
}

# Our field → the column names that can hold it, Open311's first. Header cells are compared
# after `_column_name` (lower case, runs of other characters as "_"), so "Unique Key" and
# "unique_key" are the same column (NYC Open Data's website export and its API export).
ALIASES = {
    "request_id": ("service_request_id", "unique_key"),
    "service_code": ("service_code",),
    "service_name": ("service_name", "complaint_type"),
    "description": ("description", "descriptor"),
    "requested": ("requested_datetime", "created_date"),
    "lat": ("lat", "latitude"),
    "long": ("long", "lon", "lng", "longitude"),
    "address": ("address", "incident_address"),
    "city": ("city", "borough"),
}
# Contact details an Open311 client may have sent: never read, and the preview says so.
CONTACT_COLUMNS = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "name",
        "phone",
        "phone_number",
        "device_id",
        "account_id",
        "contact_name",
        "contact_email",
        "contact_phone",
    }
)

# Why a row is not imported, in the order the preview lists them.
NO_ID, DUPLICATE, NO_CATEGORY, UNMAPPED, BAD_DATE, BAD_COORDINATES, NO_LOCATION, OUTSIDE = (
    "no_id",
    "duplicate",
    "no_category",
    "unmapped",
    "bad_date",
    "bad_coordinates",
    "no_location",
    "outside",
)
REASONS = {
    NO_ID: gettext_lazy("No request ID"),
    DUPLICATE: gettext_lazy("Same request ID as an earlier row"),
    NO_CATEGORY: gettext_lazy("No category"),
    UNMAPPED: gettext_lazy("Category set to “do not import”"),
    BAD_DATE: gettext_lazy("Request date missing, unreadable or in the future"),
    BAD_COORDINATES: gettext_lazy("Coordinates unreadable or impossible"),
    NO_LOCATION: gettext_lazy("No coordinates and no address"),
    OUTSIDE: gettext_lazy("Point outside the consultation's areas"),
}

US_DATETIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S")


class FileRefused(Exception):
    """The file as a whole cannot be imported; `message` is in the user's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = str(message)


class ImportRefused(Exception):
    """The import was stopped and nothing was stored; `message` is in the user's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = str(message)


def max_bytes() -> int:
    return int(getattr(settings, "CONVIVE_OPEN311_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows() -> int:
    return int(getattr(settings, "CONVIVE_OPEN311_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


# --- Step 1: reading the file -------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One data row as the file has it (text), with `line` its row number (header = 1)."""

    line: int
    request_id: str
    category: str  # the source category key: service_name, else service_code
    service_code: str
    description: str
    requested: str
    lat: str
    long: str
    address: str
    city: str


@dataclass(frozen=True)
class SourceCategory:
    key: str
    code: str
    count: int


@dataclass
class SourceFile:
    dialect: str
    columns: dict[str, str]  # our field → the header cell that holds it
    ignored_columns: list[str]
    contact_columns: list[str]
    rows: list[SourceRow]
    categories: list[SourceCategory] = field(default_factory=list)

    @property
    def dialect_label(self) -> str:
        return str(DIALECT_LABELS[self.dialect])

    @property
    def default_source_system(self) -> str:
        return self.dialect


def _column_name(cell: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", cell.strip().lstrip("\ufeff").lower()).strip("_")


def _decode(data: bytes) -> str:
    if data[:2] == b"PK":
        raise FileRefused(
            _(
                "This is a spreadsheet workbook, not a CSV file. Export or save it as "
                "“CSV UTF-8” and upload that file."
            )
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise FileRefused(
            _("The file is in UTF-16. Save it as “CSV UTF-8” (comma delimited) and try again.")
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRefused(
            _(
                "The file is not in UTF-8, so its characters cannot be read reliably (byte "
                "%(position)d). Export it again as “CSV UTF-8”."
            )
            % {"position": error.start + 1}
        ) from error


def _delimiter(header: str) -> str:
    """The separator the header row has most of: it holds column names only."""
    counts = {delimiter: header.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def open311_csv_read(file) -> SourceFile:
    """Read an uploaded (or opened) CSV file; raise `FileRefused` for anything unusable.

    UTF-8 with or without byte order mark; commas, semicolons or tabs between columns. At most
    `CONVIVE_OPEN311_IMPORT_MAX_BYTES` bytes and `CONVIVE_OPEN311_IMPORT_MAX_ROWS` rows.
    """
    limit = max_bytes()
    data = file.read(limit + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > limit:
        raise FileRefused(
            _(
                "The file is larger than %(size)s MB, the most that can be imported at once. "
                "Export fewer rows (a shorter period, or one area) and import each file."
            )
            % {"size": f"{limit / (1024 * 1024):g}"}
        )
    text = _decode(data)
    if not text.strip():
        raise FileRefused(_("The file is empty: its first row must name the columns."))
    delimiter = _delimiter(text.split("\n", 1)[0])
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise FileRefused(
            _("The file is not a CSV file that can be read: %(error)s") % {"error": error}
        ) from error
    header_cells = records[0] if records else []
    header = [_column_name(cell) for cell in header_cells]
    columns, index = {}, {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            if alias in header:
                columns[name] = header_cells[header.index(alias)].strip().lstrip("\ufeff")
                index[name] = header.index(alias)
                break
    missing = []
    if "request_id" not in index:
        missing.append("service_request_id / unique_key")
    if "service_name" not in index and "service_code" not in index:
        missing.append("service_name / service_code / complaint_type")
    if "requested" not in index:
        missing.append("requested_datetime / created_date")
    if missing:
        raise FileRefused(
            _(
                "This does not look like a file of Open311 or 311 service requests: no column "
                "%(missing)s. The first row must name the columns; see the accepted columns on "
                "this page."
            )
            % {"missing": _(" nor ").join(missing)}
        )
    dialect = NYC311 if "unique_key" in header or "complaint_type" in header else OPEN311
    used = set(index.values())
    contact = [header_cells[i] for i, name in enumerate(header) if name in CONTACT_COLUMNS]
    ignored = [
        header_cells[i]
        for i, name in enumerate(header)
        if i not in used and name and name not in CONTACT_COLUMNS
    ]

    def cell(record, name):
        position = index.get(name)
        if position is None or position >= len(record):
            return ""
        return record[position].strip()

    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(value.strip() for value in record):
            continue
        name = cell(record, "service_name")
        code = cell(record, "service_code")
        rows.append(
            SourceRow(
                line=number,
                request_id=cell(record, "request_id"),
                category=name or code,
                service_code=code,
                description=cell(record, "description"),
                requested=cell(record, "requested"),
                lat=cell(record, "lat"),
                long=cell(record, "long"),
                address=" ".join(cell(record, "address").split()),
                city=" ".join(cell(record, "city").split()),
            )
        )
        if len(rows) > max_rows():
            raise FileRefused(
                _(
                    "The file has more than %(max)d requests, the most that can be imported at "
                    "once. Export fewer rows and import each file."
                )
                % {"max": max_rows()}
            )
    if not rows:
        raise FileRefused(_("The file has no requests, only the row naming the columns."))
    counts = Counter(row.category for row in rows if row.category)
    codes = {}
    for row in rows:
        codes.setdefault(row.category, row.service_code)
    categories = [
        SourceCategory(key=key, code=codes.get(key, ""), count=count)
        for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0].casefold()))
    ]
    return SourceFile(
        dialect=dialect,
        columns=columns,
        ignored_columns=ignored,
        contact_columns=contact,
        rows=rows,
        categories=categories,
    )


# --- Step 2: the mapping --------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetCategory:
    """One of the consultation's enabled categories, as the mapping offers it."""

    key: uuid.UUID
    code: str
    name: str
    sensitive: bool
    kind: str


def open311_targets(consultation: ConsultationPage) -> list[TargetCategory]:
    """The consultation's enabled categories, named in the active language. Sensitive ones are
    offered too: their concerns stay protected downstream (never a point on any public map)."""
    catalogue = category_catalogue()
    keys = consultation_category_keys(consultation)
    targets = [
        TargetCategory(
            key=key,
            code=entry["code"],
            name=entry["name"],
            sensitive=entry["sensitive"],
            kind=entry["kind"],
        )
        for key, entry in catalogue.items()
        if key in keys
    ]
    order = {key: entry["sort_order"] for key, entry in catalogue.items()}
    return sorted(targets, key=lambda t: (order.get(t.key, 0), t.name.casefold()))


def open311_mapping_suggest(
    *, consultation: ConsultationPage, source: SourceFile
) -> dict[str, uuid.UUID | None]:
    """A category for each source category where a code or name matches, else None.

    In order: the service code or the slug of the name equals a category's code; the name equals
    a category's name in any language (ignoring case); the slug of the name begins with a
    category's code followed by "-" ("Noise - Residential" → `noise`; the longest code wins).
    """
    keys = consultation_category_keys(consultation)
    rows = ConcernCategory.objects.filter(translation_key__in=keys).values_list(
        "translation_key", "code", "name"
    )
    by_code, by_name = {}, {}
    for key, code, name in rows:
        if code:
            by_code.setdefault(code.lower(), key)
        by_name.setdefault(" ".join(name.split()).casefold(), key)
    suggestion = {}
    for category in source.categories:
        slug = slugify(category.key)
        found = (
            by_code.get(category.code.lower())
            or by_code.get(slugify(category.code))
            or by_code.get(slug)
            or by_name.get(" ".join(category.key.split()).casefold())
        )
        if found is None:
            prefixes = [code for code in by_code if slug.startswith(f"{code}-")]
            if prefixes:
                found = by_code[max(prefixes, key=len)]
        suggestion[category.key] = found
    return suggestion


# --- Step 3: checking every row -------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedConcern:
    line: int
    request_id: str
    idempotency_key: uuid.UUID
    category_key: uuid.UUID
    description: str
    submitted_at: datetime
    point: tuple[float, float] | None  # (lon, lat)
    place_description: str


@dataclass(frozen=True)
class SkippedRow:
    line: int
    request_id: str
    category: str
    detail: str


@dataclass
class ImportPlan:
    """What an import would do, worked out without storing anything."""

    total: int
    accepted: list[PlannedConcern]
    skipped: dict[str, list[SkippedRow]]
    already: list[SkippedRow]
    address_only: int
    source_system: str
    language: str

    @property
    def skipped_count(self) -> int:
        return sum(len(rows) for rows in self.skipped.values())

    @property
    def with_coordinates(self) -> int:
        return len(self.accepted) - self.address_only

    def reasons(self, examples: int = EXAMPLES_PER_REASON) -> list[dict]:
        """Each reason with rows, in the documented order: label, count, the first examples."""
        return [
            {
                "code": code,
                "label": str(REASONS[code]),
                "count": len(self.skipped[code]),
                "examples": self.skipped[code][:examples],
            }
            for code in REASONS
            if self.skipped.get(code)
        ]


def source_system_clean(value: str) -> str:
    """The name that, with a row's request ID, identifies a report: trimmed, lower case."""
    return " ".join(value.split()).casefold()[:100]


def import_key(source_system: str, request_id: str) -> uuid.UUID:
    """A row's idempotency key: the same source system and request ID give the same key."""
    return uuid.uuid5(IMPORT_NAMESPACE, f"{source_system_clean(source_system)}\n{request_id}")


def time_zone_get(name: str) -> ZoneInfo:
    """The zone of dates written without one; `FileRefused` for an unknown name."""
    if name not in available_timezones():
        raise FileRefused(
            _("“%(zone)s” is not a time zone name such as America/New_York.") % {"zone": name}
        )
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as error:  # pragma: no cover - listed but not loadable
        raise FileRefused(
            _("“%(zone)s” is not a time zone name such as America/New_York.") % {"zone": name}
        ) from error


def parse_requested(text: str, *, zone: ZoneInfo) -> datetime:
    """ISO 8601 (Open311; Socrata's API without zone), or the US form of NYC Open Data's website
    export ("05/27/2024 02:08:51 AM"). Dates without a zone are in `zone`. ValueError otherwise."""
    value = text.strip()
    if not value:
        raise ValueError("empty")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        for form in US_DATETIME_FORMATS:
            try:
                parsed = datetime.strptime(value, form)
                break
            except ValueError:
                continue
        else:
            raise
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def _coordinates(row: SourceRow) -> tuple[float, float] | None:
    """(lon, lat), None without coordinates; ValueError when they are not a place on Earth.
    A 0,0 pair (what some systems write for "unknown") counts as no coordinates."""
    if not row.lat and not row.long:
        return None
    lat, lon = float(row.lat.replace(",", ".")), float(row.long.replace(",", "."))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # NaN and infinities fail too
        raise ValueError("out of range")
    if lat == 0 and lon == 0:
        return None
    return lon, lat


def _place_description(row: SourceRow) -> str:
    max_length = Concern._meta.get_field("place_description").max_length
    place = ", ".join(part for part in (row.address, row.city) if part)
    return place[:max_length]


def open311_import_check(
    *,
    consultation: ConsultationPage,
    source: SourceFile,
    mapping: dict[str, uuid.UUID | None],
    source_system: str,
    language: str,
    time_zone: str,
    now: datetime | None = None,
) -> ImportPlan:
    """Check every row against the mapping and the consultation's rules; store nothing.

    The rules are those `concern_submit` applies (it checks again on import): the category must
    be enabled on the consultation (the mapping only offers those), a point must fall inside
    one of its areas (checked here against the same boundaries, in memory), and a row without
    a point needs a place description — the address. Rows whose idempotency key was already
    used are counted as already imported.
    """
    zone = time_zone_get(time_zone)
    now = now or timezone.now()
    system = source_system_clean(source_system) or source.default_source_system
    enabled = consultation_category_keys(consultation)
    areas = [
        area.geometry.prepared
        for area in Area.objects.filter(pk__in=consultation_area_ids(consultation)).only("geometry")
    ]
    description_max = Concern._meta.get_field("description").max_length
    skipped: dict[str, list[SkippedRow]] = {code: [] for code in REASONS}
    planned: list[PlannedConcern] = []
    seen: dict[str, int] = {}
    address_only = 0

    for row in source.rows:

        def skip(reason, detail="", row=row):
            skipped[reason].append(SkippedRow(row.line, row.request_id, row.category, detail))

        if not row.request_id:
            skip(NO_ID)
            continue
        if row.request_id in seen:
            skip(DUPLICATE, _("Row %(line)d") % {"line": seen[row.request_id]})
            continue
        seen[row.request_id] = row.line
        if not row.category:
            skip(NO_CATEGORY)
            continue
        target = mapping.get(row.category)
        if target is None or target not in enabled:
            skip(UNMAPPED)
            continue
        try:
            submitted_at = parse_requested(row.requested, zone=zone)
        except ValueError:
            skip(BAD_DATE, row.requested[:40])
            continue
        if submitted_at > now:
            skip(BAD_DATE, row.requested[:40])
            continue
        try:
            point = _coordinates(row)
        except ValueError:
            skip(BAD_COORDINATES, f"{row.lat[:20]}, {row.long[:20]}")
            continue
        place = ""
        if point is None:
            place = _place_description(row)
            if not place:
                skip(NO_LOCATION)
                continue
            address_only += 1
        elif not any(area.contains(Point(*point, srid=4326)) for area in areas):
            skip(OUTSIDE, f"{point[1]:.5f}, {point[0]:.5f}")
            continue
        planned.append(
            PlannedConcern(
                line=row.line,
                request_id=row.request_id,
                idempotency_key=import_key(system, row.request_id),
                category_key=target,
                description=row.description[:description_max],
                submitted_at=submitted_at,
                point=point,
                place_description=place,
            )
        )

    used = set()
    keys = [item.idempotency_key for item in planned]
    for start in range(0, len(keys), 500):
        used |= set(
            Concern.objects.filter(idempotency_key__in=keys[start : start + 500]).values_list(
                "idempotency_key", flat=True
            )
        )
    already = [
        SkippedRow(item.line, item.request_id, "", "")
        for item in planned
        if item.idempotency_key in used
    ]
    accepted = [item for item in planned if item.idempotency_key not in used]
    address_only -= sum(
        1 for item in planned if item.idempotency_key in used and item.point is None
    )
    return ImportPlan(
        total=len(source.rows),
        accepted=accepted,
        skipped={code: rows for code, rows in skipped.items() if rows},
        already=already,
        address_only=address_only,
        source_system=system,
        language=language,
    )


# --- Step 4: storing --------------------------------------------------------------------------


def open311_import_allowed(user, consultation: ConsultationPage) -> bool:
    """Facilitators: whoever may enter concerns on residents' behalf (`diagnosis.add_concern`,
    as the admin's paper entry), or may edit the consultation."""
    if not (user.is_active and user.is_authenticated):
        return False
    return user.has_perm("diagnosis.add_concern") or (
        consultation.permissions_for_user(user).can_edit()
    )


def open311_can_approve(user) -> bool:
    return user.is_active and user.has_perm(MODERATE_PERMISSION)


@dataclass
class ImportOutcome:
    created: int
    already: int
    approved: int
    skipped: int


def _category_rows(consultation: ConsultationPage, keys: set[uuid.UUID]) -> dict:
    """For each key, the category row in the consultation's language when there is one: the
    row a concern records as "what was shown"."""
    chosen = {}
    rows = ConcernCategory.objects.filter(translation_key__in=keys).values_list(
        "pk", "translation_key", "locale_id"
    )
    for pk, key, _locale in sorted(rows, key=lambda r: (r[2] != consultation.locale_id, r[0])):
        chosen.setdefault(key, CategoryChoice(pk=pk, translation_key=key))
    return chosen


def open311_import_run(
    *, consultation: ConsultationPage, plan: ImportPlan, user, approve: bool = False
) -> ImportOutcome:
    """Store the plan's accepted rows in one transaction, all or nothing.

    Every row goes through `concern_submit` (source IMPORT, `enforce_open=False`, the request
    date as `submitted_at`, `entered_by=user`; `user` is None only for an operator's command
    line). Should it refuse a row the check accepted (the
    consultation's areas changed in between), nothing is stored and `ImportRefused` says which
    row. `approve` (moderators only, else PermissionDenied) approves the new concerns through
    `concern_moderate_bulk`, which keeps the public map counts right; otherwise they wait for
    moderation like any other concern.
    """
    if user is not None and not open311_import_allowed(user, consultation):
        raise PermissionDenied
    if approve and (user is None or not open311_can_approve(user)):
        raise PermissionDenied
    categories = _category_rows(consultation, {item.category_key for item in plan.accepted})
    created, already = [], len(plan.already)
    with transaction.atomic():
        for item in plan.accepted:
            try:
                result = concern_submit(
                    consultation=consultation,
                    category=categories[item.category_key],
                    idempotency_key=item.idempotency_key,
                    language=plan.language,
                    description=item.description,
                    point=Point(*item.point, srid=4326) if item.point else None,
                    place_description=item.place_description,
                    source=Concern.Source.IMPORT,
                    entered_by=user,
                    enforce_open=False,
                    submitted_at=item.submitted_at,
                )
            except (ConcernRejected, KeyError) as refusal:
                message = getattr(refusal, "message", "") or _("The category is not enabled.")
                raise ImportRefused(
                    _("Row %(line)d (request %(id)s) was refused: %(message)s Nothing was stored.")
                    % {"line": item.line, "id": item.request_id, "message": message}
                ) from None
            if result.created:
                created.append(result.concern)
                log(result.concern, "wagtail.create", user=user)
            else:
                already += 1
        if approve and created:
            concern_moderate_bulk(concerns=created, user=user, status=Concern.Status.APPROVED)
        elif created:
            waiting = len(created)
            transaction.on_commit(
                lambda: moderators_notify_import(consultation=consultation, count=waiting)
            )
    return ImportOutcome(
        created=len(created),
        already=already,
        approved=len(created) if approve else 0,
        skipped=plan.skipped_count,
    )
