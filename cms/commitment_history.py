"""A commitment's public change history: what changed and when, read from its published revisions.

Every publish of a Wagtail page writes a log entry pointing at the revision it published; the
difference between two consecutive published revisions is what the public saw change. Drafts
never appear (the public never saw them), and only the facts residents follow are compared —
status, progress, dates, money, who is responsible, milestones and indicators — not SEO fields or
layout. The history is the original page's (`cms.commitments.commitment_original`): facts are
edited there, and a translation's revisions only change wording.

Values are written in the reader's language when read (status names, money, dates), so the same
history reads in every language.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from wagtail.models import PageLogEntry

from .commitments import commitment_original, localized, money
from .models import CommitmentPage, CommitmentStatus

PUBLISH = "wagtail.publish"
UNPUBLISH = "wagtail.unpublish"

# The facts compared between published revisions, in the order a change lists them.
TRACKED = (
    ("title", _("Title")),
    ("status", pgettext_lazy("commitment", "Status")),
    ("progress", pgettext_lazy("commitment", "Progress")),
    ("start_date", _("Start")),
    ("end_date", _("End")),
    ("budget_planned", _("Budget planned")),
    ("budget_spent", _("Budget spent")),
    ("funding_source", _("Funding source")),
    ("agency", _("Responsible agency")),
    ("description", _("Description")),
)


@dataclass(frozen=True)
class ChangeItem:
    field: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    """One publish (or withdrawal) the public could see, with what it changed."""

    at: datetime
    kind: str  # "published" (first time), "changed", "unpublished"
    items: list[ChangeItem]
    revision_id: int | None


def commitment_changes(page: CommitmentPage) -> list[Change]:
    """The public history of a commitment, newest first."""
    original = commitment_original(page)
    entries = publish_entries([original])[original.pk]
    return changes_from_entries(entries, statuses=status_names(entries))


def publish_entries(originals: Iterable[CommitmentPage]) -> dict[int, list[PageLogEntry]]:
    """pk → the publish and unpublish log entries of each original page, oldest first, read in
    one query for all of them (a programme's feed reads the history of every commitment)."""
    by_page: dict[int, list[PageLogEntry]] = {page.pk: [] for page in originals}
    for entry in (
        PageLogEntry.objects.filter(page_id__in=by_page, action__in=(PUBLISH, UNPUBLISH))
        .select_related("revision")
        .order_by("timestamp", "pk")
    ):
        by_page[entry.page_id].append(entry)
    return by_page


def status_names(entries: Iterable[PageLogEntry]) -> dict[str, str]:
    """Status pk (as text) → its name in the reader's language, for the statuses the published
    revisions of `entries` name."""
    return _status_names(
        [e.revision.content for e in entries if e.action == PUBLISH and e.revision]
    )


def changes_from_entries(entries: list[PageLogEntry], *, statuses: dict[str, str]) -> list[Change]:
    """One commitment's history from its log entries (oldest first, `publish_entries`), newest
    first; `statuses` from `status_names`."""
    changes: list[Change] = []
    previous = None
    for entry in entries:
        if entry.action == UNPUBLISH:
            changes.append(
                Change(at=entry.timestamp, kind="unpublished", items=[], revision_id=None)
            )
            continue
        if entry.revision is None:
            continue
        content = entry.revision.content
        if previous is None:
            changes.append(
                Change(
                    at=entry.timestamp, kind="published", items=[], revision_id=entry.revision_id
                )
            )
        else:
            items = _differences(previous, content, statuses=statuses)
            if items:
                changes.append(
                    Change(
                        at=entry.timestamp,
                        kind="changed",
                        items=items,
                        revision_id=entry.revision_id,
                    )
                )
        previous = content
    changes.reverse()
    return changes


def _status_names(contents: list[dict]) -> dict[str, str]:
    ids = {content.get("status") for content in contents} - {None}
    statuses = list(CommitmentStatus.objects.filter(pk__in=ids))
    in_language = localized(statuses)
    return {str(s.pk): in_language[s.translation_key].name for s in statuses}


def _differences(before: dict, after: dict, *, statuses: dict[str, str]) -> list[ChangeItem]:
    items = []
    for field, label in TRACKED:
        old, new = before.get(field), after.get(field)
        if _normalised(old) == _normalised(new):
            continue
        if field == "description":
            items.append(ChangeItem(field, str(label), "", gettext("updated")))
            continue
        items.append(
            ChangeItem(
                field,
                str(label),
                _shown(field, old, statuses=statuses),
                _shown(field, new, statuses=statuses),
            )
        )
    items.extend(_milestone_changes(before, after))
    items.extend(_indicator_changes(before, after))
    return items


def _normalised(value):
    if value in (None, ""):
        return None
    if isinstance(value, (int, float, Decimal)) or _is_number(value):
        return Decimal(str(value))
    return value


def _is_number(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


def _shown(field: str, value, *, statuses: dict[str, str]) -> str:
    if value in (None, ""):
        return "—"
    if field == "status":
        return statuses.get(str(value), "—")
    if field == "progress":
        return f"{value} %"
    if field in ("budget_planned", "budget_spent"):
        return money(Decimal(str(value)))
    if field in ("start_date", "end_date"):
        return _date(value)
    return str(value)


def _date(value) -> str:
    parsed = value if isinstance(value, date) else parse_date(str(value))
    return date_format(parsed) if parsed else str(value)


def _milestone_changes(before: dict, after: dict) -> list[ChangeItem]:
    """Milestones added (the ones residents most want to hear about) and removed, by title."""
    # Keyed by translation key: a new milestone has no pk yet in the revision that adds it.
    old = {m.get("translation_key"): m for m in before.get("milestones", [])}
    new = {m.get("translation_key"): m for m in after.get("milestones", [])}
    items = []
    for key, milestone in new.items():
        if key not in old:
            items.append(
                ChangeItem(
                    "milestone",
                    gettext("Milestone added"),
                    "",
                    f"{_date(milestone.get('date'))}: {milestone.get('title', '')}",
                )
            )
    for key, milestone in old.items():
        if key not in new:
            items.append(
                ChangeItem(
                    "milestone", gettext("Milestone removed"), milestone.get("title", ""), ""
                )
            )
    return items


def _indicator_changes(before: dict, after: dict) -> list[ChangeItem]:
    old = {i.get("translation_key"): i for i in before.get("indicators", [])}
    items = []
    for indicator in after.get("indicators", []):
        previous = old.get(indicator.get("translation_key"), {})
        if _normalised(previous.get("latest_value")) != _normalised(indicator.get("latest_value")):
            items.append(
                ChangeItem(
                    "indicator",
                    indicator.get("name", ""),
                    _value(previous.get("latest_value"), previous.get("unit", "")),
                    _value(indicator.get("latest_value"), indicator.get("unit", "")),
                )
            )
    return items


def _value(value, unit: str) -> str:
    if value in (None, ""):
        return "—"
    number = Decimal(str(value)).normalize()
    text = f"{number:f}"
    return f"{text} {unit}".strip()
