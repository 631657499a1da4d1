"""OpenAPI fragment for the bulk open-data exports (`diagnosis.open_data_views`), merged by
`cms.openapi` into /api/schema/. See docs/open-data.md.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from .models import OpenDataExport
from .services.open_data_exports import CONTENT_TYPES

TAG = "Open-data exports"
JSON = "application/json"
ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}
LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref("ExportError")}}}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _schemas() -> dict:
    return {
        "ExportRequest": {
            "type": "object",
            "required": ["dataset", "format"],
            "properties": {
                "dataset": {"type": "string", "enum": list(OpenDataExport.Dataset.values)},
                "format": {"type": "string", "enum": list(OpenDataExport.Format.values)},
                "consultation": {
                    "type": "string",
                    "description": _(
                        "A live consultation's translation key (UUID) or slug; "
                        "empty or absent for every consultation."
                    ),
                },
                "lang": {
                    "type": "string",
                    "enum": LANGUAGES,
                    "description": _("Language of the file's names and of the messages."),
                },
            },
        },
        "ExportJob": {
            "type": "object",
            "required": ["id", "dataset", "format", "language", "status", "progress", "links"],
            "properties": {
                "id": {"type": "string", "description": _("Random; not a sequence number.")},
                "dataset": {"type": "string", "enum": list(OpenDataExport.Dataset.values)},
                "format": {"type": "string", "enum": list(OpenDataExport.Format.values)},
                "consultation": _nullable({"type": "string", "format": "uuid"}),
                "language": {"type": "string"},
                "status": {"type": "string", "enum": list(OpenDataExport.Status.values)},
                "status_label": {"type": "string"},
                "progress": {
                    "type": "object",
                    "required": ["rows_done", "rows_total", "fraction"],
                    "properties": {
                        "rows_done": {"type": "integer", "minimum": 0},
                        "rows_total": _nullable({"type": "integer", "minimum": 0}),
                        "fraction": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
                    },
                },
                "size": _nullable({"type": "integer", "minimum": 0}),
                "created": {"type": "string", "format": "date-time"},
                "started": _nullable({"type": "string", "format": "date-time"}),
                "finished": _nullable({"type": "string", "format": "date-time"}),
                "expires": _nullable({"type": "string", "format": "date-time"}),
                "error": _nullable({"type": "string"}),
                "links": {
                    "type": "object",
                    "required": ["self", "page"],
                    "properties": {
                        "self": {"type": "string", "format": "uri"},
                        "download": {"type": "string", "format": "uri"},
                        "page": {"type": "string", "format": "uri"},
                    },
                },
            },
        },
        "ExportError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    }


def _lang_parameter() -> dict:
    return {
        "name": "lang",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": LANGUAGES},
        "description": _("Language of messages (else Accept-Language)."),
    }


ID_PARAMETER = {"name": "id", "in": "path", "required": True, "schema": ID}


def openapi_fragment() -> dict:
    """{"paths": {...}, "components": {"schemas": {...}}, "tags": [...]} for OpenAPI 3.0."""
    files = {
        content_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
        for content_type in CONTENT_TYPES.values()
    }
    lang_parameter = _lang_parameter()
    return {
        "tags": [
            {
                "name": TAG,
                "description": _(
                    "Whole datasets as CSV, GeoJSON or XLSX files, made by a "
                    "background job. See docs/open-data.md."
                ),
            }
        ],
        "components": {"schemas": _schemas()},
        "paths": {
            "/api/exports/": {
                "post": {
                    "tags": [TAG],
                    "operationId": "openDataExportCreate",
                    "summary": _("Ask for an export file"),
                    "description": _(
                        "Returns the job: a new one, or the matching one when the "
                        "same file was asked for and the data has not changed since. Poll "
                        "`links.self` until `status` is `done`, then fetch `links.download`."
                    ),
                    "parameters": [lang_parameter],
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": _ref("ExportRequest")}},
                    },
                    "responses": {
                        "202": {
                            "description": _("The job (waiting, running or already done)."),
                            "headers": {"Location": {"schema": {"type": "string"}}},
                            "content": {JSON: {"schema": _ref("ExportJob")}},
                        },
                        "400": _error(_("Invalid request, with a message per field.")),
                        "429": _error(_("Too many new exports from this client; see Retry-After.")),
                    },
                }
            },
            "/api/exports/{id}": {
                "get": {
                    "tags": [TAG],
                    "operationId": "openDataExportDetail",
                    "summary": _("The state of an export job"),
                    "parameters": [ID_PARAMETER, lang_parameter],
                    "responses": {
                        "200": {
                            "description": _("The job."),
                            "content": {JSON: {"schema": _ref("ExportJob")}},
                        },
                        "404": _error(_("No such export.")),
                    },
                }
            },
            "/api/exports/{id}/download": {
                "get": {
                    "tags": [TAG],
                    "operationId": "openDataExportDownload",
                    "summary": _("The export's file, as an attachment"),
                    "parameters": [ID_PARAMETER, lang_parameter],
                    "responses": {
                        "200": {"description": _("The file."), "content": files},
                        "404": _error(_("No such export, or its file is not ready yet.")),
                        "410": _error(_("The file has expired; ask for the export again.")),
                    },
                }
            },
        },
    }
