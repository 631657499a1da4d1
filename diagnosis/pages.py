"""Wagtail page types owned by the participation app."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index


class ConsultationPage(RoutablePageMixin, Page):
    """One neighbourhood consultation, translated per locale.

    Residents reach it in their language; each translation is its own page, but concerns are counted
    together through the page's translation key. Its routes (see `diagnosis.views`) serve the
    concern form, the success page and the public map data.
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
    privacy_notice = RichTextField(
        _("privacy notice"),
        blank=True,
        help_text=_("Shown beside the form: who runs the consultation and how data is used."),
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
        FieldPanel("privacy_notice"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = []
    template = "diagnosis/consultation_page.html"

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")

    def get_context(self, request, *args, **kwargs):
        from .api import consultation_page_context

        context = super().get_context(request, *args, **kwargs)
        context.update(consultation_page_context(request=request, page=self))
        return context

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

    @path("map/features/", name="map_features")
    def map_features_route(self, request):
        from .api import public_map_features

        return public_map_features(request, self)

    @path("map/areas/", name="map_areas")
    def map_areas_route(self, request):
        from .api import public_map_areas

        return public_map_areas(request, self)
