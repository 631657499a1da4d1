"""Accountability: a municipality's programme of commitments answering a published diagnosis,
and what residents say about each commitment.

A `ProgrammePage` lives under the home page and answers one or more results pages. Each of its
commitments is a `CommitmentPage` under it, so every change is a page revision (the public change
history is read from published revisions), agencies can be given edit rights on one programme
through Wagtail's page permissions, and title, description, milestone and indicator texts are
translated with wagtail-localize like any page.

The facts of a commitment (status, progress, budget, dates, problems, areas, milestones' dates,
indicators' values) are the same in every language. They are edited on the original page, the
one in the language the commitment was first written in; translations synchronise them, and the
public pages read them from the original (`cms.commitments.commitment_original`) so a progress
update shows at once in every language, before anyone re-syncs the translations.

Residents' feedback and complaints (`CommitmentFeedback`) always point at the original page, so
they count together whatever language they came in.
"""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Orderable, Page, TranslatableMixin
from wagtail.search import index
from wagtail.snippets.models import register_snippet
from wagtail_localize.fields import SynchronizedField

from diagnosis.models import PreventionType
from maps.codes import new_reference
from maps.models import ModerationStatus

from ..commitment_forms import CommitmentPageForm

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
MONEY = {"max_digits": 16, "decimal_places": 2, "validators": [MinValueValidator(Decimal(0))]}


class CommitmentStatus(TranslatableMixin, models.Model):
    """Where a commitment stands ("Planned", "In progress", "Completed"…): a list each
    municipality can change in Snippets, translated like any snippet.

    A status carries the progress a commitment at that stage has made unless its page says
    otherwise (Decidim's accountability statuses work the same way); a status such as "Delayed"
    may carry none, and then the commitment keeps the progress its page records. `key` names the
    status in spreadsheets (`cms.commitment_csv`) in every language.
    """

    key = models.SlugField(
        _("key"),
        max_length=40,
        help_text=_(
            "A short name for spreadsheets, the same in every language, e.g. “in-progress”."
        ),
    )
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    default_progress = models.PositiveSmallIntegerField(
        _("default progress (%)"),
        null=True,
        blank=True,
        validators=PERCENT,
        help_text=_(
            "The progress of a commitment with this status when its page gives none. Leave "
            "empty for statuses such as “Delayed” that say nothing about progress."
        ),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    panels = [
        FieldPanel("name"),
        FieldPanel("key"),
        FieldPanel("description"),
        FieldPanel("default_progress"),
        FieldPanel("sort_order"),
    ]
    override_translatable_fields = [
        SynchronizedField("key"),
        SynchronizedField("default_progress"),
        SynchronizedField("sort_order"),
    ]

    class Meta(TranslatableMixin.Meta):
        verbose_name = _("commitment status")
        verbose_name_plural = _("commitment statuses")
        ordering = ["sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["key", "locale"], name="commitment_status_key_locale")
        ]

    def __str__(self):
        return self.name


register_snippet(CommitmentStatus)


class ProgrammePage(RoutablePageMixin, Page):
    """A municipality's prevention programme: its commitments in answer to published diagnoses.

    The public page reads "what we heard → what we'll do → what we did" for the whole programme,
    for each area and for each diagnosed problem (`cms.programme_views`), with feeds of its
    updates (`cms.feeds`) and a lookup where a resident's reference code shows which problems and
    commitments their concern fed (`cms.lookup`).
    """

    intro = RichTextField(_("introduction"), blank=True)
    responsible_body = models.CharField(
        _("responsible body"),
        max_length=200,
        help_text=_("Who answers for the programme, e.g. “Alcaldía Local de Chapinero”."),
    )
    period_start = models.DateField(_("starts"), null=True, blank=True)
    period_end = models.DateField(_("ends"), null=True, blank=True)
    total_budget = models.DecimalField(
        _("total budget"),
        null=True,
        blank=True,
        help_text=_("In the municipality's currency."),
        **MONEY,
    )
    diagnoses = ParentalManyToManyField(
        "cms.ResultsPage",
        verbose_name=_("diagnoses it answers"),
        blank=True,
        related_name="programmes",
        help_text=_("The published results pages whose problems this programme responds to."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("responsible_body"),
        FieldRowPanel([FieldPanel("period_start"), FieldPanel("period_end")], heading=_("Period")),
        FieldPanel("total_budget"),
        FieldPanel("diagnoses"),
    ]
    override_translatable_fields = [
        SynchronizedField("responsible_body"),
        SynchronizedField("period_start"),
        SynchronizedField("period_end"),
        SynchronizedField("total_budget"),
        SynchronizedField("diagnoses"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.CommitmentPage"]
    template = "cms/programme_page.html"

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def clean(self):
        super().clean()
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": _("The programme cannot end before it starts.")})

    def get_context(self, request, *args, **kwargs):
        from ..programme_views import programme_context

        context = super().get_context(request, *args, **kwargs)
        context.update(programme_context(request=request, page=self))
        return context

    @path("area/<int:area_id>/", name="programme_area")
    def area_route(self, request, area_id):
        from ..programme_views import programme_area

        return programme_area(request, self, area_id)

    @path("problem/<uuid:key>/", name="programme_problem")
    def problem_route(self, request, key):
        from ..programme_views import programme_problem

        return programme_problem(request, self, key)

    @re_path(r"^feed/(?P<flavour>rss|atom)/$", name="programme_feed")
    def feed_route(self, request, flavour):
        from ..feeds import programme_feed

        return programme_feed(request, self, flavour=flavour)

    @re_path(r"^area/(?P<area_id>\d+)/feed/(?P<flavour>rss|atom)/$", name="programme_area_feed")
    def area_feed_route(self, request, area_id, flavour):
        from ..feeds import programme_feed

        return programme_feed(request, self, flavour=flavour, area_id=int(area_id))

    @path("lookup/", name="programme_lookup")
    def lookup_route(self, request):
        from ..lookup import reference_lookup

        return reference_lookup(request, self)

    @path("commitments/csv/", name="programme_commitments_csv")
    def csv_route(self, request):
        from ..commitment_csv import commitments_csv_response

        return commitments_csv_response(request=request, programme=self)


class CommitmentPage(RoutablePageMixin, Page):
    """One thing the municipality committed to, tied to the problems and areas it answers.

    Its progress is its own (or its status's default, `cms.commitments.commitment_progress`);
    a commitment with sub-commitments shows the weighted average of theirs instead.
    """

    external_id = models.CharField(
        _("external ID"),
        max_length=100,
        blank=True,
        help_text=_(
            "The commitment's identifier in the agency's own spreadsheet. Importing a spreadsheet "
            "updates the commitment with the same ID instead of adding another."
        ),
    )
    description = models.TextField(_("description"), max_length=4000, blank=True)
    problems = ParentalManyToManyField(
        "cms.ResultsProblem",
        verbose_name=_("problems it answers"),
        blank=True,
        related_name="+",
    )
    areas = ParentalManyToManyField(
        "maps.Area", verbose_name=_("areas"), blank=True, related_name="+"
    )
    agency = models.CharField(_("responsible agency"), max_length=200)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(
        _("contact e-mail"),
        blank=True,
        help_text=_("Residents' complaints about this commitment are sent here."),
    )
    contact_phone = models.CharField(_("contact telephone"), max_length=40, blank=True)
    prevention_type = models.CharField(
        _("prevention type"), max_length=20, choices=PreventionType.choices, blank=True
    )
    budget_planned = models.DecimalField(_("budget planned"), null=True, blank=True, **MONEY)
    budget_spent = models.DecimalField(_("budget spent"), null=True, blank=True, **MONEY)
    funding_source = models.CharField(_("funding source"), max_length=200, blank=True)
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    status = models.ForeignKey(
        CommitmentStatus,
        verbose_name=_("status"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"),
        null=True,
        blank=True,
        validators=PERCENT,
        help_text=_(
            "Leave empty to use the status's default. A commitment with sub-commitments shows "
            "their weighted average instead."
        ),
    )
    parent_commitment = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        help_text=_("A larger commitment of the same programme that this one is part of."),
    )
    weight = models.DecimalField(
        _("weight"),
        max_digits=10,
        decimal_places=2,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_(
            "How much this commitment counts in the progress of the one it is part of, e.g. its "
            "share of the budget."
        ),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("description"),
        MultiFieldPanel(
            [
                FieldPanel("problems", widget=forms.CheckboxSelectMultiple),
                FieldPanel("areas", widget=forms.CheckboxSelectMultiple),
                FieldPanel("prevention_type"),
            ],
            heading=_("What it answers"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("agency"),
                FieldRowPanel([FieldPanel("contact_name"), FieldPanel("contact_email")]),
                FieldPanel("contact_phone"),
            ],
            heading=_("Who is responsible"),
        ),
        MultiFieldPanel(
            [
                # Plain selects: a short list, and the choosers' modals would offer statuses of
                # other languages and pages of other programmes.
                FieldRowPanel([FieldPanel("status", widget=forms.Select), FieldPanel("progress")]),
                FieldRowPanel([FieldPanel("start_date"), FieldPanel("end_date")]),
                FieldRowPanel(
                    [FieldPanel("parent_commitment", widget=forms.Select), FieldPanel("weight")]
                ),
            ],
            heading=_("Progress"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("budget_planned"), FieldPanel("budget_spent")]),
                FieldPanel("funding_source"),
            ],
            heading=_("Budget"),
        ),
        InlinePanel("indicators", heading=_("Indicators"), label=_("Indicator")),
        InlinePanel("milestones", heading=_("Milestones"), label=_("Milestone")),
    ]
    promote_panels = [*Page.promote_panels, FieldPanel("external_id")]
    override_translatable_fields = [
        SynchronizedField(name)
        for name in (
            "external_id",
            "problems",
            "areas",
            "agency",
            "contact_name",
            "contact_email",
            "contact_phone",
            "prevention_type",
            "budget_planned",
            "budget_spent",
            "funding_source",
            "start_date",
            "end_date",
            "status",
            "progress",
            "parent_commitment",
            "weight",
        )
    ]
    search_fields = [*Page.search_fields, index.SearchField("description")]
    parent_page_types = ["cms.ProgrammePage"]
    subpage_types = []
    template = "cms/commitment_page.html"
    base_form_class = CommitmentPageForm

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")

    def clean(self):
        from ..commitments import commitment_clean

        super().clean()
        commitment_clean(self)

    def get_context(self, request, *args, **kwargs):
        from ..feedback import feedback_context
        from ..programme_views import commitment_context

        context = super().get_context(request, *args, **kwargs)
        context.update(commitment_context(request=request, page=self))
        context.update(feedback_context(request=request, page=self))
        return context

    @path("feedback/", name="commitment_feedback")
    def feedback_route(self, request):
        from ..feedback import feedback_submit_view

        return feedback_submit_view(request, self)

    @path("complaint/", name="commitment_complaint")
    def complaint_route(self, request):
        from ..feedback import complaint_view

        return complaint_view(request, self)


class CommitmentIndicator(TranslatableMixin, Orderable):
    """How the commitment's effect is measured: a baseline, a target and the latest value.

    The name and unit are translated with the page; the numbers and date are the same everywhere.
    """

    page = ParentalKey(CommitmentPage, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(
        pgettext_lazy("indicator", "name"),
        max_length=200,
        help_text=_("e.g. “Street lights working on Carrera 7”."),
    )
    unit = models.CharField(_("unit"), max_length=40, blank=True, help_text=_("e.g. “%”, “lights”"))
    baseline = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2, null=True)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2, null=True)
    latest_value = models.DecimalField(
        _("latest value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    latest_date = models.DateField(_("measured on"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=200, blank=True, help_text=_("Where the value comes from.")
    )

    panels = [
        FieldPanel("name"),
        FieldRowPanel([FieldPanel("baseline"), FieldPanel("target"), FieldPanel("unit")]),
        FieldRowPanel([FieldPanel("latest_value"), FieldPanel("latest_date")]),
        FieldPanel("source"),
    ]
    override_translatable_fields = [
        SynchronizedField("baseline"),
        SynchronizedField("target"),
        SynchronizedField("latest_value"),
        SynchronizedField("latest_date"),
    ]

    class Meta(TranslatableMixin.Meta, Orderable.Meta):
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.latest_value is not None and self.latest_date is None:
            raise ValidationError({"latest_date": _("Say when the latest value was measured.")})


class CommitmentMilestone(TranslatableMixin, Orderable):
    """A dated step of the commitment, told to residents: what happened, with photos and
    documents (a contract, minutes of a meeting with residents)."""

    page = ParentalKey(CommitmentPage, on_delete=models.CASCADE, related_name="milestones")
    date = models.DateField(_("date"))
    title = models.CharField(pgettext_lazy("milestone", "title"), max_length=200)
    text = models.TextField(_("what happened"), max_length=4000, blank=True)
    media = StreamField(
        [
            ("photo", ImageBlock(label=_("Photo"))),
            ("document", DocumentChooserBlock(label=_("Document"))),
        ],
        verbose_name=_("photos and documents"),
        blank=True,
        help_text=_("Photos are shown resized; make sure no one in them can be recognised."),
    )

    panels = [FieldPanel("date"), FieldPanel("title"), FieldPanel("text"), FieldPanel("media")]
    override_translatable_fields = [SynchronizedField("date")]

    class Meta(TranslatableMixin.Meta, Orderable.Meta):
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")

    def __str__(self):
        return self.title


class CommitmentFeedback(models.Model):
    """A resident's word on a commitment: whether it is happening, with a rating and a comment,
    or a complaint about the authority's action. No account is needed and no address is kept
    (rate-limited like every submission, `maps.ratelimit`). Comments are moderated before the
    public sees them (`maps.moderation`); complaints are sent to the commitment's contact as soon
    as they are stored, and counted publicly (`cms.feedback`)."""

    class Kind(models.TextChoices):
        FEEDBACK = "feedback", _("Feedback")
        COMPLAINT = "complaint", _("Complaint")

    class Happening(models.TextChoices):
        YES = "yes", _("Yes")
        PARTLY = "partly", _("Partly")
        NO = "no", _("No")
        UNKNOWN = "unknown", _("I don't know")

    commitment = models.ForeignKey(
        CommitmentPage,
        verbose_name=_("commitment"),
        on_delete=models.PROTECT,
        related_name="feedback",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    happening = models.CharField(
        _("is it happening?"), max_length=10, choices=Happening.choices, blank=True
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    language = models.CharField(_("language"), max_length=10)
    reference = models.CharField(
        _("reference code"), max_length=9, unique=True, default=new_reference, editable=False
    )
    submitted_at = models.DateTimeField(_("submitted"), db_index=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ModerationStatus.choices,
        default=ModerationStatus.PENDING,
        db_index=True,
    )
    moderation_reason = models.CharField(_("reason"), max_length=500, blank=True)
    moderated_at = models.DateTimeField(_("moderated"), null=True, blank=True)
    forwarded_at = models.DateTimeField(
        _("sent to the contact"),
        null=True,
        blank=True,
        help_text=_("When the complaint was e-mailed to the commitment's contact."),
    )

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("feedback on a commitment")
        verbose_name_plural = _("feedback on commitments")
        ordering = ["-submitted_at"]
        permissions = [("moderate_commitmentfeedback", _("Can moderate feedback on commitments"))]

    def __str__(self):
        return self.reference
