"""Open data: the one selector through which residents' contributions leave for APIs and exports.

Open311 (`diagnosis.open311`), OGC API – Features (`cms.features_api`) and the bulk exports
(`diagnosis.services.open_data_exports`) read concerns, area totals and walk stops only through
the functions here, so the data rules are applied in one place (docs/privacy.md, docs/open-data.md):

- only **approved** concerns of **live** consultations, in a category no translation of which is
  sensitive (`category_catalogue` fails closed);
- a concern's place is its fuzzed `public_point` (or none, when it was placed by area only) —
  never the exact `point`;
- a concern is published as its random `public_id`, category, area, public point and the **day**
  it was sent (not the time: filters work on whole days too, so the time cannot be narrowed down by
  asking twice); never its description, photo, reference code, gender, age, or any contact;
- sensitive categories only as **per-area totals of at least k**, filtered in SQL;
- walk stops only when approved and their walk's report is published, at their public point on
  the route, with no photo.

Rows are plain dicts (the same keys for every output format), built from `values_list` tuples with
the coordinates read in SQL: exporting a million concerns never builds a model or a GEOS object.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from maps.geometry import Lat, Lon
from maps.models import Area, ModerationStatus
from maps.suppression import suppression_k
from maps.walk_report import walk_stop_rows, walks_published

from .models import Concern, ConcernAreaCount
from .pages import ConsultationPage
from .selectors import COORD_DECIMALS, category_catalogue

# The keys of a public concern row, in the order of CSV columns.
CONCERN_FIELDS = (
    "id",
    "consultation",
    "category",
    "category_name",
    "kind",
    "area_id",
    "area",
    "date",
    "status",
    "lon",
    "lat",
)


def licence() -> tuple[str, str]:
    """(name, URL) of the licence every open-data door names: the API's landing page and
    OpenAPI document, the export files and the open-data page."""
    return settings.CONVIVE_OPEN_DATA_LICENCE, settings.CONVIVE_OPEN_DATA_LICENCE_URL


@dataclass(frozen=True)
class ConcernFilter:
    """What a caller may ask of public concerns. Every field is optional.

    `since` / `until` are days (inclusive): the public knows the day a concern was sent, so
    filtering by time of day would give away what the rows do not.
    """

    consultation_keys: frozenset[uuid.UUID] | None = None
    category_keys: frozenset[uuid.UUID] | None = None
    area_ids: frozenset[int] | None = None
    bbox: tuple[float, float, float, float] | None = None
    since: date | None = None
    until: date | None = None
    ids: frozenset[str] | None = None


def live_consultation_keys() -> set[uuid.UUID]:
    """Translation keys of consultations with at least one live page (a draft is not public)."""
    return set(ConsultationPage.objects.live().values_list("translation_key", flat=True))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class PublicConcerns:
    """The public concerns matching a filter: count them, page through them, or stream them.

    Ordered newest first by insertion (the database's id), which is stable while paging and
    costs no sort on a million rows beyond the primary key.
    """

    def __init__(self, where: ConcernFilter | None = None):
        self.where = where or ConcernFilter()
        self.catalogue = category_catalogue()
        # By UUID and by its text: PostgreSQL rows carry the key as text (see `_values`).
        self._by_key = {**self.catalogue, **{str(k): v for k, v in self.catalogue.items()}}
        self._areas: dict[int, str] | None = None

    def public_category_keys(self) -> list[uuid.UUID]:
        wanted = self.where.category_keys
        return [
            key
            for key, entry in self.catalogue.items()
            if not entry["sensitive"] and (wanted is None or key in wanted)
        ]

    def queryset(self) -> QuerySet[Concern]:
        where = self.where
        consultations = live_consultation_keys()
        if where.consultation_keys is not None:
            consultations &= set(where.consultation_keys)
        rows = Concern.objects.filter(
            status=ModerationStatus.APPROVED,
            consultation_key__in=list(consultations),
            category_key__in=self.public_category_keys(),
        )
        if where.area_ids is not None:
            rows = rows.filter(area_id__in=list(where.area_ids))
        if where.bbox is not None:
            rows = rows.filter(public_point__intersects=Polygon.from_bbox(where.bbox))
        if where.since is not None:
            rows = rows.filter(submitted_at__gte=_day_start(where.since))
        if where.until is not None:
            rows = rows.filter(submitted_at__lt=_day_start(where.until + timedelta(days=1)))
        if where.ids is not None:
            rows = rows.filter(public_id__in=list(where.ids))
        return rows

    def count(self) -> int:
        return self.queryset().count()

    def _values(self):
        # Read in SQL what is cheap there and slow to load row by row in Python: the local day
        # (not a time-zone-aware date-time), the keys as text on PostgreSQL (not UUID objects),
        # and the area's id only (names are looked up once, in `_area_names`).
        rows = self.queryset().annotate(
            lon=Lon("public_point"), lat=Lat("public_point"), day=TruncDate("submitted_at")
        )
        keys = ("consultation_key", "category_key")
        if connections[rows.db].vendor == "postgresql":
            rows = rows.annotate(
                consultation_text=Cast("consultation_key", TextField()),
                category_text=Cast("category_key", TextField()),
            )
            keys = ("consultation_text", "category_text")
        return rows.order_by("-pk").values_list("public_id", *keys, "area_id", "day", "lon", "lat")

    def _area_names(self) -> dict[int, str]:
        if self._areas is None:
            self._areas = dict(Area.objects.values_list("pk", "name"))
        return self._areas

    def _row(self, values: tuple, areas: dict[int, str]) -> dict:
        public_id, consultation_key, category_key, area_id, day, lon, lat = values
        category = self._by_key[category_key]
        return {
            "id": public_id,
            "consultation": str(consultation_key),
            "category": category["code"],
            "category_name": category["name"],
            "kind": category["kind"],
            "area_id": area_id,
            "area": areas.get(area_id, "") if area_id is not None else "",
            "date": day,
            "status": "open",
            "lon": None if lon is None else round(lon, COORD_DECIMALS),
            "lat": None if lat is None else round(lat, COORD_DECIMALS),
        }

    def page(self, *, offset: int = 0, limit: int = 100) -> list[dict]:
        rows = list(self._values()[offset : offset + limit])
        areas = self._area_names() if rows else {}
        return [self._row(values, areas) for values in rows]

    def iterate(self, *, chunk_size: int = 5000) -> Iterator[dict]:
        """Every row, read from a server-side cursor in chunks: memory stays flat."""
        areas = self._area_names()
        for values in self._values().iterator(chunk_size=chunk_size):
            yield self._row(values, areas)


def public_concerns(where: ConcernFilter | None = None) -> PublicConcerns:
    return PublicConcerns(where)


def public_concern(public_id: str) -> dict | None:
    """One public concern by its public identifier, or None if it is not public."""
    rows = public_concerns(ConcernFilter(ids=frozenset({public_id}))).page(limit=1)
    return rows[0] if rows else None


def public_area_totals(
    *, consultation_keys: Iterable[uuid.UUID] | None = None, sensitive: bool
) -> list[dict]:
    """Approved concerns per consultation, area and category, from the moderation summary.

    Non-sensitive totals are published whatever their size (each concern is public anyway);
    sensitive ones only from k, filtered in the query so smaller totals never leave the database.
    """
    catalogue = category_catalogue()
    keys = [key for key, entry in catalogue.items() if entry["sensitive"] == sensitive]
    consultations = live_consultation_keys()
    if consultation_keys is not None:
        consultations &= set(consultation_keys)
    rows = ConcernAreaCount.objects.filter(
        consultation_key__in=list(consultations), category_key__in=keys, count__gt=0
    )
    if sensitive:
        rows = rows.filter(count__gte=suppression_k())
    return [
        {
            "consultation": str(consultation_key),
            "area_id": area_id,
            "area": area_name,
            "category": catalogue[category_key]["code"],
            "category_name": catalogue[category_key]["name"],
            "kind": catalogue[category_key]["kind"],
            "sensitive": sensitive,
            "count": count,
        }
        for consultation_key, area_id, area_name, category_key, count in rows.order_by(
            "area__name", "area_id", "category_key"
        ).values_list("consultation_key", "area_id", "area__name", "category_key", "count")
    ]


# The keys of a public walk stop row.
STOP_FIELDS = (
    "id",
    "walk",
    "walk_title",
    "walk_date",
    "time_of_day",
    "order",
    "feeling",
    "lighting",
    "openness",
    "visibility",
    "people",
    "security",
    "walk_path",
    "transport",
    "gender_diversity",
    "hazards",
    "notes",
    "lon",
    "lat",
)


def public_walk_stops(*, bbox: tuple[float, float, float, float] | None = None) -> list[dict]:
    """Approved stops of walks whose report is published, at their public points; no photos.

    The same stops and words as the public walk report (`maps.walk_report`), which already
    publishes their notes; a stop's photo stays on the report page.
    """
    walks = list(walks_published())
    rows: list[dict] = []
    by_walk = walk_stop_rows(walks=walks)
    for walk in walks:
        for stop in by_walk[walk.pk]:
            if stop.lon is None:
                continue
            if bbox is not None and not (
                bbox[0] <= stop.lon <= bbox[2] and bbox[1] <= stop.lat <= bbox[3]
            ):
                continue
            rows.append(
                {
                    "id": stop.reference,
                    "walk": str(walk.uuid),
                    "walk_title": walk.title,
                    "walk_date": walk.date,
                    "time_of_day": walk.time_band,
                    "order": stop.order,
                    "feeling": stop.feeling,
                    **stop.scores,
                    "hazards": list(stop.hazards),
                    "notes": stop.notes,
                    "lon": stop.lon,
                    "lat": stop.lat,
                }
            )
    return rows
