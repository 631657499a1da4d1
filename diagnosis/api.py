"""Public data endpoints of a consultation (served through ConsultationPage routes).

Thin HTTP wrappers: they validate the query, then call `diagnosis.selectors`, which applies the
data rules. Responses are small GeoJSON documents that browsers and proxies may cache for a minute.
"""

import gzip
import hashlib
import json
import math
import re

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from maps.geometry import MAX_LATITUDE, bbox_cells
from maps.models import Area
from maps.selectors import areas_geojson

from .pages import ConsultationPage
from .selectors import (
    POINTS_MIN_ZOOM,
    category_catalogue,
    category_keys_resolve,
    public_area_table,
    public_concern_features,
    public_grid_level,
)
from .services.concerns import consultation_area_ids, consultation_category_keys

CACHE_SECONDS = 60
# A consultation covers a neighbourhood or a city; a view wider than this is a client bug or a
# scraper, and would only make the server group cells nobody can read.
MAX_BBOX_DEGREES = 5.0
MAX_ZOOM = 20
# The site has no GZipMiddleware (it would also compress HTML pages, where BREACH matters); these
# public, secret-free GeoJSON bodies compress 5 to 10 times, so the endpoints do it themselves.
GZIP_MIN_BYTES = 1024
ACCEPTS_GZIP = re.compile(r"\bgzip\b")


class BadQuery(Exception):
    """A query parameter the endpoint cannot use; the message is in the request's language."""


def _bbox_parse(raw: str | None) -> tuple[float, float, float, float]:
    if not raw:
        raise BadQuery(_("The bbox parameter is required: bbox=west,south,east,north."))
    parts = raw.split(",")
    if len(parts) != 4:
        raise BadQuery(_("The bbox must be four numbers: west,south,east,north."))
    try:
        west, south, east, north = (float(part) for part in parts)
    except ValueError:
        raise BadQuery(_("The bbox must be four numbers: west,south,east,north.")) from None
    if not all(math.isfinite(value) for value in (west, south, east, north)):
        raise BadQuery(_("The bbox must be four numbers: west,south,east,north."))
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise BadQuery(_("Longitudes in the bbox must be between -180 and 180."))
    if not (-MAX_LATITUDE <= south <= MAX_LATITUDE and -MAX_LATITUDE <= north <= MAX_LATITUDE):
        raise BadQuery(_("Latitudes in the bbox must be between -85 and 85."))
    if not (west < east and south < north):
        raise BadQuery(_("In the bbox, west must be less than east and south less than north."))
    if east - west > MAX_BBOX_DEGREES or north - south > MAX_BBOX_DEGREES:
        raise BadQuery(_("The bbox is too large: zoom in to see the data."))
    return west, south, east, north


def _zoom_parse(raw: str | None) -> int:
    try:
        zoom = int(raw or "")
    except ValueError:
        raise BadQuery(_("The zoom parameter must be a whole number from 0 to 20.")) from None
    if not 0 <= zoom <= MAX_ZOOM:
        raise BadQuery(_("The zoom parameter must be a whole number from 0 to 20."))
    return zoom


def _geojson_response(request: HttpRequest, body: bytes, *, max_age: int) -> HttpResponse:
    """A cacheable GeoJSON response with a content ETag, answering 304 when the client has it.

    Gzipped when the client accepts it; the compressed variant has its own ETag, as HTTP asks of
    a different representation.
    """
    compress = len(body) >= GZIP_MIN_BYTES and ACCEPTS_GZIP.search(
        request.headers.get("Accept-Encoding", "")
    )
    digest = hashlib.sha256(body).hexdigest()[:32]
    etag = f'"{digest}-gz"' if compress else f'"{digest}"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    elif compress:
        response = HttpResponse(
            gzip.compress(body, compresslevel=6, mtime=0), content_type="application/geo+json"
        )
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type="application/geo+json")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    patch_vary_headers(response, ["Accept-Language", "Accept-Encoding"])
    return response


def _dumps(data: dict) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def public_map_features(request: HttpRequest, page: ConsultationPage) -> HttpResponse:
    """GET map/features.geojson?bbox=w,s,e,n&zoom=z[&category=…]: what residents reported in view.

    Cached for CACHE_SECONDS by (consultation, covered grid cells, level, categories, language):
    two clients looking at nearly the same view share one database query.
    """
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"error": _("Only GET is allowed here.")}, status=405)
    try:
        bbox = _bbox_parse(request.GET.get("bbox"))
        zoom = _zoom_parse(request.GET.get("zoom"))
    except BadQuery as error:
        return JsonResponse({"error": str(error)}, status=400)

    filters = request.GET.getlist("category")
    category_keys = category_keys_resolve(values=filters) if filters else None
    points = zoom >= POINTS_MIN_ZOOM
    level = 0 if points else public_grid_level(zoom)
    cells = bbox_cells(bbox, level=level)
    categories = ",".join(sorted(map(str, category_keys))) if category_keys is not None else "*"
    key_source = f"{page.translation_key}|{points}|{level}|{cells}|{categories}|{get_language()}"
    cache_key = "convive:map:features:" + hashlib.sha256(key_source.encode()).hexdigest()

    body = cache.get(cache_key)
    if body is None:
        data = public_concern_features(
            consultation_key=page.translation_key,
            bbox=bbox,
            zoom=zoom,
            category_keys=category_keys,
        )
        body = _dumps(data)
        cache.set(cache_key, body, CACHE_SECONDS)
    return _geojson_response(request, body, max_age=CACHE_SECONDS)


def public_map_areas(request: HttpRequest, page: ConsultationPage) -> HttpResponse:
    """GET map/areas.geojson: the consultation's area boundaries, simplified, for the map."""
    cache_key = f"convive:map:areas:{page.translation_key}"
    body = cache.get(cache_key)
    if body is None:
        areas = Area.objects.filter(pk__in=consultation_area_ids(page)).order_by("name")
        body = _dumps(areas_geojson(areas=areas))
        cache.set(cache_key, body, 5 * CACHE_SECONDS)
    return _geojson_response(request, body, max_age=5 * CACHE_SECONDS)


def consultation_page_context(*, request: HttpRequest, page: ConsultationPage) -> dict:
    """What the consultation page template needs for its map, filter and no-JS table.

    Nothing here places an individual concern: the table holds area counts from the same selector
    as the map, and the map itself loads its data from `public_map_features` for the current view.
    """
    catalogue = category_catalogue()
    enabled = consultation_category_keys(page)
    categories = sorted(
        (entry for key, entry in catalogue.items() if key in enabled),
        key=lambda entry: (entry["sort_order"], entry["name"]),
    )
    table = public_area_table(
        consultation_key=page.translation_key, area_ids=consultation_area_ids(page)
    )
    base = page.get_url(request)
    config = {
        "featuresUrl": base + page.reverse_subpage("map_features"),
        "areasUrl": base + page.reverse_subpage("map_areas"),
        "extent": table["extent"],
        "pointsMinZoom": POINTS_MIN_ZOOM,
        "categories": [
            {key: entry[key] for key in ("key", "code", "name", "kind", "sensitive")}
            for entry in categories
        ],
    }
    return {
        "public_map": {
            "table": table,
            "risk_categories": [c for c in categories if c["kind"] != "asset"],
            "asset_categories": [c for c in categories if c["kind"] == "asset"],
            "config": config,
        }
    }
