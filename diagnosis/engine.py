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

Inputs, for method version 1:
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

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import (
    Concern,
    DiagnosisResult,
    DiagnosisRun,
    DiagnosisSnapshot,
    PreventionType,
    QuestionnaireResponse,
)

METHOD_VERSION = "1"
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


@dataclass(frozen=True)
class Table:
    """One table of a snapshot: what each row counts, and over what (`total`)."""

    code: str
    label: object
    total_label: object  # what the denominator of a row's share is
    columns: tuple[str, ...]  # of "area", "category", "group", "subgroup"
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
    )
}
TABLE_ORDER = {code: position for position, code in enumerate(TABLES)}


@dataclass(frozen=True)
class Row:
    """One result row before it is stored (see `DiagnosisResult`)."""

    table: str
    count: int
    total: int
    area_id: int | None = None
    category_key: uuid.UUID | None = None
    group: str = ""
    subgroup: str = ""

    @property
    def value(self) -> float | None:
        return self.count / self.total if self.total else None

    def sort_key(self) -> tuple:
        return (
            TABLE_ORDER[self.table],
            -1 if self.area_id is None else self.area_id,
            str(self.category_key or ""),
            self.group,
            self.subgroup,
        )

    def canonical(self) -> list:
        """What the content hash covers, as JSON-ready values."""
        return [
            self.table,
            self.area_id,
            str(self.category_key) if self.category_key else None,
            self.group,
            self.subgroup,
            self.count,
            self.total,
        ]


def content_hash(rows: Iterable[Row]) -> str:
    """SHA-256 of the rows in their stored order, one compact JSON array per line."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row.canonical(), separators=(",", ":")).encode())
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
    database unnests it (jsonb_array_elements_text on PostgreSQL, json_each on SQLite)."""
    ids, params = concerns.values("pk").query.sql_with_params()
    table = connection.ops.quote_name(Concern._meta.db_table)
    category = connection.ops.quote_name(Concern._meta.get_field("category_key").column)
    affected = connection.ops.quote_name(Concern._meta.get_field("affected").column)
    if connection.vendor == "postgresql":
        unnest = f"jsonb_array_elements_text(c.{affected}) AS a(value)"
    else:
        unnest = f"json_each(c.{affected}) AS a"
    sql = (
        f"SELECT c.{category}, a.value, COUNT(*) FROM {table} c, {unnest} "  # noqa: S608
        f"WHERE c.id IN ({ids}) GROUP BY c.{category}, a.value"
    )
    return sql, list(params)


def step_by_category_affected(context: Context) -> list[Row]:
    concerns = context.concerns
    sql, params = _affected_sql(concerns)
    counts: dict[tuple, int] = defaultdict(int)
    with connection.cursor() as cursor:
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


def _participation(table: str, queryset) -> list[Row]:
    counts: dict[tuple, int] = defaultdict(int)
    for gender, age, n in _grouped(queryset, "gender", "age_band"):
        counts[_stated(gender), _stated(age)] += n
    total = sum(counts.values())
    return [
        Row(table, count=n, total=total, group=gender, subgroup=age)
        for (gender, age), n in counts.items()
    ]


def step_participation_concerns(context: Context) -> list[Row]:
    return _participation("participation_concerns", context.concerns)


def step_participation_responses(context: Context) -> list[Row]:
    return _participation("participation_responses", context.responses)


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
        DiagnosisResult.objects.bulk_create(
            (
                DiagnosisResult(
                    snapshot=snapshot,
                    position=position,
                    table=row.table,
                    area_id=row.area_id,
                    category_key=row.category_key,
                    group=row.group,
                    subgroup=row.subgroup,
                    count=row.count,
                    total=row.total,
                    value=row.value,
                )
                for position, row in enumerate(computation.rows)
            ),
            batch_size=RESULT_BATCH,
        )
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


def snapshot_rows(snapshot: DiagnosisSnapshot) -> list[Row]:
    """A stored snapshot's rows, as the engine made them (for comparisons and the hash check)."""
    return [
        Row(
            table,
            count=count,
            total=total,
            area_id=area_id,
            category_key=key,
            group=group,
            subgroup=subgroup,
        )
        for table, count, total, area_id, key, group, subgroup in snapshot.results.order_by(
            "position"
        ).values_list("table", "count", "total", "area_id", "category_key", "group", "subgroup")
    ]


def snapshot_verify(snapshot: DiagnosisSnapshot) -> bool:
    """Whether the stored rows still hash to the snapshot's `content_hash`."""
    return content_hash(snapshot_rows(snapshot)) == snapshot.content_hash
