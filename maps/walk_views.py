"""Safety walks in the field: joining with a code, the recording page, its stops endpoint and the
offline worker.

Who may record on a walk is decided in one place (`walk_field_access`): a facilitator signed in
with `maps.add_walkstop`, or a phone holding that walk's participant grant. A grant is a signed,
HttpOnly cookie naming the walk and a keyed hash of the walk's access code at the time of joining,
so renewing the code in the admin shuts out every phone that joined with the old one, and a code
opens its own walk only. Stops are stored by `maps.walks.walk_stop_record`, whichever path they
take: the page posted without JavaScript, or the phone's offline queue replayed to `walk_stops`.
"""

import hashlib
import json
import math
import uuid as uuid_lib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    UnreadablePostError,
)
from django.http.multipartparser import MultiPartParserError
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .models import ModerationStatus, SafetyWalk, WalkStop
from .ratelimit import rate_limit_hit
from .walk_forms import WalkJoinForm, WalkStopForm, route_positions
from .walks import STOP_MAX_DISTANCE_FROM_ROUTE_M, StopRejected, walk_for_code, walk_stop_record

JOIN_TEMPLATE = "maps/walks/join.html"
RECORD_TEMPLATE = "maps/walks/record.html"
FORBIDDEN_TEMPLATE = "maps/walks/forbidden.html"

ACCESS_COOKIE = "convive-walks"
ACCESS_SALT = "convive.walks.access"
# Long enough for a queue recorded offline to be sent days later from home; the code's hash in the
# grant still ends it as soon as the facilitator renews the code.
ACCESS_MAX_AGE = 30 * 24 * 3600
# A phone may have joined the day walk and the night walk of the same route.
ACCESS_MAX_WALKS = 6
CODE_RATE = "10/600"
# Stops a moderator took off the walk are not shown back to the field team.
FIELD_HIDDEN_STATUSES = (ModerationStatus.REJECTED, ModerationStatus.HIDDEN)
# Where a service refusal about the place goes on the page without JavaScript.
REJECTION_FIELDS = {"point": "along"}

WORKER_SOURCE = Path(__file__).resolve().parent / "static" / "maps" / "walks" / "sw.js"
# Static files the page needs to open with no connection (the JS catalogue is added per language).
WORKER_PRECACHE = (
    "cms/css/convive.css",
    "leaflet/leaflet.css",
    "leaflet/leaflet.js",
    "maps/walks/record.css",
    "cms/js/leaflet-a11y.js",
    "maps/js/map-common.js",
    "maps/walks/queue.js",
    "maps/walks/record.js",
)


# --- Who may record on a walk ----------------------------------------------------------------


@dataclass(frozen=True)
class FieldAccess:
    source: str
    recorded_by: object | None  # the facilitator; never set for participants


def _code_digest(code: str) -> str:
    """A keyed hash of an access code: the grant proves which code was typed without holding it."""
    return salted_hmac(ACCESS_SALT, code, algorithm="sha256").hexdigest()[:32]


def access_grants(request: HttpRequest) -> dict[str, str]:
    """The walks this phone joined: walk uuid → hash of the code it joined with."""
    raw = request.get_signed_cookie(
        ACCESS_COOKIE, default="", salt=ACCESS_SALT, max_age=ACCESS_MAX_AGE
    )
    grants = {}
    for entry in raw.split(",")[:ACCESS_MAX_WALKS]:
        walk_uuid, _sep, digest = entry.partition(":")
        if walk_uuid and digest:
            grants[walk_uuid] = digest
    return grants


def access_grant_set(response: HttpResponse, *, request: HttpRequest, walk: SafetyWalk) -> None:
    """Add (or refresh) this walk's grant on the phone, newest first."""
    grants = {str(walk.uuid): _code_digest(walk.access_code)}
    for walk_uuid, digest in access_grants(request).items():
        grants.setdefault(walk_uuid, digest)
    value = ",".join(f"{k}:{v}" for k, v in list(grants.items())[:ACCESS_MAX_WALKS])
    response.set_signed_cookie(
        ACCESS_COOKIE,
        value,
        salt=ACCESS_SALT,
        max_age=ACCESS_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def walk_field_access(request: HttpRequest, walk: SafetyWalk) -> FieldAccess | None:
    """Whether this request may record stops on this walk, and as whom."""
    user = request.user
    if user.is_authenticated and user.has_perm("maps.add_walkstop"):
        return FieldAccess(source=WalkStop.Source.FACILITATOR, recorded_by=user)
    digest = access_grants(request).get(str(walk.uuid))
    if digest and constant_time_compare(digest, _code_digest(walk.access_code)):
        return FieldAccess(source=WalkStop.Source.PARTICIPANT, recorded_by=None)
    return None


def _code_was_renewed(request: HttpRequest, walk: SafetyWalk) -> bool:
    return str(walk.uuid) in access_grants(request)


# --- What the field page shows -----------------------------------------------------------------


def _field_stops(walk: SafetyWalk):
    return (
        WalkStop.objects.filter(walk=walk)
        .exclude(status__in=FIELD_HIDDEN_STATUSES)
        .only("reference", "point", "feeling", "recorded_at", "status")
        .order_by("recorded_at", "pk")
    )


def walk_field_stops(*, walk: SafetyWalk) -> dict:
    """The walk's stops for the people recording it, as GeoJSON.

    Exact points: these people recorded them, standing there. Not the notes or photos: a
    participant sees where the group stopped and how it felt, not what someone else wrote.
    """
    stops = _field_stops(walk)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": stop.reference,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(stop.point.x, 7), round(stop.point.y, 7)],
                },
                "properties": {
                    "reference": stop.reference,
                    "feeling": stop.feeling,
                    "recorded_at": stop.recorded_at.isoformat(),
                    "status": stop.status,
                },
            }
            for stop in stops
        ],
    }


def _walk_page_config(request: HttpRequest, walk: SafetyWalk, access: FieldAccess) -> dict:
    """Everything the page's script needs, embedded so the page works when opened offline."""
    areas = []
    for area in walk.areas.all():
        # Simplified (about 5 m) only for the phone's own "is this on the walk?" hint; the
        # server checks against the real boundary.
        simple = area.geometry.simplify(0.00005, preserve_topology=True)
        areas.append(json.loads(simple.geojson))
    return {
        "walk": str(walk.uuid),
        "language": get_language(),
        "stopsUrl": reverse("walks:stops", kwargs={"uuid": walk.uuid}),
        "recordUrl": reverse("walks:record", kwargs={"uuid": walk.uuid}),
        "joinUrl": reverse("walks:join"),
        "workerUrl": reverse("walks:worker"),
        "scope": reverse("walks:worker").rsplit("/", 1)[0] + "/",
        "route": [[y, x] for x, y in walk.route.coords] if walk.route else None,
        "meeting": [walk.meeting_point.y, walk.meeting_point.x] if walk.meeting_point else None,
        "areas": areas,
        "positions": [
            {"value": p["value"], "label": str(p["label"]), "lat": p["lat"], "lon": p["lon"]}
            for p in route_positions(walk)
        ],
        "maxDistance": STOP_MAX_DISTANCE_FROM_ROUTE_M,
        "tiles": settings.CONVIVE_TILE_URL,
        "attribution": settings.CONVIVE_TILE_ATTRIBUTION,
        "feelings": {value: str(label) for value, label in WalkStop.Feeling.choices},
        "stops": walk_field_stops(walk=walk),
        "source": access.source,
    }


def _render_record(request, walk, access, *, form, status=200):
    config = _walk_page_config(request, walk, access)
    context = {
        "walk": walk,
        "form": form,
        "access": access,
        "config": config,
        "stops": config["stops"]["features"],
        "stop_rows": [
            {
                "reference": stop.reference,
                "feeling": stop.feeling,
                "feeling_label": stop.get_feeling_display(),
                "recorded_at": stop.recorded_at,
            }
            for stop in _field_stops(walk)
        ],
    }
    response = TemplateResponse(request, RECORD_TEMPLATE, context, status=status)
    # Personal (who may record) and changing with every stop: never kept by a shared cache.
    response["Cache-Control"] = "private, no-cache"
    return response


def _forbidden(request: HttpRequest, walk: SafetyWalk) -> HttpResponse:
    login_url = f"{reverse('wagtailadmin_login')}?{urlencode({'next': request.get_full_path()})}"
    context = {"walk": walk, "renewed": _code_was_renewed(request, walk), "login_url": login_url}
    return TemplateResponse(request, FORBIDDEN_TEMPLATE, context, status=403)


# --- Views -------------------------------------------------------------------------------------


def _join_render(request, *, form, status=200, refusal="", retry_after=0):
    joined = [
        walk
        for walk in SafetyWalk.objects.filter(uuid__in=list(access_grants(request)))
        if walk_field_access(request, walk) is not None
    ]
    context = {"form": form, "refusal": refusal, "joined": joined}
    response = TemplateResponse(request, JOIN_TEMPLATE, context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def walk_join(request: HttpRequest) -> HttpResponse:
    """A participant types the walk's code (or follows a QR link with ?code=) and gets a grant."""
    source = request.POST if request.method == "POST" else request.GET
    if request.method == "GET" and "code" not in request.GET:
        return _join_render(request, form=WalkJoinForm())
    form = WalkJoinForm(source)
    if not form.is_valid():
        return _join_render(request, form=form, status=400)
    limit = rate_limit_hit(request=request, scope="walk-code", rate=CODE_RATE)
    if not limit.allowed:
        minutes = max(1, math.ceil(limit.retry_after / 60))
        message = ngettext(
            "Too many codes were tried from this phone. Please wait %(minutes)d minute and try "
            "again.",
            "Too many codes were tried from this phone. Please wait %(minutes)d minutes and try "
            "again.",
            minutes,
        ) % {"minutes": minutes}
        return _join_render(
            request, form=form, status=429, refusal=message, retry_after=limit.retry_after
        )
    walk = walk_for_code(form.cleaned_data["code"])
    if walk is None:
        form.add_error(
            "code",
            _(
                "This code does not open any walk. Check it with the facilitator: it may have "
                "been mistyped or renewed."
            ),
        )
        return _join_render(request, form=form, status=400)
    response = HttpResponseRedirect(reverse("walks:record", kwargs={"uuid": walk.uuid}), status=303)
    access_grant_set(response, request=request, walk=walk)
    return response


@require_http_methods(["GET", "POST"])
def walk_record(request: HttpRequest, uuid) -> HttpResponse:
    """The field page. GET shows it; a plain POST (no JavaScript) stores one stop and redirects."""
    walk = SafetyWalk.objects.filter(uuid=uuid).first()
    if walk is None:
        raise Http404
    access = walk_field_access(request, walk)
    if access is None:
        return _forbidden(request, walk)
    if request.method != "POST":
        form = WalkStopForm(walk=walk, initial={"idempotency_key": uuid_lib.uuid4()})
        return _render_record(request, walk, access, form=form)

    form = WalkStopForm(request.POST, request.FILES, walk=walk)
    if not form.is_valid():
        return _render_record(request, walk, access, form=form, status=400)
    try:
        result = _record(request, walk, access, form)
    except StopRejected as rejection:
        field = REJECTION_FIELDS.get(rejection.field, rejection.field)
        if field == "along" and "along" not in form.fields:
            field = "latitude"
        form.add_error(field if field in form.fields else None, rejection.message)
        return _render_record(request, walk, access, form=form, status=400)
    messages.success(
        request,
        _("Stop saved: reference %(reference)s") % {"reference": result.stop.reference},
    )
    return HttpResponseRedirect(reverse("walks:record", kwargs={"uuid": walk.uuid}), status=303)


def _record(request, walk, access, form):
    data = form.cleaned_data
    return walk_stop_record(
        walk=walk,
        idempotency_key=data["idempotency_key"],
        point=data["point"],
        located_by=data["located_by"],
        accuracy_m=data["accuracy_m"],
        feeling=data["feeling"],
        scores=data["scores"],
        hazards=data["hazards"],
        notes=data["notes"],
        photo=data["photo"],
        recorded_at=data["recorded_at"],
        source=access.source,
        recorded_by=access.recorded_by,
        language=get_language(),
    )


def _json_forbidden(request: HttpRequest, walk: SafetyWalk) -> JsonResponse:
    if _code_was_renewed(request, walk):
        return JsonResponse(
            {
                "error": "code_renewed",
                "message": _(
                    "The walk's access code was renewed. Ask the facilitator for the new code "
                    "and enter it; the stops on this phone are kept and will be sent."
                ),
            },
            status=403,
        )
    return JsonResponse(
        {"error": "forbidden", "message": _("Enter the walk's access code to record stops.")},
        status=403,
    )


@require_http_methods(["GET", "POST"])
def walk_stops(request: HttpRequest, uuid) -> HttpResponse:
    """GET: the walk's stops as GeoJSON. POST: one stop from the phone's offline queue."""
    walk = SafetyWalk.objects.filter(uuid=uuid).first()
    if walk is None:
        return JsonResponse(
            {"error": "not_found", "message": _("This walk does not exist.")}, status=404
        )
    access = walk_field_access(request, walk)
    if access is None:
        return _json_forbidden(request, walk)
    if request.method != "POST":
        response = JsonResponse(walk_field_stops(walk=walk), content_type="application/geo+json")
        response["Cache-Control"] = "private, no-cache"
        return response
    try:
        form = WalkStopForm(request.POST, request.FILES, walk=walk, key_required=True)
        valid = form.is_valid()
    except (
        BadRequest,
        MultiPartParserError,
        RequestDataTooBig,
        TooManyFieldsSent,
        UnreadablePostError,
    ):
        return JsonResponse(
            {"errors": {"__all__": [_("The stop could not be read. Please send it again.")]}},
            status=400,
        )
    if not valid:
        return JsonResponse({"errors": form.errors_json()}, status=400)
    try:
        result = _record(request, walk, access, form)
    except StopRejected as rejection:
        field = rejection.field or "__all__"
        return JsonResponse({"errors": {field: [rejection.message]}}, status=400)
    return JsonResponse(
        {"reference": result.stop.reference, "created": result.created},
        status=201 if result.created else 200,
    )


# --- The offline worker ------------------------------------------------------------------------


def _static_bytes(path: str) -> bytes:
    found = finders.find(path)
    if found:
        return Path(found).read_bytes()
    return b""


@lru_cache(maxsize=1)
def _worker_build() -> tuple[str, tuple[str, ...], str]:
    """The worker's source, its precache list and a version that changes with any of them.

    The version is in the worker's bytes, so a deploy that changes the page's scripts or styles
    makes browsers install the new worker and drop the old cache, even when static URLs are not
    hashed.
    """
    source = WORKER_SOURCE.read_text(encoding="utf-8")
    urls = tuple(static(path) for path in WORKER_PRECACHE)
    digest = hashlib.sha256(source.encode())
    for path, url in zip(WORKER_PRECACHE, urls, strict=True):
        digest.update(url.encode())
        digest.update(_static_bytes(path))
    return source, urls, digest.hexdigest()[:16]


@require_http_methods(["GET"])
def walk_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served under /<lang>/walks/ so that is its scope.

    Served by Django (not from /static/) because a worker only controls pages under its own path.
    """
    source, urls, version = _worker_build() if not settings.DEBUG else _worker_build.__wrapped__()
    language = get_language()
    config = {
        "version": version,
        "cache": f"convive-walks-{language}-{version}",
        "cachePrefix": f"convive-walks-{language}-",
        "precache": [*urls, reverse("javascript-catalog")],
        "networkFirst": [reverse("javascript-catalog")],
        "offline": {
            "lang": language,
            "title": _("You are offline"),
            "body": _(
                "This page has not been saved on this phone yet. Open it once with a connection; "
                "after that it opens without one."
            ),
        },
    }
    body = f"self.CONVIVE_WALKS = {json.dumps(config, ensure_ascii=False)};\n{source}"
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("walks:worker").rsplit("/", 1)[0] + "/"
    return response
