"""The diagnosis engine: a consultation's approved concerns and questionnaire responses, counted
into the tables of an immutable snapshot.

Every number comes from a GROUP BY in the database (`values(...).annotate(Count(...))`, or one
SQL statement over the JSON list of who is affected): Python only sorts and divides the few
aggregated rows, whatever the number of concerns. A run is a fixed list of `STEPS`; after each
one a separate UPDATE records progress, a heartbeat and the log, so the admin's polling page sees
it move, and that UPDATE only succeeds while nobody asked to cancel, so cancellation is honoured
between steps. The snapshot and all its rows are written in one transaction at the end: a run
that is cancelled or fails leaves nothing behind.

Counts are raw. Small-number suppression (k, kept in the snapshot's parameters) is applied when
the snapshot is published, and the statistics (intervals, post-stratification, hotspots) live in
`diagnosis.statistics`. Same inputs, same parameters → the same rows in the same order and the
same `content_hash`.

Inputs, for method version 2 (version 1 had only the nine concern and participation tables):
- concerns: `status = approved`, of the consultation (by translation key, whatever language they
  came in), submitted within the window (whole days in the site's time zone, both ends included);
- questionnaire responses: of the consultation, dated within the window by the day written on
  the form when a facilitator typed a paper form in, else the day they were submitted.
"""

import datetime
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maps.demography import AgeBand, Sex
from maps.geometry import Lat, Lon, grid_cell
from maps.models import (
    WALK_PARAMETER_FIELDS,
    WALK_PARAMETERS,
    Area,
    AreaPopulation,
    ModerationStatus,
    WalkScore,
    WalkStop,
)

from . import statistics
from .indicators import INDICATORS, indicator_labels, stratum
from .models import (
    Answer,
    Concern,
    ConcernCategory,
    ConsultationPage,
    DiagnosisResult,
    DiagnosisRun,
    DiagnosisSnapshot,
    PreventionType,
    QuestionnaireResponse,
    SnapshotPublication,
)

METHOD_VERSION = "2"
DEFAULT_K = 5
MIN_K = 3
MAX_K = 100
# A gender, age band or time band the resident left blank. Distinct from "unsaid" ("prefer not
# to say"), which is an answer.
NOT_STATED = "not-stated"
RESULT_BATCH = 1000

Status = DiagnosisRun.Status


class RunStopped(Exception):
    """The run was cancelled (or marked interrupted) while it computed; nothing is stored."""


# --- Parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameters:
    """What a run was asked for; stored in the run and copied into its snapshot."""

    k: int = DEFAULT_K
    window_from: datetime.date | None = None
    window_to: datetime.date | None = None
    method_version: str = METHOD_VERSION

    def as_json(self) -> dict:
        return {
            "k": self.k,
            "window_from": self.window_from.isoformat() if self.window_from else None,
            "window_to": self.window_to.isoformat() if self.window_to else None,
            "method_version": self.method_version,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Parameters":
        """Read and check stored parameters; ValueError says what is wrong."""
        version = str(data.get("method_version", ""))
        if version != METHOD_VERSION:
            raise ValueError(
                f"This run asks for diagnosis method version {version!r}; "
                f"this code computes version {METHOD_VERSION}."
            )
        dates = {}
        for name in ("window_from", "window_to"):
            value = data.get(name)
            dates[name] = datetime.date.fromisoformat(value) if value else None
        return parameters_check(k=data.get("k", DEFAULT_K), **dates)


def parameters_check(*, k: int = DEFAULT_K, window_from=None, window_to=None) -> Parameters:
    """Parameters a run may use: k a whole number from MIN_K to MAX_K (the suppression threshold
    is never below 3, the data rules say), and a window whose start is not after its end."""
    if isinstance(k, bool) or not isinstance(k, int) or not MIN_K <= k <= MAX_K:
        raise ValueError(f"k must be a whole number from {MIN_K} to {MAX_K}, not {k!r}.")
    if window_from and window_to and window_from > window_to:
        raise ValueError("The time window starts after it ends.")
    return Parameters(k=k, window_from=window_from, window_to=window_to)


# --- Tables -------------------------------------------------------------------------------------


def _choices(pairs) -> Callable[[], dict[str, str]]:
    def labels() -> dict[str, str]:
        return {
            **{value: str(label) for value, label in pairs},
            NOT_STATED: str(_("Not stated")),
        }

    return labels


def _age_choices():
    return Concern._meta.get_field("age_band").choices


def _labels(pairs) -> Callable[[], dict[str, str]]:
    """Labels of codes that are never "not stated" (question codes, audit parameters…)."""

    def labels() -> dict[str, str]:
        return {value: str(label) for value, label in pairs}

    return labels


PARTICIPANTS = (
    ("concerns", _("People who reported concerns")),
    ("responses", _("People who answered the questionnaire")),
)


@dataclass(frozen=True)
class Table:
    """One table of a snapshot: what each row counts, and over what (`total`)."""

    code: str
    label: object
    total_label: object  # what the denominator of a row's share is
    columns: tuple[str, ...]  # of "area", "cell", "category", "group", "subgroup"
    group_label: object = ""
    subgroup_label: object = ""
    group_labels: Callable[[], dict[str, str]] | None = None
    subgroup_labels: Callable[[], dict[str, str]] | None = None


TABLES: dict[str, Table] = {
    table.code: table
    for table in (
        Table(
            "concerns_by_category",
            _("Concerns by category"),
            _("all approved concerns"),
            ("category",),
        ),
        Table(
            "concerns_by_prevention_type",
            _("Concerns by type of prevention"),
            _("all approved concerns"),
            ("group",),
            group_label=_("Type of prevention"),
            group_labels=_choices(PreventionType.choices),
        ),
        Table(
            "concerns_by_category_gender",
            _("Concerns by category and gender"),
            _("concerns from people of this gender"),
            ("category", "group"),
            group_label=_("Gender"),
            group_labels=_choices(Concern.Gender.choices),
        ),
        Table(
            "concerns_by_category_age",
            _("Concerns by category and age band"),
            _("concerns from people of this age band"),
            ("category", "group"),
            group_label=_("Age band"),
            group_labels=lambda: _choices(_age_choices())(),
        ),
        Table(
            "concerns_by_area_category",
            _("Concerns by area and category"),
            _("concerns in this area"),
            ("area", "category"),
        ),
        Table(
            "concerns_by_category_time_band",
            _("Concerns by category and time of day"),
            _("concerns of this category"),
            ("category", "group"),
            group_label=_("When"),
            group_labels=_choices(Concern.TimeBand.choices),
        ),
        Table(
            "concerns_by_category_affected",
            _("Concerns by category and who is affected"),
            _("concerns of this category (a concern may name several groups)"),
            ("category", "group"),
            group_label=_("Who is affected"),
            group_labels=_choices(Concern.Affected.choices),
        ),
        Table(
            "participation_concerns",
            _("Who reported concerns, by gender and age band"),
            _("all approved concerns"),
            ("group", "subgroup"),
            group_label=_("Gender"),
            subgroup_label=_("Age band"),
            group_labels=_choices(Concern.Gender.choices),
            subgroup_labels=lambda: _choices(_age_choices())(),
        ),
        Table(
            "participation_responses",
            _("Who answered the questionnaire, by gender and age band"),
            _("all questionnaire responses"),
            ("group", "subgroup"),
            group_label=_("Gender"),
            subgroup_label=_("Age band"),
            group_labels=_choices(Concern.Gender.choices),
            subgroup_labels=lambda: _choices(_age_choices())(),
        ),
        # Perception indicators (`diagnosis.indicators`): count = unfavourable answers, total =
        # valid answers; low/high the 95 % interval; detail {"values", "excluded", …}.
        Table(
            "perception",
            _("Perception indicators"),
            _("residents who answered the question (don't know and prefer not to say left out)"),
            ("group",),
            group_label=_("Indicator"),
            group_labels=indicator_labels,
        ),
        Table(
            "perception_weighted",
            _("Perception indicators weighted to the population by sex and age band"),
            _("residents who answered the question"),
            ("group",),
            group_label=_("Indicator"),
            group_labels=indicator_labels,
        ),
        Table(
            "perception_by_gender",
            _("Perception indicators by gender"),
            _("residents of this gender who answered the question"),
            ("group", "subgroup"),
            group_label=_("Indicator"),
            subgroup_label=_("Gender"),
            group_labels=indicator_labels,
            subgroup_labels=_choices(Concern.Gender.choices),
        ),
        Table(
            "perception_by_age",
            _("Perception indicators by age band"),
            _("residents of this age band who answered the question"),
            ("group", "subgroup"),
            group_label=_("Indicator"),
            subgroup_label=_("Age band"),
            group_labels=indicator_labels,
            subgroup_labels=lambda: _choices(_age_choices())(),
        ),
        # value = representativeness index R (1 − dissimilarity) against the population of the
        # consultation's areas; count = participants with a known sex and age band.
        Table(
            "participation_profile",
            _("How closely participants resemble the residents (representativeness)"),
            _("all participants"),
            ("group",),
            group_label=_("Participants"),
            group_labels=_labels(PARTICIPANTS),
        ),
        # One row per public grid cell: count = risk concerns, total = every located
        # contribution there (exposure); value = observed / expected; detail the test.
        Table(
            "hotspots",
            _("Cells with more risks reported than participation predicts"),
            _("located contributions in the cell (concerns, assets and walk stops)"),
            ("cell",),
        ),
        Table(
            "assets_by_cell",
            _("Assets by cell"),
            _("all located assets"),
            ("cell", "category"),
        ),
        Table(
            "walk_scores",
            _("Safety walk audit scores by area"),
            _("approved walk stops in the area"),
            ("area", "group"),
            group_label=_("Condition"),
            group_labels=_labels([(name, label) for name, label, _help in WALK_PARAMETERS]),
        ),
        Table(
            "walk_feelings",
            _("How safe walkers felt, by area"),
            _("approved walk stops in the area"),
            ("area", "group"),
            group_label=_("Feeling"),
            group_labels=_labels(WalkStop.Feeling.choices),
        ),
        Table(
            "change_area_category",
            _("Change since the previous round: concerns by area and category"),
            _("concerns in this area (this round)"),
            ("area", "category"),
        ),
        Table(
            "change_perception",
            _("Change since the previous round: perception indicators"),
            _("residents who answered the question (this round)"),
            ("group",),
            group_label=_("Indicator"),
            group_labels=indicator_labels,
        ),
    )
}
TABLE_ORDER = {code: position for position, code in enumerate(TABLES)}


class _Share:
    """The default of `Row.value`: the row's count / total."""

    def __repr__(self) -> str:
        return "SHARE"


SHARE = _Share()


@dataclass(frozen=True)
class Row:
    """One result row before it is stored (see `DiagnosisResult`).

    `value` is count / total unless a table gives it (a weighted share, a mean score, a ratio,
    or None when there is nothing to say); `low`/`high` are a 95 % interval and `detail` the
    table's other numbers, plain JSON.
    """

    table: str
    count: int
    total: int
    area_id: int | None = None
    category_key: uuid.UUID | None = None
    group: str = ""
    subgroup: str = ""
    cell_x: int | None = None
    cell_y: int | None = None
    value: float | _Share | None = SHARE
    low: float | None = None
    high: float | None = None
    detail: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.value is SHARE:
            object.__setattr__(self, "value", self.share)

    @property
    def share(self) -> float | None:
        return self.count / self.total if self.total else None

    def sort_key(self) -> tuple:
        return (
            TABLE_ORDER[self.table],
            -1 if self.area_id is None else self.area_id,
            (self.cell_x is not None, self.cell_x or 0, self.cell_y or 0),
            str(self.category_key or ""),
            self.group,
            self.subgroup,
        )

    def canonical(self) -> list:
        """What the content hash covers, as JSON-ready values (`content_hash` sorts the keys
        of `detail`). A row that carries nothing beyond count / total (every row of the first
        nine tables) hashes as it did before the cell, interval and detail fields existed, so
        snapshots stored then still verify."""
        base = [
            self.table,
            self.area_id,
            str(self.category_key) if self.category_key else None,
            self.group,
            self.subgroup,
            self.count,
            self.total,
        ]
        extra = [self.cell_x, self.cell_y, self.value, self.low, self.high, self.detail]
        if extra == [None, None, self.share, None, None, {}]:
            return base
        return [*base, *extra]


def content_hash(rows: Iterable[Row]) -> str:
    """SHA-256 of the rows in their stored order, one compact JSON array per line."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row.canonical(), separators=(",", ":"), sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


# --- Inputs -------------------------------------------------------------------------------------


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def approved_concerns(*, consultation_key: uuid.UUID, parameters: Parameters):
    """The concerns a run counts: approved, of the consultation, within the window."""
    return _in_window(
        Concern.objects.filter(consultation_key=consultation_key, status=Concern.Status.APPROVED),
        parameters,
    )


def _in_window(concerns, parameters: Parameters):
    # Compared as times (index-friendly): from the start of the first day to the start of the
    # day after the last, in the site's time zone.
    if parameters.window_from:
        concerns = concerns.filter(submitted_at__gte=_day_start(parameters.window_from))
    if parameters.window_to:
        end = _day_start(parameters.window_to + datetime.timedelta(days=1))
        concerns = concerns.filter(submitted_at__lt=end)
    return concerns.order_by()


def questionnaire_responses(*, consultation_key: uuid.UUID, parameters: Parameters):
    """The responses a run counts, dated by the form's day when there is one."""
    responses = QuestionnaireResponse.objects.filter(consultation_key=consultation_key)
    if parameters.window_from or parameters.window_to:
        responses = responses.annotate(
            day=Coalesce(
                "filled_on", TruncDate("submitted_at", tzinfo=timezone.get_current_timezone())
            )
        )
        if parameters.window_from:
            responses = responses.filter(day__gte=parameters.window_from)
        if parameters.window_to:
            responses = responses.filter(day__lte=parameters.window_to)
    return responses.order_by()


# --- Steps --------------------------------------------------------------------------------------


@dataclass
class Context:
    """What the steps share: the inputs, and totals an earlier step counted."""

    consultation_key: uuid.UUID
    parameters: Parameters
    input_counts: dict = field(default_factory=dict)
    category_totals: dict = field(default_factory=dict)
    # Rows of the steps done so far, by table (the change step compares them with the
    # previous round's).
    tables: dict = field(default_factory=lambda: defaultdict(list))
    # (gender, age band) → count, of concerns and of responses (participation steps).
    participants: dict = field(default_factory=dict)
    # Answers to the indicator questions: (code, value, gender, age band) → count.
    answers: dict | None = None
    previous_snapshot_id: int | None = None
    _population: dict | None = None

    def answers_sorted(self) -> list[tuple[tuple, int]]:
        """The indicator answers (`indicator_answers`, one query per run) in a fixed order."""
        return sorted(indicator_answers(self).items())

    @property
    def population(self) -> dict[tuple[str, str], int]:
        """Residents of the consultation's areas by (sex, age band), summed in the database
        (fetched once per run)."""
        if self._population is None:
            self._population = population_by_stratum(consultation_key=self.consultation_key)
        return self._population

    @property
    def concerns(self):
        return approved_concerns(consultation_key=self.consultation_key, parameters=self.parameters)

    @property
    def responses(self):
        return questionnaire_responses(
            consultation_key=self.consultation_key, parameters=self.parameters
        )


def _stated(value: str | None) -> str:
    return value or NOT_STATED


def _grouped(queryset, *fields: str) -> list[tuple]:
    """(field values…, count) per group, counted by the database."""
    return [
        (*(row[name] for name in fields), row["n"])
        for row in queryset.values(*fields).annotate(n=Count("pk")).order_by()
    ]


def step_inputs(context: Context) -> list[Row]:
    context.previous_snapshot_id = previous_snapshot_id(consultation_key=context.consultation_key)
    approved = Q(status=Concern.Status.APPROVED)
    counts = _in_window(
        Concern.objects.filter(consultation_key=context.consultation_key), context.parameters
    ).aggregate(
        concerns=Count("pk", filter=approved),
        with_area=Count("pk", filter=approved & Q(area__isnull=False)),
        with_point=Count("pk", filter=approved & Q(cell_x__isnull=False)),
        pending=Count("pk", filter=Q(status=Concern.Status.PENDING)),
        first=Min("submitted_at", filter=approved),
        last=Max("submitted_at", filter=approved),
    )
    context.input_counts = {
        "concerns": counts["concerns"],
        "concerns_with_area": counts["with_area"],
        "concerns_with_point": counts["with_point"],
        "concerns_pending": counts["pending"],
        "questionnaire_responses": context.responses.count(),
        "first_concern_at": counts["first"].isoformat() if counts["first"] else None,
        "last_concern_at": counts["last"].isoformat() if counts["last"] else None,
        "previous_snapshot": context.previous_snapshot_id,
    }
    return []


def step_by_category(context: Context) -> list[Row]:
    grouped = _grouped(context.concerns, "category_key")
    total = sum(n for _key, n in grouped)
    context.category_totals = dict(grouped)
    return [
        Row("concerns_by_category", count=n, total=total, category_key=key) for key, n in grouped
    ]


def step_by_prevention_type(context: Context) -> list[Row]:
    grouped = _grouped(context.concerns, "category__prevention_type")
    total = sum(n for _type, n in grouped)
    return [
        Row("concerns_by_prevention_type", count=n, total=total, group=_stated(kind))
        for kind, n in grouped
    ]


def _category_by(context: Context, table: str, name: str) -> list[Row]:
    """Counts per category and `name`, each a share of all concerns with that value."""
    counts: dict[tuple, int] = defaultdict(int)
    for key, value, n in _grouped(context.concerns, "category_key", name):
        counts[key, _stated(value)] += n  # "" and None both mean not stated
    totals: dict[str, int] = defaultdict(int)
    for (_key, value), n in counts.items():
        totals[value] += n
    return [
        Row(table, count=n, total=totals[value], category_key=key, group=value)
        for (key, value), n in counts.items()
    ]


def step_by_category_gender(context: Context) -> list[Row]:
    return _category_by(context, "concerns_by_category_gender", "gender")


def step_by_category_age(context: Context) -> list[Row]:
    return _category_by(context, "concerns_by_category_age", "age_band")


def step_by_area_category(context: Context) -> list[Row]:
    grouped = _grouped(context.concerns, "area_id", "category_key")
    totals: dict[int | None, int] = defaultdict(int)
    for area_id, _key, n in grouped:
        totals[area_id] += n
    return [
        Row(
            "concerns_by_area_category",
            count=n,
            total=totals[area_id],
            area_id=area_id,
            category_key=key,
        )
        for area_id, key, n in grouped
    ]


def step_by_category_time_band(context: Context) -> list[Row]:
    counts: dict[tuple, int] = defaultdict(int)
    for key, band, n in _grouped(context.concerns, "category_key", "time_band"):
        counts[key, _stated(band)] += n
    return [
        Row(
            "concerns_by_category_time_band",
            count=n,
            total=context.category_totals.get(key, 0),
            category_key=key,
            group=band,
        )
        for (key, band), n in counts.items()
    ]


def _affected_sql(concerns) -> tuple[str, list]:
    """One GROUP BY over the elements of each concern's `affected` list (a JSON array): the
    database unnests it (jsonb_array_elements_text on PostgreSQL, json_each on SQLite).

    The concerns' own query is the subquery the lists are unnested from, which both databases
    flatten into one scan with the consultation's WHERE; selecting by `id IN (…)` instead made
    PostgreSQL join the table with itself, twice as slow on a million concerns.
    """
    selected, params = (
        concerns.order_by()
        .values(c_key=F("category_key"), c_affected=F("affected"))
        .query.sql_with_params()
    )
    if connection.vendor == "postgresql":
        unnest = "jsonb_array_elements_text(c.c_affected) AS a(value)"
    else:
        unnest = "json_each(c.c_affected) AS a"
    sql = (
        f"SELECT c.c_key, a.value, COUNT(*) FROM ({selected}) c, {unnest} "  # noqa: S608
        "GROUP BY c.c_key, a.value"
    )
    return sql, list(params)


def step_by_category_affected(context: Context) -> list[Row]:
    concerns = context.concerns
    sql, params = _affected_sql(concerns)
    counts: dict[tuple, int] = defaultdict(int)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The planner takes each list for 100 elements, so the query's estimated cost passes
            # the JIT thresholds and compiling took most of its time (docs/benchmarks.md).
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        for key, value, n in cursor.fetchall():
            key = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
            counts[key, str(value)] += n
    for key, n in _grouped(concerns.filter(affected=[]), "category_key"):
        counts[key, NOT_STATED] += n
    return [
        Row(
            "concerns_by_category_affected",
            count=n,
            total=context.category_totals.get(key, 0),
            category_key=key,
            group=value,
        )
        for (key, value), n in counts.items()
    ]


def _participation(table: str, counts: dict[tuple, int]) -> list[Row]:
    total = sum(counts.values())
    return [
        Row(table, count=n, total=total, group=gender, subgroup=age)
        for (gender, age), n in counts.items()
    ]


def _participants(queryset) -> dict[tuple, int]:
    counts: dict[tuple, int] = defaultdict(int)
    for gender, age, n in _grouped(queryset, "gender", "age_band"):
        counts[_stated(gender), _stated(age)] += n
    return dict(counts)


def step_participation_concerns(context: Context) -> list[Row]:
    context.participants["concerns"] = _participants(context.concerns)
    return _participation("participation_concerns", context.participants["concerns"])


def step_participation_responses(context: Context) -> list[Row]:
    context.participants["responses"] = _participants(context.responses)
    return _participation("participation_responses", context.participants["responses"])


# --- The consultation's territory: population, walks, the previous round ------------------------


def consultation_pages(consultation_key: uuid.UUID):
    """Every translation of the consultation (they share areas, walks and the previous round)."""
    return ConsultationPage.objects.filter(translation_key=consultation_key)


def consultation_area_ids(consultation_key: uuid.UUID):
    """The consultation's areas as a subquery: the union over its translations, so an area is
    never counted twice however many languages the page has."""
    return ConsultationPage.areas.through.objects.filter(
        consultationpage__translation_key=consultation_key
    ).values("area_id")


def population_by_stratum(*, consultation_key: uuid.UUID) -> dict[tuple[str, str], int]:
    """Residents of the consultation's areas by (sex, age band): `AreaPopulation` summed by the
    database over the distinct areas. Empty when no area has population figures."""
    rows = (
        AreaPopulation.objects.filter(area_id__in=consultation_area_ids(consultation_key))
        .values("sex", "age_band")
        .annotate(n=Sum("count"))
        .order_by()
    )
    return {(row["sex"], row["age_band"]): row["n"] for row in rows if row["n"]}


def approved_walk_stops(*, consultation_key: uuid.UUID, parameters: Parameters):
    """Approved stops of the consultation's safety walks, recorded within the window (the same
    whole days as concerns)."""
    walks = ConsultationPage.walks.through.objects.filter(
        consultationpage__translation_key=consultation_key
    ).values("safetywalk_id")
    stops = WalkStop.objects.filter(walk_id__in=walks, status=ModerationStatus.APPROVED)
    if parameters.window_from:
        stops = stops.filter(recorded_at__gte=_day_start(parameters.window_from))
    if parameters.window_to:
        end = _day_start(parameters.window_to + datetime.timedelta(days=1))
        stops = stops.filter(recorded_at__lt=end)
    return stops.order_by()


def previous_snapshot_id(*, consultation_key: uuid.UUID) -> int | None:
    """The snapshot the previous round (`ConsultationPage.previous_round`, any translation)
    last published, in one query; None without a previous round or a publication."""
    previous_key = (
        consultation_pages(consultation_key)
        .filter(previous_round__isnull=False)
        .order_by("pk")
        .values("previous_round__translation_key")[:1]
    )
    return (
        SnapshotPublication.objects.filter(consultation_key=Subquery(previous_key))
        .order_by("-published_at", "-pk")
        .values_list("snapshot_id", flat=True)
        .first()
    )


# --- Perception indicators ----------------------------------------------------------------------


def indicator_answers(context: Context) -> dict[tuple, int]:
    """(question code, value, gender, age band) → answers, for the indicator questions: one
    GROUP BY over the answers of the responses the run counts."""
    if context.answers is None:
        rows = (
            Answer.objects.filter(
                response__in=context.responses.values("pk"), question_code__in=list(INDICATORS)
            )
            .values("question_code", "value", "response__gender", "response__age_band")
            .annotate(n=Count("pk"))
            .order_by()
        )
        answers: dict[tuple, int] = defaultdict(int)
        for row in rows:
            if isinstance(row["value"], str):  # single choice; a list or number is no answer here
                key = (
                    row["question_code"],
                    row["value"],
                    _stated(row["response__gender"]),
                    _stated(row["response__age_band"]),
                )
                answers[key] += row["n"]
        context.answers = dict(answers)
    return context.answers


@dataclass
class Tally:
    """Unfavourable and valid answers of one indicator, and what was left out."""

    count: int = 0
    total: int = 0
    excluded: dict = field(default_factory=lambda: defaultdict(int))

    def add(self, indicator, value: str, n: int) -> None:
        if value in indicator.valid:
            self.total += n
            if value in indicator.unfavourable:
                self.count += n
        else:
            self.excluded[value] += n

    def row(self, table: str, indicator, **keys) -> Row:
        low, high = statistics.wilson_interval(self.count, self.total)
        return Row(
            table,
            count=self.count,
            total=self.total,
            low=low,
            high=high,
            detail={
                "values": list(indicator.unfavourable),
                "excluded": sum(self.excluded.values()),
                "excluded_values": dict(sorted(self.excluded.items())),
            },
            **keys,
        )


def _tallies(context: Context, key: Callable[[str, str], object]) -> dict[tuple, Tally]:
    """Tallies per (question code, key(gender, age band))."""
    tallies: dict[tuple, Tally] = defaultdict(Tally)
    for (code, value, gender, age), n in context.answers_sorted():
        tallies[code, key(gender, age)].add(INDICATORS[code], value, n)
    return tallies


def step_perception(context: Context) -> list[Row]:
    indicator_answers(context)
    rows = [
        tally.row("perception", INDICATORS[code], group=code)
        for (code, _all), tally in _tallies(context, lambda gender, age: "").items()
    ]
    for table, by in (("perception_by_gender", 0), ("perception_by_age", 1)):
        rows += [
            tally.row(table, INDICATORS[code], group=code, subgroup=part)
            for (code, part), tally in _tallies(context, lambda *pair, i=by: pair[i]).items()
        ]
    return rows


def step_perception_weighted(context: Context) -> list[Row]:
    """Each indicator post-stratified by sex × age band to the residents of the areas."""
    cells: dict[str, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (code, value, gender, age), n in context.answers_sorted():
        indicator = INDICATORS[code]
        cell = cells[code][stratum(gender, age, not_stated=NOT_STATED)]
        if value in indicator.valid:
            cell[1] += n
            if value in indicator.unfavourable:
                cell[0] += n
    population = context.population
    rows = []
    for code, strata in cells.items():
        counts = {key: tuple(pair) for key, pair in strata.items() if pair[1]}
        if not counts:
            continue
        weighted = statistics.poststratified_share(counts, population)
        rows.append(
            Row(
                "perception_weighted",
                count=weighted.successes,
                total=weighted.respondents,
                group=code,
                value=weighted.weighted_share,
                low=weighted.ci_low,
                high=weighted.ci_high,
                detail={
                    "n_effective": weighted.effective_n,
                    "design_effect": weighted.design_effect,
                    "population_coverage": weighted.population_coverage,
                    "strata_dropped": [
                        [*dropped.key, dropped.reason] for dropped in weighted.strata_dropped
                    ],
                },
            )
        )
    return rows


def step_participation_profile(context: Context) -> list[Row]:
    """Who took part against who lives there (`statistics.participation_profile`), for the
    concerns and for the questionnaire."""
    population = context.population
    rows = []
    for group, _label in PARTICIPANTS:
        participants: dict[tuple, int] = defaultdict(int)
        for (gender, age), n in context.participants.get(group, {}).items():
            participants[stratum(gender, age, not_stated=NOT_STATED)] += n
        total = sum(participants.values())
        if not total:
            continue
        known = sum(
            n
            for (sex, age), n in participants.items()
            if sex in Sex.values and age in AgeBand.values
        )
        profile = statistics.participation_profile(participants, population)
        rows.append(
            Row(
                "participation_profile",
                count=known,
                total=total,
                group=group,
                value=profile.index,
                detail={
                    "dissimilarity": None if profile.index is None else 1 - profile.index,
                    "unclassified": profile.unclassified,
                    "cells": [
                        {
                            "sex": cell.key[0],
                            "age_band": cell.key[1],
                            "participants": cell.participants,
                            "population": cell.population,
                            "ratio": cell.ratio,
                        }
                        for cell in profile.cells
                    ],
                },
            )
        )
    return rows


# --- Places: hotspots, assets, safety walks -----------------------------------------------------


def _public(concerns):
    """Located concerns the public grid may show: never a sensitive category."""
    return concerns.filter(cell_x__isnull=False, category__sensitive=False)


def stops_by_cell(context: Context) -> dict[tuple[int, int], int]:
    """Approved walk stops per public grid cell.

    Stops keep no cell indices, so the database groups them by their public point (the fuzzed
    location on the route, the only place the public ever sees) and Python maps each distinct
    point to its cell with `maps.geometry.grid_cell`: one query, and as many grid computations
    as distinct public points, a few per walk.
    """
    cells: dict[tuple[int, int], int] = defaultdict(int)
    stops = (
        approved_walk_stops(
            consultation_key=context.consultation_key, parameters=context.parameters
        )
        .filter(public_point__isnull=False)
        .annotate(lon=Lon("public_point"), lat=Lat("public_point"))
        .values("lon", "lat")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in stops:
        cells[grid_cell(row["lon"], row["lat"])] += row["n"]
    return cells


def step_hotspots(context: Context) -> list[Row]:
    """Risks per cell against all located contributions there (`statistics.hotspots`)."""
    observed: dict[tuple[int, int], int] = defaultdict(int)
    exposure: dict[tuple[int, int], int] = defaultdict(int)
    rows = (
        _public(context.concerns)
        .values("cell_x", "cell_y")
        .annotate(
            risks=Count("pk", filter=Q(category__kind=ConcernCategory.Kind.RISK)),
            located=Count("pk"),
        )
        .order_by()
    )
    for row in rows:
        cell = (row["cell_x"], row["cell_y"])
        observed[cell] += row["risks"]
        exposure[cell] += row["located"]
    for cell, n in stops_by_cell(context).items():
        exposure[cell] += n
    if not exposure:
        return []
    result = statistics.hotspots(observed, exposure)
    return [
        Row(
            "hotspots",
            count=cell.observed,
            total=exposure[cell.key],
            cell_x=cell.key[0],
            cell_y=cell.key[1],
            value=cell.ratio,
            detail={
                "expected": cell.expected,
                "p": cell.p_value,
                "p_adjusted": cell.adjusted_p,
                "significant": cell.significant,
            },
        )
        for cell in result.cells
    ]


def step_assets_by_cell(context: Context) -> list[Row]:
    grouped = _grouped(
        _public(context.concerns).filter(category__kind=ConcernCategory.Kind.ASSET),
        "cell_x",
        "cell_y",
        "category_key",
    )
    total = sum(n for *_key, n in grouped)
    return [
        Row("assets_by_cell", count=n, total=total, cell_x=x, cell_y=y, category_key=key)
        for x, y, key, n in grouped
    ]


# Smaller areas first, as when a concern is placed (`maps.selectors.area_locate`).
_AREA_RANK = Case(
    When(level=Area.Level.NEIGHBOURHOOD, then=Value(0)),
    When(level=Area.Level.DISTRICT, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def step_walks(context: Context) -> list[Row]:
    """Audit scores and feelings of the approved walk stops, per area.

    A stop belongs to the smallest of the consultation's areas that contains its exact point (a
    correlated spatial subquery), and the database counts every score and feeling per area in
    one GROUP BY with conditional counts; means are worked out exactly from those counts.
    """
    area = (
        Area.objects.filter(
            pk__in=consultation_area_ids(context.consultation_key),
            geometry__contains=OuterRef("point"),
        )
        .annotate(rank=_AREA_RANK)
        .order_by("rank", "pk")
        .values("pk")[:1]
    )
    counts = {"stops": Count("pk")}
    for name in WALK_PARAMETER_FIELDS:
        for score in WalkScore.values:
            counts[f"{name}__{score}"] = Count("pk", filter=Q(**{name: score}))
    for feeling in WalkStop.Feeling.values:
        counts[f"feeling__{feeling}"] = Count("pk", filter=Q(feeling=feeling))
    grouped = (
        approved_walk_stops(
            consultation_key=context.consultation_key, parameters=context.parameters
        )
        .annotate(in_area=Subquery(area))
        .values("in_area")
        .annotate(**counts)
        .order_by()
    )
    rows = []
    for row in grouped:
        area_id, stops = row["in_area"], row["stops"]
        for name in WALK_PARAMETER_FIELDS:
            distribution = {str(score): row[f"{name}__{score}"] for score in WalkScore.values}
            observed = sum(distribution.values())
            if not observed:
                continue
            scored = sum(int(score) * n for score, n in distribution.items())
            rows.append(
                Row(
                    "walk_scores",
                    count=observed,
                    total=stops,
                    area_id=area_id,
                    group=name,
                    value=float(Fraction(scored, observed)),
                    detail={"distribution": distribution},
                )
            )
        for feeling in WalkStop.Feeling.values:
            if n := row[f"feeling__{feeling}"]:
                rows.append(
                    Row("walk_feelings", count=n, total=stops, area_id=area_id, group=feeling)
                )
    return rows


# --- Change since the previous round ------------------------------------------------------------


def step_change(context: Context) -> list[Row]:
    """This round's concerns by area and category and perception indicators beside what the
    previous round published (its latest `SnapshotPublication`)."""
    if context.previous_snapshot_id is None:
        return []
    previous: dict[str, list[Row]] = defaultdict(list)
    for row in snapshot_rows_of(
        DiagnosisResult.objects.filter(
            snapshot_id=context.previous_snapshot_id,
            table__in=["concerns_by_area_category", "perception"],
        )
    ):
        previous[row.table].append(row)
    return _change_area_category(
        context.tables["concerns_by_area_category"], previous["concerns_by_area_category"]
    ) + _change_perception(context.tables["perception"], previous["perception"])


def _change_area_category(now: list[Row], before: list[Row]) -> list[Row]:
    """Areas counted in both rounds, every category either round had there."""
    current = {(row.area_id, row.category_key): row for row in now if row.area_id}
    earlier = {(row.area_id, row.category_key): row for row in before if row.area_id}
    totals_now = {area: row.total for (area, _key), row in current.items()}
    totals_before = {area: row.total for (area, _key), row in earlier.items()}
    both = set(totals_now) & set(totals_before)
    rows = []
    for area, key in sorted(set(current) | set(earlier), key=lambda pair: (pair[0], str(pair[1]))):
        if area not in both:
            continue
        this, that = current.get((area, key)), earlier.get((area, key))
        previous_count = that.count if that else 0
        rows.append(
            Row(
                "change_area_category",
                count=this.count if this else 0,
                total=totals_now[area],
                area_id=area,
                category_key=key,
                detail={
                    "previous_count": previous_count,
                    "previous_total": totals_before[area],
                    "previous_value": previous_count / totals_before[area],
                },
            )
        )
    return rows


def _change_perception(now: list[Row], before: list[Row]) -> list[Row]:
    earlier = {row.group: row for row in before}
    return [
        Row(
            "change_perception",
            count=row.count,
            total=row.total,
            group=row.group,
            value=row.value,
            low=row.low,
            high=row.high,
            detail={
                "previous_count": earlier[row.group].count,
                "previous_total": earlier[row.group].total,
                "previous_value": earlier[row.group].value,
                "previous_low": earlier[row.group].low,
                "previous_high": earlier[row.group].high,
            },
        )
        for row in now
        if row.group in earlier
    ]


@dataclass(frozen=True)
class Step:
    code: str
    label: object
    compute: Callable[[Context], list[Row]]


STEPS: tuple[Step, ...] = (
    Step("inputs", _("Counting the inputs"), step_inputs),
    Step("by_category", _("Concerns by category"), step_by_category),
    Step("by_prevention_type", _("Concerns by type of prevention"), step_by_prevention_type),
    Step("by_category_gender", _("Concerns by category and gender"), step_by_category_gender),
    Step("by_category_age", _("Concerns by category and age band"), step_by_category_age),
    Step("by_area_category", _("Concerns by area and category"), step_by_area_category),
    Step(
        "by_category_time_band",
        _("Concerns by category and time of day"),
        step_by_category_time_band,
    ),
    Step(
        "by_category_affected",
        _("Concerns by category and who is affected"),
        step_by_category_affected,
    ),
    Step(
        "participation_concerns",
        _("Who reported concerns"),
        step_participation_concerns,
    ),
    Step(
        "participation_responses",
        _("Who answered the questionnaire"),
        step_participation_responses,
    ),
    Step("perception", _("Perception indicators"), step_perception),
    Step(
        "perception_weighted",
        _("Perception indicators weighted to the population"),
        step_perception_weighted,
    ),
    Step(
        "participation_profile",
        _("Participants against the population (representativeness)"),
        step_participation_profile,
    ),
    Step("hotspots", _("Hotspots on the public grid"), step_hotspots),
    Step("assets_by_cell", _("Assets by cell"), step_assets_by_cell),
    Step("walks", _("Safety walk scores and feelings by area"), step_walks),
    Step("change", _("Change since the previous round"), step_change),
)
STEP_LABELS = {step.code: step.label for step in STEPS}
STEPS_TOTAL = len(STEPS) + 1  # and storing the snapshot


@dataclass
class Computation:
    parameters: Parameters
    input_counts: dict
    rows: list[Row]

    @property
    def content_hash(self) -> str:
        return content_hash(self.rows)


def diagnosis_compute(
    *,
    consultation_key: uuid.UUID,
    parameters: Parameters,
    after_step: Callable[[Step, list[Row], Context], None] | None = None,
) -> Computation:
    """Every step's rows, sorted into their stored order. `after_step` is called after each step
    (the run records progress there and stops the computation by raising)."""
    context = Context(consultation_key=consultation_key, parameters=parameters)
    rows: list[Row] = []
    for step in STEPS:
        produced = step.compute(context)
        rows.extend(produced)
        for row in produced:
            context.tables[row.table].append(row)
        if after_step is not None:
            after_step(step, produced, context)
    rows.sort(key=Row.sort_key)
    return Computation(parameters=parameters, input_counts=context.input_counts, rows=rows)


# --- A run: progress, log, cancellation, the snapshot -------------------------------------------


def log_entry(code: str, **args) -> dict:
    """One log line, translated when shown (`diagnosis.services.diagnosis_runs.LOG_MESSAGES`)."""
    return {"at": timezone.now().isoformat(timespec="seconds"), "code": code, "args": args}


class RunRecorder:
    """Writes a run's progress and log after each step, and stops it when cancelled.

    Each write is its own UPDATE (no transaction is open while the engine computes), committed at
    once so the polling admin sees it; it only matches while the run is running and nobody asked
    to cancel, so a cancellation is noticed at the next step.
    """

    def __init__(self, run: DiagnosisRun):
        self.run = run
        self.log = list(run.log)
        self.steps_done = 0

    def after_step(self, step: Step, rows: list[Row], context: Context) -> None:
        self.steps_done += 1
        if step.code == "inputs":
            counts = context.input_counts
            self.log.append(
                log_entry(
                    "inputs",
                    concerns=counts["concerns"],
                    responses=counts["questionnaire_responses"],
                    pending=counts["concerns_pending"],
                )
            )
        else:
            self.log.append(log_entry("step", step=step.code, rows=len(rows)))
        self.write(steps_done=self.steps_done)

    def write(self, **fields) -> None:
        updated = DiagnosisRun.objects.filter(
            pk=self.run.pk, status=Status.RUNNING, cancel_requested=False
        ).update(log=self.log, heartbeat_at=timezone.now(), **fields)
        if not updated:
            raise RunStopped

    def stopped(self) -> None:
        """Record a cancellation noticed between steps (an interrupted run stays failed)."""
        self.log.append(log_entry("cancelled", steps=self.steps_done))
        DiagnosisRun.objects.filter(pk=self.run.pk, status=Status.RUNNING).update(
            status=Status.CANCELLED, log=self.log, finished_at=timezone.now()
        )


def snapshot_store(
    *, run: DiagnosisRun, computation: Computation, recorder: RunRecorder
) -> DiagnosisSnapshot:
    """The snapshot, its rows and the run's `done` in one transaction, only if the run is still
    running and not cancelled (checked under a row lock, so a cancel cannot slip in between)."""
    with transaction.atomic():
        current = (
            DiagnosisRun.objects.select_for_update()
            .filter(pk=run.pk, status=Status.RUNNING, cancel_requested=False)
            .exists()
        )
        if not current:
            raise RunStopped
        parameters = computation.parameters
        snapshot = DiagnosisSnapshot.objects.create(
            consultation_key=run.consultation_key,
            run=run,
            method_version=parameters.method_version,
            parameters=parameters.as_json(),
            input_counts=computation.input_counts,
            window_from=parameters.window_from,
            window_to=parameters.window_to,
            content_hash=computation.content_hash,
        )
        results_insert(snapshot=snapshot, rows=computation.rows)
        log = [*recorder.log, log_entry("stored", rows=len(computation.rows))]
        now = timezone.now()
        finished = DiagnosisRun.objects.filter(
            pk=run.pk, status=Status.RUNNING, cancel_requested=False
        ).update(
            status=Status.DONE,
            steps_done=STEPS_TOTAL,
            log=log,
            heartbeat_at=now,
            finished_at=now,
        )
        if not finished:
            # A cancel that came after the check above (SQLite has no row locks): roll back.
            raise RunStopped
    return snapshot


# A stored result row's own columns (the admin's snapshot tables show them in this order), and all
# the columns written, in the order of `_result_values`.
RESULT_COLUMNS = (
    "table",
    "area_id",
    "category_key",
    "group",
    "subgroup",
    "cell_x",
    "cell_y",
    "count",
    "total",
    "value",
    "low",
    "high",
    "detail",
)
RESULT_ATTNAMES = ("snapshot_id", "position", *RESULT_COLUMNS)


def _result_values(snapshot_id: int, position: int, row: Row) -> tuple:
    return (
        snapshot_id,
        position,
        row.table,
        row.area_id,
        row.category_key,
        row.group,
        row.subgroup,
        row.cell_x,
        row.cell_y,
        row.count,
        row.total,
        row.value,
        row.low,
        row.high,
        row.detail,
    )


def results_insert(*, snapshot: DiagnosisSnapshot, rows: list[Row]) -> None:
    """Write a snapshot's result rows, in the transaction the caller holds.

    On PostgreSQL with `COPY`: a large consultation has tens of thousands of rows, and
    `bulk_create` spent most of its time in Python preparing and quoting each value (4.8 s against
    0.37 s for `COPY` on the benchmark's 28,448 rows, see docs/benchmarks.md). Elsewhere (SQLite)
    `bulk_create`.
    """
    values = (_result_values(snapshot.pk, position, row) for position, row in enumerate(rows))
    if connection.vendor != "postgresql":
        DiagnosisResult.objects.bulk_create(
            (DiagnosisResult(**dict(zip(RESULT_ATTNAMES, row, strict=True))) for row in values),
            batch_size=RESULT_BATCH,
        )
        return
    from psycopg.types.json import Jsonb

    quote = connection.ops.quote_name
    meta = DiagnosisResult._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in RESULT_ATTNAMES)
    statement = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in values:
            copy.write_row((*row[:-1], Jsonb(row[-1])))


def diagnosis_run_compute(run: DiagnosisRun) -> DiagnosisSnapshot | None:
    """Compute a claimed (running) run and store its snapshot; None when it was cancelled.

    Raises on failure (bad parameters, a database error): the caller records it.
    """
    parameters = Parameters.from_json(run.parameters)
    recorder = RunRecorder(run)
    try:
        computation = diagnosis_compute(
            consultation_key=run.consultation_key,
            parameters=parameters,
            after_step=recorder.after_step,
        )
        return snapshot_store(run=run, computation=computation, recorder=recorder)
    except RunStopped:
        recorder.stopped()
        return None


ROW_FIELDS = (
    "table",
    "count",
    "total",
    "area_id",
    "category_key",
    "group",
    "subgroup",
    "cell_x",
    "cell_y",
    "value",
    "low",
    "high",
    "detail",
)


def snapshot_rows_of(results) -> list[Row]:
    """Stored `DiagnosisResult` rows (a queryset) as the engine made them, in stored order."""
    return [
        Row(**dict(zip(ROW_FIELDS, values, strict=True)))
        for values in results.order_by("position").values_list(*ROW_FIELDS)
    ]


def snapshot_rows(snapshot: DiagnosisSnapshot) -> list[Row]:
    """A stored snapshot's rows, as the engine made them (for comparisons and the hash check)."""
    return snapshot_rows_of(snapshot.results.all())


def snapshot_verify(snapshot: DiagnosisSnapshot) -> bool:
    """Whether the stored rows still hash to the snapshot's `content_hash`."""
    return content_hash(snapshot_rows(snapshot)) == snapshot.content_hash
