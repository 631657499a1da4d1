"""Site pages: the home page that lists consultations, and the results page of a diagnosis."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, TranslatableMixin
from wagtail_localize.fields import SynchronizedField

from diagnosis.pages import ConsultationPage

from ..problems import QuoteBlock, ResultsPageForm


class HomePage(Page):
    """The site root in each language: what Convive is, the consultations open now, and the
    programmes of commitments answering their diagnoses."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["diagnosis.ConsultationPage", "cms.ProgrammePage"]
    max_count_per_parent = 1
    template = "cms/home_page.html"

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        from .programmes import ProgrammePage

        context = super().get_context(request, *args, **kwargs)
        context["consultations"], context["consultations_elsewhere"] = _listed(
            ConsultationPage, home=self
        )
        context["programmes"], context["programmes_elsewhere"] = _listed(ProgrammePage, home=self)
        return context


def _listed(model, *, home: HomePage) -> tuple[list, list]:
    """The live pages of `model` under this home page, newest first, and those not translated
    into its language, in the language they exist in: a resident reading in a language a
    consultation or programme has not been translated into should still find it."""
    here = list(model.objects.live().child_of(home).specific().order_by("-first_published_at"))
    translated = {page.translation_key for page in here}
    elsewhere = {}
    for page in (
        model.objects.live()
        .exclude(translation_key__in=translated)
        .select_related("locale")
        .order_by("-first_published_at")
    ):
        elsewhere.setdefault(page.translation_key, page)
    return here, list(elsewhere.values())


class ResultsPage(RoutablePageMixin, Page):
    """The published diagnosis of a consultation: one snapshot, rendered for residents and press.

    It lives under its consultation and shows the snapshot's numbers after small-number
    suppression (`diagnosis.publication`), the problems the facilitator named from them (with
    quotes), the prioritisation tally and method notes, with downloads of the same numbers. The
    snapshot is chosen when the page is prepared from the diagnosis admin and is the same in every
    language; publishing the page publishes the snapshot (`cms.results.results_published`).
    """

    intro = RichTextField(_("introduction"), blank=True)
    snapshot = models.ForeignKey(
        "diagnosis.DiagnosisSnapshot",
        verbose_name=_("diagnosis snapshot"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The diagnosis whose numbers this page shows."),
    )
    method_notes = RichTextField(
        _("notes on the method"),
        blank=True,
        help_text=_(
            "Anything residents should know beyond the notes generated from the diagnosis "
            "(how people were invited, what happened during the consultation)."
        ),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("snapshot", read_only=True),
        InlinePanel("problems", heading=_("Problems"), label=_("Problem")),
        FieldPanel("method_notes"),
    ]
    override_translatable_fields = [SynchronizedField("snapshot")]
    base_form_class = ResultsPageForm
    parent_page_types = ["diagnosis.ConsultationPage"]
    subpage_types = []
    max_count_per_parent = 1
    template = "cms/results_page.html"

    class Meta:
        verbose_name = _("results page")
        verbose_name_plural = _("results pages")

    def get_context(self, request, *args, **kwargs):
        from ..results import results_context

        context = super().get_context(request, *args, **kwargs)
        context.update(results_context(request=request, page=self))
        # Outside the cached sections: a programme published later shows at once.
        context["programmes"] = self.answering_programmes()
        return context

    def answering_programmes(self) -> list:
        """The live programmes answering this diagnosis (whichever language version of it they
        name), each in the reader's language when translated."""
        from ..commitments import localized
        from .programmes import ProgrammePage

        answering = {}
        for programme in (
            ProgrammePage.objects.live()
            .filter(diagnoses__translation_key=self.translation_key)
            .order_by("pk")
        ):
            answering.setdefault(programme.translation_key, programme)
        return list(localized(answering.values()).values())

    @path("download/<str:name>/", name="results_download")
    def download_route(self, request, name):
        from ..results import results_download

        return results_download(request, self, name)

    @path("map/", name="results_map_data")
    def map_data_route(self, request):
        from ..results import results_map_data

        return results_map_data(request, self)


class ResultsProblem(TranslatableMixin, Orderable, ClusterableModel):
    """A problem the facilitator named from the diagnosis: what, where, and the evidence.

    Its title and description are translated with the page; categories and areas are the same in
    every language. Ballots refer to a problem by its translation key, so points given in any
    language add up.
    """

    page = ParentalKey(ResultsPage, on_delete=models.CASCADE, related_name="problems")
    title = models.CharField(
        pgettext_lazy("problem", "title"),
        max_length=200,
        help_text=_("What residents would recognise, e.g. “Dark paths to the school in Barrio X”."),
    )
    description = models.TextField(_("description"), max_length=2000, blank=True)
    categories = ParentalManyToManyField(
        "diagnosis.ConcernCategory",
        verbose_name=_("categories"),
        blank=True,
        related_name="+",
    )
    areas = ParentalManyToManyField(
        "maps.Area", verbose_name=_("areas"), blank=True, related_name="+"
    )
    quotes = StreamField(
        [("quote", QuoteBlock())],
        verbose_name=_("quotes"),
        blank=True,
        help_text=_(
            "Words of residents that illustrate the problem, from approved concerns. Remove "
            "names, addresses and anything that could identify someone."
        ),
    )

    panels = [
        FieldPanel("title"),
        FieldPanel("description"),
        FieldPanel("categories"),
        FieldPanel("areas"),
        FieldPanel("quotes"),
    ]
    override_translatable_fields = [SynchronizedField("categories"), SynchronizedField("areas")]

    class Meta(TranslatableMixin.Meta, Orderable.Meta):
        verbose_name = _("problem")
        verbose_name_plural = _("problems")

    def __str__(self):
        return self.title

    def clean(self):
        from ..problems import problem_clean

        super().clean()
        problem_clean(self)
