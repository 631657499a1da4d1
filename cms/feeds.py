"""Atom and RSS feeds of a programme's updates, for the whole programme and for one area.

Residents, journalists and community organisations follow a programme in a feed reader instead of
coming back to the page: every dated milestone of a live commitment is an item ("Street lights in
El Chico: contract signed"), and so is every public change of a commitment — first published, or
its status, progress, budget, dates or indicators changed — with the same wording as the
commitment's change history (`cms.commitment_history`), which it reads from published revisions
only, so drafts never reach a feed.

Text is in the language of the URL (titles from the translated pages, `cms.commitments.localized`;
facts and dates from the originals). Each item's id is a tag URI built from what identifies it
for good — the commitment's and the milestone's translation keys, the published revision — never
its title or date, so correcting a typo updates an entry instead of making readers show it twice.
The whole feed is read in a fixed number of queries whatever the number of commitments.
"""

import datetime
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.http.request import split_domain_port
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape, linebreaks
from django.utils.text import Truncator
from django.utils.translation import gettext
from wagtail.models import Locale

from maps.models import Area

from .commitment_history import (
    PUBLISH,
    changes_from_entries,
    publish_entries,
    status_names,
)
from .commitments import localized, programme_commitments
from .lookup import programme_results_pages
from .models import CommitmentMilestone, CommitmentPage, ProgrammePage, ResultsProblem

FEED_TYPES = {"rss": Rss201rev2Feed, "atom": Atom1Feed}
MAX_ITEMS = 50
DESCRIPTION_CHARS = 300


def milestone_anchor(milestone) -> str:
    """The id of a milestone on its commitment's page (the feed links to it): its translation
    key, the same in every language and for good."""
    return f"milestone-{milestone.translation_key}"


@dataclass(frozen=True)
class FeedItem:
    guid: str
    title: str
    link: str
    description: str  # HTML
    pubdate: datetime.datetime
    updateddate: datetime.datetime


@dataclass(frozen=True)
class ProgrammeFeedContent:
    title: str
    subtitle: str
    link: str
    guid: str
    items: list[FeedItem]


# --- What the feed carries --------------------------------------------------------------------


def programme_area_ids(programme: ProgrammePage, commitments: list[CommitmentPage]) -> set[int]:
    """The areas a programme concerns — those its commitments name and those of the problems on
    the diagnoses it answers — the same areas the programme page lists (`cms.programme_views`)."""
    area_ids = set(
        CommitmentPage.areas.through.objects.filter(
            commitmentpage_id__in=[c.pk for c in commitments]
        ).values_list("area_id", flat=True)
    )
    area_ids.update(
        ResultsProblem.areas.through.objects.filter(
            resultsproblem__page__in=programme_results_pages(programme)
        ).values_list("area_id", flat=True)
    )
    return area_ids


def commitments_in_area(commitments: list[CommitmentPage], area: Area) -> list[CommitmentPage]:
    """The commitments whose areas include `area`, or that answer a problem in it."""
    pks = [c.pk for c in commitments]
    direct = CommitmentPage.areas.through.objects.filter(
        commitmentpage_id__in=pks, area_id=area.pk
    ).values_list("commitmentpage_id", flat=True)
    through_problems = CommitmentPage.problems.through.objects.filter(
        commitmentpage_id__in=pks, resultsproblem__areas=area.pk
    ).values_list("commitmentpage_id", flat=True)
    keep = set(direct) | set(through_problems)
    return [c for c in commitments if c.pk in keep]


def _day(value: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))


def _milestone_changed_at(entries) -> dict:
    """Milestone translation key → when a published revision last changed its date, title or
    text: the entry's `updated`, so a reader shows a corrected milestone as updated."""
    changed = {}
    seen = {}
    for entry in entries:
        if entry.action != PUBLISH or entry.revision is None:
            continue
        for milestone in entry.revision.content.get("milestones", []):
            key = milestone.get("translation_key")
            facts = (milestone.get("date"), milestone.get("title"), milestone.get("text"))
            if seen.get(key) != facts:
                seen[key] = facts
                changed[key] = entry.timestamp
    return changed


def _summary(items) -> str:
    return " · ".join(
        f"{item.label}: {item.after}"
        if not item.before
        else f"{item.label}: {item.before} → {item.after}"
        for item in items
    )


def _milestone_items(commitment, *, page, milestones, wording, entries, link, tag):
    """The feed items of one commitment's milestones: dates from the original, wording from
    `page` (the commitment in the reader's language)."""
    changed_at = _milestone_changed_at(entries)
    fallback = commitment.last_published_at or timezone.now()
    for milestone in milestones:
        text = wording.get((page.pk, milestone.translation_key), milestone)
        yield FeedItem(
            guid=f"{tag}:commitment/{commitment.translation_key}"
            f"/milestone/{milestone.translation_key}",
            title=f"{page.title}: {text.title}",
            link=f"{link}#{milestone_anchor(milestone)}",
            description=linebreaks(text.text, autoescape=True) if text.text else "",
            pubdate=_day(milestone.date),
            updateddate=changed_at.get(str(milestone.translation_key), fallback),
        )


def _change_items(commitment, *, page, changes, link, tag):
    """The feed items of one commitment's public changes: its first publication and each
    publish that changed a fact (milestones added are items of their own)."""
    for change in changes:
        if change.kind == "published":
            headline = gettext("New commitment")
            about = Truncator(page.description).chars(DESCRIPTION_CHARS)
        elif change.kind == "changed":
            facts = [item for item in change.items if item.field != "milestone"]
            if not facts:
                continue
            headline = about = _summary(facts)
        else:
            continue  # a withdrawal: the commitment is live again, or not in the feed at all
        yield FeedItem(
            guid=f"{tag}:commitment/{commitment.translation_key}/revision/{change.revision_id}",
            title=f"{page.title}: {headline}",
            link=link,
            description=escape(about),
            pubdate=change.at,
            updateddate=change.at,
        )


def programme_feed_items(*, request, commitments: list[CommitmentPage], tag: str) -> list[FeedItem]:
    """The newest `MAX_ITEMS` milestones and public changes of `commitments` (originals), in the
    active language."""
    if not commitments:
        return []
    in_language = localized(commitments, Locale.get_active())
    milestones: dict[int, list[CommitmentMilestone]] = {}
    wording = {}
    for milestone in CommitmentMilestone.objects.filter(
        page__in={c.pk for c in commitments} | {p.pk for p in in_language.values()}
    ).defer("media"):
        milestones.setdefault(milestone.page_id, []).append(milestone)
        wording[(milestone.page_id, milestone.translation_key)] = milestone
    entries = publish_entries(commitments)
    statuses = status_names(e for page_entries in entries.values() for e in page_entries)

    items: list[FeedItem] = []
    for commitment in commitments:
        page = in_language[commitment.translation_key]
        link = page.get_url(request=request)
        items.extend(
            _milestone_items(
                commitment,
                page=page,
                milestones=milestones.get(commitment.pk, []),
                wording=wording,
                entries=entries[commitment.pk],
                link=link,
                tag=tag,
            )
        )
        changes = changes_from_entries(entries[commitment.pk], statuses=statuses)
        items.extend(_change_items(commitment, page=page, changes=changes, link=link, tag=tag))
    items.sort(key=lambda item: (item.pubdate, item.guid), reverse=True)
    return items[:MAX_ITEMS]


def _tag(request, programme: ProgrammePage) -> str:
    """The stable part of every id in the programme's feeds (RFC 4151 tag URI): the site's
    host and the day the programme was first published, then the programme's translation key."""
    host = split_domain_port(request.get_host())[0] or "localhost"
    since = (programme.first_published_at or timezone.now()).date().isoformat()
    return f"tag:{host},{since}:convive/programme/{programme.translation_key}"


def programme_feed_content(
    *, request, programme: ProgrammePage, area_id: int | None = None
) -> ProgrammeFeedContent:
    """The feed of a live programme (or of one of its areas); Http404 for a draft programme or
    an area the programme does not concern."""
    if not programme.live:
        raise Http404
    commitments = programme_commitments(programme)
    tag = _tag(request, programme)
    link = programme.get_url(request=request)
    title = gettext("%(programme)s: updates") % {"programme": programme.title}
    if area_id is not None:
        area = Area.objects.filter(pk=area_id).defer("geometry").first()
        if area is None or area.pk not in programme_area_ids(programme, commitments):
            raise Http404
        commitments = commitments_in_area(commitments, area)
        link += programme.reverse_subpage("programme_area", kwargs={"area_id": area.pk})
        tag += f"/area/{area.pk}"
        title = gettext("%(programme)s in %(area)s: updates") % {
            "programme": programme.title,
            "area": area.name,
        }
    return ProgrammeFeedContent(
        title=title,
        subtitle=gettext(
            "Milestones and changes of the commitments of %(body)s, from the published pages."
        )
        % {"body": programme.responsible_body},
        link=link,
        guid=tag,
        items=programme_feed_items(request=request, commitments=commitments, tag=tag),
    )


# --- The feed --------------------------------------------------------------------------------


class ProgrammeFeed(Feed):
    """Django's syndication view over `ProgrammeFeedContent` (RSS 2.0 or Atom 1.0)."""

    def __init__(self, flavour: str):
        self.feed_type = FEED_TYPES[flavour]

    def get_object(self, request, page, area_id=None):
        return programme_feed_content(request=request, programme=page, area_id=area_id)

    def title(self, obj):
        return obj.title

    def subtitle(self, obj):
        return obj.subtitle

    def description(self, obj):  # RSS's name for the subtitle
        return obj.subtitle

    def link(self, obj):
        return obj.link

    def feed_guid(self, obj):
        return obj.guid

    def items(self, obj):
        return obj.items

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.description

    def item_link(self, item):
        return item.link

    def item_guid(self, item):
        return item.guid

    def item_guid_is_permalink(self, item):
        return False

    def item_pubdate(self, item):
        return item.pubdate

    def item_updateddate(self, item):
        return item.updateddate


def programme_feed(request, page: ProgrammePage, *, flavour: str, area_id: int | None = None):
    """`feed/<rss|atom>/` and `area/<id>/feed/<rss|atom>/` of a programme page."""
    if flavour not in FEED_TYPES:
        raise Http404
    response = ProgrammeFeed(flavour)(request, page, area_id=area_id)
    response["Cache-Control"] = "public, max-age=300"
    return response
