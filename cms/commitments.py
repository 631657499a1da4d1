"""What every accountability page needs to know about commitments: which page holds a
commitment's facts, its progress (own, status default, or the weighted average of its parts),
budget execution, money in the municipality's currency, and the checks an edit must pass.

Plain functions over the models in `cms.models.programmes`, used by the public pages
(`cms.programme_views`), the feeds, the lookup, the spreadsheet import and the feedback.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _
from wagtail.models import Locale as WagtailLocale

from .models import CommitmentPage, ProgrammePage

DEFAULT_CURRENCY = "COP"


# --- Which page holds the facts -------------------------------------------------------------


def commitment_original(page: CommitmentPage) -> CommitmentPage:
    """The commitment in the language it was first written in: the page whose facts (status,
    progress, budget, milestones' dates) the public reads in every language.

    wagtail-localize creates translations after their source, so the original is the oldest
    page with the same translation key.
    """
    original = (
        CommitmentPage.objects.filter(translation_key=page.translation_key)
        .order_by("pk")
        .select_related("status")
        .first()
    )
    return original or page


def programme_commitments(
    programme: ProgrammePage, *, live_only: bool = True
) -> list[CommitmentPage]:
    """The programme's live commitments as originals (facts), whatever language `programme`
    is in: the commitments under every translation of the programme, one per translation key.
    A programme previewed before its first save has none. `live_only=False` adds drafts (the
    spreadsheet export and import work on every commitment)."""
    if programme.pk is None or not programme.path:
        return []
    under = Q()
    for translation in ProgrammePage.objects.filter(translation_key=programme.translation_key):
        under |= Q(path__startswith=translation.path)
    seen = {}
    pages = CommitmentPage.objects.live() if live_only else CommitmentPage.objects.all()
    for page in (
        pages.filter(under, depth=programme.depth + 1).select_related("status").order_by("pk")
    ):
        seen.setdefault(page.translation_key, page)
    return list(seen.values())


def localized(objects: Iterable, locale: WagtailLocale | None = None) -> dict:
    """translation_key → the object in the reader's language (or the object itself when it has
    not been translated), for translatable pages and snippets."""
    objects = list(objects)
    if not objects:
        return {}
    locale = locale or WagtailLocale.get_active()
    model = type(objects[0])
    manager = model.objects.live() if hasattr(model.objects, "live") else model.objects
    found = {
        obj.translation_key: obj
        for obj in manager.filter(
            translation_key__in={obj.translation_key for obj in objects}, locale=locale
        )
    }
    return {obj.translation_key: found.get(obj.translation_key, obj) for obj in objects}


# --- Progress --------------------------------------------------------------------------------


def own_progress(commitment: CommitmentPage) -> int:
    """The commitment's progress as its page records it, else its status's default, else 0."""
    if commitment.progress is not None:
        return commitment.progress
    status = commitment.status
    if status is not None and status.default_progress is not None:
        return status.default_progress
    return 0


def commitments_progress(commitments: Iterable[CommitmentPage]) -> dict[int, Decimal]:
    """pk → progress (0–100) for every commitment given.

    A commitment with parts among `commitments` shows the average of its parts' progress
    weighted by their `weight`, at every level; one without parts shows its own. A loop in the
    parent links (which the editor's form refuses, but a spreadsheet could once have made) is cut
    where it closes, so the computation always ends.
    """
    by_pk = {c.pk: c for c in commitments}
    children: dict[int, list[CommitmentPage]] = {}
    for commitment in by_pk.values():
        # A page previewed before its first save has no pk: it is nobody's parent.
        if commitment.parent_commitment_id is not None and commitment.parent_commitment_id in by_pk:
            children.setdefault(commitment.parent_commitment_id, []).append(commitment)
    result: dict[int, Decimal] = {}

    def compute(pk: int, visiting: frozenset) -> Decimal:
        if pk in result:
            return result[pk]
        parts = [c for c in children.get(pk, []) if c.pk not in visiting]
        total_weight = sum((c.weight for c in parts), Decimal(0))
        if parts and total_weight > 0:
            value = (
                sum(
                    (compute(c.pk, visiting | {pk}) * c.weight for c in parts),
                    Decimal(0),
                )
                / total_weight
            )
        else:
            value = Decimal(own_progress(by_pk[pk]))
        result[pk] = value
        return value

    for pk in by_pk:
        compute(pk, frozenset())
    return result


def progress_display(value: Decimal) -> int:
    """Whole percent, halves rounded up, as residents read it."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- Money -----------------------------------------------------------------------------------


def currency() -> str:
    return getattr(settings, "CONVIVE_CURRENCY", DEFAULT_CURRENCY)


def money(amount: Decimal | None, *, language: str | None = None) -> str:
    """An amount in the municipality's currency (`CONVIVE_CURRENCY`), written the way the
    reader's language writes money: "1.234.567 COP" in Spanish, "COP 1,234,567" in English.
    Cents are shown only when there are some: budgets are mostly whole amounts."""
    if amount is None:
        return ""
    try:
        locale = Locale.parse(to_locale(language or get_language() or settings.LANGUAGE_CODE))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    pattern = None
    if amount == amount.to_integral_value():
        pattern = locale.currency_formats["standard"].pattern.split(";")[0].replace(".00", "")
    return format_currency(
        amount,
        currency(),
        format=pattern,
        locale=locale,
        currency_digits=pattern is None,
        decimal_quantization=pattern is not None,
    )


@dataclass(frozen=True)
class Budget:
    planned: Decimal
    spent: Decimal
    unknown: int  # commitments whose planned budget is not recorded

    @property
    def execution(self) -> int | None:
        """Spent as a whole percent of planned, or None when nothing is planned."""
        if not self.planned:
            return None
        return progress_display(self.spent * 100 / self.planned)


def budget_of(commitments: Iterable[CommitmentPage]) -> Budget:
    """Planned and spent over commitments, counting each amount once: a part's money is part of
    its parent's only when the parent records none of its own."""
    commitments = list(commitments)
    with_parts = {c.parent_commitment_id for c in commitments if c.parent_commitment_id}
    planned = spent = Decimal(0)
    unknown = 0
    for commitment in commitments:
        if commitment.pk in with_parts and commitment.budget_planned is None:
            continue  # its parts carry the money
        if commitment.budget_planned is None:
            unknown += 1
        planned += commitment.budget_planned or 0
        spent += commitment.budget_spent or 0
    return Budget(planned=planned, spent=spent, unknown=unknown)


# --- Editing ---------------------------------------------------------------------------------


def commitment_clean(page: CommitmentPage) -> None:
    """The checks on a commitment's own fields (the form adds those that need its programme)."""
    errors = {}
    if page.start_date and page.end_date and page.end_date < page.start_date:
        errors["end_date"] = _("The commitment cannot end before it starts.")
    if page.parent_commitment_id and page.pk and page.parent_commitment_id == page.pk:
        errors["parent_commitment"] = _("A commitment cannot be part of itself.")
    elif page.pk and page.parent_commitment_id and _creates_loop(page):
        errors["parent_commitment"] = _(
            "That commitment is already part of this one; choose a commitment above it instead."
        )
    if errors:
        raise ValidationError(errors)


def _creates_loop(page: CommitmentPage) -> bool:
    parents = dict(
        CommitmentPage.objects.filter(
            translation_key__in=CommitmentPage.objects.filter(
                path__startswith=page.path[: -page.steplen]
            ).values("translation_key")
        ).values_list("pk", "parent_commitment_id")
    )
    parents[page.pk] = page.parent_commitment_id
    seen = set()
    current = page.parent_commitment_id
    while current is not None and current not in seen:
        if current == page.pk:
            return True
        seen.add(current)
        current = parents.get(current)
    return False
