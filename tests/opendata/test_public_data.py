"""The one open-data selector (`diagnosis.public_data`): what it lets out and what it keeps."""

import datetime

from django.utils import timezone

from diagnosis.public_data import (
    CONCERN_FIELDS,
    ConcernFilter,
    public_area_totals,
    public_concern,
    public_concerns,
)


def test_only_approved_non_sensitive_concerns_at_public_points(public_concerns_data):
    rows = list(public_concerns().iterate())
    expected = {c.public_id for c in public_concerns_data["shown"]}
    expected.add(public_concerns_data["asset"].public_id)
    assert {row["id"] for row in rows} == expected
    for row in rows:
        assert tuple(row) == CONCERN_FIELDS
        concern = next(
            c
            for c in [*public_concerns_data["shown"], public_concerns_data["asset"]]
            if c.public_id == row["id"]
        )
        assert (row["lon"], row["lat"]) == (
            round(concern.public_point.x, 5),
            round(concern.public_point.y, 5),
        )
        assert (row["lon"], row["lat"]) != (round(concern.point.x, 5), round(concern.point.y, 5))
        assert row["id"] != concern.reference
        assert row["date"] == timezone.localtime(concern.submitted_at).date()
    assert public_concerns().count() == 3


def test_a_pending_or_sensitive_concern_is_not_found_by_id(public_concerns_data):
    assert public_concern(public_concerns_data["pending"].public_id) is None
    assert public_concern(public_concerns_data["sensitive"][0].public_id) is None
    assert public_concern(public_concerns_data["shown"][0].public_id)["category"] == (
        "poor-lighting"
    )


def test_day_filters_are_whole_days(public_concerns_data):
    today = timezone.localdate()
    assert public_concerns(ConcernFilter(since=today, until=today)).count() == 3
    tomorrow = today + datetime.timedelta(days=1)
    assert public_concerns(ConcernFilter(since=tomorrow)).count() == 0


def test_sensitive_totals_only_from_k(public_concerns_data, settings):
    sensitive = public_area_totals(sensitive=True)
    assert [(row["category"], row["count"]) for row in sensitive] == [("domestic-violence", 5)]
    settings.CONVIVE_SUPPRESSION_K = 6
    assert public_area_totals(sensitive=True) == []
    plain = public_area_totals(sensitive=False)
    assert sorted((row["category"], row["count"]) for row in plain) == [
        ("community-centre", 1),
        ("poor-lighting", 2),
    ]


def test_a_draft_consultation_publishes_nothing(public_concerns_data, consultation):
    consultation.unpublish()
    assert public_concerns().count() == 0
    assert public_area_totals(sensitive=False) == []
