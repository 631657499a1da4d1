"""Fixtures shared by the open-data tests (Open311, OGC API – Features, exports, imports)."""

import itertools
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from diagnosis.services import concern_moderate_bulk

# Exact points inside El Chico with more decimals than anything published, so tests can look for
# their 5-decimal rounding in responses and files.
EXACT_POINTS = [(-74.051234, 4.673456), (-74.049871, 4.672219)]


# Every format writes a point's two numbers close together: "[x, y]", "x,y", "lat, lon",
# "<lat>y</lat><long>x</long>", '"lat": y, "long": x'. The last number of one record and the first
# of the next are further apart, and are not a point: pairing them failed tests by chance (a public
# lon of one row and a public lat of the next, each within 0.5 m of a secret point's).
POINT_GAP = 24


def coordinate_pairs(text: str):
    """Consecutive numbers of `text` written close enough together to be one point."""
    numbers = list(re.finditer(r"-?\d+\.\d+", text))
    for first, second in itertools.pairwise(numbers):
        if second.start() - first.end() <= POINT_GAP:
            yield float(first.group()), float(second.group())


def contains_point(text: str, lon: float, lat: float, *, tolerance: float = 5e-6) -> bool:
    """Whether `text` holds the point as two numbers written together, (lon, lat) or (lat, lon),
    at any rounding down to 5 decimals (about 1 m).

    Pairs, not single numbers: one rounded coordinate of a fuzzed public point can match an exact
    one by chance (about one time in a hundred per point), the pair practically never.
    """
    return any(
        (abs(a - lon) < tolerance and abs(b - lat) < tolerance)
        or (abs(a - lat) < tolerance and abs(b - lon) < tolerance)
        for a, b in coordinate_pairs(text)
    )


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


def clear_of_exact_points(submit, **kwargs):
    """Submit a concern whose fuzzed public point is not, rounded to 1 m, on an exact point.

    The fuzz is random: about once in 10,000 it lands within a metre of the exact point, and a
    test looking for the exact point in public output could not tell the two apart. Such a
    concern (still pending) is deleted and sent again.
    """
    for _attempt in range(5):
        concern = submit(**kwargs)
        near = any(
            abs(concern.public_point.x - lon) < 2e-5 and abs(concern.public_point.y - lat) < 2e-5
            for lon, lat in EXACT_POINTS
        )
        if not near:
            return concern
        concern.delete()
    raise AssertionError("the fuzz kept landing on an exact point")


@pytest.fixture
def public_concerns_data(submit, categories):
    """Two approved lighting concerns, one approved asset, one pending, one rejected, and
    k approved sensitive concerns (so the sensitive area total is published) — each kind of row
    every open-data endpoint must treat differently."""
    shown = [clear_of_exact_points(submit, point=at(point)) for point in EXACT_POINTS]
    asset = clear_of_exact_points(submit, category=categories["centre"], point=at(EXACT_POINTS[0]))
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


# --- A whole open site: every kind of public data, and every kind of private detail --------------
# The accountability fixtures (a published diagnosis with problems, a programme, commitments) are
# shared with tests/cms.
from tests.cms.conftest import (  # noqa: E402, F401
    diagnosed,
    facilitator_user,
    make_commitment,
    moderator_of_feedback,
    programme,
)
from tests.conftest import along_route, jpeg_bytes  # noqa: E402

# Private details planted in the data; no open-data response or file may contain any of them.
SECRET_DESCRIPTION = "Texto privado 7Q2Z: la vecina del 4B"
SECRET_EMAIL = "vecina.privada@example.org"
SECRET_PHONE = "+57 300 555 0199"
SECRET_NAME = "Rosalba Privada"
SECRET_NOTES_PENDING = "Nota pendiente K9X4"


@pytest.fixture
def open_site(public_concerns_data, diagnosed, make_commitment, walk, categories, submit):  # noqa: F811
    """Everything the open-data endpoints publish, next to everything they must withhold.

    Public: approved concerns (fuzzed), k sensitive concerns (area total only), a published walk
    report with one approved stop, a published diagnosis with problems, a live commitment.
    Private: exact points, references, descriptions, a photo, an Open311 contact, a pending stop,
    pending/rejected concerns.
    """
    import uuid

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from diagnosis.models import ConcernContact
    from maps.models import SafetyWalk
    from maps.walk_moderation import walk_stop_moderate
    from maps.walks import walk_stop_record

    with_photo = submit(
        description=SECRET_DESCRIPTION,
        point=at(EXACT_POINTS[1]),
        photo=SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg"),
    )
    approve(with_photo)
    ConcernContact.objects.create(
        concern=public_concerns_data["shown"][0],
        email=SECRET_EMAIL,
        phone=SECRET_PHONE,
        first_name=SECRET_NAME,
    )
    moderator = get_user_model().objects.get(username="moderator")
    shown_stop = walk_stop_record(
        walk=walk,
        idempotency_key=uuid.uuid4(),
        point=along_route(0.3),
        located_by="gps",
        feeling="frightening",
        scores={"lighting": 0, "people": 1},
        hazards=["maintenance"],
        notes="Poste roto.",
    ).stop
    walk_stop_moderate(stop=shown_stop, user=moderator, status="approved")
    pending_stop = walk_stop_record(
        walk=walk,
        idempotency_key=uuid.uuid4(),
        point=along_route(0.8),
        located_by="gps",
        feeling="uncomfortable",
        notes=SECRET_NOTES_PENDING,
    ).stop
    SafetyWalk.objects.filter(pk=walk.pk).update(status="done", report_published_at=timezone.now())
    commitment = make_commitment(
        "Luminarias en El Chico",
        problems=[diagnosed["lighting"]],
        areas=[diagnosed["chico"]],
        status="in-progress",
    )
    with_photo.refresh_from_db()
    private_concerns = [
        *public_concerns_data["shown"],
        public_concerns_data["asset"],
        public_concerns_data["pending"],
        public_concerns_data["rejected"],
        *public_concerns_data["sensitive"],
        with_photo,
        *diagnosed["concerns"],
    ]
    return {
        **public_concerns_data,
        "with_photo": with_photo,
        "shown_stop": shown_stop,
        "pending_stop": pending_stop,
        "walk": walk,
        "diagnosed": diagnosed,
        "commitment": commitment,
        "private_concerns": private_concerns,
    }
