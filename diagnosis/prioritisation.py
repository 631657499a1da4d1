"""Prioritisation: residents share a consultation's points among the problems of its diagnosis.

While the consultation is in the Prioritisation phase and before `prioritisation_closes_at`, the
route `prioritise/` of `ConsultationPage` shows one number input per problem; a resident gives
`prioritisation_points` points or fewer, in whole numbers, at least one. It works without
JavaScript (`prioritisation.js` only shows the points left). Once closed, the tally — points and
ballots per problem, ranked — appears on the consultation page and the results page; before that
`prioritisation_tally` returns nothing, so no template can show it by mistake.

Where the problems come from: the facilitator names them on the consultation's results page, a
page type of the publication layer (`cms`), which this layer must not import. `cms` answers the
Wagtail hook `PROBLEMS_HOOK` with a function `(consultation page) -> list[BallotProblem] | None`
(`cms/wagtail_hooks.py`) — the way other apps already add to pages here (`TOOL_LINKS_HOOK`,
the Participation menu). One named hook with one provider keeps imports running down and stays
easy to find; reading "any child page with a `problems` relation" would work too, but would bind
this layer to the shape of a page it does not own without saying so anywhere.

One ballot per device, no account: a random id in a long-lived, HTTP-only cookie identifies the
device; the database keeps only HMAC-SHA256(SECRET_KEY, consultation key + id), so ballots of the
same device in two consultations cannot be linked, and a leaked table cannot be tied to a browser.
Sending again replaces the device's ballot while voting is open. Points are stored by problem
translation key, so ballots in every language add up.

Sections: reading (problems, open/closed, tally), writing (`ballot_clean`, `ballot_submit`), and
the views. The view only checks the phase, the rate limit and shows; the rules are in the
functions it calls.
"""

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, IntegerField, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from wagtail import hooks

from maps.ratelimit import rate_limit_hit

from .models import PrioritisationBallot
from .pages import ConsultationPage
from .views import _page_path as consultation_path

# cms answers this hook with fn(consultation page) -> list[BallotProblem] | None.
PROBLEMS_HOOK = "convive_prioritisation_problems"
FORM_TEMPLATE = "diagnosis/prioritisation.html"
ROUTE = "prioritise"
FIELD_PREFIX = "points-"
NON_FIELD = "__all__"

DEVICE_COOKIE = "convive-device"
# Browsers cap cookie lifetimes at 400 days; a consultation's voting lasts weeks.
DEVICE_MAX_AGE = 400 * 24 * 3600
DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{32,64}")
# Ballots per client address and window. Households, schools and phone carriers put many residents
# behind one address, so the default is far above what one person sends.
DEFAULT_BALLOT_RATE = "30/3600"
WHOLE_NUMBER = re.compile(r"[0-9]{1,6}")

Phase = ConsultationPage.Phase


# --- Reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BallotProblem:
    """A problem as the ballot shows it: its translation key (what points are stored under), and
    its title and description in the language of the page."""

    key: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class TallyRow:
    key: str
    title: str
    points: int
    ballots: int
    rank: int
    percent: int  # share of all points given, rounded, for the bar


@dataclass(frozen=True)
class Tally:
    """The closed prioritisation of a consultation: its problems ranked by points."""

    rows: list[TallyRow]
    ballots: int
    points_each: int


def ballot_problems(page: ConsultationPage) -> list[BallotProblem]:
    """The problems residents share points among, in the page's language (see the module
    docstring for where they come from). Empty when no results page names any."""
    for provider in hooks.get_hooks(PROBLEMS_HOOK):
        problems = provider(page)
        if problems is not None:
            return list(problems)
    return []


def prioritisation_open(page: ConsultationPage, *, now: datetime | None = None) -> bool:
    """Residents can give points: the phase is Prioritisation and its closing time has not come."""
    if page.phase != Phase.PRIORITISATION:
        return False
    closes = page.prioritisation_closes_at
    return not (closes and (now or timezone.now()) >= closes)


def prioritisation_closed(page: ConsultationPage, *, now: datetime | None = None) -> bool:
    """Voting is over: the closing time has passed, or the phase moved on to results or closed."""
    if page.phase in (Phase.RESULTS, Phase.CLOSED):
        return True
    closes = page.prioritisation_closes_at
    return bool(page.phase == Phase.PRIORITISATION and closes and (now or timezone.now()) >= closes)


def prioritisation_tally(
    *,
    page: ConsultationPage,
    problems: list[BallotProblem] | None = None,
    now: datetime | None = None,
) -> Tally | None:
    """Points and ballots per problem, ranked; None while voting may still change it, or when
    nobody voted. `problems` (default: `ballot_problems(page)`) names the rows in the reader's
    language; points given to a problem that has since been removed are not shown.

    The database adds up the points (one aggregate query, two sums per problem), whatever the
    number of ballots.
    """
    if not prioritisation_closed(page, now=now):
        return None
    problems = ballot_problems(page) if problems is None else problems
    ballots = PrioritisationBallot.objects.filter(consultation_key=page.translation_key)
    aggregates = {"ballots": Count("pk")}
    for index, problem in enumerate(problems):
        given = Cast(KeyTextTransform(problem.key, "points"), IntegerField())
        aggregates[f"points_{index}"] = Sum(given)
        aggregates[f"ballots_{index}"] = Count("pk", filter=Q(**{f"points__{problem.key}__gt": 0}))
    totals = ballots.aggregate(**aggregates)
    if not totals["ballots"]:
        return None
    counted = [
        (problem, totals[f"points_{i}"] or 0, totals[f"ballots_{i}"] or 0)
        for i, problem in enumerate(problems)
    ]
    counted.sort(key=lambda row: (-row[1], -row[2]))
    all_points = sum(points for _problem, points, _ballots in counted) or 1
    rows, rank, previous = [], 0, None
    for position, (problem, points, ballots_given) in enumerate(counted, start=1):
        if (points, ballots_given) != previous:
            rank, previous = position, (points, ballots_given)
        rows.append(
            TallyRow(
                key=problem.key,
                title=problem.title,
                points=points,
                ballots=ballots_given,
                rank=rank,
                percent=round(points * 100 / all_points),
            )
        )
    return Tally(rows=rows, ballots=totals["ballots"], points_each=page.prioritisation_points)


def device_hash(*, consultation_key, device_id: str) -> str:
    """What the database keeps of a device: a keyed hash, different in every consultation."""
    message = f"{consultation_key}:{device_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def device_id_of(request: HttpRequest) -> str:
    """The device id in the request's cookie, or "" when there is none (or it was tampered with)."""
    value = request.COOKIES.get(DEVICE_COOKIE, "")
    return value if DEVICE_ID.fullmatch(value) else ""


def device_ballot(*, page: ConsultationPage, device_id: str) -> PrioritisationBallot | None:
    if not device_id:
        return None
    return PrioritisationBallot.objects.filter(
        consultation_key=page.translation_key,
        device=device_hash(consultation_key=page.translation_key, device_id=device_id),
    ).first()


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


# --- Writing -----------------------------------------------------------------------------------


@dataclass
class BallotRejected(Exception):
    """The ballot breaks a rule; nothing was stored. `errors` maps a problem key (or NON_FIELD)
    to a message in the active language."""

    errors: dict[str, str] = field(default_factory=dict)


def ballot_clean(
    *, problems: list[BallotProblem], given: dict[str, str], points: int
) -> dict[str, int]:
    """The points given to each problem as whole numbers, from what was typed (an empty box is
    0), or BallotRejected. Keys that name no current problem are ignored."""
    errors: dict[str, str] = {}
    cleaned: dict[str, int] = {}
    for problem in problems:
        value = (given.get(problem.key) or "").strip()
        if not value:
            continue
        if not WHOLE_NUMBER.fullmatch(value):
            errors[problem.key] = _("Please give a whole number of points: 0, 1, 2…")
            continue
        if int(value):
            cleaned[problem.key] = int(value)
    if errors:
        raise BallotRejected(errors)
    total = sum(cleaned.values())
    if total > points:
        raise BallotRejected(
            {
                NON_FIELD: ngettext(
                    "You gave %(total)d points but have %(points)d point: please take some away.",
                    "You gave %(total)d points but have %(points)d points: please take some away.",
                    points,
                )
                % {"total": total, "points": points}
            }
        )
    if total == 0:
        raise BallotRejected({NON_FIELD: _("Please give at least one point to a problem.")})
    return cleaned


def ballot_submit(
    *, page: ConsultationPage, device_id: str, points: dict[str, int], language: str
) -> tuple[PrioritisationBallot, bool]:
    """Store the device's ballot, replacing its earlier one; (ballot, whether it replaced one).

    `points` must come from `ballot_clean`. The unique constraint (consultation, device) settles
    two submissions racing from the same device: one inserts, the other updates.
    """
    with transaction.atomic():
        ballot, created = PrioritisationBallot.objects.update_or_create(
            consultation_key=page.translation_key,
            device=device_hash(consultation_key=page.translation_key, device_id=device_id),
            defaults={"points": points, "language": language[:10]},
        )
    return ballot, not created


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
