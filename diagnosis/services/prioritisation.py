"""Prioritisation, the rules: residents share a consultation's points among the problems of its
diagnosis (the ballot page is `diagnosis.prioritisation_views`).

While the consultation is in the Prioritisation phase and before `prioritisation_closes_at`, a
resident gives `prioritisation_points` points or fewer, in whole numbers, at least one. Once
closed, the tally — points and ballots per problem, ranked — appears on the consultation page and
the results page; before that `prioritisation_tally` returns nothing, so no template can show it by
mistake.

Where the problems come from: the facilitator names them on the consultation's results page, a
page type of the publication layer (`cms`), which this layer must not import. `cms` answers the
Wagtail hook `PROBLEMS_HOOK` with a function `(consultation page) -> list[BallotProblem] | None`
(`cms/wagtail_hooks.py`) — the way other apps already add to pages here (`TOOL_LINKS_HOOK`,
the Participation menu). One named hook with one provider keeps imports running down and stays
easy to find; reading "any child page with a `problems` relation" would work too, but would bind
this layer to the shape of a page it does not own without saying so anywhere.

One ballot per device, no account: a random id (kept by the browser) identifies the device; the
database keeps only HMAC-SHA256(SECRET_KEY, consultation key + id), so ballots of the same device
in two consultations cannot be linked, and a leaked table cannot be tied to a browser. Sending
again replaces the device's ballot while voting is open. Points are stored by problem translation
key, so ballots in every language add up.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, IntegerField, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail import hooks

from ..models import PrioritisationBallot
from ..pages import ConsultationPage

# cms answers this hook with fn(consultation page) -> list[BallotProblem] | None.
PROBLEMS_HOOK = "convive_prioritisation_problems"
NON_FIELD = "__all__"
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


def device_ballot(*, page: ConsultationPage, device_id: str) -> PrioritisationBallot | None:
    if not device_id:
        return None
    return PrioritisationBallot.objects.filter(
        consultation_key=page.translation_key,
        device=device_hash(consultation_key=page.translation_key, device_id=device_id),
    ).first()


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
