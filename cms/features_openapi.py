"""OpenAPI fragment for OGC API – Features (`cms.features_api`), merged by `cms.openapi` into
/api/schema/ — the document the landing page names as `service-desc`.

Each collection gets its own paths (`/api/features/collections/concerns/items`, …) rather than one
templated `{collectionId}`: the collections are fixed, only some take `datetime`, and GDAL and
QGIS read the per-collection paths to learn the parameters. Schemas follow OGC 17-069r4's
OpenAPI building blocks (link, landingPage, confClasses, collections, collection,
featureCollectionGeoJSON, featureGeoJSON, exception) under names prefixed with `Ogc`.
"""

from django.utils.translation import gettext as _

from .features_api import BASE, DEFAULT_LIMIT, MAX_LIMIT
from .features_collections import COLLECTIONS

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = {"text/html": {"schema": {"type": "string"}}}
TAG = "OGC API – Features"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS = {
    "OgcLink": {
        "type": "object",
        "required": ["href"],
        "properties": {
            "href": {"type": "string"},
            "rel": {"type": "string"},
            "type": {"type": "string"},
            "title": {"type": "string"},
        },
    },
    "OgcException": {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
    },
    "OgcLandingPage": {
        "type": "object",
        "required": ["links"],
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": {"type": "array", "items": _ref("OgcLink")},
        },
    },
    "OgcConformance": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "OgcCollection": {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": {"type": "array", "items": _ref("OgcLink")},
            "extent": {
                "type": "object",
                "properties": {
                    "spatial": {
                        "type": "object",
                        "properties": {
                            "bbox": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "array",
                                    "minItems": 4,
                                    "maxItems": 4,
                                    "items": {"type": "number"},
                                },
                            },
                            "crs": {"type": "string"},
                        },
                    },
                    "temporal": {
                        "type": "object",
                        "properties": {
                            "interval": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "array",
                                    "minItems": 2,
                                    "maxItems": 2,
                                    "items": {
                                        "type": "string",
                                        "format": "date-time",
                                        "nullable": True,
                                    },
                                },
                            },
                        },
                    },
                },
            },
            "itemType": {"type": "string"},
            "crs": {"type": "array", "items": {"type": "string"}},
        },
    },
    "OgcCollections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": {"type": "array", "items": _ref("OgcLink")},
            "collections": {"type": "array", "items": _ref("OgcCollection")},
        },
    },
    "OgcGeometry": {
        "type": "object",
        "nullable": True,
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"type": "string", "enum": ["Point", "MultiPolygon"]},
            "coordinates": {"type": "array"},
        },
    },
    "OgcFeature": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "geometry": _ref("OgcGeometry"),
            "properties": {"type": "object", "nullable": True},
            "links": {"type": "array", "items": _ref("OgcLink")},
        },
    },
    "OgcFeatureCollection": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("OgcFeature")},
            "links": {"type": "array", "items": _ref("OgcLink")},
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    },
}


def _f() -> dict:
    return {
        "name": "f",
        "in": "query",
        "required": False,
        "description": _("The encoding: json (GeoJSON for features) or html."),
        "schema": {"type": "string", "enum": ["json", "html"]},
    }


def _ok(description: str, schema: str, content_type: str = JSON) -> dict:
    return {
        "description": description,
        "content": {content_type: {"schema": _ref(schema)}, **HTML},
    }


def _bad() -> dict:
    return {
        "description": _("A parameter is wrong; the message says which and why."),
        "content": {JSON: {"schema": _ref("OgcException")}, **HTML},
    }


def _not_found(description: str) -> dict:
    return {
        "description": description,
        "content": {JSON: {"schema": _ref("OgcException")}, **HTML},
    }


def _get(operation_id: str, summary: str, parameters: list, responses: dict) -> dict:
    return {
        "get": {
            "tags": [TAG],
            "operationId": operation_id,
            "summary": summary,
            "parameters": parameters,
            "responses": responses,
        }
    }


def _items_parameters(has_dates: bool) -> list[dict]:
    parameters = [
        {
            "name": "bbox",
            "in": "query",
            "required": False,
            "description": _(
                "Only features whose geometry intersects this box: west,south,east,north in "
                "degrees (CRS84). Features without a geometry are left out."
            ),
            "schema": {
                "type": "array",
                "minItems": 4,
                "maxItems": 4,
                "items": {"type": "number"},
            },
            "style": "form",
            "explode": False,
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": _("Features per page; larger values are served as the maximum."),
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
            "style": "form",
            "explode": False,
        },
        {
            "name": "offset",
            "in": "query",
            "required": False,
            "description": _("Features to skip (the next link sets it)."),
            "schema": {"type": "integer", "minimum": 0, "maximum": 10**9, "default": 0},
        },
    ]
    if has_dates:
        parameters.append(
            {
                "name": "datetime",
                "in": "query",
                "required": False,
                "description": _(
                    "A day, a date-time or an interval (start/end, “..” for an open end); "
                    "times count as their whole day."
                ),
                "schema": {"type": "string"},
                "example": "2026-01-01/..",
            }
        )
    parameters.append(_f())
    return parameters


def openapi_fragment() -> dict:
    """{"paths": {...}, "components": {"schemas": {...}}, "tags": [...]} for OpenAPI 3.0."""
    paths = {
        f"{BASE}/": _get(
            "getLandingPage",
            _("Landing page of the OGC API – Features service"),
            [_f()],
            {"200": _ok(_("Title, description and links."), "OgcLandingPage"), "400": _bad()},
        ),
        f"{BASE}/conformance": _get(
            "getConformance",
            _("Conformance classes implemented"),
            [_f()],
            {"200": _ok(_("The conformance class URIs."), "OgcConformance"), "400": _bad()},
        ),
        f"{BASE}/collections": _get(
            "getCollections",
            _("The collections"),
            [_f()],
            {"200": _ok(_("Every collection."), "OgcCollections"), "400": _bad()},
        ),
    }
    feature_id = {
        "name": "featureId",
        "in": "path",
        "required": True,
        "description": _("The feature's id, as in its collection's items."),
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    }
    for collection_id, cls in COLLECTIONS.items():
        title = str(cls.title)
        base = f"{BASE}/collections/{collection_id}"
        key = "".join(part.title() for part in collection_id.split("-"))
        paths[base] = _get(
            f"describe{key}Collection",
            title,
            [_f()],
            {"200": _ok(str(cls.description), "OgcCollection"), "400": _bad()},
        )
        paths[base + "/items"] = _get(
            f"get{key}Features",
            _("Features of: %(title)s") % {"title": title},
            _items_parameters(cls.has_dates),
            {
                "200": _ok(
                    _("A page of features, with next/prev links."),
                    "OgcFeatureCollection",
                    GEOJSON,
                ),
                "400": _bad(),
            },
        )
        paths[base + "/items/{featureId}"] = _get(
            f"get{key}Feature",
            _("One feature of: %(title)s") % {"title": title},
            [feature_id, _f()],
            {
                "200": _ok(_("The feature."), "OgcFeature", GEOJSON),
                "400": _bad(),
                "404": _not_found(_("No public feature with this id.")),
            },
        )
    return {
        "paths": paths,
        "components": {"schemas": SCHEMAS},
        "tags": [
            {
                "name": TAG,
                "description": _(
                    "OGC API – Features (Part 1: Core): areas, concerns, safety-walk stops, "
                    "problems and commitments for GIS tools."
                ),
            }
        ],
    }
