"""The reference-code lookup of a programme (route `lookup/` of `ProgrammePage`): a resident who
kept the code of a concern they reported (`Concern.reference`, "ABCD-2345") sees what became of
it — whether it was reviewed and counted in the published diagnosis, and which problems and
commitments of this programme it fed.

What the page may say is limited on purpose:

- Only concerns of the consultations this programme answers are looked up. Any other code gets
  the same "not found" as a code that does not exist, so the page is no oracle for codes of
  other consultations.
- The concern's own words, point, photo and personal fields are never shown: a code may have been
  seen by someone else on the resident's screen or paper. Its category and area are (they are
  what ties it to problems), and a quote from it only as "your words are quoted", never with the
  quote's code.
- A concern in a sensitive category (domestic, sexual and gender-based violence, anything
  involving a child) is tied neither to its category nor to any problem: the page says only that
  it was received and how it counts (in area totals), and signposts the support services the
  consultation lists (docs/question-bank.md asks facilitators to put them in the consultation's
  introduction or privacy notice).
- Lookups are POSTed (the code stays out of URLs, browser history and access logs) and limited
  per client like every resident form (`maps.ratelimit`, `CONVIVE_RATE_LIMIT`), so codes cannot
  be tried in bulk.
"""

import datetime
import re
import uuid
from dataclasses import dataclass, field

from django import forms
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.models import Locale

from diagnosis.engine import Parameters, approved_concerns
from diagnosis.models import Concern, ConsultationPage, DiagnosisSnapshot
from diagnosis.selectors import categories_localized
from maps.ratelimit import rate_limit_hit

from .commitments import commitments_progress, localized, programme_commitments, progress_display
from .models import CommitmentPage, ProgrammePage, ResultsPage
from .problems import reference_normalise, sensitive_category_keys

TEMPLATE = "cms/programme_lookup.html"
RATE_SCOPE = "reference-lookup"
REFERENCE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}")


# --- The consultations a programme answers -------------------------------------------------------


def programme_results_pages(programme: ProgrammePage) -> list[ResultsPage]:
    """The live results pages the programme answers, in every language they exist in, whichever
    translation of the programme names them."""
    named = ProgrammePage.diagnoses.through.objects.filter(
        programmepage__translation_key=programme.translation_key
    ).values("resultspage__translation_key")
    return list(
        ResultsPage.objects.live()
        .filter(translation_key__in=named)
        .select_related("locale", "snapshot__run")
        .order_by("pk")
    )


def programme_answered(programme: ProgrammePage) -> list[tuple[ResultsPage, ConsultationPage]]:
    """(results page, its consultation) for every live results page the programme answers."""
    pages = programme_results_pages(programme)
    parents = {
        consultation.path: consultation
        for consultation in ConsultationPage.objects.filter(
            path__in={page.path[: -page.steplen] for page in pages}
        )
    }
    return [
        (page, parents[page.path[: -page.steplen]])
        for page in pages
        if page.path[: -page.steplen] in parents
    ]


def programme_consultations(programme: ProgrammePage) -> list[ConsultationPage]:
    """The consultations (every language version with a results page the programme answers)."""
    found = {consultation.pk: consultation for _page, consultation in programme_answered(programme)}
    return [found[pk] for pk in sorted(found)]


# --- The lookup ----------------------------------------------------------------------------------


class State:
    PENDING = "pending"  # waiting for review
    COUNTED = "counted"  # approved and in the published diagnosis
    LATER = "later"  # approved after the diagnosis was computed, or outside its dates
    NO_DIAGNOSIS = "no-diagnosis"  # approved, the results are not published yet
    NOT_COUNTED = "not-counted"  # rejected or hidden


@dataclass(frozen=True)
class CommitmentLink:
    title: str
    url: str
    status: str
    progress: int


@dataclass(frozen=True)
class ProblemLink:
    title: str
    url: str
    quoted: bool  # the resident's words are quoted on it
    about: bool  # it is about the concern's category (and area)
    commitments: list[CommitmentLink] = field(default_factory=list)


@dataclass(frozen=True)
class LookupResult:
    """What the page shows of a found concern. For a sensitive concern only `reference`,
    `sensitive`, `state` and the consultation are filled: nothing else is even computed."""

    reference: str
    sensitive: bool
    state: str
    consultation_title: str
    consultation_url: str
    support_text: str = ""  # the consultation's privacy notice (rich text), for support services
    submitted_on: datetime.date | None = None
    reason: str = ""
    category: str = ""
    area: str = ""
    problems: list[ProblemLink] = field(default_factory=list)


def concern_counted(concern: Concern, snapshot: DiagnosisSnapshot | None) -> bool:
    """Whether the snapshot counted the concern: it is approved, within the snapshot's dates, and
    was submitted and approved before the run that made the snapshot started (the engine reads
    the approved concerns then, `diagnosis.engine.approved_concerns`)."""
    if snapshot is None or concern.status != Concern.Status.APPROVED:
        return False
    cutoff = snapshot.run.started_at or snapshot.created_at
    parameters = Parameters(window_from=snapshot.window_from, window_to=snapshot.window_to)
    return (
        approved_concerns(consultation_key=concern.consultation_key, parameters=parameters)
        .filter(pk=concern.pk, submitted_at__lte=cutoff)
        .filter(Q(moderated_at__isnull=True) | Q(moderated_at__lte=cutoff))
        .exists()
    )


def _state(concern: Concern, snapshot: DiagnosisSnapshot | None) -> str:
    if concern.status == Concern.Status.PENDING:
        return State.PENDING
    if concern.status != Concern.Status.APPROVED:
        return State.NOT_COUNTED
    if snapshot is None:
        return State.NO_DIAGNOSIS
    return State.COUNTED if concern_counted(concern, snapshot) else State.LATER


def _in_reader_language(pages: list, locale: Locale):
    """The page in the reader's language, else the first (the oldest: the original)."""
    return next((page for page in pages if page.locale_id == locale.pk), pages[0])


def _commitments_by_problem(*, request, programme: ProgrammePage) -> dict[uuid.UUID, list]:
    """Problem translation key → the programme's live commitments answering it, as links in the
    reader's language with status and progress."""
    originals = programme_commitments(programme)
    if not originals:
        return {}
    titles = localized(originals, Locale.get_active())
    statuses = localized([c.status for c in originals if c.status is not None])
    progress = commitments_progress(originals)
    by_pk = {c.pk: c for c in originals}
    answers: dict[uuid.UUID, list[CommitmentLink]] = {}
    for pk, key in CommitmentPage.problems.through.objects.filter(
        commitmentpage_id__in=by_pk
    ).values_list("commitmentpage_id", "resultsproblem__translation_key"):
        commitment = by_pk[pk]
        page = titles[commitment.translation_key]
        url = page.get_url(request=request)
        status = commitment.status
        links = answers.setdefault(key, [])
        if any(link.url == url for link in links):
            continue  # it names two language versions of the same problem
        links.append(
            CommitmentLink(
                title=page.title,
                url=url,
                status=statuses[status.translation_key].name if status else "",
                progress=progress_display(progress[pk]),
            )
        )
    return answers


def _problems(*, request, programme: ProgrammePage, results: ResultsPage, concern: Concern):
    """The problems of `results` the concern fed: about its category (compared by translation
    key, whatever language it was reported in) in its area or in every area, or quoting it."""
    answers = _commitments_by_problem(request=request, programme=programme)
    base = programme.get_url(request=request)
    fed = []
    for problem in results.problems.all():
        category_keys = {category.translation_key for category in problem.categories.all()}
        area_ids = {area.pk for area in problem.areas.all()}
        about = concern.category_key in category_keys and (
            not area_ids or concern.area_id in area_ids
        )
        quoted = any(
            reference_normalise(block.value["concern"]) == concern.reference
            for block in problem.quotes
        )
        if not (about or quoted):
            continue
        key = problem.translation_key
        fed.append(
            ProblemLink(
                title=problem.title,
                url=base + programme.reverse_subpage("programme_problem", kwargs={"key": key}),
                quoted=quoted,
                about=about,
                commitments=answers.get(key, []),
            )
        )
    return fed


def reference_lookup_result(
    *, request, programme: ProgrammePage, reference: str
) -> LookupResult | None:
    """What the page says of the concern with this (normalised) code, or None when no concern of
    the consultations this programme answers has it."""
    answered = programme_answered(programme)
    keys = {consultation.translation_key for _page, consultation in answered}
    concern = (
        Concern.objects.filter(reference=reference, consultation_key__in=keys)
        .select_related("area")
        .defer("point", "public_point", "description", "photo", "photo_thumbnail", "area__geometry")
        .first()
    )
    if concern is None:
        return None
    locale = Locale.get_active()
    mine = [
        (page, consultation)
        for page, consultation in answered
        if consultation.translation_key == concern.consultation_key
    ]
    consultation = (
        ConsultationPage.objects.live()
        .filter(translation_key=concern.consultation_key, locale=locale)
        .first()
    ) or _in_reader_language(sorted({c for _p, c in mine}, key=lambda c: c.pk), locale)
    results = _in_reader_language([page for page, _c in mine], locale)
    snapshot = results.snapshot
    state = _state(concern, snapshot)
    common = {
        "reference": concern.reference,
        "consultation_title": consultation.title,
        "consultation_url": consultation.get_url(request=request),
    }
    if concern.category_key in sensitive_category_keys():
        # Received and how it counts; nothing that ties the code to a category, an area, a
        # problem or a moderator's words about it.
        return LookupResult(
            sensitive=True,
            state=state,
            support_text=str(consultation.privacy_notice or ""),
            **common,
        )
    category = categories_localized(keys=[concern.category_key]).get(concern.category_key)
    problems = []
    if concern.status == Concern.Status.APPROVED:
        problems = _problems(request=request, programme=programme, results=results, concern=concern)
    return LookupResult(
        sensitive=False,
        state=state,
        submitted_on=timezone.localdate(concern.submitted_at),
        reason=concern.moderation_reason if state == State.NOT_COUNTED else "",
        category=category.name if category else "",
        area=concern.area.name if concern.area else "",
        problems=problems,
        **common,
    )


# --- The view ------------------------------------------------------------------------------------


class ReferenceLookupForm(forms.Form):
    reference = forms.CharField(
        label=_("Your reference code"),
        max_length=20,
        error_messages={"required": _("Type the reference code you were given.")},
    )

    def clean_reference(self) -> str:
        value = reference_normalise(re.sub(r"\s+", "", self.cleaned_data["reference"]))
        if not REFERENCE.fullmatch(value):
            raise forms.ValidationError(
                _("A reference code has eight letters and numbers, like ABCD-2345.")
            )
        return value


def _render(request, page: ProgrammePage, *, status=200, **context) -> TemplateResponse:
    context = {
        "page": page,
        "self": page,
        "page_path": page.get_url(request=request),
        "form": context.pop("form", None) or ReferenceLookupForm(),
        **context,
    }
    response = TemplateResponse(request, TEMPLATE, context, status=status)
    # A looked-up code must not be kept by a shared computer's cache or a proxy.
    response["Cache-Control"] = "private, no-store"
    return response


def reference_lookup(request, page: ProgrammePage):
    """GET shows the form; POST looks the code up (400 for a code that cannot be one, 429 over
    the rate limit). Found or not, the answer is a 200 page: "not found" says the same whether the
    code exists in another consultation or nowhere."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method != "POST":
        return _render(request, page)
    limit = rate_limit_hit(request=request, scope=RATE_SCOPE)
    if not limit.allowed:
        response = _render(
            request,
            page,
            status=429,
            refusal=gettext(
                "You have looked up many codes in a short time. Please wait a while and try again."
            ),
        )
        response["Retry-After"] = str(limit.retry_after)
        return response
    form = ReferenceLookupForm(request.POST)
    if not form.is_valid():
        return _render(request, page, status=400, form=form)
    result = reference_lookup_result(
        request=request, programme=page, reference=form.cleaned_data["reference"]
    )
    return _render(
        request,
        page,
        form=ReferenceLookupForm(),  # the code is not kept in the field
        result=result,
        not_found=result is None,
        looked_up=form.cleaned_data["reference"],
    )
