"""Fixtures shared by the open-data tests (Open311, OGC API – Features, exports, imports)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from diagnosis.services import concern_moderate_bulk

# Exact points inside El Chico with more decimals than anything published, so tests can look for
# their 5-decimal rounding in responses and files.
EXACT_POINTS = [(-74.051234, 4.673456), (-74.049871, 4.672219)]


def decide(status, *concerns):
    """Moderate through the real service (which also keeps the public summary counts)."""
    moderator, _ = get_user_model().objects.get_or_create(
        username="moderator", defaults={"is_superuser": True, "is_staff": True}
    )
    reason = "" if status == "approved" else "Test decision."
    concern_moderate_bulk(concerns=concerns, user=moderator, status=status, reason=reason)


def approve(*concerns):
    decide("approved", *concerns)


def at(lon_lat):
    return Point(*lon_lat, srid=4326)


@pytest.fixture
def public_concerns_data(submit, categories):
    """Two approved lighting concerns, one approved asset, one pending, one rejected, and
    k approved sensitive concerns (so the sensitive area total is published) — each kind of row
    every open-data endpoint must treat differently."""
    shown = [submit(point=at(point)) for point in EXACT_POINTS]
    asset = submit(category=categories["centre"], point=at(EXACT_POINTS[0]))
    pending = submit(point=at(EXACT_POINTS[1]))
    rejected = submit(point=at(EXACT_POINTS[0]))
    sensitive = [
        submit(category=categories["domestic"], point=at(EXACT_POINTS[0])) for _ in range(5)
    ]
    approve(*shown, asset, *sensitive)
    decide("rejected", rejected)
    return {
        "shown": shown,
        "asset": asset,
        "pending": pending,
        "rejected": rejected,
        "sensitive": sensitive,
    }
