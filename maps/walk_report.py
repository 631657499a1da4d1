"""The public report of a safety walk: which walks are public, their approved stops, and the
statistics the report page and its exports show. Plain functions, no HTTP (see
`maps.report_views`).

Rules applied here, for every caller (docs/walk-report.md):

- only stops a moderator approved count, anywhere public;
- a stop is placed at its `public_point` (fuzzed, then moved onto the route), never at the exact
  `point`, and its order along the route is measured from that public point too, so the table and
  the map never say more than each other;
- participants are shown by gender and by age band with small cells suppressed (fewer than k),
  including a second cell when a shown total would give the first one away;
- statistics are counts and plain means, always with the number of stops they rest on; a group
  of fewer than MIN_GROUP stops is "too few to compare" instead of a percentage.

Everything is computed from one query for the stops of all the walks involved (the walk and the
walks it is compared with); the maths is done in Python over at most a few thousand rows.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.files.storage import default_storage
from django.db.models import Count, F, FloatField, Func, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .demography import AgeBand
from .geometry import Lat, Lon
from .models import (
    WALK_PARAMETER_FIELDS,
    WALK_PARAMETERS,
    ModerationStatus,
    SafetyWalk,
    WalkParticipants,
    WalkStop,
)
from .suppression import suppression_k

# A group (poor / good scores, with / without a hazard) smaller than this is "too few to compare":
# with four stops one change of mind moves the share by 25 points.
MIN_GROUP = 5
# Comparing two walks: a parameter's mean must differ by at least this many points (on the 0–3
# scale), with at least COMPARE_MIN_N stops observed on each side, to be called better or worse.
COMPARE_MIN_DIFF = 0.5
COMPARE_MIN_N = 3
# The share feeling unsafe must differ by at least this much, with MIN_GROUP stops on each side.
COMPARE_MIN_SHARE_DIFF = 0.15
# Equal parts of the route for the comparison along the route (start … end).
SEGMENTS = 4
# Photos shown on the page itself; the rest are linked from the table (phones on metered data).
PHOTOS_ON_PAGE = 12
# Coordinates are published with 5 decimals (about 1 m), as for concerns.
COORD_DECIMALS = 5

FEELING_LABELS = dict(WalkStop.Feeling.choices)
HAZARD_LABELS = dict(WalkStop.Hazard.choices)
PARAMETER_LABELS = {name: label for name, label, _help in WALK_PARAMETERS}
UNSAFE = frozenset({WalkStop.Feeling.UNCOMFORTABLE, WalkStop.Feeling.FRIGHTENING})
SCORES = (0, 1, 2, 3)


# --- Which walks are public ----------------------------------------------------------------------


def walks_published() -> QuerySet[SafetyWalk]:
    """Walks whose report is public, newest first, with their number of approved stops."""
    return (
        SafetyWalk.objects.filter(report_published_at__isnull=False)
        .annotate(approved_stops=Count("stops", filter=Q(stops__status=ModerationStatus.APPROVED)))
        .prefetch_related("areas")
        .order_by("-date", "-starts_at", "title")
    )


def walk_report_visible(*, walk: SafetyWalk, user) -> bool:
    """Whether `user` may see the report: anyone once published; before, staff and people who
    may view safety walks in the admin (a preview)."""
    if walk.report_is_public:
        return True
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_staff or user.has_perm("maps.view_safetywalk"))
    )


def walk_for_report(*, walk_uuid: uuid.UUID, user) -> SafetyWalk | None:
    """The walk behind a report URL if `user` may see its report, else None (a 404)."""
    walk = (
        SafetyWalk.objects.filter(uuid=walk_uuid)
        .select_related("repeats")
        .prefetch_related("areas", "participants")
        .first()
    )
    if walk is None or not walk_report_visible(walk=walk, user=user):
        return None
    return walk


def walk_report_stamp(*, walk: SafetyWalk) -> str:
    """A short string that changes whenever what the report of `walk` shows may have changed.

    Covers the walk and the walks it is compared with (their own edits, participants and report
    publication all save the walk), and their stops: how many there are and the latest arrival
    and moderation decision. One query; cached pages are keyed on it.
    """
    rows = (
        SafetyWalk.objects.filter(Q(pk=walk.pk) | Q(pk=walk.repeats_id) | Q(repeats_id=walk.pk))
        .annotate(
            n=Count("stops"),
            moderated=Max("stops__moderated_at"),
            received=Max("stops__received_at"),
        )
        .order_by("pk")
        .values_list("pk", "updated_at", "report_published_at", "n", "moderated", "received")
    )
    return "|".join(",".join("" if value is None else str(value) for value in row) for row in rows)


# --- Stops -------------------------------------------------------------------------------------


class _LineLocatePoint(Func):
    """Where a point falls along a line, 0 at its start to 1 at its end (PostGIS and SpatiaLite).

    Done in the database so that no geometry object is built in Python per stop.
    """

    function = "ST_LineLocatePoint"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="ST_Line_Locate_Point", **extra)


@dataclass
class StopRow:
    """One approved stop as the public sees it (public point only)."""

    pk: int
    walk_id: int
    reference: str
    lon: float | None
    lat: float | None
    position: float | None  # 0 (start of the route) … 1 (end), from the public point
    recorded_at: datetime
    feeling: str
    scores: dict[str, int | None]
    hazards: list[str]
    notes: str
    photo: str
    order: int = 0

    @property
    def unsafe(self) -> bool:
        return self.feeling in UNSAFE

    @property
    def score_list(self) -> list[int | None]:
        return [self.scores[name] for name in WALK_PARAMETER_FIELDS]

    @property
    def feeling_label(self) -> str:
        return str(FEELING_LABELS.get(self.feeling, self.feeling))

    @property
    def hazard_labels(self) -> list[str]:
        return [str(HAZARD_LABELS.get(code, code)) for code in self.hazards]

    @property
    def photo_url(self) -> str:
        return default_storage.url(self.photo) if self.photo else ""

    @property
    def worst_label(self) -> str:
        """The lowest-scored condition, as "Lighting: 0" (for a photo's text alternative)."""
        scored = [(value, name) for name, value in self.scores.items() if value is not None]
        if not scored:
            return ""
        value, name = min(scored)
        return f"{PARAMETER_LABELS[name]}: {value}"


def walk_stop_rows(*, walks: list[SafetyWalk]) -> dict[int, list[StopRow]]:
    """The approved stops of `walks`, per walk id, in order along each walk's route.

    One query for all the walks. Stops are ordered by where their public point falls on the
    route (then by time); a walk without a route is ordered by time.
    """
    by_walk: dict[int, list[StopRow]] = {walk.pk: [] for walk in walks}
    rows = (
        WalkStop.objects.filter(walk_id__in=list(by_walk), status=ModerationStatus.APPROVED)
        .annotate(
            lon=Lon("public_point"),
            lat=Lat("public_point"),
            along=_LineLocatePoint(F("walk__route"), "public_point"),
        )
        .order_by("walk_id", "recorded_at", "pk")
        .values_list(
            "pk",
            "walk_id",
            "reference",
            "lon",
            "lat",
            "along",
            "recorded_at",
            "feeling",
            *WALK_PARAMETER_FIELDS,
            "hazards",
            "notes",
            "photo",
        )
    )
    n_fields = len(WALK_PARAMETER_FIELDS)
    for pk, walk_id, reference, lon, lat, along, recorded_at, feeling, *rest in rows:
        scores = dict(zip(WALK_PARAMETER_FIELDS, rest[:n_fields], strict=True))
        hazards, notes, photo = rest[n_fields:]
        by_walk[walk_id].append(
            StopRow(
                pk=pk,
                walk_id=walk_id,
                reference=reference,
                lon=None if lon is None else round(lon, COORD_DECIMALS),
                lat=None if lat is None else round(lat, COORD_DECIMALS),
                position=None if along is None else min(max(along, 0.0), 1.0),
                recorded_at=recorded_at,
                feeling=feeling,
                scores=scores,
                hazards=list(hazards or []),
                notes=notes,
                photo=photo or "",
            )
        )
    for stops in by_walk.values():
        stops.sort(key=lambda s: (s.position if s.position is not None else 2.0, s.recorded_at))
        for number, stop in enumerate(stops, start=1):
            stop.order = number
    return by_walk


# --- Statistics of one walk ----------------------------------------------------------------------


def share_of(*, unsafe: int, n: int) -> dict:
    """`unsafe` of `n` stops felt unsafe; the share only when the group is big enough."""
    too_few = n < MIN_GROUP
    share = None if too_few or n == 0 else unsafe / n
    return {
        "n": n,
        "unsafe": unsafe,
        "share": share,
        "percent": None if share is None else round(share * 100),
        "too_few": too_few,
    }


def parameter_summary(stops: list[StopRow]) -> list[dict]:
    """Per audit parameter: stops observed and not, mean score, the 0/1/2/3 distribution."""
    summary = []
    for name, label, help_text in WALK_PARAMETERS:
        values = [stop.scores[name] for stop in stops if stop.scores[name] is not None]
        counts = Counter(values)
        summary.append(
            {
                "field": name,
                "label": label,
                "help": help_text,
                "observed": len(values),
                "not_observed": len(stops) - len(values),
                "mean": sum(values) / len(values) if values else None,
                "distribution": [counts.get(score, 0) for score in SCORES],
            }
        )
    return summary


def feeling_counts(stops: list[StopRow]) -> list[dict]:
    counts = Counter(stop.feeling for stop in stops)
    return [
        {"value": value, "label": label, "count": counts.get(value, 0)}
        for value, label in WalkStop.Feeling.choices
    ]


def hazard_counts(stops: list[StopRow]) -> list[dict]:
    counts = Counter(code for stop in stops for code in set(stop.hazards))
    return [
        {"value": value, "label": label, "count": counts.get(value, 0)}
        for value, label in WalkStop.Hazard.choices
    ]


def unsafe_by_parameter(stops: list[StopRow]) -> list[dict]:
    """For each parameter: among stops scored poor (0–1) and good (2–3), how many felt unsafe.

    Not-observed stops are in neither group. Co-occurrence only: no test, no cause.
    """
    result = []
    for name, label, _help in WALK_PARAMETERS:
        poor = [stop for stop in stops if stop.scores[name] in (0, 1)]
        good = [stop for stop in stops if stop.scores[name] in (2, 3)]
        result.append(
            {
                "field": name,
                "label": label,
                "poor": share_of(unsafe=sum(s.unsafe for s in poor), n=len(poor)),
                "good": share_of(unsafe=sum(s.unsafe for s in good), n=len(good)),
            }
        )
    return result


def unsafe_by_hazard(stops: list[StopRow]) -> list[dict]:
    """For each hazard: among stops where it was noted and where not, how many felt unsafe."""
    result = []
    for value, label in WalkStop.Hazard.choices:
        with_it = [stop for stop in stops if value in stop.hazards]
        without = [stop for stop in stops if value not in stop.hazards]
        result.append(
            {
                "value": value,
                "label": label,
                "with": share_of(unsafe=sum(s.unsafe for s in with_it), n=len(with_it)),
                "without": share_of(unsafe=sum(s.unsafe for s in without), n=len(without)),
            }
        )
    return result


def route_segments(stops: list[StopRow], *, segments: int = SEGMENTS) -> list[dict]:
    """The route cut into `segments` equal parts: stops in each and how many felt unsafe."""
    parts = [{"stops": 0, "unsafe": 0} for _ in range(segments)]
    for stop in stops:
        if stop.position is None:
            continue
        index = min(int(stop.position * segments), segments - 1)
        parts[index]["stops"] += 1
        parts[index]["unsafe"] += int(stop.unsafe)
    return [
        {"index": index, **share_of(unsafe=part["unsafe"], n=part["stops"])}
        for index, part in enumerate(parts)
    ]


def walk_statistics(stops: list[StopRow]) -> dict:
    """Everything the report says about one walk's approved stops."""
    unsafe = sum(stop.unsafe for stop in stops)
    return {
        "stops": len(stops),
        "unsafe": share_of(unsafe=unsafe, n=len(stops)),
        "parameters": parameter_summary(stops),
        "feelings": feeling_counts(stops),
        "hazards": hazard_counts(stops),
        "by_parameter": unsafe_by_parameter(stops),
        "by_hazard": unsafe_by_hazard(stops),
        "segments": route_segments(stops),
    }


# --- Comparing two walks -----------------------------------------------------------------------

BETTER, WORSE, SAME, UNKNOWN = "better", "worse", "same", "unknown"
VERDICT_LABELS = {
    BETTER: _("better"),
    WORSE: _("worse"),
    SAME: _("about the same"),
    UNKNOWN: _("not enough to say"),
}


def score_verdict(*, difference: float | None, n_before: int, n_after: int) -> str:
    """Better / worse / about the same / not enough to say, for a difference of means (after −
    before; scores are higher when better). The rule is documented in docs/walk-report.md."""
    if difference is None or n_before < COMPARE_MIN_N or n_after < COMPARE_MIN_N:
        return UNKNOWN
    if difference >= COMPARE_MIN_DIFF:
        return BETTER
    if difference <= -COMPARE_MIN_DIFF:
        return WORSE
    return SAME


def unsafe_verdict(*, before: dict, after: dict) -> str:
    """The same for the share feeling unsafe, where fewer is better."""
    if before["share"] is None or after["share"] is None:
        return UNKNOWN
    difference = after["share"] - before["share"]
    if difference <= -COMPARE_MIN_SHARE_DIFF:
        return BETTER
    if difference >= COMPARE_MIN_SHARE_DIFF:
        return WORSE
    return SAME


def walks_compare(*, before: dict, after: dict) -> dict:
    """Compare the statistics of two walks of the same route: `after` against `before`."""
    rows = []
    for first, second in zip(before["parameters"], after["parameters"], strict=True):
        difference = None
        if first["mean"] is not None and second["mean"] is not None:
            difference = second["mean"] - first["mean"]
        verdict = score_verdict(
            difference=difference, n_before=first["observed"], n_after=second["observed"]
        )
        rows.append(
            {
                "field": first["field"],
                "label": first["label"],
                "before_mean": first["mean"],
                "after_mean": second["mean"],
                "before_n": first["observed"],
                "after_n": second["observed"],
                "difference": difference,
                "verdict": verdict,
                "verdict_label": VERDICT_LABELS[verdict],
            }
        )
    unsafe = unsafe_verdict(before=before["unsafe"], after=after["unsafe"])
    segments = [
        {"index": a["index"], "before": a, "after": b}
        for a, b in zip(before["segments"], after["segments"], strict=True)
    ]
    return {
        "parameters": rows,
        "unsafe_before": before["unsafe"],
        "unsafe_after": after["unsafe"],
        "unsafe_verdict": unsafe,
        "unsafe_verdict_label": VERDICT_LABELS[unsafe],
        "improved": [row for row in rows if row["verdict"] == BETTER],
        "worsened": [row for row in rows if row["verdict"] == WORSE],
        "segments": segments,
    }


@dataclass
class Comparison:
    """This walk paired with another walk of the same route, earlier one first."""

    kind: str  # SafetyWalk.RepeatKind value
    before: SafetyWalk
    after: SafetyWalk
    numbers: dict = field(default_factory=dict)

    @property
    def other_time(self) -> bool:
        return self.kind != SafetyWalk.RepeatKind.FOLLOW_UP


def walk_partners(*, walk: SafetyWalk, include_unpublished: bool = False) -> list[Comparison]:
    """The walks this one is compared with: the walk it repeats and the walks that repeat it.

    Only partners whose report is public (a preview may include unpublished ones), in date order.
    """
    partners: list[Comparison] = []
    if walk.repeats is not None and (include_unpublished or walk.repeats.report_is_public):
        kind = walk.repeat_kind or SafetyWalk.RepeatKind.OTHER_TIME
        partners.append(Comparison(kind=kind, before=walk.repeats, after=walk))
    repetitions = walk.repetitions.all().order_by("date", "starts_at", "pk")
    if not include_unpublished:
        repetitions = repetitions.filter(report_published_at__isnull=False)
    for other in repetitions:
        kind = other.repeat_kind or SafetyWalk.RepeatKind.OTHER_TIME
        partners.append(Comparison(kind=kind, before=walk, after=other))
    return partners


# --- Participants ------------------------------------------------------------------------------


def suppressed_cells(cells: list[tuple[str, int]], *, k: int) -> list[dict]:
    """Cells (label, count) with counts under k hidden, and a second one hidden if a single hidden
    cell could be worked out from the total.

    The complementary cell is the smallest shown one: it gives away the least.
    """
    out = [{"label": label, "count": count, "suppressed": count < k} for label, count in cells]
    hidden = [cell for cell in out if cell["suppressed"]]
    shown = [cell for cell in out if not cell["suppressed"]]
    if len(hidden) == 1 and shown:
        min(shown, key=lambda cell: cell["count"])["suppressed"] = True
    for cell in out:
        if cell["suppressed"]:
            cell["count"] = None
    return out


def participants_summary(walk: SafetyWalk) -> dict:
    """Who walked, by gender and by age band, under small-number suppression; never names.

    Two one-way tables (a gender × age cross table of a group of fifteen would be nearly all
    suppressed). Categories nobody fell in are left out. The total is itself suppressed below k.
    """
    k = suppression_k()
    rows = list(walk.participants.all())
    gender_labels = dict(WalkParticipants.Gender.choices)
    age_labels = dict(AgeBand.choices)
    by_gender: Counter = Counter()
    by_age: Counter = Counter()
    for row in rows:
        by_gender[row.gender] += row.count
        by_age[row.age_band] += row.count
    total = sum(by_gender.values())
    total_hidden = 0 < total < k

    def table(counter: Counter, labels: dict) -> list[dict]:
        cells = [(labels.get(key, key), counter[key]) for key in labels if counter[key] > 0]
        if total_hidden:
            # The total is hidden, so every cell is under k anyway: all hidden.
            return [{"label": label, "count": None, "suppressed": True} for label, _n in cells]
        return suppressed_cells(cells, k=k)

    return {
        "k": k,
        "total": None if total_hidden else total,
        "total_suppressed": total_hidden,
        "recorded": total > 0,
        "by_gender": table(by_gender, gender_labels),
        "by_age": table(by_age, age_labels),
    }


# --- The whole report --------------------------------------------------------------------------


def walk_report(*, walk: SafetyWalk, include_unpublished: bool = False) -> dict:
    """What the report page shows: the walk's stops and statistics, and its comparisons.

    Queries: the partners (1–2), the stops of every walk involved (1), participants (prefetched
    by `walk_for_report` or 1). Independent of the number of stops.
    """
    partners = walk_partners(walk=walk, include_unpublished=include_unpublished)
    walks = {walk.pk: walk}
    for pair in partners:
        walks[pair.before.pk] = pair.before
        walks[pair.after.pk] = pair.after
    rows = walk_stop_rows(walks=list(walks.values()))
    statistics = {pk: walk_statistics(stops) for pk, stops in rows.items()}
    for pair in partners:
        pair.numbers = walks_compare(
            before=statistics[pair.before.pk], after=statistics[pair.after.pk]
        )
    stops = rows[walk.pk]
    photos = [stop for stop in stops if stop.photo]
    return {
        "walk": walk,
        "stops": stops,
        "statistics": statistics[walk.pk],
        "comparisons": partners,
        "participants": participants_summary(walk),
        "photos": photos[:PHOTOS_ON_PAGE],
        "photos_total": len(photos),
        "min_group": MIN_GROUP,
        "compare_min_diff": COMPARE_MIN_DIFF,
        "compare_min_n": COMPARE_MIN_N,
        "compare_min_share_points": round(COMPARE_MIN_SHARE_DIFF * 100),
        "segments": SEGMENTS,
    }


# --- Exports -----------------------------------------------------------------------------------

EXPORT_FIELDS = [
    "walk",
    "reference",
    "order",
    "recorded_date",
    "time_of_day",
    "feeling",
    *WALK_PARAMETER_FIELDS,
    "hazards",
    "notes",
    "photo",
]


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


def stop_export_record(*, walk: SafetyWalk, stop: StopRow, photo_url: str = "") -> dict:
    """One stop as an export record (the same for GeoJSON properties and CSV columns)."""
    return {
        "walk": str(walk.uuid),
        "reference": stop.reference,
        "order": stop.order,
        "recorded_date": _local_date(stop.recorded_at).isoformat(),
        "time_of_day": walk.time_band,
        "feeling": stop.feeling,
        **stop.scores,
        "hazards": list(stop.hazards),
        "notes": stop.notes,
        "photo": photo_url,
    }


def walk_stops_geojson(*, walk: SafetyWalk, stops: list[StopRow], photo_url=None) -> dict:
    """A FeatureCollection of the approved stops at their public points, with the route.

    `photo_url(name) -> str` makes a stored photo's public URL (the storage knows it).
    """
    features = []
    for stop in stops:
        if stop.lon is None:
            continue
        url = photo_url(stop.photo) if (photo_url and stop.photo) else ""
        features.append(
            {
                "type": "Feature",
                "id": stop.reference,
                "geometry": {"type": "Point", "coordinates": [stop.lon, stop.lat]},
                "properties": stop_export_record(walk=walk, stop=stop, photo_url=url),
            }
        )
    route = None
    if walk.route is not None:
        route = {
            "type": "LineString",
            "coordinates": [
                [round(x, COORD_DECIMALS), round(y, COORD_DECIMALS)] for x, y in walk.route.coords
            ],
        }
    return {
        "type": "FeatureCollection",
        "features": features,
        # Foreign members (RFC 7946 §6.1): GIS tools ignore them; the report map draws the route.
        "walk": {
            "uuid": str(walk.uuid),
            "title": walk.title,
            "date": walk.date.isoformat(),
            "time_of_day": walk.time_band,
            "route": route,
        },
        "note": str(
            _(
                "Approved stops only, at approximate public locations (moved onto the route); "
                "scores 0 (poor) to 3 (good), null when not observed."
            )
        ),
    }


# Spreadsheets run a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def walk_stops_csv_rows(*, walk: SafetyWalk, stops: list[StopRow], photo_url=None):
    """Header and rows of the CSV export: the GeoJSON's properties plus lon and lat."""
    yield [*EXPORT_FIELDS, "lon", "lat"]
    for stop in stops:
        url = photo_url(stop.photo) if (photo_url and stop.photo) else ""
        record = stop_export_record(walk=walk, stop=stop, photo_url=url)
        record["hazards"] = ";".join(record["hazards"])
        yield [
            *(_csv_safe(record[name]) for name in EXPORT_FIELDS),
            "" if stop.lon is None else f"{stop.lon:.5f}",
            "" if stop.lat is None else f"{stop.lat:.5f}",
        ]
