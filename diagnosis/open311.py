"""Open311 GeoReport v2 at /open311/v2/: other apps read and send concerns (docs/open311.md).

The standard as frozen on wiki.open311.org (Open311 community): services, service definitions,
service requests (GET and POST), tokens, the discovery document, errors as a list of
`{code, description}`; every resource as XML (required by the spec) and JSON.

What leaves here is what `diagnosis.public_data` publishes, renamed to Open311's words: a concern
is a service request identified by its random `public_id`, with its category as the service, its
area as the address, its fuzzed public point as lat/long and the **day** it was sent (midnight,
local time) as requested_datetime — never its description, photo, reference, exact point, time of
day or contact. Sensitive categories are not offered as services, so they can be neither read nor
sent here. A POST goes through `diagnosis.services.open311` into moderation.
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from datetime import date, datetime, time, timedelta
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt

from maps.ratelimit import rate_limit_hit

from .models import Concern, ConcernCategory, PreventionType
from .pages import ConsultationPage
from .public_data import ConcernFilter, public_concerns
from .selectors import categories_localized, category_catalogue
from .services import ConcernRejected
from .services.concerns import CategoryChoice, consultation_category_keys
from .services.open311 import (
    CONTACT_FIELDS,
    Open311Submission,
    open311_idempotency_key,
    open311_request_submit,
    open311_token_concern,
)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ("xml", "json")
# The spec: "Default query limit is a span of 90 days or first 1000 requests returned".
WINDOW_DAYS = 90
MAX_RESULTS = 1000
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
# Lengths the concern and its contact can hold; longer values are refused, never cut.
MAX_DESCRIPTION = 2000
MAX_PLACE = 300
CONTACT_MAX = {
    "email": 254,
    "phone": 40,
    "first_name": 100,
    "last_name": 100,
    "device_id": 100,
    "account_id": 100,
}
# Characters XML 1.0 cannot carry; removed from any text we write into a document.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The optional questions of the concern form, as Open311 attributes of every service.
ATTRIBUTES = (
    ("time_band", "singlevaluelist", Concern.TimeBand),
    ("day_type", "singlevaluelist", Concern.DayType),
    ("frequency", "singlevaluelist", Concern.Frequency),
    ("affected", "multivaluelist", Concern.Affected),
)
ATTRIBUTE_PATTERN = re.compile(r"^attribute\[([^\[\]]*)\](\[\])?$")


class Open311Error(Exception):
    """A request we refuse; `message` is already in the request's language."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# --- Rendering --------------------------------------------------------------------------------

# The XML element of each item of a list, by the list's element (JSON_and_XML_Conversion).
XML_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def _xml_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(XML_ILLEGAL.sub("", str(value)))


def _xml(name: str, value) -> str:
    if isinstance(value, list | tuple):
        item = XML_ITEMS[name]
        inner = "".join(_xml(item, entry) for entry in value)
    elif isinstance(value, dict):
        inner = "".join(_xml(key, entry) for key, entry in value.items() if entry is not None)
    else:
        inner = _xml_text(value)
    return f"<{name}>{inner}</{name}>" if inner else f"<{name}/>"


def _response(request: HttpRequest, fmt: str, root: str, data, *, status: int = 200):
    """`data` as the spec's JSON (a list or an object), or as XML under `root`."""
    if fmt == "xml":
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + _xml(root, data)
        response = HttpResponse(body, status=status, content_type=_xml_content_type(request))
    else:
        response = JsonResponse(
            data, status=status, safe=False, json_dumps_params={"ensure_ascii": False}
        )
        response["Content-Type"] = "application/json; charset=utf-8"
    return response


def _xml_content_type(request: HttpRequest) -> str:
    """text/xml, as the spec and the validators ask; application/xml to a client that asks for
    it and not for text/xml."""
    accept = request.headers.get("Accept", "")
    if "application/xml" in accept and "text/xml" not in accept:
        return "application/xml; charset=utf-8"
    return "text/xml; charset=utf-8"


def _error(request: HttpRequest, fmt: str, status: int, message: str) -> HttpResponse:
    return _response(
        request, fmt, "errors", [{"code": status, "description": message}], status=status
    )


def _language(request: HttpRequest) -> str | None:
    """The language asked with ?lang= (else LocaleMiddleware's, from Accept-Language)."""
    value = request.GET.get("lang", "")
    if not value:
        return None
    codes = {code for code, _name in settings.LANGUAGES}
    if value not in codes:
        raise Open311Error(
            400,
            _("Unknown language “%(lang)s”. Use one of: %(codes)s.")
            % {"lang": _clean(value)[:10], "codes": ", ".join(sorted(codes))},
        )
    return value


def _clean(value: str) -> str:
    return XML_ILLEGAL.sub("", value)


def open311_view(*, methods: tuple[str, ...] = ("GET",)):
    """Language, format, method and errors for every Open311 view.

    The view gets `fmt` ("json" or "xml") and returns a response or raises Open311Error. Reads
    may be called from any web page (CORS); nothing here uses cookies, so POSTs need no CSRF
    token — an API key, when configured, is what guards them.
    """

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, format: str | None = None, **kwargs):
            if format is None:  # an unknown address: answer in the format it ends with
                format = "xml" if request.path.lower().endswith(".xml") else "json"
            fmt = format.lower() if format.lower() in FORMATS else "json"
            language = None
            try:
                language = _language(request)
            except Open311Error as error:
                return _finish(request, _error(request, fmt, error.status, error.message))
            with translation.override(language or translation.get_language()):
                if format.lower() not in FORMATS:
                    response = _error(
                        request,
                        fmt,
                        400,
                        _("Unknown format: end the address with .json or .xml."),
                    )
                elif request.method not in methods:
                    response = _error(
                        request, fmt, 405, _("This address does not accept that method.")
                    )
                    response["Allow"] = ", ".join(methods)
                else:
                    try:
                        _refuse_nul(request, kwargs)
                        response = view(request, *args, fmt=fmt, **kwargs)
                    except Open311Error as error:
                        response = _error(request, fmt, error.status, error.message)
                        if error.status == 429:
                            response["Retry-After"] = str(getattr(error, "retry_after", 60))
                return _finish(request, response)

        return wrapper

    return decorate


def _finish(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    response["Content-Language"] = translation.get_language()
    response["Vary"] = "Accept-Language"
    if request.method == "GET":
        response["Access-Control-Allow-Origin"] = "*"
    return response


def _refuse_nul(request: HttpRequest, path_values: dict) -> None:
    """A NUL character cannot be stored in PostgreSQL text, nor compared with it; refuse it as
    bad input, wherever it is (query, form or address)."""
    if any("\x00" in str(value) for value in path_values.values()):
        raise Open311Error(400, _("The request contains a character that is not allowed."))
    for params in (request.GET, request.POST):
        for name, values in params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise Open311Error(400, _("The request contains a character that is not allowed."))


# --- Jurisdictions and services ---------------------------------------------------------------


def _live_consultations():
    return ConsultationPage.objects.live().select_related("locale")


def _in_language(pages: list[ConsultationPage]) -> ConsultationPage:
    """The translation in the active language, else the default language's, else any."""
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]

    def preference(page):
        code = page.locale.language_code
        return 0 if code == language else 1 if code == settings.LANGUAGE_CODE else 2

    return min(pages, key=preference)


def _consultations_by_key(pages) -> dict[uuid.UUID, ConsultationPage]:
    grouped: dict[uuid.UUID, list[ConsultationPage]] = {}
    for page in pages:
        grouped.setdefault(page.translation_key, []).append(page)
    return {key: _in_language(group) for key, group in grouped.items()}


def _listening() -> dict[uuid.UUID, ConsultationPage]:
    return {
        key: page
        for key, page in _consultations_by_key(_live_consultations()).items()
        if page.accepts_concerns
    }


def _jurisdiction(request_params) -> ConsultationPage | None:
    """The consultation named by `jurisdiction_id` (a slug in any language, or its translation
    key), None when none was given; 404 when it names none."""
    value = (request_params.get("jurisdiction_id") or "").strip()
    if not value:
        return None
    pages = _live_consultations()
    try:
        matches = list(pages.filter(translation_key=uuid.UUID(value)))
    except ValueError:
        matches = list(pages.filter(slug=value))
    if matches:
        keys = {page.translation_key for page in matches}
        if len(keys) == 1:
            return _in_language(list(pages.filter(translation_key=keys.pop())))
        raise Open311Error(400, _jurisdiction_choices_message(_consultations_by_key(pages)))
    raise Open311Error(
        404,
        _("No consultation has the jurisdiction_id “%(value)s”.") % {"value": _clean(value)[:80]},
    )


def _jurisdiction_choices_message(consultations: dict[uuid.UUID, ConsultationPage]) -> str:
    choices = ", ".join(sorted(page.slug for page in consultations.values()))
    return _("Send jurisdiction_id: one of %(choices)s.") % {"choices": choices or "—"}


def _public_services(consultations) -> list[ConcernCategory]:
    """Non-sensitive categories enabled on the consultations, in the reader's language."""
    keys: set[uuid.UUID] = set()
    for page in consultations:
        keys |= consultation_category_keys(page)
    catalogue = category_catalogue()
    public = [key for key in keys if key in catalogue and not catalogue[key]["sensitive"]]
    rows = categories_localized(keys=public)
    return sorted(rows.values(), key=lambda row: (row.sort_order, row.name))


def _offered_services(jurisdiction: ConsultationPage | None) -> list[ConcernCategory]:
    """A named consultation's services; else those of every listening consultation, else (when
    none is listening) those of every live one, so readers can still name what they read."""
    if jurisdiction is not None:
        return _public_services([jurisdiction])
    listening = list(_listening().values())
    if listening:
        return _public_services(listening)
    return _public_services(_consultations_by_key(_live_consultations()).values())


def _group(category: ConcernCategory) -> str:
    return _("Asset") if category.kind == ConcernCategory.Kind.ASSET else _("Risk")


def _service(category: ConcernCategory) -> dict:
    prevention = dict(PreventionType.choices).get(category.prevention_type, "")
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(filter(None, [_group(category), str(prevention)])),
        "group": _group(category),
    }


def _attribute_definitions() -> list[dict]:
    questions = {
        "time_band": _("At what time?"),
        "day_type": _("Which days?"),
        "frequency": _("How often?"),
        "affected": _("Who is affected? (optional, choose all that apply)"),
    }
    return [
        {
            "variable": True,
            "code": code,
            "datatype": datatype,
            "required": False,
            "datatype_description": (
                _("Choose all that apply.") if datatype == "multivaluelist" else _("Choose one.")
            ),
            "order": order,
            "description": questions[code],
            "values": [{"key": key, "name": str(name)} for key, name in choices.choices],
        }
        for order, (code, datatype, choices) in enumerate(ATTRIBUTES, start=1)
    ]


@open311_view()
def services(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """GET services.{fmt}: the categories residents can report here, sensitive ones excepted."""
    offered = _offered_services(_jurisdiction(request.GET))
    return _response(request, fmt, "services", [_service(category) for category in offered])


def _service_for(code: str, jurisdiction: ConsultationPage | None) -> ConcernCategory:
    for category in _offered_services(jurisdiction):
        if category.code == code:
            return category
    raise Open311Error(
        404, _("There is no service with the service_code “%(code)s”.") % {"code": code[:80]}
    )


@open311_view()
def service_definition(request: HttpRequest, *, fmt: str, service_code: str) -> HttpResponse:
    """GET services/{service_code}.{fmt}: the optional questions of the concern form."""
    category = _service_for(_clean(service_code), _jurisdiction(request.GET))
    definition = {"service_code": category.code, "attributes": _attribute_definitions()}
    return _response(request, fmt, "service_definition", definition)


# --- Service requests: reading ----------------------------------------------------------------


def _day_iso(day: date) -> str:
    """Midnight of the day, local time, with its offset: the time of day is withheld on purpose."""
    return timezone.make_aware(datetime.combine(day, time.min)).isoformat()


def _service_request(row: dict) -> dict:
    """A public concern row (`diagnosis.public_data`) in Open311's words; absent values are left
    out rather than sent as null (the Swagger definitions allow no null)."""
    day = _day_iso(row["date"])
    request = {
        "service_request_id": row["id"],
        "status": row["status"],
        "service_name": row["category_name"],
        "service_code": row["category"],
        "requested_datetime": day,
        "updated_datetime": day,
    }
    if row["area"]:
        request["address"] = row["area"]
    if row["lat"] is not None and row["lon"] is not None:
        request["lat"] = row["lat"]
        request["long"] = row["lon"]
    return request


def _w3_day(value: str, name: str) -> date:
    """The local day of a w3 date-time (or a plain date). Filters work on whole days."""
    invalid = Open311Error(
        400,
        _("%(name)s must be a date and time such as 2026-01-31T00:00:00Z.") % {"name": name},
    )
    value = value.strip()
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
        else:
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            day = timezone.localtime(parsed).date()
    except (ValueError, OverflowError):
        raise invalid from None
    if day is None:
        raise invalid
    # Far enough from date.min/max that the 90-day window can be computed around it.
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Open311Error(
            400,
            _("%(name)s must be between %(first)s and %(last)s.")
            % {"name": name, "first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        )
    return day


def _codes(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _window(params) -> tuple[date, date]:
    """start_date/end_date as whole local days, at most 90 days apart (the spec's default is the
    most recent 90 days)."""
    start_text, end_text = params.get("start_date", ""), params.get("end_date", "")
    start = _w3_day(start_text, "start_date") if start_text.strip() else None
    end = _w3_day(end_text, "end_date") if end_text.strip() else None
    span = timedelta(days=WINDOW_DAYS - 1)
    if start is None and end is None:
        end = timezone.localdate()
    if start is None:
        start = end - span
    if end is None:
        end = start + span
    if start > end:
        raise Open311Error(400, _("start_date must not be after end_date."))
    if end - start > span:
        raise Open311Error(
            400,
            _("start_date and end_date may not be more than %(days)d days apart.")
            % {"days": WINDOW_DAYS},
        )
    return start, end


def _positive(params, name: str, default: int, maximum: int | None = None) -> int:
    value = params.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1 or (maximum is not None and int(value) > maximum):
        limit = maximum if maximum is not None else 10**6
        raise Open311Error(
            400,
            _("%(name)s must be a whole number from 1 to %(max)d.") % {"name": name, "max": limit},
        )
    return int(value)


def _category_keys(codes: list[str], jurisdiction) -> frozenset[uuid.UUID]:
    offered = {category.code: category.translation_key for category in _offered(jurisdiction)}
    unknown = [code for code in codes if code not in offered]
    if unknown:
        raise Open311Error(
            400,
            ngettext(
                "Unknown service_code: %(codes)s.",
                "Unknown service_codes: %(codes)s.",
                len(unknown),
            )
            % {"codes": _clean(", ".join(unknown))[:200]},
        )
    return frozenset(offered[code] for code in codes)


def _offered(jurisdiction) -> list[ConcernCategory]:
    """Every public category a reader may filter on: a named consultation's, else any live
    consultation's (requests of consultations no longer listening stay readable)."""
    if jurisdiction is not None:
        return _public_services([jurisdiction])
    return _public_services(_consultations_by_key(_live_consultations()).values())


@open311_view(methods=("GET", "POST"))
def service_requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """GET: public concerns (filters of the spec, plus page/page_size). POST: send one."""
    if request.method == "POST":
        return _post_request(request, fmt)
    params = request.GET
    jurisdiction = _jurisdiction(params)
    consultation_keys = (
        frozenset({jurisdiction.translation_key}) if jurisdiction is not None else None
    )
    page = _positive(params, "page", 1, 10**6)
    page_size = _positive(params, "page_size", MAX_RESULTS, MAX_RESULTS)
    ids = _codes(params.get("service_request_id", ""))
    statuses = _codes(params.get("status", ""))
    unknown_status = [status for status in statuses if status not in ("open", "closed")]
    if unknown_status:
        raise Open311Error(400, _("status must be open, closed or both (comma separated)."))
    if ids:
        # The spec: service_request_id "overrides all other arguments".
        if len(ids) > MAX_RESULTS:
            raise Open311Error(
                400,
                _("Ask for at most %(count)d service_request_id at once.") % {"count": MAX_RESULTS},
            )
        where = ConcernFilter(consultation_keys=consultation_keys, ids=frozenset(ids))
    else:
        category_keys = None
        codes = _codes(params.get("service_code", ""))
        if codes:
            category_keys = _category_keys(codes, jurisdiction)
        start, end = _window(params)
        where = ConcernFilter(
            consultation_keys=consultation_keys,
            category_keys=category_keys,
            since=start,
            until=end,
        )
        if statuses and "open" not in statuses:
            # Every published concern is open: Convive does not close them (yet).
            return _response(request, fmt, "service_requests", [])
    rows = public_concerns(where).page(offset=(page - 1) * page_size, limit=page_size)
    return _response(request, fmt, "service_requests", [_service_request(row) for row in rows])


@open311_view()
def service_request(request: HttpRequest, *, fmt: str, service_request_id: str) -> HttpResponse:
    """GET requests/{id}.{fmt} (and the Swagger file's request/{id}): one public concern."""
    jurisdiction = _jurisdiction(request.GET)
    where = ConcernFilter(
        consultation_keys=(
            frozenset({jurisdiction.translation_key}) if jurisdiction is not None else None
        ),
        ids=frozenset({service_request_id}),
    )
    rows = public_concerns(where).page(limit=1)
    if not rows:
        raise Open311Error(
            404,
            _("There is no public service request with the id “%(id)s”.")
            % {"id": _clean(service_request_id)[:40]},
        )
    return _response(request, fmt, "service_requests", [_service_request(rows[0])])


@open311_view()
def token(request: HttpRequest, *, fmt: str, token: str) -> HttpResponse:
    """GET tokens/{token}.{fmt}: the service_request_id of a request sent with POST."""
    concern = open311_token_concern(token)
    if concern is None:
        raise Open311Error(404, _("There is no service request with this token."))
    return _response(
        request,
        fmt,
        "service_requests",
        [{"token": str(concern.idempotency_key), "service_request_id": concern.public_id}],
    )


# --- Service requests: sending ----------------------------------------------------------------


def _api_key(params) -> str:
    keys = list(getattr(settings, "CONVIVE_OPEN311_API_KEYS", []) or [])
    given = (params.get("api_key") or "").strip()
    if not keys:
        return ""
    if not given:
        raise Open311Error(403, _("An api_key is required to send service requests."))
    if given not in keys:
        raise Open311Error(403, _("The api_key is not valid."))
    return given


def _post_consultation(params) -> ConsultationPage:
    jurisdiction = _jurisdiction(params)
    if jurisdiction is not None:
        return jurisdiction
    listening = _listening()
    if len(listening) == 1:
        return next(iter(listening.values()))
    if not listening:
        raise Open311Error(400, _("No consultation is accepting concerns at the moment."))
    raise Open311Error(400, _jurisdiction_choices_message(listening))


def _post_point(params) -> Point | None:
    lat_text, long_text = params.get("lat", "").strip(), params.get("long", "").strip()
    if not lat_text and not long_text:
        return None
    if not lat_text or not long_text:
        raise Open311Error(400, _("Send both lat and long, or neither."))
    try:
        lat, lon = float(lat_text), float(long_text)
    except ValueError:
        lat = lon = math.nan
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise Open311Error(
            400, _("lat and long must be decimal degrees (WGS84), such as 4.6735 and -74.0512.")
        )
    return Point(lon, lat, srid=4326)


def _post_attributes(post) -> dict[str, list[str]]:
    """attribute[code]=value and attribute[code][]=value (multivaluelist), checked against the
    service definition."""
    given: dict[str, list[str]] = {}
    for name, values in post.lists():
        match = ATTRIBUTE_PATTERN.match(name)
        if name.startswith("attribute") and match is None:
            raise Open311Error(400, _("Attributes are sent as attribute[code]=value."))
        if match is None:
            continue
        given.setdefault(match.group(1), []).extend(value for value in values if value.strip())
    definitions = {code: (datatype, choices) for code, datatype, choices in ATTRIBUTES}
    for code, values in given.items():
        if code not in definitions:
            raise Open311Error(
                400,
                _("Unknown attribute “%(code)s”. Use one of: %(codes)s.")
                % {"code": _clean(code)[:40], "codes": ", ".join(definitions)},
            )
        datatype, choices = definitions[code]
        allowed = {key for key, _label in choices.choices}
        if any(value not in allowed for value in values) or (
            datatype == "singlevaluelist" and len(values) > 1
        ):
            raise Open311Error(
                400,
                _("attribute[%(code)s] must be one of: %(keys)s.")
                % {"code": code, "keys": ", ".join(key for key, _label in choices.choices)},
            )
    return given


def _post_contact(params) -> dict[str, str]:
    contact = {name: (params.get(name) or "").strip() for name in CONTACT_FIELDS}
    for name, value in contact.items():
        if len(value) > CONTACT_MAX[name]:
            raise Open311Error(
                400,
                _("%(name)s may have at most %(count)d characters.")
                % {"name": name, "count": CONTACT_MAX[name]},
            )
    if contact["email"]:
        try:
            validate_email(contact["email"])
        except ValidationError:
            raise Open311Error(400, _("The email address is not valid.")) from None
    return contact


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    """POST requests.{fmt}: a concern, pending moderation. media_url is ignored: Convive fetches
    nothing from other servers and publishes no photos (docs/open311.md)."""
    post = request.POST
    client = _api_key(post)
    limit = rate_limit_hit(
        request=request,
        scope="open311",
        rate=getattr(settings, "CONVIVE_OPEN311_RATE_LIMIT", None),
    )
    if not limit.allowed:
        error = Open311Error(
            429, _("Too many service requests from this client. Please try again later.")
        )
        error.retry_after = limit.retry_after
        raise error

    consultation = _post_consultation(post)
    code = (post.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, _("service_code is required."))
    category = _service_for(_clean(code), consultation)
    point = _post_point(post)
    place = (post.get("address_string") or "").strip()
    if point is None and not place:
        if (post.get("address_id") or "").strip():
            raise Open311Error(
                400, _("address_id is not supported here: send lat and long, or address_string.")
            )
        raise Open311Error(400, _("Say where: send lat and long, or address_string."))
    if len(place) > MAX_PLACE:
        raise Open311Error(
            400,
            _("address_string may have at most %(count)d characters.") % {"count": MAX_PLACE},
        )
    description = (post.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(
            400,
            _("description may have at most %(count)d characters.") % {"count": MAX_DESCRIPTION},
        )
    attributes = _post_attributes(post)
    contact = _post_contact(post)

    submission = Open311Submission(
        consultation=consultation,
        category=CategoryChoice(pk=category.pk, translation_key=category.translation_key),
        language=translation.get_language() or settings.LANGUAGE_CODE,
        point=point,
        place_description=place,
        description=description,
        time_band=(attributes.get("time_band") or [""])[0],
        day_type=(attributes.get("day_type") or [""])[0],
        frequency=(attributes.get("frequency") or [""])[0],
        affected=tuple(attributes.get("affected") or ()),
        contact=contact,
    )
    key = open311_idempotency_key(
        fields={name: values for name, values in post.lists() if name not in ("api_key", "lang")},
        client=client,
        header=request.headers.get("Idempotency-Key", "")[:200],
    )
    try:
        result = open311_request_submit(submission=submission, idempotency_key=key)
    except ConcernRejected as rejection:
        raise Open311Error(400, rejection.message) from None
    concern = result.concern
    return _response(
        request,
        fmt,
        "service_requests",
        [
            {
                "service_request_id": concern.public_id,
                "token": str(concern.idempotency_key),
                "service_notice": _(
                    "Thank you. A moderator will review this report before it is published; "
                    "until then it is not shown."
                ),
                "account_id": contact["account_id"],
            }
        ],
    )


# --- Discovery --------------------------------------------------------------------------------


def _changeset() -> str:
    """When services or their definitions last changed: the latest publication of a live
    consultation (its categories are chosen there), at the latest now."""
    latest = (
        _live_consultations()
        .exclude(last_published_at=None)
        .order_by("-last_published_at")
        .values_list("last_published_at", flat=True)
        .first()
    )
    moment = min(latest or timezone.now(), timezone.now())
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


@open311_view()
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """GET /open311/discovery.{fmt} (Service_Discovery.md)."""
    changeset = _changeset()
    keys_needed = bool(getattr(settings, "CONVIVE_OPEN311_API_KEYS", []))
    contact = getattr(settings, "CONVIVE_OPEN311_CONTACT", "") or _(
        "Write to the municipality that runs this consultation site."
    )
    key_service = getattr(settings, "CONVIVE_OPEN311_KEY_SERVICE", "") or (
        _("Ask the administrators of this site for an API key to send service requests.")
        if keys_needed
        else _("No API key is needed.")
    )
    document = {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.build_absolute_uri("/open311/v2"),
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _response(request, fmt, "discovery", document)


@open311_view(methods=("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))
def not_found(request: HttpRequest, *, fmt: str, **kwargs) -> HttpResponse:
    """Any other address under /open311/: the standard error, not an HTML page."""
    raise Open311Error(404, _("There is no Open311 resource at this address."))
