"""Submitting a concern: the one path by which residents' reports enter the database."""

import uuid
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from maps.geometry import public_location
from maps.models import Area
from maps.selectors import area_locate

from ..models import Concern, ConcernCategory
from ..pages import ConsultationPage
from ..photos import photo_clean
from .processing import concern_enqueue_processing


class ConcernRejected(Exception):
    """A submission that cannot be stored; `field` names the form field to attach the message to,
    and the message is already in the resident's language."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class SubmitResult:
    concern: Concern
    created: bool  # False when the idempotency key had already been used (a double submit)


def consultation_area_ids(consultation: ConsultationPage) -> list[int]:
    """Areas of a consultation, whichever translation was used (they are shared by all).

    Read from the relation table only — never the boundaries — and remembered on the page object,
    which lives for one request: the form and the submit service both ask.
    """
    cached = getattr(consultation, "_convive_area_ids", None)
    if cached is not None:
        return cached
    through = ConsultationPage.areas.through.objects
    ids = list(
        through.filter(consultationpage_id=consultation.pk).values_list("area_id", flat=True)
    )
    if not ids:
        default_translation = consultation.get_translations(inclusive=True).filter(
            locale__language_code=consultation.locale.get_default().language_code
        )
        ids = list(
            through.filter(consultationpage__in=default_translation).values_list(
                "area_id", flat=True
            )
        )
    consultation._convive_area_ids = ids
    return ids


def consultation_category_keys(consultation: ConsultationPage) -> set[uuid.UUID]:
    """Translation keys of the categories enabled on a consultation (any translation of it)."""
    cached = getattr(consultation, "_convive_category_keys", None)
    if cached is not None:
        return cached
    through = ConsultationPage.categories.through.objects

    def keys_of(pages) -> set[uuid.UUID]:
        chosen = through.filter(consultationpage__in=pages).values("concerncategory_id")
        return set(
            ConcernCategory.objects.filter(pk__in=chosen).values_list("translation_key", flat=True)
        )

    keys = keys_of([consultation.pk])
    if not keys:
        keys = keys_of(consultation.get_translations().values("pk"))
    consultation._convive_category_keys = keys
    return keys


def concern_submit(
    *,
    consultation: ConsultationPage,
    category: ConcernCategory,
    idempotency_key: uuid.UUID,
    language: str,
    description: str = "",
    point: Point | None = None,
    area: Area | None = None,
    place_description: str = "",
    time_band: str = "",
    day_type: str = "",
    frequency: str = "",
    affected: list[str] | None = None,
    gender: str = "",
    gender_description: str = "",
    age_band: str = "",
    photo: UploadedFile | None = None,
    source: str = Concern.Source.ONLINE,
    entered_by=None,
    enforce_open: bool = True,
) -> SubmitResult:
    """Store a resident's concern, or refuse it with a message in the active language.

    Rules enforced here (so every entry path obeys them): the consultation must be listening
    (facilitators entering paper forms afterwards pass `enforce_open=False`); the category must be
    enabled on it; a point must fall inside one of its areas, and the area is always assigned
    server-side; without a point, an area of the consultation or a place description is needed.
    The photo is re-encoded with all metadata removed before anything is saved. A repeated
    idempotency key returns the concern stored the first time.
    """
    existing = Concern.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return SubmitResult(concern=existing, created=False)

    if enforce_open and not consultation.accepts_concerns:
        raise ConcernRejected(_("This consultation is not accepting concerns at the moment."))

    if category.translation_key not in consultation_category_keys(consultation):
        raise ConcernRejected(
            _("Please choose one of the categories of this consultation."), field="category"
        )

    area_ids = consultation_area_ids(consultation)
    if point is not None:
        if point.srid is None:
            point.srid = 4326
        located = area_locate(point=point, among=area_ids)
        if located is None:
            raise ConcernRejected(
                _("The place you marked is outside the area of this consultation."),
                field="point",
            )
        area = located
    elif area is not None:
        if area.pk not in area_ids:
            raise ConcernRejected(
                _("Please choose one of the areas of this consultation."), field="area"
            )
    elif not place_description.strip():
        raise ConcernRejected(
            _("Tell us where: mark the place on the map, choose an area or describe the place."),
            field="place_description",
        )

    cleaned_photo = photo_clean(photo) if photo is not None else None

    concern = Concern(
        consultation=consultation,
        consultation_key=consultation.translation_key,
        category=category,
        category_key=category.translation_key,
        description=description.strip(),
        point=point,
        area=area,
        place_description=place_description.strip(),
        time_band=time_band,
        day_type=day_type,
        frequency=frequency,
        affected=sorted(set(affected or [])),
        gender=gender,
        gender_description=gender_description.strip() if gender == Concern.Gender.OTHER else "",
        age_band=age_band,
        source=source,
        language=language,
        entered_by=entered_by,
        idempotency_key=idempotency_key,
        submitted_at=timezone.now(),
    )
    if point is not None:
        concern.public_point, concern.cell_x, concern.cell_y = public_location(
            point.x, point.y, seed=concern.reference
        )
    elif area is not None:
        # Without a point the public location is the area itself (shown only as an area total).
        concern.public_point = None
    if cleaned_photo is not None:
        concern.photo.save("photo.jpg", cleaned_photo, save=False)

    try:
        with transaction.atomic():
            concern.save()
            transaction.on_commit(lambda: concern_enqueue_processing(concern_id=concern.pk))
    except IntegrityError:
        # A concurrent double submit won the race on the idempotency key: return its row.
        if concern.photo:
            concern.photo.delete(save=False)
        existing = Concern.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return SubmitResult(concern=existing, created=False)
    return SubmitResult(concern=concern, created=True)
