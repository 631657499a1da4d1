"""The numbers of a safety-walk report (maps.walk_report), checked against hand-computed values:
per-parameter summaries, feelings and hazards, what goes with feeling unsafe (with the too-few
rule), day/night and follow-up comparisons, and who took part under small-number suppression."""

import datetime
import uuid

import pytest
from django.utils import timezone

from maps.models import ModerationStatus, SafetyWalk, WalkParticipants, WalkStop
from maps.walk_report import (
    StopRow,
    participants_summary,
    route_segments,
    score_verdict,
    suppressed_cells,
    unsafe_by_hazard,
    unsafe_by_parameter,
    walk_report,
    walk_statistics,
    walks_compare,
    walks_published,
)
from maps.walks import walk_stop_record
from tests.conftest import along_route

C, U, F = "comfortable", "uncomfortable", "frightening"


def row(feeling, position=None, hazards=(), **scores) -> StopRow:
    """A stop as the report reads it, built by hand for the pure statistics."""
    full = dict.fromkeys(
        (
            "lighting",
            "openness",
            "visibility",
            "people",
            "security",
            "walk_path",
            "transport",
            "gender_diversity",
        )
    )
    full.update(scores)
    return StopRow(
        pk=0,
        walk_id=1,
        reference="X",
        lon=None,
        lat=None,
        position=position,
        recorded_at=timezone.now(),
        feeling=feeling,
        scores=full,
        hazards=list(hazards),
        notes="",
        photo="",
    )


def record(walk, fraction, feeling, *, status=ModerationStatus.APPROVED, hazards=(), **scores):
    """Store a stop through the real service, then record a moderation decision on it."""
    stop = walk_stop_record(
        walk=walk,
        idempotency_key=uuid.uuid4(),
        point=along_route(fraction),
        located_by=WalkStop.Located.GPS,
        feeling=feeling,
        scores=scores,
        hazards=list(hazards),
    ).stop
    WalkStop.objects.filter(pk=stop.pk).update(status=status, moderated_at=timezone.now())
    return stop


# --- One walk ---------------------------------------------------------------------------------

SEVEN = [
    row(C, lighting=3, people=2),
    row(C, lighting=2, people=3),
    row(U, lighting=1, hazards=["entrapment"]),
    row(F, lighting=0, people=0, hazards=["entrapment", "no_help"]),
    row(U, people=1),
    row(C, lighting=2, people=3, hazards=["maintenance"]),
    row(F, lighting=1, people=1, hazards=["entrapment"]),
]


def test_summary_counts_observed_and_not_observed_and_the_distribution():
    stats = walk_statistics(SEVEN)
    by_field = {p["field"]: p for p in stats["parameters"]}

    lighting = by_field["lighting"]
    assert (lighting["observed"], lighting["not_observed"]) == (6, 1)
    assert lighting["mean"] == pytest.approx(9 / 6)  # 3+2+1+0+2+1
    assert lighting["distribution"] == [1, 2, 2, 1]

    people = by_field["people"]
    assert (people["observed"], people["not_observed"]) == (6, 1)
    assert people["mean"] == pytest.approx(10 / 6)  # 2+3+0+1+3+1
    assert people["distribution"] == [1, 2, 1, 2]

    transport = by_field["transport"]
    assert (transport["observed"], transport["not_observed"], transport["mean"]) == (0, 7, None)
    assert transport["distribution"] == [0, 0, 0, 0]
    assert [p["field"] for p in stats["parameters"]][:2] == ["lighting", "openness"]


def test_feelings_and_hazards_are_counted_per_stop():
    stats = walk_statistics(SEVEN)
    assert {f["value"]: f["count"] for f in stats["feelings"]} == {C: 3, U: 2, F: 2}
    hazards = {h["value"]: h["count"] for h in stats["hazards"]}
    assert hazards["entrapment"] == 3
    assert hazards["no_help"] == 1
    assert hazards["maintenance"] == 1
    assert hazards["no_toilet"] == 0
    assert stats["unsafe"] == {
        "n": 7,
        "unsafe": 4,
        "share": pytest.approx(4 / 7),
        "percent": 57,
        "too_few": False,
    }


def test_feeling_unsafe_by_score_gives_counts_and_shares():
    # Lighting poor at 6 stops (5 felt unsafe), good at 6 (1 felt unsafe), not observed at 1.
    stops = (
        [row(F, lighting=0)] * 3
        + [row(U, lighting=1)] * 2
        + [row(C, lighting=1)]
        + [row(C, lighting=3)] * 4
        + [row(U, lighting=2), row(C, lighting=2)]
        + [row(F)]
    )
    lighting = unsafe_by_parameter(stops)[0]
    assert lighting["field"] == "lighting"
    assert lighting["poor"] == {
        "n": 6,
        "unsafe": 5,
        "share": pytest.approx(5 / 6),
        "percent": 83,
        "too_few": False,
    }
    assert lighting["good"]["unsafe"] == 1 and lighting["good"]["n"] == 6
    assert lighting["good"]["percent"] == 17
    # A parameter nobody scored: two empty groups, no percentage.
    transport = unsafe_by_parameter(stops)[6]
    assert transport["poor"] == {
        "n": 0,
        "unsafe": 0,
        "share": None,
        "percent": None,
        "too_few": True,
    }


def test_a_group_of_fewer_than_five_stops_is_too_few_to_compare():
    poor = unsafe_by_parameter(SEVEN)[0]["poor"]  # lighting 0–1 at stops 3, 4 and 7
    assert (poor["unsafe"], poor["n"], poor["share"], poor["too_few"]) == (3, 3, None, True)


def test_feeling_unsafe_with_and_without_each_hazard():
    stops = [row(F, hazards=["entrapment"])] * 4 + [row(U)] * 2 + [row(C)] * 6
    entrapment = unsafe_by_hazard(stops)[0]
    assert entrapment["value"] == "entrapment"
    assert (entrapment["with"]["unsafe"], entrapment["with"]["n"]) == (4, 4)
    assert entrapment["with"]["too_few"] and entrapment["with"]["share"] is None
    assert entrapment["without"]["unsafe"] == 2 and entrapment["without"]["n"] == 8
    assert entrapment["without"]["percent"] == 25


def test_stops_are_grouped_into_equal_parts_of_the_route():
    stops = [
        row(C, position=0.0),
        row(U, position=0.1),
        row(F, position=0.24),
        row(C, position=0.3),
        row(F, position=0.8),
        row(U, position=1.0),  # the very end counts in the last part
        row(U, position=None),  # no route: in no part
    ]
    parts = route_segments(stops, segments=4)
    assert [(p["n"], p["unsafe"]) for p in parts] == [(3, 2), (1, 0), (0, 0), (2, 2)]


# --- Comparisons ------------------------------------------------------------------------------

DAY = [
    row(C, lighting=3, openness=2, visibility=1, people=2),
    row(C, lighting=3, openness=2, visibility=1, people=2),
    row(C, lighting=2, openness=2, visibility=1),
    row(U, lighting=2),
    row(C),
]
NIGHT = [
    row(F, lighting=1, openness=2, visibility=2, people=0),
    row(U, lighting=0, openness=2, visibility=2, people=0),
    row(U, lighting=1, openness=1, visibility=2, people=0),
    row(C, lighting=2),
    row(U),
]


def test_day_and_night_comparison_means_differences_and_labels():
    numbers = walks_compare(before=walk_statistics(DAY), after=walk_statistics(NIGHT))
    rows = {r["field"]: r for r in numbers["parameters"]}

    lighting = rows["lighting"]  # day 3,3,2,2 = 2.5; night 1,0,1,2 = 1.0
    assert (lighting["before_mean"], lighting["after_mean"]) == (2.5, 1.0)
    assert lighting["difference"] == pytest.approx(-1.5)
    assert (lighting["before_n"], lighting["after_n"]) == (4, 4)
    assert lighting["verdict"] == "worse"

    openness = rows["openness"]  # 2,2,2 = 2.0; 2,2,1 = 1.67: a change under half a point
    assert openness["difference"] == pytest.approx(-1 / 3)
    assert openness["verdict"] == "same"

    assert rows["visibility"]["difference"] == pytest.approx(1.0)
    assert rows["visibility"]["verdict"] == "better"

    people = rows["people"]  # only 2 observations by day
    assert (people["before_n"], people["after_n"], people["verdict"]) == (2, 3, "unknown")
    assert rows["transport"]["difference"] is None
    assert rows["transport"]["verdict"] == "unknown"

    # Felt unsafe: 1 of 5 by day, 4 of 5 at night (20 % → 80 %).
    assert numbers["unsafe_before"]["percent"] == 20
    assert numbers["unsafe_after"]["percent"] == 80
    assert numbers["unsafe_verdict"] == "worse"
    assert [r["field"] for r in numbers["worsened"]] == ["lighting"]
    assert [r["field"] for r in numbers["improved"]] == ["visibility"]


def test_follow_up_after_works_reads_as_what_improved():
    numbers = walks_compare(before=walk_statistics(NIGHT), after=walk_statistics(DAY))
    assert [r["field"] for r in numbers["improved"]] == ["lighting"]
    assert [r["field"] for r in numbers["worsened"]] == ["visibility"]
    assert numbers["unsafe_verdict"] == "better"


@pytest.mark.parametrize(
    ("difference", "n_before", "n_after", "verdict"),
    [
        (0.5, 3, 3, "better"),
        (0.49, 3, 3, "same"),
        (-0.5, 3, 3, "worse"),
        (2.0, 2, 10, "unknown"),
        (None, 5, 5, "unknown"),
    ],
)
def test_the_comparison_rule_at_its_edges(difference, n_before, n_after, verdict):
    assert score_verdict(difference=difference, n_before=n_before, n_after=n_after) == verdict


# --- Participants -----------------------------------------------------------------------------


def test_small_cells_are_suppressed_and_a_total_cannot_give_one_away():
    cells = suppressed_cells([("women", 9), ("men", 6), ("other", 2)], k=5)
    # "other" is under 5; with the total shown, men = total − women − other would reveal it, so
    # the smallest shown cell is hidden too.
    assert [(c["label"], c["count"], c["suppressed"]) for c in cells] == [
        ("women", 9, False),
        ("men", None, True),
        ("other", None, True),
    ]
    two_hidden = suppressed_cells([("a", 8), ("b", 3), ("c", 1)], k=5)
    assert [c["count"] for c in two_hidden] == [8, None, None]
    none_hidden = suppressed_cells([("a", 8), ("b", 5)], k=5)
    assert [c["count"] for c in none_hidden] == [8, 5]


def test_participants_by_gender_and_age_with_suppression(walk, settings):
    settings.CONVIVE_SUPPRESSION_K = 5
    for gender, age, count in [
        ("women", "18-29", 4),
        ("women", "30-44", 5),
        ("men", "30-44", 6),
        ("other", "65+", 1),
    ]:
        WalkParticipants.objects.create(walk=walk, gender=gender, age_band=age, count=count)
    summary = participants_summary(walk)
    assert summary["total"] == 16 and summary["k"] == 5
    assert [(c["label"], c["count"]) for c in summary["by_gender"]] == [
        ("Women", 9),
        ("Men", None),  # hidden as the complement of "Another gender" (1)
        ("Another gender", None),
    ]
    assert [(str(c["label"]), c["count"]) for c in summary["by_age"]] == [
        ("18–29 years", None),  # 4 < 5
        ("30–44 years", 11),
        ("65 years and over", None),  # 1 < 5
    ]


def test_a_group_smaller_than_k_shows_no_exact_number(walk, settings):
    settings.CONVIVE_SUPPRESSION_K = 5
    WalkParticipants.objects.create(walk=walk, gender="women", age_band="18-29", count=3)
    summary = participants_summary(walk)
    assert summary["total"] is None and summary["total_suppressed"]
    assert [c["count"] for c in summary["by_gender"]] == [None]


def test_suppression_never_goes_below_three(walk, settings):
    settings.CONVIVE_SUPPRESSION_K = 1
    WalkParticipants.objects.create(walk=walk, gender="women", age_band="18-29", count=2)
    assert participants_summary(walk)["k"] == 3
    assert participants_summary(walk)["total"] is None


# --- From the database ------------------------------------------------------------------------


def test_only_approved_stops_count(walk):
    record(walk, 0.1, C, lighting=3)
    record(walk, 0.5, U, lighting=1)
    record(walk, 0.6, F, lighting=0, status=ModerationStatus.PENDING)
    record(walk, 0.7, F, lighting=0, status=ModerationStatus.REJECTED)
    record(walk, 0.8, F, lighting=0, status=ModerationStatus.HIDDEN)

    report = walk_report(walk=walk)
    stats = report["statistics"]
    assert stats["stops"] == 2
    assert stats["parameters"][0]["mean"] == 2.0
    assert {f["value"]: f["count"] for f in stats["feelings"]} == {C: 1, U: 1, F: 0}
    assert [stop.order for stop in report["stops"]] == [1, 2]
    # Public points only, and every one on the route.
    for stop in report["stops"]:
        exact = WalkStop.objects.get(pk=stop.pk).point
        assert (stop.lon, stop.lat) != (round(exact.x, 5), round(exact.y, 5))
        assert 0 <= stop.position <= 1


def test_a_night_walk_is_compared_with_the_day_walk_it_repeats(walk, night_walk):
    for fraction, lighting in ((0.1, 3), (0.3, 3), (0.5, 2), (0.7, 2)):
        record(walk, fraction, C, lighting=lighting)
    for fraction, lighting in ((0.1, 1), (0.3, 0), (0.5, 1), (0.7, 0)):
        record(night_walk, fraction, F, lighting=lighting)
    now = timezone.now()
    SafetyWalk.objects.filter(pk__in=[walk.pk, night_walk.pk]).update(report_published_at=now)
    walk.refresh_from_db()
    night_walk.refresh_from_db()

    for shown in (night_walk, walk):
        pairs = walk_report(walk=shown)["comparisons"]
        assert len(pairs) == 1
        pair = pairs[0]
        assert (pair.before.pk, pair.after.pk) == (walk.pk, night_walk.pk)
        assert pair.other_time
        lighting = pair.numbers["parameters"][0]
        assert (lighting["before_mean"], lighting["after_mean"]) == (2.5, 0.5)
        assert lighting["verdict"] == "worse"


def test_an_unpublished_partner_is_left_out_of_the_public_report(walk, night_walk):
    record(walk, 0.2, C, lighting=3)
    SafetyWalk.objects.filter(pk=night_walk.pk).update(report_published_at=timezone.now())
    night_walk.refresh_from_db()
    assert walk_report(walk=night_walk)["comparisons"] == []
    preview = walk_report(walk=night_walk, include_unpublished=True)["comparisons"]
    assert [pair.before.pk for pair in preview] == [walk.pk]


def test_a_follow_up_is_not_a_day_and_night_comparison(walk, barrios):
    follow = SafetyWalk.objects.create(
        title="Camino al colegio, después de las obras",
        route=walk.route,
        date=walk.date + datetime.timedelta(days=120),
        time_band=SafetyWalk.TimeBand.DAY,
        target_group=SafetyWalk.TargetGroup.WOMEN,
        repeats=walk,
        repeat_kind=SafetyWalk.RepeatKind.FOLLOW_UP,
        report_published_at=timezone.now(),
    )
    SafetyWalk.objects.filter(pk=walk.pk).update(report_published_at=timezone.now())
    follow = SafetyWalk.objects.select_related("repeats").get(pk=follow.pk)
    pair = walk_report(walk=follow)["comparisons"][0]
    assert not pair.other_time and pair.kind == SafetyWalk.RepeatKind.FOLLOW_UP


def test_published_walks_count_approved_stops_newest_first(walk, night_walk):
    record(night_walk, 0.2, C)
    record(night_walk, 0.4, C, status=ModerationStatus.PENDING)
    SafetyWalk.objects.filter(pk=night_walk.pk).update(
        report_published_at=timezone.now(), date=datetime.date(2026, 11, 21)
    )
    listed = list(walks_published())
    assert [w.pk for w in listed] == [night_walk.pk]
    assert listed[0].approved_stops == 1
