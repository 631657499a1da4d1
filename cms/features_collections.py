"""The collections of the OGC API – Features endpoint (`cms.features_api`) and how each reads
its rows.

Every collection answers the same three questions — its extent, a page of features matching a
bounding box and a range of days, and one feature by id — with GeoJSON features as plain dicts.
Residents' contributions (concerns, area totals, walk stops) are read only through
`diagnosis.public_data`, which applies the data rules of docs/privacy.md; problems and
commitments are what the results and programme pages already publish, read with the same
functions those pages use (`cms.problems`, `cms.commitments`).

Collections whose rows are few (areas, walk stops, problems, commitments: tens to hundreds) are
built whole in a fixed number of queries and paged in memory; concerns (up to millions) are
counted and paged in the database.
"""

from __future__ import annotations

import datetime
import json
from abc import ABC, abstractmethod
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail.models import Locale

from diagnosis.pages import ConsultationPage
from diagnosis.public_data import (
    ConcernFilter,
    public_area_totals,
    public_concern,
    public_concerns,
    public_walk_stops,
)
from diagnosis.selectors import categories_localized
from maps.models import Area
from maps.selectors import areas_geojson

from .commitments import (
    commitments_progress,
    currency,
    localized,
    programme_commitments,
    progress_display,
)
from .models import CommitmentPage, ProgrammePage, ResultsPage, ResultsProblem
from .problems import _evidence, published_counts

Bbox = tuple[float, float, float, float]
Days = tuple[datetime.date | None, datetime.date | None]


@dataclass
class Page:
    matched: int
    features: list[dict]


def _feature(fid, geometry: dict | None, properties: dict) -> dict:
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": properties}


def _point(lon, lat) -> dict | None:
    if lon is None or lat is None:
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def _day_bounds(first: datetime.date | None, last: datetime.date | None) -> list:
    """A temporal interval of whole local days, as UTC instants (RFC 3339)."""

    def instant(day: datetime.date | None, end: bool) -> str | None:
        if day is None:
            return None
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        if end:
            moment += datetime.timedelta(days=1, seconds=-1)
        return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return [instant(first, False), instant(last, True)]


def _in_days(day: datetime.date | None, days: Days | None) -> bool:
    if days is None:
        return True
    if day is None:
        return False
    since, until = days
    return (since is None or day >= since) and (until is None or day <= until)


def _bbox_of(geometries: list[dict | None]) -> list[float] | None:
    """The bounding box of GeoJSON geometries (None when none has any)."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords):
        if coords and isinstance(coords[0], int | float):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for part in coords:
                walk(part)

    for geometry in geometries:
        if geometry is not None:
            walk(geometry["coordinates"])
    if not xs:
        return None
    return [min(xs), min(ys), max(xs), max(ys)]


def _intersects(geometry: dict | None, bbox: Bbox) -> bool:
    if geometry is None:
        return False
    box = _bbox_of([geometry])
    if box is None or box[0] > bbox[2] or box[2] < bbox[0] or box[1] > bbox[3] or box[3] < bbox[1]:
        return False
    if geometry["type"] == "Point":
        return True
    return GEOSGeometry(json.dumps(geometry)).intersects(Polygon.from_bbox(bbox))


class Collection(ABC):
    """One collection: an English id, a translated title and description. Subclasses say how
    to read its extent, a page of items and one item."""

    id: str = ""
    title = ""
    description = ""
    # Whether features have a date the `datetime` parameter filters on.
    has_dates = False
    # (property, label) pairs shown as columns of the HTML table of items.
    columns: tuple[tuple[str, object], ...] = ()

    @abstractmethod
    def extent(self) -> dict:
        """See the class docstring."""

    @abstractmethod
    def items(self, *, bbox: Bbox | None, days: Days | None, offset: int, limit: int) -> Page:
        """See the class docstring."""

    @abstractmethod
    def item(self, fid: str) -> dict | None:
        """See the class docstring."""


class InMemoryCollection(Collection):
    """A collection small enough to build whole (a fixed number of queries) and page in Python:
    subclasses give `all()`, the features."""

    @abstractmethod
    def all(self) -> list[dict]:
        """See the class docstring."""

    def feature_day(self, feature: dict) -> datetime.date | None:
        return None

    def extent(self) -> dict:
        features = self.all()
        extent: dict = {}
        box = _bbox_of([f["geometry"] for f in features])
        if box is not None:
            extent["spatial"] = {"bbox": [box], "crs": CRS84}
        if self.has_dates:
            days = [d for d in (self.feature_day(f) for f in features) if d is not None]
            if days:
                extent["temporal"] = {"interval": [_day_bounds(min(days), max(days))]}
        return extent

    def items(self, *, bbox: Bbox | None, days: Days | None, offset: int, limit: int) -> Page:
        features = [
            f
            for f in self.all()
            if (bbox is None or _intersects(f["geometry"], bbox))
            and (days is None or _in_days(self.feature_day(f), days))
        ]
        return Page(matched=len(features), features=features[offset : offset + limit])

    def item(self, fid: str) -> dict | None:
        return next((f for f in self.all() if str(f["id"]) == fid), None)


CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


# --- concerns --------------------------------------------------------------------------------


class Concerns(Collection):
    id = "concerns"
    title = _("Concerns residents reported")
    description = _(
        "Approved concerns of live consultations in non-sensitive categories, at their public "
        "(approximate) location, with the day they were sent. No description, photo, reference, "
        "time of day, gender or age. Concerns placed by area only have no geometry."
    )
    has_dates = True
    columns = (
        ("category_name", _("Category")),
        ("kind", _("Kind")),
        ("area", _("Area")),
        ("date", _("Day")),
    )

    @staticmethod
    def _geojson(row: dict) -> dict:
        properties = {key: value for key, value in row.items() if key not in ("id", "lon", "lat")}
        properties["date"] = row["date"].isoformat()
        return _feature(row["id"], _point(row["lon"], row["lat"]), properties)

    def extent(self) -> dict:
        found = (
            public_concerns()
            .queryset()
            .aggregate(
                box=Extent("public_point"), first=Min("submitted_at"), last=Max("submitted_at")
            )
        )
        extent: dict = {}
        if found["box"] is not None:
            extent["spatial"] = {"bbox": [[round(v, 5) for v in found["box"]]], "crs": CRS84}
        if found["first"] is not None:
            local = timezone.localtime
            extent["temporal"] = {
                "interval": [_day_bounds(local(found["first"]).date(), local(found["last"]).date())]
            }
        return extent

    def items(self, *, bbox: Bbox | None, days: Days | None, offset: int, limit: int) -> Page:
        since, until = days or (None, None)
        rows = public_concerns(ConcernFilter(bbox=bbox, since=since, until=until))
        return Page(
            matched=rows.count(),
            features=[self._geojson(row) for row in rows.page(offset=offset, limit=limit)],
        )

    def item(self, fid: str) -> dict | None:
        row = public_concern(fid)
        return None if row is None else self._geojson(row)


# --- areas ---------------------------------------------------------------------------------


class Areas(Collection):
    id = "areas"
    title = _("Areas of the consultations")
    description = _(
        "Boundaries (simplified to about 5 m) of the areas of live consultations, with their "
        "population and, per category, how many approved concerns residents placed in them. "
        "Sensitive categories appear only where the total is at least k."
    )
    columns = (
        ("name", _("Name")),
        ("code", _("Code")),
        ("level", _("Level")),
        ("population_total", _("Population")),
    )

    @staticmethod
    def _area_ids() -> set[int]:
        through = ConsultationPage.areas.through
        return set(
            through.objects.filter(
                **{f"{_consultation_field(through)}__in": ConsultationPage.objects.live()}
            ).values_list("area_id", flat=True)
        )

    def _queryset(self, *, bbox: Bbox | None = None, ids: set[int] | None = None):
        rows = Area.objects.filter(pk__in=self._area_ids())
        if bbox is not None:
            box = Polygon.from_bbox(bbox)
            box.srid = 4326
            rows = rows.filter(geometry__intersects=box)
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        return rows.order_by("name", "pk")

    def _features(self, areas: list[Area]) -> list[dict]:
        totals: dict[int, dict[str, int]] = defaultdict(dict)
        for sensitive in (False, True):
            for row in public_area_totals(sensitive=sensitive):
                counts = totals[row["area_id"]]
                key = f"concerns_{row['category']}"
                counts[key] = counts.get(key, 0) + row["count"]
        by_pk = {area.pk: area for area in areas}
        features = areas_geojson(areas=areas)["features"]
        for feature in features:
            area = by_pk[feature["id"]]
            feature["properties"].update(
                population_total=area.population_total,
                population_year=area.population_year,
                **dict(sorted(totals.get(area.pk, {}).items())),
            )
        return features

    def extent(self) -> dict:
        box = self._queryset().aggregate(box=Extent("geometry"))["box"]
        if box is None:
            return {}
        return {"spatial": {"bbox": [[round(v, 5) for v in box]], "crs": CRS84}}

    def items(self, *, bbox: Bbox | None, days: Days | None, offset: int, limit: int) -> Page:
        rows = self._queryset(bbox=bbox)
        return Page(
            matched=rows.count(), features=self._features(list(rows[offset : offset + limit]))
        )

    def item(self, fid: str) -> dict | None:
        if not fid.isdigit() or len(fid) > 12:  # not an id the database could hold
            return None
        features = self._features(list(self._queryset(ids={int(fid)})))
        return features[0] if features else None


def _consultation_field(through) -> str:
    """The through table's column naming the consultation page (named by modelcluster)."""
    for field in through._meta.get_fields():
        if getattr(field, "related_model", None) is ConsultationPage:
            return field.name
    raise LookupError("consultation column")


# --- walk stops ----------------------------------------------------------------------------


class WalkStops(InMemoryCollection):
    id = "walk-stops"
    title = _("Safety-walk stops")
    description = _(
        "Approved stops of safety walks whose report is published, at their public point on the "
        "route: how the place felt and the audit scores. No photos."
    )
    has_dates = True
    columns = (
        ("walk_title", _("Walk")),
        ("walk_date", _("Day")),
        ("order", _("Stop")),
        ("feeling", _("Feeling")),
        ("notes", _("Notes")),
    )

    def all(self) -> list[dict]:
        if not hasattr(self, "_all"):
            self._all = []
            for row in public_walk_stops():
                properties = {k: v for k, v in row.items() if k not in ("id", "lon", "lat")}
                properties["walk_date"] = row["walk_date"].isoformat() if row["walk_date"] else None
                self._all.append(
                    _feature(str(row["id"]), _point(row["lon"], row["lat"]), properties)
                )
        return self._all

    def feature_day(self, feature: dict) -> datetime.date | None:
        value = feature["properties"]["walk_date"]
        return datetime.date.fromisoformat(value) if value else None


# --- problems and commitments --------------------------------------------------------------


def _in_language(pages: list, language: str) -> list:
    """One page per translation key: the one in `language`, else the default language's, else
    the oldest."""

    def rank(page):
        code = page.locale.language_code
        return (code != language, code != settings.LANGUAGE_CODE, page.pk)

    chosen: dict = {}
    for page in sorted(pages, key=rank):
        chosen.setdefault(page.translation_key, page)
    return sorted(chosen.values(), key=lambda page: page.pk)


def _areas_geometry(area_ids: list[int], shapes: dict[int, GEOSGeometry]) -> dict | None:
    """The union of some areas' simplified boundaries as a GeoJSON MultiPolygon, or None."""
    parts = [shapes[pk] for pk in area_ids if pk in shapes]
    if not parts:
        return None
    union = parts[0]
    for part in parts[1:]:
        union = union.union(part)
    if union.geom_type == "Polygon":
        union = MultiPolygon(union, srid=4326)
    return json.loads(union.geojson)


def _area_shapes(area_ids: set[int]) -> tuple[dict[int, GEOSGeometry], dict[int, str]]:
    """Simplified boundaries (as `areas_geojson` draws them) and names of some areas."""
    areas = list(Area.objects.filter(pk__in=area_ids).order_by("name"))
    shapes = {
        feature["id"]: GEOSGeometry(json.dumps(feature["geometry"]), srid=4326)
        for feature in areas_geojson(areas=areas)["features"]
    }
    return shapes, {area.pk: area.name for area in areas}


class Problems(InMemoryCollection):
    id = "problems"
    title = _("Problems of published diagnoses")
    description = _(
        "The problems named on published results pages, with the published numbers behind them "
        "(small numbers shown as “fewer than k”) and the areas they concern; the geometry is "
        "those areas together."
    )
    columns = (
        ("title", _("Problem")),
        ("categories", _("Categories")),
        ("areas", _("Areas")),
        ("results_page", _("Results page")),
    )

    def all(self) -> list[dict]:
        if hasattr(self, "_all"):
            return self._all
        language = get_language() or settings.LANGUAGE_CODE
        pages = _in_language(
            list(
                ResultsPage.objects.live()
                .filter(snapshot__isnull=False)
                .select_related("locale")
                .order_by("pk")
            ),
            language,
        )
        problems = list(
            ResultsProblem.objects.filter(page__in=pages)
            .prefetch_related("categories", "areas")
            .order_by("page_id", "sort_order", "pk")
        )
        shapes, _names = _area_shapes({a.pk for p in problems for a in p.areas.all()})
        keys = {c.translation_key for p in problems for c in p.categories.all()}
        names = categories_localized(keys=keys)
        by_page: dict[int, list[ResultsProblem]] = defaultdict(list)
        for problem in problems:
            by_page[problem.page_id].append(problem)
        self._all = []
        for page in pages:
            needed = {
                (category.translation_key, area_id)
                for problem in by_page[page.pk]
                for category in problem.categories.all()
                for area_id in ([area.pk for area in problem.areas.all()] or [None])
            }
            counts = published_counts(page, needed)
            url = page.get_url()
            for problem in by_page[page.pk]:
                categories = {
                    c.translation_key: names.get(c.translation_key, c).name
                    for c in problem.categories.all()
                }
                areas = sorted(problem.areas.all(), key=lambda area: area.name)
                self._all.append(
                    _feature(
                        str(problem.translation_key),
                        _areas_geometry([a.pk for a in areas], shapes),
                        {
                            "title": problem.title,
                            "description": problem.description,
                            "categories": list(categories.values()),
                            "areas": [area.name for area in areas],
                            "evidence": _evidence(counts, categories=categories, areas=areas),
                            "results_page": page.title,
                            "url": url,
                        },
                    )
                )
        return self._all


class Commitments(InMemoryCollection):
    id = "commitments"
    title = _("Commitments of published programmes")
    description = _(
        "Live commitments of the municipality's programmes: status, progress, dates, budget, "
        "responsible agency, the problems they answer and their areas (the geometry). No "
        "contact details."
    )
    has_dates = False
    columns = (
        ("title", _("Commitment")),
        ("status", _("Status")),
        ("progress", _("Progress (%)")),
        ("agency", _("Responsible agency")),
        ("end_date", _("End")),
    )

    def all(self) -> list[dict]:
        if hasattr(self, "_all"):
            return self._all
        locale = Locale.get_active()
        programmes = _in_language(
            list(ProgrammePage.objects.live().select_related("locale").order_by("pk")),
            locale.language_code,
        )
        originals: list[CommitmentPage] = []
        programme_of: dict[int, ProgrammePage] = {}
        for programme in programmes:
            for commitment in programme_commitments(programme):
                originals.append(commitment)
                programme_of[commitment.pk] = programme
        in_language = localized(originals, locale)
        statuses = localized([c.status for c in originals if c.status is not None], locale)
        progress = commitments_progress(originals)
        pks = [c.pk for c in originals]
        area_links = list(
            CommitmentPage.areas.through.objects.filter(commitmentpage_id__in=pks).values_list(
                "commitmentpage_id", "area_id"
            )
        )
        problem_links = list(
            CommitmentPage.problems.through.objects.filter(commitmentpage_id__in=pks).values_list(
                "commitmentpage_id", "resultsproblem_id"
            )
        )
        problems = list(ResultsProblem.objects.filter(pk__in={pk for _c, pk in problem_links}))
        translated = dict(
            ResultsProblem.objects.filter(
                translation_key__in={p.translation_key for p in problems}, locale=locale
            ).values_list("translation_key", "title")
        )
        problem_titles = {p.pk: translated.get(p.translation_key, p.title) for p in problems}
        shapes, area_names = _area_shapes({pk for _c, pk in area_links})
        areas_of: dict[int, list[int]] = defaultdict(list)
        for commitment_pk, area_pk in area_links:
            areas_of[commitment_pk].append(area_pk)
        problems_of: dict[int, list[int]] = defaultdict(list)
        for commitment_pk, problem_pk in problem_links:
            problems_of[commitment_pk].append(problem_pk)
        self._all = []
        for original in originals:
            text = in_language.get(original.translation_key, original)
            status = statuses.get(original.status.translation_key) if original.status else None
            area_ids = sorted(areas_of[original.pk], key=lambda pk: area_names.get(pk, ""))
            self._all.append(
                _feature(
                    str(original.translation_key),
                    _areas_geometry(area_ids, shapes),
                    {
                        "title": text.title,
                        "description": text.description,
                        "programme": programme_of[original.pk].title,
                        "status": status.name if status else None,
                        "status_key": original.status.key if original.status else None,
                        "progress": progress_display(progress[original.pk]),
                        "start_date": _iso(original.start_date),
                        "end_date": _iso(original.end_date),
                        "budget_planned": _money(original.budget_planned),
                        "budget_spent": _money(original.budget_spent),
                        "currency": currency(),
                        "funding_source": original.funding_source,
                        "agency": original.agency,
                        "prevention_type": original.prevention_type,
                        "problems": sorted(
                            problem_titles[pk]
                            for pk in problems_of[original.pk]
                            if pk in problem_titles
                        ),
                        "areas": [area_names[pk] for pk in area_ids if pk in area_names],
                        "url": text.get_url(),
                    },
                )
            )
        return self._all


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def _money(amount) -> float | None:
    return None if amount is None else float(amount)


COLLECTIONS: dict[str, type[Collection]] = {
    cls.id: cls for cls in (Areas, Concerns, WalkStops, Problems, Commitments)
}


def collection_get(collection_id: str) -> Collection | None:
    cls = COLLECTIONS.get(collection_id)
    return cls() if cls is not None else None
