"""Wagtail page types owned by the participation app."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
)
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index
from wagtail_localize.fields import SynchronizedField

from .questionnaire_blocks import QuestionnaireBlock


class ConsultationPage(RoutablePageMixin, Page):
    """One neighbourhood consultation, translated per locale.

    Residents reach it in their language; each translation is its own page, but concerns are counted
    together through the page's translation key. Its routes (see `diagnosis.views`) serve the
    concern form, the success page and the public map data; `questionnaire/` serves its survey
    (`diagnosis.questionnaire_views`).
    """

    class Phase(models.TextChoices):
        PREPARATION = "preparation", _("In preparation")
        LISTENING = "listening", _("Listening: residents report concerns")
        DIAGNOSIS = "diagnosis", _("Diagnosis in progress")
        PRIORITISATION = "prioritisation", _("Prioritisation")
        RESULTS = "results", _("Results published")
        CLOSED = "closed", _("Closed")

    intro = RichTextField(_("introduction"), blank=True)
    opens_at = models.DateTimeField(_("opens"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    phase = models.CharField(
        _("phase"), max_length=20, choices=Phase.choices, default=Phase.PREPARATION
    )
    areas = ParentalManyToManyField(
        "maps.Area",
        verbose_name=_("areas"),
        blank=True,
        related_name="consultations",
        help_text=_("Residents can place concerns inside these areas only."),
    )
    categories = ParentalManyToManyField(
        "diagnosis.ConcernCategory",
        verbose_name=_("concern categories"),
        blank=True,
        related_name="+",
        help_text=_("The categories residents can choose from (any language version)."),
    )
    walks = ParentalManyToManyField(
        "maps.SafetyWalk",
        verbose_name=_("safety walks"),
        blank=True,
        # No reverse accessor: maps knows nothing of consultations.
        related_name="+",
        help_text=_(
            "Safety walks made for this consultation. The page lists those whose report is "
            "published."
        ),
    )
    previous_round = models.ForeignKey(
        "self",
        verbose_name=_("previous round"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            "An earlier consultation in the same areas. The diagnosis compares its results with "
            "the ones that consultation published."
        ),
    )
    prioritisation_points = models.PositiveSmallIntegerField(
        _("points each resident distributes"),
        default=10,
        help_text=_(
            "In the prioritisation phase, residents share these points among the problems."
        ),
    )
    prioritisation_closes_at = models.DateTimeField(
        _("prioritisation closes"),
        null=True,
        blank=True,
        help_text=_(
            "Residents can give points until then (and while the phase is Prioritisation); the "
            "tally is shown once it has closed."
        ),
    )
    privacy_notice = RichTextField(
        _("privacy notice"),
        blank=True,
        help_text=_("Shown beside the form: who runs the consultation and how data is used."),
    )
    # Survey questions (docs/questionnaires.md). Answers are stored by block id and question code
    # against a version of the questionnaire's structure, so editing it while residents answer
    # never changes what earlier answers meant.
    questionnaire = StreamField(
        QuestionnaireBlock(),
        verbose_name=_("questionnaire"),
        blank=True,
        help_text=_(
            "Questions residents answer in their language. Codes and choice values stay the same "
            "in every translation; only the texts are translated."
        ),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        MultiFieldPanel(
            [
                FieldPanel("phase"),
                FieldRowPanel([FieldPanel("opens_at"), FieldPanel("closes_at")]),
            ],
            heading=_("Dates and phase"),
        ),
        FieldPanel("areas"),
        FieldPanel("categories"),
        FieldPanel("walks"),
        FieldPanel("previous_round"),
        MultiFieldPanel(
            [FieldPanel("prioritisation_points"), FieldPanel("prioritisation_closes_at")],
            heading=_("Prioritisation"),
        ),
        FieldPanel("privacy_notice"),
    ]
    questionnaire_panels = [FieldPanel("questionnaire")]
    edit_handler = TabbedInterface(
        [
            ObjectList(content_panels, heading=_("Content")),
            ObjectList(questionnaire_panels, heading=_("Questionnaire")),
            ObjectList(Page.promote_panels, heading=_("Promote")),
            ObjectList(Page.settings_panels, heading=_("Settings")),
        ]
    )
    # wagtail-localize skips many-to-many fields unless told; the walks are the same in every
    # language, so a translation takes them from its source when it is synchronised.
    override_translatable_fields = [SynchronizedField("walks")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    # Its results page lives under it (the publication layer's page type, named by string so this
    # layer does not import it).
    subpage_types = ["cms.ResultsPage"]
    template = "diagnosis/consultation_page.html"

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")

    def get_context(self, request, *args, **kwargs):
        from .api import consultation_page_context
        from .prioritisation_views import prioritisation_page_context

        context = super().get_context(request, *args, **kwargs)
        context.update(consultation_page_context(request=request, page=self))
        context["walk_reports"] = self.published_walks()
        context.update(prioritisation_page_context(request=request, page=self))
        return context

    def published_walks(self):
        """The linked safety walks whose report is public, newest first."""
        from maps.walk_report import walks_published

        # The page may be a preview with unsaved choices: ask the relation, not the table.
        return walks_published().filter(pk__in=[walk.pk for walk in self.walks.all()])

    @property
    def accepts_concerns(self) -> bool:
        """Residents can report while the consultation is listening and inside its dates."""
        now = timezone.now()
        if self.phase != self.Phase.LISTENING:
            return False
        if self.opens_at and now < self.opens_at:
            return False
        return not (self.closes_at and now > self.closes_at)

    # --- Routes: thin wrappers; the work is in diagnosis.views (HTML) and diagnosis.api (data). ---
    # Wagtail only serves paths of words ending in "/", hence map/features/ rather than a .geojson
    # suffix; the responses say application/geo+json.

    @path("report/", name="concern_form")
    def concern_form_route(self, request):
        from .views import concern_form

        return concern_form(request, self)

    @path("report/thanks/", name="concern_success")
    def concern_success_route(self, request):
        from .views import concern_success

        return concern_success(request, self)

    @path("questionnaire/", name="questionnaire")
    def questionnaire_route(self, request):
        from .questionnaire_views import questionnaire_form

        return questionnaire_form(request, self)

    @path("questionnaire/thanks/", name="questionnaire_thanks")
    def questionnaire_thanks_route(self, request):
        from .questionnaire_views import questionnaire_thanks

        return questionnaire_thanks(request, self)

    @path("prioritise/", name="prioritise")
    def prioritise_route(self, request):
        from .prioritisation_views import prioritisation_form

        return prioritisation_form(request, self)

    @path("map/features/", name="map_features")
    def map_features_route(self, request):
        from .api import public_map_features

        return public_map_features(request, self)

    @path("map/areas/", name="map_areas")
    def map_areas_route(self, request):
        from .api import public_map_areas

        return public_map_areas(request, self)
