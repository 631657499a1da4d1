"""The public accountability pages: a programme, one of its areas, one of its problems, and a
commitment, each read as "what we heard → what we'll do → what we did".

Facts (status, progress, money, dates, problems, areas, milestones' dates, indicators' numbers)
come from the original commitments (`cms.commitments.programme_commitments`), so an update made
on the original shows at once in every language; wording (titles, descriptions, milestone and
indicator texts, status names) comes from the reader's language when it has been translated, and
otherwise is shown in the original's language with a `lang` attribute so screen readers switch
voice. Everything a page lists is read in a fixed number of queries, however many commitments the
programme has: a city programme may hold hundreds.

What residents said comes only through `cms.problems.problems_context`: published numbers, already
suppressed below k, and quotes from non-sensitive approved concerns — never a point or a concern.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from wagtail.models import Locale

from diagnosis.models import PreventionType
from maps.models import Area

from .commitment_history import commitment_changes
from .commitments import (
    Budget,
    budget_of,
    commitment_original,
    commitments_progress,
    localized,
    money,
    own_progress,
    programme_commitments,
    progress_display,
)
from .models import (
    CommitmentIndicator,
    CommitmentMilestone,
    CommitmentPage,
    ProgrammePage,
    ResultsProblem,
)
from .problems import PublicProblem, problems_context

# --- What the templates receive --------------------------------------------------------------


@dataclass
class CommitmentItem:
    """A commitment as a card: its wording in the reader's language, its facts from the original.

    `lang` is the original's language code when the wording could not be found in the reader's
    language (empty otherwise), for a `lang` attribute on the title and description."""

    pk: int
    key: str
    title: str
    description: str
    lang: str
    url: str
    agency: str
    status: str
    progress: int
    start_date: date | None
    end_date: date | None
    planned: str
    spent: str
    execution: int | None
    funding_source: str
    prevention: str
    parent_pk: int | None
    weight: Decimal
    problem_keys: list[str]
    area_ids: set[int]
    children: list[CommitmentItem] = field(default_factory=list)


@dataclass
class MilestoneItem:
    """A dated step on a timeline, with the commitment it belongs to."""

    key: str
    date: date
    title: str
    text: str
    lang: str
    commitment: CommitmentItem
    media: list = field(default_factory=list)  # (kind, value) pairs, on the commitment page only
    media_lang: str = ""


@dataclass
class HeardProblem:
    """A diagnosed problem the programme answers, as its results page publishes it."""

    problem: PublicProblem
    lang: str
    url: str  # the programme's page for this problem
    results_title: str
    results_url: str
    area_ids: set[int]


@dataclass
class CommitmentGroup:
    """The commitments answering one problem (or none: `problem` is None)."""

    problem: HeardProblem | None
    commitments: list[CommitmentItem]


@dataclass
class ProgrammeData:
    """Everything the programme's pages show, read once per request."""

    page: ProgrammePage
    original: ProgrammePage
    base_url: str
    items: dict[int, CommitmentItem]
    progress: dict[int, Decimal]
    originals: list[CommitmentPage]
    problems: list[HeardProblem]
    milestones: list[MilestoneItem]
    areas: dict[int, Area]


# --- Reading ---------------------------------------------------------------------------------


def _language_codes() -> dict[int, str]:
    return dict(Locale.objects.values_list("pk", "language_code"))


def programme_original(page: ProgrammePage) -> ProgrammePage:
    """The programme in its first language, whose facts (period, budget, diagnoses) every
    translation shows — the same rule as `commitment_original`."""
    return (
        ProgrammePage.objects.filter(translation_key=page.translation_key).order_by("pk").first()
        or page
    )


def _prevention_label(value: str) -> str:
    return str(PreventionType(value).label) if value in PreventionType.values else ""


def _commitment_items(
    originals: list[CommitmentPage],
    *,
    progress: dict[int, Decimal],
    locale: Locale,
    languages: dict[int, str],
    request,
) -> tuple[dict[int, CommitmentItem], dict[int, CommitmentPage]]:
    """pk → card for every original, and pk → the page in the reader's language."""
    in_language = localized(originals, locale)
    statuses = localized([c.status for c in originals if c.status is not None], locale)
    items = {}
    pages = {}
    for original in originals:
        shown = in_language[original.translation_key]
        pages[original.pk] = shown
        status = statuses[original.status.translation_key].name if original.status else ""
        budget = budget_of([original])
        items[original.pk] = CommitmentItem(
            pk=original.pk,
            key=str(original.translation_key),
            title=shown.title,
            description=shown.description,
            lang="" if shown.locale_id == locale.pk else languages.get(shown.locale_id, ""),
            url=shown.get_url(request) or "",
            agency=original.agency,
            status=status,
            progress=progress_display(progress[original.pk]),
            start_date=original.start_date,
            end_date=original.end_date,
            planned=money(original.budget_planned),
            spent=money(original.budget_spent),
            execution=budget.execution if original.budget_planned is not None else None,
            funding_source=original.funding_source,
            prevention=_prevention_label(original.prevention_type),
            parent_pk=original.parent_commitment_id,
            weight=original.weight,
            problem_keys=[str(p.translation_key) for p in original.problems.all()],
            area_ids={area.pk for area in original.areas.all()},
        )
    _nest(items)
    return items, pages


def _nest(items: dict[int, CommitmentItem]) -> None:
    """Put each part under the commitment it is part of (a loop in the links, which the editor
    refuses but an old spreadsheet may have made, leaves its members unnested)."""
    for item in items.values():
        if item.parent_pk is None:
            continue
        parent = items.get(item.parent_pk)
        if parent is not None and not _is_ancestor(items, item.pk, parent.pk):
            parent.children.append(item)


def _is_ancestor(items: dict[int, CommitmentItem], pk: int, of: int) -> bool:
    seen = set()
    current = items.get(of)
    while current is not None and current.pk not in seen:
        if current.pk == pk:
            return True
        seen.add(current.pk)
        current = items.get(current.parent_pk)
    return False


def _milestone_items(
    originals: list[CommitmentPage],
    *,
    items: dict[int, CommitmentItem],
    pages: dict[int, CommitmentPage],
    locale: Locale,
    languages: dict[int, str],
    with_media: bool = False,
) -> list[MilestoneItem]:
    """The originals' milestones (dates are facts), worded from the reader's language, newest
    first. `originals` must have their `milestones` prefetched."""
    translated_pages = [
        page.pk for pk, page in pages.items() if page.locale_id == locale.pk and page.pk != pk
    ]
    keys = {m.translation_key for c in originals for m in c.milestones.all()}
    queryset = CommitmentMilestone.objects.filter(
        page_id__in=translated_pages, translation_key__in=keys, locale=locale
    )
    if not with_media:
        queryset = queryset.defer("media")
    translated = {m.translation_key: m for m in queryset}
    timeline = []
    for original in originals:
        for milestone in original.milestones.all():
            shown = translated.get(milestone.translation_key, milestone)
            lang = "" if shown.locale_id == locale.pk else languages.get(shown.locale_id, "")
            item = MilestoneItem(
                key=str(milestone.translation_key),
                date=milestone.date,
                title=shown.title,
                text=shown.text,
                lang=lang,
                commitment=items[original.pk],
            )
            if with_media:
                item.media, item.media_lang = _milestone_media(
                    milestone, shown, lang=languages.get(milestone.locale_id, ""), locale=locale
                )
            timeline.append(item)
    timeline.sort(key=lambda m: (m.date, m.commitment.pk, m.key), reverse=True)
    return timeline


def _media_ids(milestone: CommitmentMilestone) -> list[tuple[str, int | None]]:
    return [(block.block_type, getattr(block.value, "pk", None)) for block in milestone.media]


def _milestone_media(
    original: CommitmentMilestone, shown: CommitmentMilestone, *, lang: str, locale: Locale
) -> tuple[list, str]:
    """The photos and documents of a milestone: the original's (a photo added there shows at
    once), with the translation's alt texts and captions when it holds the same files."""
    if shown is not original and _media_ids(shown) == _media_ids(original):
        return [(block.block_type, block.value) for block in shown.media], ""
    media = [(block.block_type, block.value) for block in original.media]
    return media, ("" if original.locale_id == locale.pk else lang)


def _heard_problems(
    original: ProgrammePage, *, page: ProgrammePage, base_url: str, locale, languages, request
) -> list[HeardProblem]:
    """The problems of the diagnoses the programme answers, from each live results page in the
    reader's language (else the one it answers), with their published evidence."""
    diagnoses = list(original.diagnoses.filter(live=True).order_by("pk"))
    heard = []
    for results in localized(diagnoses, locale).values():
        lang = "" if results.locale_id == locale.pk else languages.get(results.locale_id, "")
        area_ids: dict[str, set[int]] = {}
        for key, area_id in ResultsProblem.objects.filter(page=results).values_list(
            "translation_key", "areas"
        ):
            area_ids.setdefault(str(key), set())
            if area_id is not None:
                area_ids[str(key)].add(area_id)
        results_url = results.get_url(request) or ""
        for problem in problems_context(results, request)["problems"]:
            heard.append(
                HeardProblem(
                    problem=problem,
                    lang=lang,
                    url=base_url + page.reverse_subpage("programme_problem", args=[problem.key]),
                    results_title=results.title,
                    results_url=results_url,
                    area_ids=area_ids.get(problem.key, set()),
                )
            )
    return heard


def programme_data(*, page: ProgrammePage, request) -> ProgrammeData:
    """Read a programme's commitments, problems and milestones once, in a fixed number of
    queries (the commitments' relations are prefetched, wording is fetched per language in one
    query per kind)."""
    locale = page.locale
    languages = _language_codes()
    original = programme_original(page) if page.pk else page
    if original.pk == page.pk:
        original = page  # as the editor's preview holds it
    # A programme not saved yet (the editor's preview) has no commitments.
    originals = programme_commitments(page) if page.pk else []
    prefetch_related_objects(
        originals,
        Prefetch("problems", queryset=ResultsProblem.objects.only("pk", "translation_key")),
        Prefetch("areas", queryset=Area.objects.defer("geometry").order_by("name")),
        Prefetch(
            "milestones", queryset=CommitmentMilestone.objects.defer("media").order_by("date")
        ),
    )
    progress = commitments_progress(originals)
    items, pages = _commitment_items(
        originals, progress=progress, locale=locale, languages=languages, request=request
    )
    base_url = page.get_url(request) or ""
    problems = _heard_problems(
        original, page=page, base_url=base_url, locale=locale, languages=languages, request=request
    )
    area_ids = {pk for item in items.values() for pk in item.area_ids} | {
        pk for problem in problems for pk in problem.area_ids
    }
    areas = {
        area.pk: area
        for area in Area.objects.filter(pk__in=area_ids).defer("geometry").order_by("name")
    }
    milestones = _milestone_items(
        originals, items=items, pages=pages, locale=locale, languages=languages
    )
    return ProgrammeData(
        page=page,
        original=original,
        base_url=base_url,
        items=items,
        progress=progress,
        originals=originals,
        problems=problems,
        milestones=milestones,
        areas=areas,
    )


# --- Arranging -------------------------------------------------------------------------------


def _roots(chosen: list[CommitmentItem]) -> list[CommitmentItem]:
    """The chosen commitments that are not shown under another chosen one (parts sit inside
    their parent's card)."""
    below = set().union(*(_descendants(item) for item in chosen))
    return [item for item in chosen if item.pk not in below]


def commitment_groups(
    chosen: list[CommitmentItem], problems: list[HeardProblem]
) -> list[CommitmentGroup]:
    """ "What we'll do": the chosen commitments under each problem they answer, in the problems'
    order, then those answering none of them."""
    groups = []
    answered = set()
    for problem in problems:
        members = [item for item in chosen if problem.problem.key in item.problem_keys]
        answered.update(item.pk for item in members)
        if members:
            groups.append(CommitmentGroup(problem=problem, commitments=_roots(members)))
    others = [item for item in chosen if item.pk not in answered]
    # A part whose parent answers a problem already shows inside the parent's card.
    others = [item for item in others if item.parent_pk is None or item.parent_pk not in answered]
    if others:
        groups.append(CommitmentGroup(problem=None, commitments=_roots(others)))
    return groups


def _status_counts(originals: list[CommitmentPage], items: dict[int, CommitmentItem]) -> list:
    """(status name, count) in the statuses' order, for the programme's header."""
    counts = Counter()
    order = {}
    for original in originals:
        name = items[original.pk].status or _("No status")
        counts[name] += 1
        status = original.status
        order[name] = (status.sort_order, status.pk) if status else (10**6, 0)
    return [(name, counts[name]) for name in sorted(counts, key=order.get)]


def _budget_context(budget: Budget) -> dict:
    return {
        "planned": money(budget.planned),
        "spent": money(budget.spent),
        "execution": budget.execution,
        "unknown": budget.unknown,
    }


def _narrative(
    data: ProgrammeData, *, chosen: list[CommitmentItem], problems: list[HeardProblem]
) -> dict:
    chosen_pks = {item.pk for item in chosen}
    originals = [c for c in data.originals if c.pk in chosen_pks]
    return {
        "heard": problems,
        "groups": commitment_groups(chosen, problems),
        "timeline": [m for m in data.milestones if m.commitment.pk in chosen_pks],
        "budget": _budget_context(budget_of(originals)),
        "status_counts": _status_counts(originals, data.items),
        "commitment_count": len(chosen),
    }


def _links(data: ProgrammeData) -> dict:
    page, base = data.page, data.base_url
    return {
        "programme_url": base,
        "feed_rss": base + page.reverse_subpage("programme_feed", kwargs={"flavour": "rss"}),
        "feed_atom": base + page.reverse_subpage("programme_feed", kwargs={"flavour": "atom"}),
        "lookup_url": base + page.reverse_subpage("programme_lookup"),
        "csv_url": base + page.reverse_subpage("programme_commitments_csv"),
    }


def _area_links(data: ProgrammeData) -> list[dict]:
    return [
        {
            "area": area,
            "url": data.base_url
            + data.page.reverse_subpage("programme_area", kwargs={"area_id": area.pk}),
        }
        for area in data.areas.values()
    ]


def _area_commitments(data: ProgrammeData, area_id: int) -> list[CommitmentItem]:
    """Commitments whose areas include the area, or that answer a problem located there."""
    located = {p.problem.key for p in data.problems if area_id in p.area_ids}
    return [
        item
        for item in data.items.values()
        if area_id in item.area_ids or located.intersection(item.problem_keys)
    ]


def programme_context(*, request, page: ProgrammePage) -> dict:
    """The programme page's context (`ProgrammePage.get_context`)."""
    data = programme_data(page=page, request=request)
    chosen = list(data.items.values())
    return {
        **_narrative(data, chosen=chosen, problems=data.problems),
        **_links(data),
        "programme": data.original,
        "total_budget": money(data.original.total_budget),
        "area_links": _area_links(data),
        "results_pages": _results_pages(data.problems),
    }


def _results_pages(problems: list[HeardProblem]) -> list[dict]:
    seen = {}
    for problem in problems:
        seen.setdefault(
            problem.results_url, {"title": problem.results_title, "url": problem.results_url}
        )
    return list(seen.values())


def _page_response(request, page, template: str, context: dict) -> TemplateResponse:
    return TemplateResponse(
        request, template, {"page": page, "self": page, "request": request, **context}
    )


def programme_area(request, page: ProgrammePage, area_id: int) -> TemplateResponse:
    """One area of the programme: the problems located there with the area's evidence, the
    commitments that reach it and their milestones. 404 for an area the programme does not
    concern."""
    data = programme_data(page=page, request=request)
    area = data.areas.get(area_id)
    if area is None:
        raise Http404(_("This programme does not concern that area."))
    chosen = _area_commitments(data, area_id)
    chosen_keys = {key for item in chosen for key in item.problem_keys}
    problems = [
        _for_area(problem, area)
        for problem in data.problems
        if area_id in problem.area_ids or problem.problem.key in chosen_keys
    ]
    links = _links(data)
    return _page_response(
        request,
        page,
        "cms/programme_area.html",
        {
            **_narrative(data, chosen=chosen, problems=problems),
            **links,
            "area": area,
            "area_feed_rss": data.base_url
            + page.reverse_subpage(
                "programme_area_feed", kwargs={"area_id": area.pk, "flavour": "rss"}
            ),
            "area_feed_atom": data.base_url
            + page.reverse_subpage(
                "programme_area_feed", kwargs={"area_id": area.pk, "flavour": "atom"}
            ),
            "area_links": _area_links(data),
            "results_pages": _results_pages(problems),
        },
    )


def _for_area(heard: HeardProblem, area: Area) -> HeardProblem:
    """The problem with only the evidence counted in `area` (all of it when the problem names no
    area: its numbers are for the whole consultation and say so)."""
    problem = heard.problem
    if not problem.areas:
        return heard
    evidence = [row for row in problem.evidence if row["area"] == area.name]
    return HeardProblem(
        problem=PublicProblem(
            key=problem.key,
            title=problem.title,
            description=problem.description,
            categories=problem.categories,
            areas=problem.areas,
            quotes=problem.quotes,
            evidence=evidence,
        ),
        lang=heard.lang,
        url=heard.url,
        results_title=heard.results_title,
        results_url=heard.results_url,
        area_ids=heard.area_ids,
    )


def programme_problem(request, page: ProgrammePage, key: uuid.UUID) -> TemplateResponse:
    """One diagnosed problem: its evidence and residents' words, the commitments answering it
    and their milestones. 404 for a problem of a diagnosis the programme does not answer."""
    data = programme_data(page=page, request=request)
    heard = next((p for p in data.problems if p.problem.key == str(key)), None)
    if heard is None:
        raise Http404(_("This programme does not answer that problem."))
    chosen = [item for item in data.items.values() if heard.problem.key in item.problem_keys]
    context = _narrative(data, chosen=chosen, problems=[heard])
    return _page_response(
        request,
        page,
        "cms/programme_problem.html",
        {
            **context,
            **_links(data),
            "problem": heard,
            "problem_areas": [
                {"area": area, "url": link["url"]}
                for link in _area_links(data)
                if (area := link["area"]).pk in heard.area_ids
            ],
        },
    )


# --- The commitment page ---------------------------------------------------------------------


@dataclass
class IndicatorRow:
    name: str
    unit: str
    lang: str
    baseline: Decimal | None
    target: Decimal | None
    latest_value: Decimal | None
    latest_date: date | None
    source: str


def _indicators(original: CommitmentPage, page: CommitmentPage, languages) -> list[IndicatorRow]:
    originals = list(original.indicators.all())
    translated = (
        {}
        if page.pk == original.pk
        else {i.translation_key: i for i in CommitmentIndicator.objects.filter(page=page)}
    )
    rows = []
    for indicator in originals:
        shown = translated.get(indicator.translation_key, indicator)
        rows.append(
            IndicatorRow(
                name=shown.name,
                unit=shown.unit,
                lang=""
                if shown.locale_id == page.locale_id
                else languages.get(shown.locale_id, ""),
                baseline=_number(indicator.baseline),
                target=_number(indicator.target),
                latest_value=_number(indicator.latest_value),
                latest_date=indicator.latest_date,
                source=shown.source,
            )
        )
    return rows


def _descendants(item: CommitmentItem) -> set[int]:
    found, stack = set(), list(item.children)
    while stack:
        child = stack.pop()
        if child.pk not in found:
            found.add(child.pk)
            stack.extend(child.children)
    return found


def _number(value: Decimal | None) -> Decimal | None:
    """72.50 → 72.5, 40.00 → 40: indicator values without trailing zeros."""
    if value is None:
        return None
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def _family(original: CommitmentPage, others: list[CommitmentPage]) -> set[int]:
    """The pks of the commitments `original` is part of (up the parent links) and of its parts
    (down them, at every level), among `others`; loops in old links end the walk."""
    parent_of = {c.pk: c.parent_commitment_id for c in others}
    children: dict[int | None, list[int]] = {}
    for pk, parent in parent_of.items():
        children.setdefault(parent, []).append(pk)
    found: set[int] = set()
    current = original.parent_commitment_id
    while current is not None and current in parent_of and current not in found:
        found.add(current)
        current = parent_of[current]
    stack = list(children.get(original.pk, [])) if original.pk else []
    while stack:
        pk = stack.pop()
        if pk not in found and pk != original.pk:
            found.add(pk)
            stack.extend(children.get(pk, []))
    return found


def commitment_context(*, request, page: CommitmentPage) -> dict:
    """The commitment page's context (`CommitmentPage.get_context`): the wording of `page`, the
    facts of its original, its parts' progress, milestones with their photos, and its history."""
    languages = _language_codes()
    locale = page.locale
    original = commitment_original(page)
    if original.pk is None or original.pk == page.pk:
        # The page is the original: use it as it is, so a preview shows its unsaved facts.
        original = page
    programme = page.get_parent().specific
    everyone = [c for c in programme_commitments(programme) if c.pk != original.pk]
    progress = commitments_progress([*everyone, original] if original.pk else everyone)
    if original.pk is None:
        progress[None] = Decimal(own_progress(original))  # a new page has no parts yet
    # Only the commitments above and below this one are shown: read nothing more of the others.
    family = _family(original, everyone)
    originals = [c for c in everyone if c.pk in family]
    # The page's own relations are read as it holds them (in memory, in a preview).
    prefetch_related_objects(
        originals,
        Prefetch("problems", queryset=ResultsProblem.objects.order_by("sort_order")),
        Prefetch("areas", queryset=Area.objects.defer("geometry").order_by("name")),
    )
    originals.append(original)
    items, pages = _commitment_items(
        originals, progress=progress, locale=locale, languages=languages, request=request
    )
    pages[original.pk] = page
    item = items[original.pk]
    item.title, item.description, item.lang = page.title, page.description, ""
    # What has been done on a commitment includes what was done on its parts.
    told = [original, *(c for c in originals if c.pk in _descendants(item))]
    prefetch_related_objects(
        [c for c in told if c is not page],
        Prefetch("milestones", queryset=CommitmentMilestone.objects.order_by("date")),
    )
    milestones = _milestone_items(
        told,
        items=items,
        pages={c.pk: pages[c.pk] for c in told},
        locale=locale,
        languages=languages,
        with_media=True,
    )
    base = programme.get_url(request) or ""
    problems = localized(list(original.problems.all()), locale)
    parent = items.get(original.parent_commitment_id)
    return {
        "commitment": item,
        "facts": original,
        "programme": programme,
        "programme_url": base,
        "parent": parent,
        "parts": item.children,
        "indicators": _indicators(original, page, languages),
        "milestones": milestones,
        "problems": [
            {
                "title": problem.title,
                "lang": ""
                if problem.locale_id == locale.pk
                else languages.get(problem.locale_id, ""),
                "url": base + programme.reverse_subpage("programme_problem", args=[key]),
            }
            for key, problem in problems.items()
        ],
        "areas": [
            {
                "area": area,
                "url": base
                + programme.reverse_subpage("programme_area", kwargs={"area_id": area.pk}),
            }
            for area in sorted(original.areas.all(), key=lambda area: area.name)
        ],
        "history": commitment_changes(original),
    }
