"""HTML views of a consultation (served through ConsultationPage routes)."""

import math
import uuid

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from maps.ratelimit import rate_limit_hit

from .forms import ConcernForm, consultation_areas
from .pages import ConsultationPage
from .services import ConcernRejected, concern_submit

FORM_TEMPLATE = "diagnosis/concern_form.html"
SUCCESS_TEMPLATE = "diagnosis/concern_success.html"
# A signed cookie carries the reference to the thanks page, so only the submitter sees it. Not the
# session: that would cost a database write per submission and a session row per resident.
REFERENCE_COOKIE = "convive-reference"
REFERENCE_SALT = "convive.concern.reference"
REFERENCE_MAX_AGE = 24 * 3600
# ConcernRejected names service-level fields; the form shows them on its own fields.
REJECTION_FIELDS = {"point": "latitude"}


def _page_path(request: HttpRequest, page: ConsultationPage, route: str) -> str:
    """The consultation's path as the resident reached it (keeping their language prefix).

    `page.url` would give the page's own locale, so a resident reading the Spanish page under
    /en/ would be sent back to /es/ on submit.
    """
    suffix = page.reverse_subpage(route)
    path = request.path
    return path[: -len(suffix)] if suffix and path.endswith(suffix) else page.url


def _map_bounds(page: ConsultationPage) -> str:
    """South-west and north-east corners of the consultation's areas, for the map's first view."""
    extent = consultation_areas(consultation=page).aggregate(extent=Extent("geometry"))["extent"]
    if not extent:
        return ""
    return ",".join(f"{value:.6f}" for value in (extent[1], extent[0], extent[3], extent[2]))


def _render_form(request, page, *, form=None, status=200, refusal="", retry_after=0):
    page_path = _page_path(request, page, "concern_form")
    context = {
        "page": page,
        "self": page,
        "form": form,
        "refusal": refusal,
        "retry_after": retry_after,
        "page_path": page_path,
        "areas_url": page_path + page.reverse_subpage("map_areas"),
        "map_bounds": _map_bounds(page) if form is not None else "",
    }
    response = TemplateResponse(request, FORM_TEMPLATE, context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def concern_form(request: HttpRequest, page: ConsultationPage) -> HttpResponse:
    """GET shows the form; POST stores the concern through `concern_submit` and redirects (303)."""
    if not page.accepts_concerns:
        return _render_form(
            request,
            page,
            status=403 if request.method == "POST" else 200,
            refusal=_("This consultation is not accepting reports at the moment."),
        )

    if request.method != "POST":
        form = ConcernForm(consultation=page, initial={"idempotency_key": uuid.uuid4()})
        return _render_form(request, page, form=form)

    limit = rate_limit_hit(request=request, scope="concern")
    if not limit.allowed:
        minutes = max(1, math.ceil(limit.retry_after / 60))
        message = ngettext(
            "You have sent many reports in a short time. Please try again in %(minutes)d minute.",
            "You have sent many reports in a short time. Please try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
        return _render_form(
            request, page, status=429, refusal=message, retry_after=limit.retry_after
        )

    form = ConcernForm(request.POST, request.FILES, consultation=page)
    if not form.is_valid():
        return _render_form(request, page, form=form, status=400)

    data = form.cleaned_data
    try:
        result = concern_submit(
            consultation=page,
            category=data["category"],
            idempotency_key=data["idempotency_key"],
            language=get_language(),
            description=data["description"],
            point=data["point"],
            area=data["area"],
            place_description=data["place_description"],
            time_band=data["time_band"],
            day_type=data["day_type"],
            frequency=data["frequency"],
            affected=data["affected"],
            gender=data["gender"],
            gender_description=data["gender_description"],
            age_band=data["age_band"],
            photo=data["photo"],
        )
    except ConcernRejected as rejection:
        field = REJECTION_FIELDS.get(rejection.field, rejection.field)
        form.add_error(field if field in form.fields else None, rejection.message)
        return _render_form(request, page, form=form, status=400)

    success = _page_path(request, page, "concern_form") + page.reverse_subpage("concern_success")
    response = HttpResponseRedirect(success, status=303)
    response.set_signed_cookie(
        REFERENCE_COOKIE,
        f"{page.translation_key}:{result.concern.reference}",
        salt=REFERENCE_SALT,
        max_age=REFERENCE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def concern_success(request: HttpRequest, page: ConsultationPage) -> HttpResponse:
    """The reference code of the concern this browser just sent, and what happens next."""
    signed = request.get_signed_cookie(
        REFERENCE_COOKIE, default="", salt=REFERENCE_SALT, max_age=REFERENCE_MAX_AGE
    )
    key, _sep, reference = signed.partition(":")
    reference = reference if key == str(page.translation_key) else None
    page_path = _page_path(request, page, "concern_success")
    context = {
        "page": page,
        "self": page,
        "reference": reference,
        "page_path": page_path,
        "form_url": page_path + page.reverse_subpage("concern_form"),
    }
    return TemplateResponse(request, SUCCESS_TEMPLATE, context)
