"""OGC API – Features (Part 1: Core, with the GeoJSON, HTML and OpenAPI 3.0 classes) at
/api/features/, for GIS tools: QGIS, GDAL/OGR (`OAPIF:` driver), OWSLib, ArcGIS.

The collections and their rows are in `cms.features_collections`; the OpenAPI description of
these paths in `cms.features_openapi`. Every resource is served as JSON (GeoJSON for features)
or as an HTML page: `?f=json` / `?f=html` choose, otherwise the Accept header does (a browser
gets HTML, a program JSON). Query parameters the standard does not define for a resource are
refused with 400 and a message, so a typo (`limt=10`) is not silently ignored; OGC 17-069r4
permits either choice (Permission 6), and GDAL and OWSLib send none.
"""

from __future__ import annotations

import datetime
import json
import math
from urllib.parse import urlencode

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from diagnosis import public_data

from .features_collections import COLLECTIONS, Collection, collection_get

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def _licence_link() -> dict:
    name, url = public_data.licence()
    return {"rel": "license", "type": HTML, "href": url, "title": name}


CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
BASE = "/api/features"


class BadRequest(Exception):
    """A parameter the client must fix; the message is shown to them."""


# --- Formats, links and responses --------------------------------------------------------------


def _wants_html(request: HttpRequest) -> bool:
    """`f` decides; without it, HTML when the client prefers it to JSON (browsers do)."""
    f = request.GET.get("f")
    if f is not None:
        if f not in ("json", "html"):
            raise BadRequest(_("Unknown format “%(f)s”: use f=json or f=html.") % {"f": f[:40]})
        return f == "html"
    return request.get_preferred_type([GEOJSON, JSON, HTML]) == HTML


def _check_parameters(request: HttpRequest, allowed: set[str]) -> None:
    unknown = sorted(set(request.GET) - allowed - {"f", "lang"})
    if unknown:
        raise BadRequest(
            _("Unknown parameter: %(names)s. This resource accepts: %(allowed)s.")
            % {
                "names": ", ".join(name[:40] for name in unknown),
                "allowed": ", ".join(sorted(allowed | {"f", "lang"})),
            }
        )


def _url(request: HttpRequest, path: str, **params) -> str:
    # A language chosen with ?lang= (cms.middleware) follows the reader from page to page.
    if request.GET.get("lang") and "lang" not in params:
        params["lang"] = request.GET["lang"]
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return request.build_absolute_uri(BASE + path) + (f"?{query}" if query else "")


def _links(request, path: str, *, html: bool, json_type: str = JSON, params=None) -> list[dict]:
    """self and alternate links for a resource in both encodings."""
    params = dict(params or {})
    json_link = {
        "href": _url(request, path, **params, f="json"),
        "type": json_type,
        "title": _("This document as JSON"),
    }
    html_link = {
        "href": _url(request, path, **params, f="html"),
        "type": HTML,
        "title": _("This document as HTML"),
    }
    return [
        {"rel": "self", **(html_link if html else json_link)},
        {"rel": "alternate", **(json_link if html else html_link)},
    ]


def _json(data: dict, *, status: int = 200, content_type: str = JSON) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=content_type,
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _error(request, status: int, code: str, message: str, *, html: bool = False) -> HttpResponse:
    if status == 404:
        # LocaleMiddleware turns a 404 outside the language prefix into a redirect to the same
        # path under /es/ whenever that path resolves — and Wagtail's catch-all resolves every
        # path. The middleware reads `request.urlconf` to decide; naming these (unprefixed)
        # patterns keeps the API's 404 a 404, with its message, for GIS clients.
        request.urlconf = "cms.features_urls"
    if html:
        response = render(
            request,
            "features/error.html",
            {"message": message, "status": status, "base": BASE + "/"},
            status=status,
        )
        response["Vary"] = "Accept, Accept-Language"
        return response
    response = _json({"code": code, "description": message}, status=status)
    response["Vary"] = "Accept, Accept-Language"
    return response


def _respond(request, html: bool, template: str, context: dict, data: dict, *, content_type=JSON):
    if html:
        response = render(request, f"features/{template}", {**context, "base": BASE + "/"})
    else:
        response = _json(data, content_type=content_type)
    response["Vary"] = "Accept, Accept-Language"
    return response


def ogc_view(allowed: set[str] = frozenset()):
    """Format negotiation, parameter checks and errors shared by every resource."""

    def decorator(view):
        @require_safe
        def wrapped(request, *args, **kwargs):
            try:
                html = _wants_html(request)
            except BadRequest as error:
                return _error(request, 400, "InvalidParameterValue", str(error))
            try:
                _check_parameters(request, set(allowed))
                return view(request, *args, html=html, **kwargs)
            except BadRequest as error:
                return _error(request, 400, "InvalidParameterValue", str(error), html=html)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorator


# --- Parameters ------------------------------------------------------------------------------


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """west,south,east,north in degrees (CRS84); refuses what the standard's clients cannot mean."""
    parts = value.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise BadRequest(
            _("bbox must be four numbers separated by commas: west,south,east,north (degrees).")
        )
    west, south, east, north = numbers
    if not (
        -180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90
    ):
        raise BadRequest(
            _(
                "bbox is outside the world: longitudes go from -180 to 180, "
                "latitudes from -90 to 90."
            )
        )
    if south > north:
        raise BadRequest(_("bbox: the south edge must not be north of the north edge."))
    if west > east:
        raise BadRequest(
            _("bbox: boxes crossing the antimeridian (west > east) are not supported.")
        )
    # A box with no width or height (a click on a map) still means "what is here": widen it by
    # a hair so the database intersects a real polygon, never a degenerate one.
    if west == east:
        west, east = west - 1e-9, east + 1e-9
    if south == north:
        south, north = south - 1e-9, north + 1e-9
    return west, south, east, north


def parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise BadRequest(_("limit must be a whole number from 1 to %(max)s.") % {"max": MAX_LIMIT})
    # Larger limits are served as the maximum (OGC 17-069r4, Permission 5).
    return min(limit, MAX_LIMIT)


def parse_offset(value: str | None) -> int:
    if value is None:
        return 0
    try:
        offset = int(value)
    except ValueError:
        offset = -1
    if offset < 0 or offset > 10**9:
        raise BadRequest(_("offset must be a whole number, 0 or more."))
    return offset


def _day(text: str, *, end: bool) -> datetime.date | None:
    if text in ("..", ""):
        return None
    moment = day = None
    try:
        # A bare date first: Python reads "2026-01-01" as a datetime too (midnight, no zone).
        day = parse_date(text)
        if day is None:
            moment = parse_datetime(text)
    except ValueError:
        pass
    if moment is not None:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, datetime.UTC)
        return timezone.localtime(moment).date()
    if day is not None:
        return day
    raise BadRequest(
        _(
            "datetime must be a date or a date-time (RFC 3339), or an interval of two of them "
            "separated by “/”, with “..” for an open end, e.g. 2026-01-01/2026-03-31."
        )
    )


def parse_datetime_filter(value: str) -> tuple[datetime.date | None, datetime.date | None]:
    """Days from a `datetime` parameter. The public knows the day a concern was sent, not the
    time, so instants count as their whole (local) day."""
    if "/" in value:
        start, _slash, end = value.partition("/")
        if "/" in end or (start in ("..", "") and end in ("..", "")):
            _day("?", end=False)  # raises the message
        since, until = _day(start, end=False), _day(end, end=True)
        if since and until and since > until:
            raise BadRequest(_("datetime: the interval ends before it starts."))
        return since, until
    if value in ("..", ""):
        _day("?", end=False)
    day = _day(value, end=False)
    return day, day


# --- Resources -------------------------------------------------------------------------------


def _collection_or_404(request, collection_id: str, html: bool):
    collection = collection_get(collection_id)
    if collection is None:
        return None, _error(
            request,
            404,
            "NotFound",
            _("There is no collection “%(id)s”.") % {"id": collection_id[:60]},
            html=html,
        )
    return collection, None


def _collection_info(request, collection: Collection) -> dict:
    path = f"/collections/{collection.id}"
    return {
        "id": collection.id,
        "title": str(collection.title),
        "description": str(collection.description),
        "extent": collection.extent(),
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "links": [
            {
                "rel": "items",
                "href": _url(request, path + "/items", f="json"),
                "type": GEOJSON,
                "title": str(collection.title),
            },
            {
                "rel": "items",
                "href": _url(request, path + "/items", f="html"),
                "type": HTML,
                "title": str(collection.title),
            },
            {"rel": "self", "href": _url(request, path, f="json"), "type": JSON},
            {"rel": "alternate", "href": _url(request, path, f="html"), "type": HTML},
            _licence_link(),
        ],
    }


@ogc_view()
def landing(request, *, html: bool):
    """GET /api/features/: what this service is and where everything is."""
    title = _("Convive open data: OGC API – Features")
    description = _(
        "What residents reported in participatory community safety diagnoses, at approximate "
        "locations, with the areas, safety walks, problems and commitments that came of it. "
        "The same data rules as the public site apply."
    )
    links = [
        *_links(request, "/", html=html),
        {
            "rel": "conformance",
            "href": _url(request, "/conformance", f="json"),
            "type": JSON,
            "title": _("Conformance classes implemented by this server"),
        },
        {
            "rel": "data",
            "href": _url(request, "/collections", f="json"),
            "type": JSON,
            "title": _("The collections"),
        },
        {
            "rel": "service-desc",
            "href": request.build_absolute_uri("/api/schema/"),
            "type": OPENAPI,
            "title": _("The API definition (OpenAPI 3.0)"),
        },
        {
            "rel": "service-doc",
            "href": _url(request, "/docs"),
            "type": HTML,
            "title": _("The API documentation"),
        },
        _licence_link(),
    ]
    data = {"title": title, "description": description, "links": links}
    context = {
        "title": title,
        "description": description,
        "collections": [cls() for cls in COLLECTIONS.values()],
        "schema_url": "/api/schema/",
    }
    return _respond(request, html, "landing.html", context, data)


@ogc_view()
def conformance(request, *, html: bool):
    """GET /api/features/conformance: the conformance classes implemented."""
    data = {"conformsTo": CONFORMANCE}
    return _respond(request, html, "conformance.html", {"classes": CONFORMANCE}, data)


@ogc_view()
def collections(request, *, html: bool):
    """GET /api/features/collections: every collection with its extent and links."""
    infos = [_collection_info(request, cls()) for cls in COLLECTIONS.values()]
    data = {"links": _links(request, "/collections", html=html), "collections": infos}
    return _respond(request, html, "collections.html", {"collections": infos}, data)


@ogc_view()
def collection(request, collection_id: str, *, html: bool):
    """GET /api/features/collections/{id}: one collection."""
    found, error = _collection_or_404(request, collection_id, html)
    if error:
        return error
    info = _collection_info(request, found)
    return _respond(request, html, "collections.html", {"collections": [info], "one": True}, info)


def _items_allowed(request, collection_id: str) -> set[str]:
    found = collection_get(collection_id)
    allowed = {"bbox", "limit", "offset"}
    if found is not None and found.has_dates:
        allowed.add("datetime")
    return allowed


def items(request, collection_id: str):
    """GET /api/features/collections/{id}/items: a page of features, with next/prev links."""
    allowed = _items_allowed(request, collection_id)
    return ogc_view(allowed)(_items)(request, collection_id)


def _items(request, collection_id: str, *, html: bool):
    found, error = _collection_or_404(request, collection_id, html)
    if error:
        return error
    bbox = parse_bbox(request.GET["bbox"]) if "bbox" in request.GET else None
    limit = parse_limit(request.GET.get("limit"))
    offset = parse_offset(request.GET.get("offset"))
    days = parse_datetime_filter(request.GET["datetime"]) if "datetime" in request.GET else None
    page = found.items(bbox=bbox, days=days, offset=offset, limit=limit)
    path = f"/collections/{found.id}/items"
    params = {
        "bbox": request.GET.get("bbox"),
        "datetime": request.GET.get("datetime"),
        "limit": limit,
        "offset": offset or None,
    }
    fmt = "html" if html else "json"
    links = _links(request, path, html=html, json_type=GEOJSON, params=params)
    more = offset + len(page.features) < page.matched
    next_url = prev_url = None
    if more and page.features:
        next_url = _url(request, path, **{**params, "offset": offset + limit, "f": fmt})
        links.append(
            {"rel": "next", "href": next_url, "type": HTML if html else GEOJSON, "title": _("Next")}
        )
    if offset > 0:
        previous = max(offset - limit, 0) or None
        prev_url = _url(request, path, **{**params, "offset": previous, "f": fmt})
        links.append(
            {
                "rel": "prev",
                "href": prev_url,
                "type": HTML if html else GEOJSON,
                "title": _("Previous"),
            }
        )
    links.append(
        {
            "rel": "collection",
            "href": _url(request, f"/collections/{found.id}", f="json"),
            "type": JSON,
            "title": str(found.title),
        }
    )
    data = {
        "type": "FeatureCollection",
        "features": page.features,
        "links": links,
        "numberMatched": page.matched,
        "numberReturned": len(page.features),
        "timeStamp": timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    context = {
        "collection": found,
        "rows": [_row(found, feature) for feature in page.features],
        "matched": page.matched,
        "first": offset + 1,
        "last": offset + len(page.features),
        "next_url": next_url,
        "prev_url": prev_url,
        "json_url": _url(request, path, **params, f="json"),
    }
    return _respond(request, html, "items.html", context, data, content_type=GEOJSON)


def _place(geometry: dict | None) -> str:
    if geometry is None:
        return ""
    if geometry["type"] == "Point":
        lon, lat = geometry["coordinates"]
        return f"{lat:.5f}, {lon:.5f}"
    return _("area outline")


def _row(found: Collection, feature: dict) -> dict:
    properties = feature["properties"]
    return {
        "id": feature["id"],
        "cells": [_text(properties.get(key)) for key, _label in found.columns],
        "place": _place(feature["geometry"]),
    }


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


@ogc_view()
def item(request, collection_id: str, feature_id: str, *, html: bool):
    """GET /api/features/collections/{id}/items/{featureId}: one feature."""
    found, error = _collection_or_404(request, collection_id, html)
    if error:
        return error
    feature = found.item(feature_id)
    if feature is None:
        return _error(
            request,
            404,
            "NotFound",
            _("There is no public feature “%(id)s” in this collection.") % {"id": feature_id[:60]},
            html=html,
        )
    path = f"/collections/{found.id}/items/{feature['id']}"
    feature = {
        **feature,
        "links": [
            *_links(request, path, html=html, json_type=GEOJSON),
            {
                "rel": "collection",
                "href": _url(request, f"/collections/{found.id}", f="json"),
                "type": JSON,
                "title": str(found.title),
            },
        ],
    }
    context = {
        "collection": found,
        "feature": feature,
        "properties": [(key, _text(value)) for key, value in feature["properties"].items()],
        "place": _place(feature["geometry"]),
        "json_url": _url(request, path, f="json"),
    }
    return _respond(request, html, "item.html", context, feature, content_type=GEOJSON)


@require_safe
def docs(request):
    """GET /api/features/docs: the human documentation of the API (rel service-doc)."""
    return render(
        request,
        "features/docs.html",
        {
            "base": BASE + "/",
            "collections": [cls() for cls in COLLECTIONS.values()],
            "max_limit": MAX_LIMIT,
            "default_limit": DEFAULT_LIMIT,
            "site": request.build_absolute_uri("/").rstrip("/"),
            "languages": settings.LANGUAGES,
        },
    )
