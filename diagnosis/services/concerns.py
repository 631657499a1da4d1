"""Submitting a concern: the one path by which residents' reports enter the database."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from maps.geometry import public_location
from maps.models import Area
from maps.photos import PhotoRefused, photo_clean
from maps.selectors import area_locate

from ..models import Concern, ConcernCategory
from ..pages import ConsultationPage
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


# Each POST needs the consultation's rules; they change only when an editor publishes, which gives
# the page a new revision, and so a new cache key. The timeout bounds how long a change made outside
# revisions (a translation inheriting its areas, a shell session) can go unseen.
RULES_CACHE_SECONDS = 300


@dataclass(frozen=True)
class ConsultationRules:
    """What a submission to one consultation is checked against: ids and keys, never boundaries.

    Shared by every translation of the consultation: a page without areas or categories of its own
    uses those of the default-language version.
    """

    area_ids: tuple[int, ...]
    category_keys: frozenset[uuid.UUID]
    # Every row, in any language, of an enabled category → its translation key.
    category_key_by_id: dict[int, uuid.UUID]


@dataclass(frozen=True)
class CategoryChoice:
    """A category as a submission needs it: the row the resident was shown and its translation key.

    Stands in for a `ConcernCategory` in `concern_submit` without loading the row.
    """

    pk: int
    translation_key: uuid.UUID


def _rules_load(consultation: ConsultationPage) -> ConsultationRules:
    areas = ConsultationPage.areas.through.objects
    chosen = ConsultationPage.categories.through.objects
    area_ids = list(
        areas.filter(consultationpage_id=consultation.pk).values_list("area_id", flat=True)
    )
    chosen_ids = chosen.filter(consultationpage_id=consultation.pk).values("concerncategory_id")
    keys = set(
        ConcernCategory.objects.filter(pk__in=chosen_ids).values_list("translation_key", flat=True)
    )
    if not area_ids or not keys:
        default_translation = consultation.get_translations(inclusive=True).filter(
            locale__language_code=consultation.locale.get_default().language_code
        )
        if not area_ids:
            area_ids = list(
                areas.filter(consultationpage__in=default_translation).values_list(
                    "area_id", flat=True
                )
            )
        if not keys:
            chosen_ids = chosen.filter(consultationpage__in=default_translation).values(
                "concerncategory_id"
            )
            keys = set(
                ConcernCategory.objects.filter(pk__in=chosen_ids).values_list(
                    "translation_key", flat=True
                )
            )
    rows = ConcernCategory.objects.filter(translation_key__in=keys)
    key_by_id = dict(rows.values_list("pk", "translation_key"))
    return ConsultationRules(
        area_ids=tuple(sorted(area_ids)),
        category_keys=frozenset(keys),
        category_key_by_id=key_by_id,
    )


def consultation_rules(consultation: ConsultationPage) -> ConsultationRules:
    """The consultation's areas and categories, from the cache when its revision has not changed.

    Also remembered on the page object, which lives for one request: the form, the submit service
    and the map all ask.
    """
    remembered = getattr(consultation, "_convive_rules", None)
    if remembered is not None:
        return remembered
    key = f"convive:consultation-rules:{consultation.pk}:{consultation.latest_revision_id or 0}"
    rules = cache.get(key)
    if rules is None:
        rules = _rules_load(consultation)
        cache.set(key, rules, RULES_CACHE_SECONDS)
    consultation._convive_rules = rules
    return rules


def consultation_area_ids(consultation: ConsultationPage) -> list[int]:
    """Areas of a consultation, whichever translation was used (they are shared by all)."""
    return list(consultation_rules(consultation).area_ids)


def consultation_category_keys(consultation: ConsultationPage) -> set[uuid.UUID]:
    """Translation keys of the categories enabled on a consultation (any translation of it)."""
    return set(consultation_rules(consultation).category_keys)


def consultation_category_choice(
    consultation: ConsultationPage, category_id: int
) -> CategoryChoice | None:
    """The category row a resident picked, if it belongs to one of the consultation's categories.

    A row missing from the cached rules may be a translation added since; the database decides.
    """
    rules = consultation_rules(consultation)
    key = rules.category_key_by_id.get(category_id)
    if key is None:
        key = (
            ConcernCategory.objects.filter(pk=category_id, translation_key__in=rules.category_keys)
            .values_list("translation_key", flat=True)
            .first()
        )
    return CategoryChoice(pk=category_id, translation_key=key) if key is not None else None


def concern_submit(
    *,
    consultation: ConsultationPage,
    category: ConcernCategory | CategoryChoice,
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
    submitted_at: datetime | None = None,
) -> SubmitResult:
    """Store a resident's concern, or refuse it with a message in the active language.

    Rules enforced here (so every entry path obeys them): the consultation must be listening
    (facilitators entering paper forms afterwards pass `enforce_open=False`); the category must be
    enabled on it; a point must fall inside one of its areas, and the area is always assigned
    server-side; without a point, an area of the consultation or a place description is needed.
    The photo is re-encoded with all metadata removed before anything is saved. A repeated
    idempotency key returns the concern stored the first time, even if the rules have changed
    since.

    `submitted_at` is when the resident reported it, for reports that reached another system
    first (a file import keeps the original request date, which decides the diagnosis window);
    by default, now.

    A fresh submission costs two queries: locating the point and the INSERT. The rules come from
    the cache, and double submits are found by the unique idempotency key refusing the INSERT,
    not by looking first.
    """
    try:
        area = _rules_check(
            consultation=consultation,
            category=category,
            point=point,
            area=area,
            place_description=place_description,
            enforce_open=enforce_open,
        )
        try:
            cleaned_photo = photo_clean(photo) if photo is not None else None
        except PhotoRefused as refusal:
            raise ConcernRejected(refusal.message, field="photo") from None
    except ConcernRejected:
        existing = Concern.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return SubmitResult(concern=existing, created=False)
        raise

    concern = Concern(
        consultation=consultation,
        consultation_key=consultation.translation_key,
        category_id=category.pk,
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
        submitted_at=submitted_at or timezone.now(),
    )
    if point is not None:
        concern.public_point, concern.cell_x, concern.cell_y = public_location(
            point.x, point.y, seed=concern.reference
        )
    if cleaned_photo is not None:
        concern.photo.save("photo.jpg", cleaned_photo, save=False)

    try:
        if connection.in_atomic_block:
            # Inside a caller's transaction: a savepoint, so a refused INSERT does not spoil it.
            with transaction.atomic():
                concern.save()
        else:
            # One statement in autocommit: atomic by itself, one round trip instead of three.
            concern.save()
    except IntegrityError:
        # The idempotency key was used before (a double submit, perhaps a concurrent one).
        if concern.photo:
            concern.photo.delete(save=False)
        existing = Concern.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return SubmitResult(concern=existing, created=False)
    # Runs at once in autocommit, or after the caller's transaction commits.
    transaction.on_commit(lambda: concern_enqueue_processing(concern_id=concern.pk))
    return SubmitResult(concern=concern, created=True)


def _rules_check(
    *,
    consultation: ConsultationPage,
    category: ConcernCategory | CategoryChoice,
    point: Point | None,
    area: Area | None,
    place_description: str,
    enforce_open: bool,
) -> Area | None:
    """Check a submission against the consultation's rules; return its area (from the point if
    there is one)."""
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
    return area
