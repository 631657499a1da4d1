"""Safety walks: recording stops (from the field, online or synced later) and who may record them.

`walk_stop_record` is the one path by which a stop enters the database, whether a facilitator
records it in the admin, on the field page, or a participant's phone syncs its offline queue. A
stop carries an idempotency key made on the phone when the stop was recorded, so a queue that is
sent twice (a dropped connection after the server answered, two tabs, a retry) stores each stop
once. Nothing here renders or moderates; see `maps.walk_report` and the admin.
"""

import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .codes import new_access_code
from .geometry import public_location
from .models import WALK_PARAMETER_FIELDS, SafetyWalk, WalkScore, WalkStop
from .photos import PhotoRefused, photo_clean

# A stop must be on the walk: within this distance of the drawn route (GPS in a street canyon is
# often 30–80 m off) or inside one of the walk's areas.
STOP_MAX_DISTANCE_FROM_ROUTE_M = 300
# Phones' clocks drift and queues sync late, but not from the future.
RECORDED_AT_FUTURE_TOLERANCE = timedelta(minutes=10)


class StopRejected(Exception):
    """A stop that cannot be stored; `field` names the form field, the message is translated."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class StopResult:
    stop: WalkStop
    created: bool  # False when the idempotency key had been used (the stop was already synced)


def walk_access_code_valid(*, walk: SafetyWalk, code: str) -> bool:
    """Whether `code` is this walk's participants' code (case and spaces forgiven)."""
    typed = "".join((code or "").split()).upper()
    return bool(typed) and hmac.compare_digest(typed.encode(), walk.access_code.encode())


def walk_access_code_renew(*, walk: SafetyWalk) -> str:
    """Give the walk a new participants' code; the old one stops working at once."""
    while True:
        code = new_access_code()
        if not SafetyWalk.objects.filter(access_code=code).exists():
            break
    walk.access_code = code
    walk.save(update_fields=["access_code", "updated_at"])
    return code


def walk_for_code(code: str) -> SafetyWalk | None:
    """The walk a participant's code opens, if any."""
    typed = "".join((code or "").split()).upper()
    if not typed:
        return None
    return SafetyWalk.objects.filter(access_code=typed).first()


def _distance_m(walk: SafetyWalk, point: Point) -> float | None:
    """Metres from the point to the route, measured on the spheroid by the database."""
    if walk.route is None:
        return None
    distance = (
        SafetyWalk.objects.filter(pk=walk.pk)
        .annotate(distance=Distance("route", point))
        .values_list("distance", flat=True)
        .first()
    )
    return None if distance is None else distance.m


def _stop_on_walk(walk: SafetyWalk, point: Point) -> bool:
    distance = _distance_m(walk, point)
    if distance is not None and distance <= STOP_MAX_DISTANCE_FROM_ROUTE_M:
        return True
    return walk.areas.filter(geometry__contains=point).exists()


def stop_public_point(*, walk: SafetyWalk, point: Point, seed: str) -> Point:
    """Where the public sees a stop: its fuzzed location (as for concerns) moved onto the route.

    The route is public, so a stop shown on it reveals nothing more than the walk did, and the
    fuzz keeps the exact spot (where someone stood and said they were frightened) private.
    """
    fuzzed, _cx, _cy = public_location(point.x, point.y, seed=seed)
    if walk.route is None:
        return fuzzed
    route = walk.route
    snapped = route.interpolate(route.project(fuzzed))
    return Point(snapped.x, snapped.y, srid=4326)


def _scores_clean(scores: dict) -> dict[str, int | None]:
    cleaned = {}
    valid = set(WalkScore.values)
    for name in WALK_PARAMETER_FIELDS:
        value = scores.get(name)
        if value in (None, ""):
            cleaned[name] = None
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if number not in valid:
            raise StopRejected(_("Each score is 0, 1, 2 or 3, or “not observed”."), field=name)
        cleaned[name] = number
    return cleaned


def walk_stop_record(
    *,
    walk: SafetyWalk,
    idempotency_key: uuid.UUID,
    point: Point | None,
    located_by: str,
    feeling: str,
    scores: dict | None = None,
    hazards: list[str] | None = None,
    notes: str = "",
    photo: UploadedFile | None = None,
    recorded_at: datetime | None = None,
    accuracy_m: float | None = None,
    source: str = WalkStop.Source.FACILITATOR,
    recorded_by=None,
    language: str = "es",
) -> StopResult:
    """Store one stop of a walk, or refuse it with a message in the active language.

    A key that was used before returns the stop stored the first time, whatever else was sent:
    a phone resending its queue must never create a second stop, nor be told it failed.
    """
    existing = WalkStop.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.walk_id != walk.pk:
            raise StopRejected(_("This stop belongs to another walk."))
        return StopResult(stop=existing, created=False)

    if point is None:
        raise StopRejected(
            _("Mark where the stop is: use your location or tap the route."), field="point"
        )
    if point.srid is None:
        point.srid = 4326
    if not _stop_on_walk(walk, point):
        raise StopRejected(
            _("This place is too far from the walk's route. Tap the route to place the stop."),
            field="point",
        )
    if feeling not in WalkStop.Feeling.values:
        raise StopRejected(_("Say how safe you felt here."), field="feeling")
    cleaned_scores = _scores_clean(scores or {})
    unknown = set(hazards or []) - set(WalkStop.Hazard.values)
    if unknown:
        raise StopRejected(_("Choose hazards from the list."), field="hazards")
    if located_by not in WalkStop.Located.values:
        located_by = WalkStop.Located.MAP
    now = timezone.now()
    if recorded_at is None:
        recorded_at = now
    elif recorded_at > now + RECORDED_AT_FUTURE_TOLERANCE:
        recorded_at = now  # a phone clock far ahead: keep the stop, trust the server's time
    notes = (notes or "").strip()
    if len(notes) > WalkStop._meta.get_field("notes").max_length:
        raise StopRejected(_("The notes are too long (at most 2,000 characters)."), field="notes")
    try:
        cleaned_photo = photo_clean(photo) if photo is not None else None
    except PhotoRefused as refusal:
        raise StopRejected(refusal.message, field="photo") from None

    stop = WalkStop(
        walk=walk,
        idempotency_key=idempotency_key,
        point=point,
        located_by=located_by,
        accuracy_m=accuracy_m,
        feeling=feeling,
        hazards=sorted(set(hazards or [])),
        notes=notes,
        recorded_at=recorded_at,
        source=source,
        recorded_by=recorded_by,
        language=language,
        **cleaned_scores,
    )
    stop.public_point = stop_public_point(walk=walk, point=point, seed=stop.reference)
    if cleaned_photo is not None:
        stop.photo.save("photo.jpg", cleaned_photo, save=False)
    try:
        with transaction.atomic():
            stop.save()
            if walk.status == SafetyWalk.Status.PLANNED:
                # The first stop means the walk has started.
                SafetyWalk.objects.filter(pk=walk.pk, status=SafetyWalk.Status.PLANNED).update(
                    status=SafetyWalk.Status.IN_PROGRESS, updated_at=now
                )
    except IntegrityError:
        # The same stop arrived twice at once (two tabs syncing the same queue).
        if stop.photo:
            stop.photo.delete(save=False)
        existing = WalkStop.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return StopResult(stop=existing, created=False)
    return StopResult(stop=stop, created=True)
