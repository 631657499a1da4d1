"""Problems on a results page: the quote block, the checks a problem must pass, the editor's form,
what the public page shows of each problem, and the problems offered on the prioritisation ballot.

A problem is the facilitator's synthesis of the diagnosis ("Dark paths to the school in El
Chico"): categories and areas it is about, the numbers behind it and residents' words. Quotes
come only from approved concerns of the consultation, never from a sensitive category, and never
with an e-mail address or phone number in them (`problem_clean`). The public page shows a quote
as "a resident" said it: the reference code stays in the editor, it would let anyone who knows a
resident's code tie the words to them.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.blocks.stream_block import StreamBlockValidationError
from wagtail.blocks.struct_block import StructBlockValidationError

from diagnosis.models import Concern, ConcernCategory, ConsultationPage
from diagnosis.publication import published_tables
from diagnosis.selectors import categories_localized
from diagnosis.services.prioritisation import BallotProblem, prioritisation_tally
from maps.models import Area


class ReferenceBlock(blocks.FieldBlock):
    """A concern's reference code (XXXX-XXXX): synchronised, never offered for translation
    (a FieldBlock, not a CharBlock, for the same reason as `CodeBlock`)."""

    def __init__(self, required=True, help_text=None, **kwargs):
        self.field = forms.RegexField(
            regex=r"^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$",
            required=required,
            help_text=help_text,
            max_length=9,
            error_messages={"invalid": _("A reference code looks like ABCD-2345.")},
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        return (value or "").strip().upper()

    def get_searchable_content(self, value):
        return []

    class Meta:
        icon = "tag"
        default = ""


class QuoteBlock(blocks.StructBlock):
    """What a resident wrote, as the facilitator edited it to remove anything identifying."""

    concern = ReferenceBlock(
        label=_("Concern's reference code"),
        help_text=_("The approved concern the words come from."),
    )
    text = blocks.TextBlock(
        label=_("Quote"), max_length=400, help_text=_("Shortened and anonymised if needed.")
    )

    class Meta:
        icon = "openquote"
        label = _("Quote")


# --- Checks --------------------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of digits with the separators people write phone numbers with; a phone number when it
# holds 7 digits or more ("300 123 4567", "+57 (1) 234-5678"). House numbers, times and years have
# fewer and stay.
DIGIT_RUN = re.compile(r"\+?\(?\d[\d\s().-]{4,}\d")
PHONE_DIGITS = 7


def reference_normalise(value: str) -> str:
    """ "abcd2345" → "ABCD-2345", the form `Concern.reference` is stored in."""
    value = (value or "").strip().upper()
    return f"{value[:4]}-{value[4:]}" if len(value) == 8 and "-" not in value else value


def text_has_phone(text: str) -> bool:
    return any(
        sum(char.isdigit() for char in match.group()) >= PHONE_DIGITS
        for match in DIGIT_RUN.finditer(text)
    )


def problem_consultation(problem) -> ConsultationPage | None:
    """The consultation a problem belongs to: its results page's parent.

    A results page being created has no place in the tree yet, and a problem just added has no
    page yet; the editor's form (`ResultsPageForm`) leaves the consultation it knows on the
    problem as `consultation_for_problems`.
    """
    known = getattr(problem, "consultation_for_problems", None)
    if known is not None:
        return known
    page = getattr(problem, "page", None)
    if page is None or not page.path:
        return None
    parent = page.get_parent()
    return parent.specific if parent is not None else None


def sensitive_category_keys() -> set[uuid.UUID]:
    # A key is sensitive if any of its rows is (fail closed, as the public map does).
    return set(
        ConcernCategory.objects.filter(sensitive=True).values_list("translation_key", flat=True)
    )


def _quote_errors(
    quotes, *, consultation: ConsultationPage
) -> dict[int, StructBlockValidationError]:
    references = {reference_normalise(block.value["concern"]) for block in quotes}
    concerns = {
        concern.reference: concern
        for concern in Concern.objects.filter(
            reference__in=references, consultation_key=consultation.translation_key
        ).select_related("category")
    }
    sensitive = sensitive_category_keys()
    errors = {}
    for index, block in enumerate(quotes):
        reference = reference_normalise(block.value["concern"])
        text = block.value["text"] or ""
        fields = {}
        concern = concerns.get(reference)
        if concern is None:
            fields["concern"] = ValidationError(
                _("No concern of this consultation has the reference %(reference)s.")
                % {"reference": reference}
            )
        elif concern.status != Concern.Status.APPROVED:
            fields["concern"] = ValidationError(
                _("The concern %(reference)s is not approved: only approved concerns are quoted.")
                % {"reference": reference}
            )
        elif concern.category_key in sensitive:
            fields["concern"] = ValidationError(
                _(
                    "The concern %(reference)s is in a sensitive category (%(category)s): "
                    "its words are never quoted."
                )
                % {"reference": reference, "category": concern.category.name}
            )
        if EMAIL.search(text):
            fields["text"] = ValidationError(
                _("Remove the e-mail address: a quote must not identify anyone.")
            )
        elif text_has_phone(text):
            fields["text"] = ValidationError(
                _("Remove the phone number: a quote must not identify anyone.")
            )
        if fields:
            errors[index] = StructBlockValidationError(block_errors=fields)
    return errors


def problem_clean(problem) -> None:
    """Checks across a problem's fields, as ValidationErrors on the fields they concern.

    Each quote names an approved concern of this consultation (by its translation key, so a
    concern sent from any language version counts) whose category is not sensitive, and its text
    holds no e-mail address or phone number; the categories and areas are the consultation's.
    """
    consultation = problem_consultation(problem)
    if consultation is None:
        return
    errors: dict[str, ValidationError] = {}
    quote_errors = _quote_errors(list(problem.quotes), consultation=consultation)
    if quote_errors:
        errors["quotes"] = StreamBlockValidationError(block_errors=quote_errors)

    allowed_areas = set(consultation.areas.values_list("pk", flat=True))
    outside = [area.name for area in problem.areas.all() if area.pk not in allowed_areas]
    if outside:
        errors["areas"] = ValidationError(
            _("Not an area of this consultation: %(areas)s.") % {"areas": ", ".join(outside)}
        )
    allowed_keys = set(consultation.categories.values_list("translation_key", flat=True))
    foreign = [c.name for c in problem.categories.all() if c.translation_key not in allowed_keys]
    if foreign:
        errors["categories"] = ValidationError(
            _("Not a category of this consultation: %(categories)s.")
            % {"categories": ", ".join(foreign)}
        )
    if errors:
        raise ValidationError(errors)


# --- The page editor -----------------------------------------------------------------------------


def editor_categories(consultation: ConsultationPage, *, locale) -> dict[uuid.UUID, int]:
    """The consultation's categories to offer, one row id per translation key: the row in the
    results page's language when there is one, else the row the consultation names."""
    linked = list(consultation.categories.all())
    keys = {category.translation_key for category in linked}
    in_locale = dict(
        ConcernCategory.objects.filter(translation_key__in=keys, locale=locale).values_list(
            "translation_key", "pk"
        )
    )
    chosen = {category.translation_key: category.pk for category in linked}
    chosen.update(in_locale)
    return chosen


def _problem_form_class(base, *, consultation: ConsultationPage, locale, evidence_url: str):
    """The problems' child form, limited to this consultation: its categories and areas as
    checkbox lists, and a link to the evidence page beside the quotes."""
    offered = editor_categories(consultation, locale=locale)
    area_ids = list(consultation.areas.values_list("pk", flat=True))

    class ProblemForm(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # A problem keeps the rows it has (categories are synchronised across translations,
            # so a translated page's problem may hold the source language's row).
            category_ids = {
                **offered,
                **{
                    category.translation_key: category.pk
                    for category in self.instance.categories.all()
                    if category.translation_key in offered
                },
            }
            choices = {
                "categories": ConcernCategory.objects.filter(pk__in=category_ids.values()),
                "areas": Area.objects.filter(pk__in=area_ids).defer("geometry").order_by("name"),
            }
            for name, queryset in choices.items():
                if name in self.fields:
                    formfield = self.fields[name]
                    formfield.queryset = queryset
                    formfield.widget = forms.CheckboxSelectMultiple()
                    formfield.widget.choices = formfield.choices
            if "quotes" in self.fields:
                self.fields["quotes"].help_text = format_html(
                    '{} <a href="{}" target="_blank" rel="noopener">{}</a>',
                    self.fields["quotes"].help_text,
                    evidence_url,
                    _("Quotes you can use and the numbers of the diagnosis (opens in a new tab)"),
                )

        def _post_clean(self):
            # Model validation (`problem_clean`) reads the chosen categories and areas from the
            # instance; a cluster relation takes them in memory, without touching the database.
            for name in ("categories", "areas"):
                if name in self.cleaned_data:
                    getattr(self.instance, name).set(self.cleaned_data[name])
            self.instance.consultation_for_problems = consultation
            super()._post_clean()

    ProblemForm.__name__ = base.__name__
    return ProblemForm


class ResultsPageForm(WagtailAdminPageForm):
    """The results page's editor form (`ResultsPage.base_form_class`): ties each problem's form to
    the consultation the page lives under."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        consultation = self.parent_page
        if consultation is None and self.instance.path:
            consultation = self.instance.get_parent()
        if consultation is None:
            return
        consultation = consultation.specific
        if not isinstance(consultation, ConsultationPage):
            return
        formset = self.formsets.get("problems")
        if formset is None:
            return
        evidence_url = reverse("problems:evidence", args=[consultation.pk])
        if self.instance.snapshot_id:
            evidence_url += f"?snapshot={self.instance.snapshot_id}"
        # The formset builds its forms lazily, from `form`: none exist yet, so all of them
        # (the empty one the editor copies for "Add problem" too) get the limited class.
        formset.__dict__.pop("forms", None)
        formset.form = _problem_form_class(
            formset.form,
            consultation=consultation,
            locale=self.instance.locale if self.instance.locale_id else consultation.locale,
            evidence_url=evidence_url,
        )


# --- The public page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicProblem:
    key: str
    title: str
    description: str
    categories: list[str]
    areas: list[str]
    quotes: list[str]
    evidence: list[dict]  # {"category", "area", "count"}: published numbers only, as text


EVIDENCE_SECONDS = 300
EVIDENCE_TABLES = ("concerns_by_category", "concerns_by_area_category")


def published_counts(page, needed: set[tuple]) -> dict[tuple, str]:
    """The snapshot's published concern counts as text, by (category key, area id or None):
    a number, or "fewer than k" — only what `diagnosis.publication` lets the public see.

    Only the `needed` keys are kept, and cached briefly per snapshot, language and keys: a
    snapshot never changes, but a category's name or sensitivity may. Keeping the few counts a
    page's problems cite (not the whole area × category table) keeps a warm page cheap.
    """
    if page.snapshot_id is None or not needed:
        return {}
    language = page.locale.language_code
    digest = hashlib.sha256(repr(sorted(needed, key=repr)).encode()).hexdigest()[:16]
    key = f"convive:problems:counts:{page.snapshot_id}:{language}:{digest}"
    counts = cache.get(key)
    if counts is None:
        with translation.override(language):
            publication = published_tables(page.snapshot, language=language)
            counts = {
                (row.category_key, row.area_id if table == "concerns_by_area_category" else None): (
                    gettext("fewer than %(k)s") % {"k": publication.k}
                    if row.count is None
                    else number_format(row.count, force_grouping=True)
                )
                for table in EVIDENCE_TABLES
                for row in publication.rows(table)
                if (
                    row.category_key,
                    row.area_id if table == "concerns_by_area_category" else None,
                )
                in needed
            }
        cache.set(key, counts, EVIDENCE_SECONDS)
    return counts


def _evidence(counts: dict, *, categories: dict, areas: list) -> list[dict]:
    """A problem's published numbers: per category in each of its areas, or per category in
    all areas when it names none. Published cells as they are, never added up: a sum of
    suppressed cells could give them away."""
    rows = []
    for key, name in categories.items():
        places = [(area.pk, area.name) for area in areas] or [(None, "")]
        for area_id, area_name in places:
            text = counts.get((key, area_id))
            if text is not None:
                rows.append({"category": name, "area": area_name, "count": text})
    return rows


def problems_context(page, request) -> dict:
    """What `cms/includes/results_problems.html` needs: the page's problems as the public sees
    them, and the prioritisation tally once voting has closed (None before).

    Reads the relations as the page holds them, so a preview of unsaved problems works too (a
    page has a handful of problems: no prefetching needed).
    """
    problems = list(page.problems.all())
    keys = {category.translation_key for p in problems for category in p.categories.all()}
    localized = categories_localized(keys=keys)
    needed = {
        (category.translation_key, area_id)
        for problem in problems
        for category in problem.categories.all()
        for area_id in ([area.pk for area in problem.areas.all()] or [None])
    }
    counts = published_counts(page, needed)
    public = []
    for problem in problems:
        category_names = {
            category.translation_key: localized.get(category.translation_key, category).name
            for category in problem.categories.all()
        }
        areas = sorted(problem.areas.all(), key=lambda area: area.name)
        public.append(
            PublicProblem(
                key=str(problem.translation_key),
                title=problem.title,
                description=problem.description,
                categories=list(category_names.values()),
                areas=[area.name for area in areas],
                quotes=[block.value["text"] for block in problem.quotes if block.value["text"]],
                evidence=_evidence(counts, categories=category_names, areas=areas),
            )
        )
    consultation = page.get_parent().specific
    tally = None
    if isinstance(consultation, ConsultationPage):
        tally = prioritisation_tally(
            page=consultation,
            problems=[BallotProblem(key=p.key, title=p.title) for p in public],
        )
    return {"problems": public, "prioritisation_tally": tally}


# --- The prioritisation ballot ---------------------------------------------------------------


def ballot_problems_for(consultation: ConsultationPage) -> list[BallotProblem] | None:
    """The problems of the consultation's published results page, in the page's language; the
    results page of another translation (the default language first) when this one has none.
    Registered under `diagnosis.services.prioritisation.PROBLEMS_HOOK` in `cms/wagtail_hooks.py`."""
    from .models import ResultsPage

    results = ResultsPage.objects.live().child_of(consultation).first()
    if results is None:
        translations = sorted(
            consultation.get_translations().select_related("locale"),
            key=lambda page: page.locale.language_code != settings.LANGUAGE_CODE,
        )
        for translation in translations:
            results = ResultsPage.objects.live().child_of(translation).first()
            if results is not None:
                break
    if results is None:
        return None
    return [
        BallotProblem(
            key=str(problem.translation_key), title=problem.title, description=problem.description
        )
        for problem in results.problems.all()
    ]
