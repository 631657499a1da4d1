"""The prioritisation ballot page (route `prioritise/` of `ConsultationPage`) and the
consultation page's prioritisation block. The rules are in `diagnosis.services.prioritisation`;
these views check the phase and the rate limit, keep the device cookie and show.

It works without JavaScript (`prioritisation.js` only shows the points left). The device id lives
in a long-lived, HTTP-only cookie; only its keyed hash reaches the database.
"""

import math
import re
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from maps.ratelimit import rate_limit_hit

from .pages import ConsultationPage
from .services.prioritisation import (
    NON_FIELD,
    BallotRejected,
    ballot_clean,
    ballot_problems,
    ballot_submit,
    device_ballot,
    prioritisation_closed,
    prioritisation_open,
    prioritisation_tally,
)
from .views import _page_path as consultation_path

FORM_TEMPLATE = "diagnosis/prioritisation.html"
ROUTE = "prioritise"
FIELD_PREFIX = "points-"

DEVICE_COOKIE = "convive-device"
# Browsers cap cookie lifetimes at 400 days; a consultation's voting lasts weeks.
DEVICE_MAX_AGE = 400 * 24 * 3600
DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{32,64}")
# Ballots per client address and window. Households, schools and phone carriers put many residents
# behind one address, so the default is far above what one person sends.
DEFAULT_BALLOT_RATE = "30/3600"


def device_id_of(request: HttpRequest) -> str:
    """The device id in the request's cookie, or "" when there is none (or it was tampered with)."""
    value = request.COOKIES.get(DEVICE_COOKIE, "")
    return value if DEVICE_ID.fullmatch(value) else ""


def prioritisation_page_context(*, request: HttpRequest, page: ConsultationPage) -> dict:
    """What the consultation page's prioritisation block needs (an invitation while open, the
    tally once closed, nothing otherwise)."""
    is_open = prioritisation_open(page)
    problems = ballot_problems(page) if is_open or prioritisation_closed(page) else []
    return {
        "prioritisation": {
            "open": is_open and bool(problems),
            "problems": len(problems),
            "points": page.prioritisation_points,
            "closes_at": page.prioritisation_closes_at,
            "tally": prioritisation_tally(page=page, problems=problems) if not is_open else None,
        }
    }


# --- Views ---------------------------------------------------------------------------------------


def _page_path(request: HttpRequest, page: ConsultationPage) -> str:
    return consultation_path(request, page, ROUTE)


def _render(request, page, *, status=200, refusal="", given=None, errors=None, saved=None):
    """The ballot page: the form while open, else a refusal and (once closed) the tally."""
    errors = errors or {}
    is_open = prioritisation_open(page)
    problems = ballot_problems(page) if is_open or prioritisation_closed(page) else []
    device_id = device_id_of(request)
    earlier = device_ballot(page=page, device_id=device_id) if is_open else None
    if given is None:
        given = {key: str(value) for key, value in (earlier.points if earlier else {}).items()}
    if not refusal and not is_open:
        refusal = (
            _("Prioritisation has closed. Thank you to everyone who took part.")
            if prioritisation_closed(page)
            else _("Prioritisation has not started yet.")
        )
    elif not refusal and not problems:
        refusal = _("The problems to prioritise are not published yet.")
    items = [
        {
            "problem": problem,
            "id": f"points-{index}",
            "name": f"{FIELD_PREFIX}{problem.key}",
            "value": given.get(problem.key, ""),
            "error": errors.get(problem.key, ""),
        }
        for index, problem in enumerate(problems, start=1)
    ]
    error_list = (
        [{"anchor": "ballot-total", "message": errors[NON_FIELD]}] if NON_FIELD in errors else []
    )
    error_list += [
        {"anchor": item["id"], "message": item["error"]} for item in items if item["error"]
    ]
    context = {
        "page": page,
        "self": page,
        "page_path": _page_path(request, page),
        "refusal": refusal,
        "items": items if not refusal else [],
        "points": page.prioritisation_points,
        "errors": errors,
        "error_list": error_list,
        "earlier": earlier,
        "saved": saved,
        "saved_rows": [
            {"title": problem.title, "points": saved.points[problem.key]}
            for problem in problems
            if saved and saved.points.get(problem.key)
        ],
        "tally": prioritisation_tally(page=page, problems=problems) if not is_open else None,
    }
    response = TemplateResponse(request, FORM_TEMPLATE, context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def _with_device_cookie(response: HttpResponse, device_id: str) -> HttpResponse:
    response.set_cookie(
        DEVICE_COOKIE,
        device_id,
        max_age=DEVICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def prioritisation_form(request: HttpRequest, page: ConsultationPage) -> HttpResponse:
    """GET shows the ballot (or, after `?saved=1`, this device's ballot as confirmation); POST
    checks and stores it and redirects (303). Refusals: 403 when voting is not open, 429 over
    the rate limit, 400 for points that break a rule. Nothing is stored unless all is well."""
    if request.method != "POST":
        saved = None
        if request.GET.get("saved") and prioritisation_open(page):
            saved = device_ballot(page=page, device_id=device_id_of(request))
        return _render(request, page, saved=saved)

    if not prioritisation_open(page):
        return _render(request, page, status=403)

    limit = rate_limit_hit(
        request=request,
        scope="ballot",
        rate=getattr(settings, "CONVIVE_BALLOT_RATE_LIMIT", DEFAULT_BALLOT_RATE),
    )
    if not limit.allowed:
        minutes = max(1, math.ceil(limit.retry_after / 60))
        message = ngettext(
            "Many ballots were sent from your connection in a short time. Please try again in "
            "%(minutes)d minute.",
            "Many ballots were sent from your connection in a short time. Please try again in "
            "%(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
        response = _render(request, page, status=429, refusal=message)
        response["Retry-After"] = str(limit.retry_after)
        return response

    problems = ballot_problems(page)
    given = {
        problem.key: request.POST.get(f"{FIELD_PREFIX}{problem.key}", "")[:20]
        for problem in problems
    }
    try:
        points = ballot_clean(problems=problems, given=given, points=page.prioritisation_points)
    except BallotRejected as rejection:
        return _render(request, page, status=400, given=given, errors=rejection.errors)

    device_id = device_id_of(request) or secrets.token_urlsafe(32)
    ballot_submit(page=page, device_id=device_id, points=points, language=get_language() or "")
    ballot_url = _page_path(request, page) + page.reverse_subpage(ROUTE)
    response = HttpResponseRedirect(f"{ballot_url}?saved=1", status=303)
    return _with_device_cookie(response, device_id)
