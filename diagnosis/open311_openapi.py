"""OpenAPI fragment for Open311 GeoReport v2 (`diagnosis.open311`), merged by `cms.openapi` into
/api/schema/.

Every resource is described twice, as the spec serves it: `.json` (with its schema) and `.xml`
(text/xml, or application/xml to a client that asks for that alone). The schemas follow the Open311
community's Swagger definitions (wiki.open311.org, CC BY 3.0); fields Convive never publishes
(description, media_url, address_id, zipcode, …) are left out.
"""

from django.conf import settings
from django.utils.translation import gettext as _

TAG = "Open311 GeoReport v2"
JSON = "application/json"
XML_TYPES = ("text/xml", "application/xml")
REF = "#/components/schemas/"


def _schemas() -> dict:
    return {
        "Open311Errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "description"],
                "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
            },
        },
        "Open311Service": {
            "type": "object",
            "required": ["service_code", "service_name", "metadata", "type"],
            "properties": {
                "service_code": {"type": "string"},
                "service_name": {"type": "string"},
                "description": {"type": "string"},
                "metadata": {"type": "boolean"},
                "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
                "keywords": {"type": "string"},
                "group": {"type": "string"},
            },
        },
        "Open311ServiceDefinition": {
            "type": "object",
            "required": ["service_code", "attributes"],
            "properties": {
                "service_code": {"type": "string"},
                "attributes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["variable", "code", "datatype", "required"],
                        "properties": {
                            "variable": {"type": "boolean"},
                            "code": {"type": "string"},
                            "datatype": {
                                "type": "string",
                                "enum": [
                                    "string",
                                    "number",
                                    "datetime",
                                    "text",
                                    "singlevaluelist",
                                    "multivaluelist",
                                ],
                            },
                            "required": {"type": "boolean"},
                            "datatype_description": {"type": "string"},
                            "order": {"type": "integer", "minimum": 1},
                            "description": {"type": "string"},
                            "values": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["key", "name"],
                                    "properties": {
                                        "key": {"type": "string"},
                                        "name": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
        "Open311Request": {
            "type": "object",
            "description": _(
                "A public concern. requested_datetime and updated_datetime are the day it was "
                "sent, at midnight local time: the time of day is withheld on purpose. lat/long "
                "are the fuzzed public point (absent when the concern was placed by area or "
                "description)."
            ),
            "required": ["service_request_id", "status", "service_code", "requested_datetime"],
            "properties": {
                "service_request_id": {"type": "string"},
                "status": {"type": "string", "enum": ["open", "closed"]},
                "service_name": {"type": "string"},
                "service_code": {"type": "string"},
                "requested_datetime": {"type": "string", "format": "date-time"},
                "updated_datetime": {"type": "string", "format": "date-time"},
                "address": {"type": "string"},
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "long": {"type": "number", "minimum": -180, "maximum": 180},
            },
        },
        "Open311RequestCreated": {
            "type": "object",
            "required": ["service_request_id", "token", "service_notice"],
            "properties": {
                "service_request_id": {"type": "string"},
                "token": {"type": "string"},
                "service_notice": {"type": "string"},
                "account_id": {"type": "string"},
            },
        },
        "Open311Token": {
            "type": "object",
            "required": ["token", "service_request_id"],
            "properties": {"token": {"type": "string"}, "service_request_id": {"type": "string"}},
        },
        "Open311Discovery": {
            "type": "object",
            "required": ["changeset", "contact", "key_service", "endpoints"],
            "properties": {
                "changeset": {"type": "string"},
                "contact": {"type": "string"},
                "key_service": {"type": "string"},
                "endpoints": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["specification", "url", "changeset", "type", "formats"],
                        "properties": {
                            "specification": {"type": "string"},
                            "url": {"type": "string"},
                            "changeset": {"type": "string"},
                            "type": {"type": "string", "enum": ["production", "test"]},
                            "formats": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        },
    }


def _lang() -> dict:
    return {
        "name": "lang",
        "in": "query",
        "required": False,
        "description": _("Language of names and messages (default: Accept-Language)."),
        "schema": {"type": "string", "enum": [code for code, _name in settings.LANGUAGES]},
    }


def _jurisdiction() -> dict:
    return {
        "name": "jurisdiction_id",
        "in": "query",
        "required": False,
        "description": _(
            "A consultation: its slug in any language, or its translation key. Optional when "
            "reading; when sending, needed unless exactly one consultation is listening."
        ),
        "schema": {"type": "string"},
    }


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _body(fmt: str, schema: dict) -> dict:
    if fmt == "json":
        return {JSON: {"schema": schema}}
    return {media: {"schema": {"type": "string"}} for media in XML_TYPES}


def _operation(fmt, *, summary, description, parameters, schema, errors, operation_id):
    responses = {"200": {"description": "OK", "content": _body(fmt, schema)}}
    for status, text in errors.items():
        responses[status] = {
            "description": text,
            "content": _body(fmt, {"$ref": REF + "Open311Errors"}),
        }
    return {
        "tags": [TAG],
        "operationId": f"{operation_id}_{fmt}",
        "summary": f"{summary} ({fmt.upper()})",
        "description": description,
        "parameters": parameters,
        "responses": responses,
    }


def _read_errors() -> dict:
    return {
        "400": _("Bad parameter (Open311 error list, message in the request's language)."),
        "404": _("Unknown jurisdiction_id or resource."),
    }


def _array(name: str) -> dict:
    return {"type": "array", "items": {"$ref": REF + name}}


def _post(fmt: str) -> dict:
    choices = {
        "time_band": ["morning", "afternoon", "evening", "night", "any"],
        "day_type": ["weekday", "weekend", "both"],
        "frequency": ["once", "sometimes", "often", "always"],
    }
    affected = [
        "everyone",
        "women",
        "children",
        "youth",
        "older",
        "disabled",
        "lgbti",
        "migrants",
        "me",
    ]
    properties = {
        "api_key": {"type": "string"},
        "jurisdiction_id": {"type": "string"},
        "service_code": {"type": "string"},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "address_string": {"type": "string", "maxLength": 300},
        "description": {"type": "string", "maxLength": 2000},
        "email": {"type": "string", "format": "email"},
        "phone": {"type": "string", "maxLength": 40},
        "first_name": {"type": "string", "maxLength": 100},
        "last_name": {"type": "string", "maxLength": 100},
        "device_id": {"type": "string", "maxLength": 100},
        "account_id": {"type": "string", "maxLength": 100},
        "media_url": {"type": "string", "description": _("Accepted and ignored: never fetched.")},
        **{
            f"attribute[{code}]": {"type": "string", "enum": values}
            for code, values in choices.items()
        },
        "attribute[affected][]": {
            "type": "array",
            "items": {"type": "string", "enum": affected},
        },
    }
    operation = _operation(
        fmt,
        summary=_("Send a service request"),
        description=_(
            "Creates a concern pending moderation (not public until a moderator approves it). "
            "Location: lat and long, or address_string. Contact fields are stored for moderators "
            "only. A POST repeating an Idempotency-Key this client used before, or the same "
            "fields from the same sender (device_id, account_id, email or phone) on the same "
            "day, returns the first request."
        ),
        parameters=[
            _lang(),
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
                "description": _("The same value on every retry of one report."),
            },
        ],
        schema=_array("Open311RequestCreated"),
        errors={
            **_read_errors(),
            "403": _("Missing or invalid api_key (when keys are configured)."),
            "429": _("Too many requests from this client; see Retry-After."),
        },
        operation_id="open311_request_create",
    )
    operation["requestBody"] = {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["service_code"],
                    "properties": properties,
                }
            }
        },
    }
    return operation


def openapi_fragment() -> dict:
    """{"paths": {...}, "components": {"schemas": {...}}, "tags": [...]} for OpenAPI 3.0."""
    paths: dict = {}
    window = _(
        "Whole days (local time). Default and maximum span: 90 days; default: the last 90 days. "
        "w3 date-time (2026-01-31T00:00:00Z) or a date."
    )
    for fmt in ("json", "xml"):
        paths[f"/open311/discovery.{fmt}"] = {
            "get": _operation(
                fmt,
                summary=_("Service discovery"),
                description=_("Where the GeoReport v2 endpoint is and what it supports."),
                parameters=[_lang()],
                schema={"$ref": REF + "Open311Discovery"},
                errors={"400": _read_errors()["400"]},
                operation_id="open311_discovery",
            )
        }
        paths[f"/open311/v2/services.{fmt}"] = {
            "get": _operation(
                fmt,
                summary=_("Services"),
                description=_(
                    "The non-sensitive categories of the listening consultations (of all live "
                    "ones when none is listening), in the request's language."
                ),
                parameters=[_lang(), _jurisdiction()],
                schema=_array("Open311Service"),
                errors=_read_errors(),
                operation_id="open311_services",
            )
        }
        paths[f"/open311/v2/services/{{service_code}}.{fmt}"] = {
            "get": _operation(
                fmt,
                summary=_("Service definition"),
                description=_("The optional questions of a concern, as attributes."),
                parameters=[_path("service_code"), _lang(), _jurisdiction()],
                schema={"$ref": REF + "Open311ServiceDefinition"},
                errors=_read_errors(),
                operation_id="open311_service_definition",
            )
        }
        paths[f"/open311/v2/requests.{fmt}"] = {
            "get": _operation(
                fmt,
                summary=_("Service requests"),
                description=_(
                    "Approved, non-sensitive concerns, newest first, at most 1000 per page. "
                    "service_request_id overrides the other filters."
                ),
                parameters=[
                    _lang(),
                    _jurisdiction(),
                    _query("service_request_id", _("Comma-separated ids.")),
                    _query("service_code", _("Comma-separated service codes.")),
                    _query("start_date", window),
                    _query("end_date", window),
                    _query("status", _("open, closed, or both (comma-separated).")),
                    _query(
                        "page", _("Page number (extension)."), {"type": "integer", "minimum": 1}
                    ),
                    _query(
                        "page_size",
                        _("Requests per page (extension), at most 1000."),
                        {"type": "integer", "minimum": 1, "maximum": 1000},
                    ),
                ],
                schema=_array("Open311Request"),
                errors=_read_errors(),
                operation_id="open311_requests",
            ),
            "post": _post(fmt),
        }
        for prefix, operation_id in (
            ("requests", "open311_request"),
            ("request", "open311_request_swagger_path"),
        ):
            paths[f"/open311/v2/{prefix}/{{service_request_id}}.{fmt}"] = {
                "get": _operation(
                    fmt,
                    summary=_("One service request"),
                    description=_("A list of one public concern, else 404."),
                    parameters=[_path("service_request_id"), _lang(), _jurisdiction()],
                    schema=_array("Open311Request"),
                    errors=_read_errors(),
                    operation_id=operation_id,
                )
            }
        paths[f"/open311/v2/tokens/{{token}}.{fmt}"] = {
            "get": _operation(
                fmt,
                summary=_("Service request id from a token"),
                description=_("The token a POST returned, and its service_request_id."),
                parameters=[_path("token"), _lang()],
                schema=_array("Open311Token"),
                errors=_read_errors(),
                operation_id="open311_token",
            )
        }
    return {
        "paths": paths,
        "components": {"schemas": _schemas()},
        "tags": [
            {
                "name": TAG,
                "description": _(
                    "Open311 GeoReport v2 (Open311 community, wiki.open311.org). See "
                    "docs/open311.md."
                ),
            }
        ],
    }
