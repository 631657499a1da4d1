"""OpenAPI description of the site's own JSON endpoints (merged by `cms.openapi`).

Most of them hang off Wagtail pages (a consultation's map data, a results page's map and GeoJSON
download), whose URLs are wherever editors put the pages; they are listed with their real paths,
one set per live page, so the document describes this site as it is today. The walk endpoints
have fixed paths under the language prefix.
"""

from django.conf import settings
from django.utils.translation import gettext as _

GEOJSON = "application/geo+json"
HTML_ERROR = {"text/html": {"schema": {"type": "string"}}}


def _json(schema: dict, content_type: str = "application/json") -> dict:
    return {content_type: {"schema": schema}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS = {
    "SiteError": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    },
    "SiteFeatureCollection": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "geometry": {"type": "object", "nullable": True},
                        "properties": {"type": "object", "nullable": True},
                    },
                },
            },
        },
    },
    "WalkFieldError": {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "errors": {"type": "object"},
        },
    },
}

LANG = {
    "name": "lang",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": [code for code, _name in settings.LANGUAGES]},
}


def _page_path(page) -> str | None:
    """The page's path on its site (with the language prefix), or None if it has no URL."""
    parts = page.get_url_parts()
    return parts[2] if parts else None


def _walk_paths() -> dict:
    from maps.walk_report import walks_published

    walk_uuid = {
        "name": "uuid",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    latest = walks_published().values_list("uuid", flat=True).first()
    if latest is not None:
        walk_uuid["example"] = str(latest)
    not_found = {"description": _("No published report for this walk."), "content": HTML_ERROR}
    return {
        "/{lang}/walks/{uuid}/stops.geojson": {
            "get": {
                "tags": ["site"],
                "summary": _("Approved stops of a published safety-walk report"),
                "parameters": [LANG, walk_uuid],
                "responses": {
                    "200": {
                        "description": _("Stops at their public points, with the route."),
                        "content": _json(_ref("SiteFeatureCollection"), GEOJSON),
                    },
                    "404": not_found,
                },
            }
        },
    }


def _example_bbox(page) -> str:
    """A real view of the consultation (its areas' extent), so examples reach the data."""
    from django.contrib.gis.db.models import Extent

    from diagnosis.services.concerns import consultation_area_ids
    from maps.models import Area

    extent = Area.objects.filter(pk__in=consultation_area_ids(page)).aggregate(e=Extent("geometry"))
    if extent["e"] is None:
        return "-74.06,4.66,-74.04,4.68"
    return ",".join(f"{value:.4f}" for value in extent["e"])


def _consultation_paths() -> dict:
    from diagnosis.pages import ConsultationPage

    paths: dict = {}
    for page in ConsultationPage.objects.live().order_by("pk"):
        base = _page_path(page)
        if base is None:
            continue
        bad = {
            "description": _("A parameter is missing or wrong."),
            "content": _json(_ref("SiteError")),
        }
        paths[base + "map/features/"] = {
            "get": {
                "tags": ["site"],
                "summary": _("What residents reported in a map view (%(title)s)")
                % {"title": page.title},
                "description": _(
                    "Counts per grid cell, or fuzzed points from zoom 16; sensitive categories "
                    "only as area totals of at least k."
                ),
                "parameters": [
                    {
                        "name": "bbox",
                        "in": "query",
                        "required": True,
                        "description": "west,south,east,north",
                        "schema": {"type": "string"},
                        "example": _example_bbox(page),
                    },
                    {
                        "name": "zoom",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0, "maximum": 20},
                        "example": 16,
                    },
                    {
                        "name": "category",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "array", "items": {"type": "string"}},
                        "style": "form",
                        "explode": True,
                    },
                ],
                "responses": {
                    "200": {
                        "description": _("Public features in view."),
                        "content": _json(_ref("SiteFeatureCollection"), GEOJSON),
                    },
                    "400": bad,
                },
            }
        }
        paths[base + "map/areas/"] = {
            "get": {
                "tags": ["site"],
                "summary": _("Boundaries of the consultation's areas (%(title)s)")
                % {"title": page.title},
                "responses": {
                    "200": {
                        "description": _("Simplified area boundaries."),
                        "content": _json(_ref("SiteFeatureCollection"), GEOJSON),
                    }
                },
            }
        }
    return paths


def _results_paths() -> dict:
    from .models import ResultsPage

    paths: dict = {}
    for page in ResultsPage.objects.live().filter(snapshot__isnull=False).order_by("pk"):
        base = _page_path(page)
        if base is None:
            continue
        paths[base + "map/"] = {
            "get": {
                "tags": ["site"],
                "summary": _("Map data of a published diagnosis (%(title)s)")
                % {"title": page.title},
                "responses": {
                    "200": {
                        "description": _("Published, suppressed values per area and cell."),
                        "content": _json({"type": "object"}),
                    }
                },
            }
        }
        paths[base + "download/geojson/"] = {
            "get": {
                "tags": ["site"],
                "summary": _("Published results as GeoJSON (%(title)s)") % {"title": page.title},
                "responses": {
                    "200": {
                        "description": _("Published tables by area."),
                        "content": _json(_ref("SiteFeatureCollection"), GEOJSON),
                    }
                },
            }
        }
    return paths


def openapi_fragment() -> dict:
    paths = {
        "/healthz": {
            "get": {
                "tags": ["site"],
                "summary": _("Health check for load balancers"),
                "responses": {
                    "200": {
                        "description": _("The site and its database answer."),
                        "content": _json(
                            {
                                "type": "object",
                                "required": ["status"],
                                "properties": {"status": {"type": "string"}},
                            }
                        ),
                    }
                },
            }
        },
        **_walk_paths(),
        **_consultation_paths(),
        **_results_paths(),
    }
    return {
        "paths": paths,
        "components": {"schemas": SCHEMAS},
        "tags": [
            {
                "name": "site",
                "description": _(
                    "Data behind the public pages: consultation maps, published results, "
                    "safety-walk reports."
                ),
            }
        ],
    }
