"""The OpenAPI 3.0 document of every public JSON endpoint, served at /api/schema/.

Each module that serves JSON describes its own paths in an `openapi_fragment()` next to its views
(`diagnosis.open311_openapi`, `cms.features_openapi`, `diagnosis.open_data_openapi`); this module
merges them. The tests run schemathesis against the merged document, so a fragment that drifts
from its views fails the build.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from diagnosis import public_data

OPENAPI_VERSION = "3.0.3"


def _fragments() -> list[dict]:
    from diagnosis.open311_openapi import openapi_fragment as open311
    from diagnosis.open_data_openapi import openapi_fragment as exports

    from .features_openapi import openapi_fragment as features
    from .site_openapi import openapi_fragment as site

    return [open311(), features(), exports(), site()]


def openapi_document(*, server_url: str) -> dict:
    """The merged document, with `server_url` (scheme and host of the request) as its server."""
    paths: dict = {}
    schemas: dict = {}
    tags: list = []
    licence_name, licence_url = public_data.licence()
    for fragment in _fragments():
        for path, item in fragment.get("paths", {}).items():
            if path in paths:
                raise ValueError(f"OpenAPI path described twice: {path}")
            paths[path] = item
        schemas.update(fragment.get("components", {}).get("schemas", {}))
        tags.extend(fragment.get("tags", []))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": _("Convive open data"),
            "version": getattr(settings, "CONVIVE_API_VERSION", "1.0"),
            "description": _(
                "Public data of participatory community safety diagnoses: concerns at approximate "
                "locations, area totals, safety-walk stops, problems and commitments. Every "
                "endpoint applies the same data rules as the public site."
            ),
            "license": {"name": licence_name, "url": licence_url},
        },
        "servers": [{"url": server_url}],
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas},
    }
