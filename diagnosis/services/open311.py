"""Open311 GeoReport v2 POST: a service request from another reporting app becomes a concern.

The request enters through `concern_submit` like every other concern (listening phase, category of
the consultation, point inside its areas) with `source=OPEN311`, waits for moderation, and is
published only as any approved concern is (`diagnosis.public_data`). Contact details the client
sent go to `ConcernContact`, which nothing public reads (docs/open311.md, docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from ..models import Concern, ConcernContact
from ..pages import ConsultationPage
from .concerns import CategoryChoice, SubmitResult, concern_submit

CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "device_id", "account_id")
# Fields that say who sent a request: the same ones again the same day make a retry.
SENDER_FIELDS = ("device_id", "account_id", "email", "phone")


@dataclass(frozen=True)
class Open311Submission:
    """What an Open311 client sent, already parsed and checked for form (not against the rules)."""

    consultation: ConsultationPage
    category: CategoryChoice
    language: str
    point: Point | None = None
    place_description: str = ""
    description: str = ""
    time_band: str = ""
    day_type: str = ""
    frequency: str = ""
    affected: tuple[str, ...] = ()
    contact: dict[str, str] = field(default_factory=dict)


def open311_idempotency_key(
    *, fields: dict[str, list[str]], client: str = "", header: str = ""
) -> uuid.UUID:
    """The key that makes a retried POST return the first request instead of a second concern.

    - With an `Idempotency-Key` header, that key (per client): the client says what a retry is.
    - Else, when the request names its sender (`device_id`, `account_id`, `email` or `phone`),
      the same fields from the same sender on the same (UTC) day are a retry after a timeout.
    - Else a fresh random key: two residents may well send the same category at the same
      corner with no words, and merging them would lose a report.

    Keyed with SECRET_KEY: the key doubles as the request's Open311 `token`, and nobody who only
    knows what was sent can compute it. `client` (the API key, if any) keeps two apps apart.
    """
    if header:
        message = f"{client}\nheader\n{header}".encode()
    elif any(values and values[0] for name, values in fields.items() if name in SENDER_FIELDS):
        canonical = json.dumps(
            {"fields": sorted((name, sorted(values)) for name, values in fields.items())},
            ensure_ascii=False,
        )
        day = timezone.now().date().isoformat()
        message = f"{client}\n{day}\n{canonical}".encode()
    else:
        return uuid.uuid4()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def open311_request_submit(
    *, submission: Open311Submission, idempotency_key: uuid.UUID
) -> SubmitResult:
    """Store the request as a pending concern, with its contact details if any were given.

    One transaction: a concern is never stored without the contact its client sent, nor a contact
    without its concern. A repeated idempotency key returns the first concern and adds nothing.
    Raises `ConcernRejected` (message in the active language) when the rules refuse it.
    """
    with transaction.atomic():
        result = concern_submit(
            consultation=submission.consultation,
            category=submission.category,
            idempotency_key=idempotency_key,
            language=submission.language,
            description=submission.description,
            point=submission.point,
            place_description=submission.place_description,
            time_band=submission.time_band,
            day_type=submission.day_type,
            frequency=submission.frequency,
            affected=list(submission.affected),
            source=Concern.Source.OPEN311,
        )
        contact = {name: value for name, value in submission.contact.items() if value}
        if result.created and contact:
            ConcernContact.objects.create(concern=result.concern, **contact)
    return result


def open311_token_concern(token: str) -> Concern | None:
    """The concern an Open311 client created with this token (its idempotency key), any status.

    Only Open311 concerns: the idempotency keys of the site's own form are never looked up here.
    """
    try:
        key = uuid.UUID(token)
    except ValueError:
        return None
    return (
        Concern.objects.filter(idempotency_key=key, source=Concern.Source.OPEN311)
        .only("public_id", "idempotency_key")
        .first()
    )
