"""OpenAPI fragment for this module's endpoints, merged by `cms.openapi` into /api/schema/.

Placeholder: filled in by the open-data work (issue 8).
"""


def openapi_fragment() -> dict:
    """{"paths": {...}, "components": {"schemas": {...}}, "tags": [...]} for OpenAPI 3.0."""
    return {"paths": {}, "components": {"schemas": {}}, "tags": []}
