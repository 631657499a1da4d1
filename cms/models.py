"""Site pages: the home page that lists consultations."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from diagnosis.pages import ConsultationPage


class HomePage(Page):
    """The site root in each language: what Convive is, and the consultations open now."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["diagnosis.ConsultationPage"]
    max_count_per_parent = 1
    template = "cms/home_page.html"

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        here = list(
            ConsultationPage.objects.live()
            .child_of(self)
            .specific()
            .order_by("-first_published_at")
        )
        context["consultations"] = here
        # A resident reading in a language a consultation has not been translated into should
        # still find it: list the untranslated ones too, in the language they exist in.
        translated = {page.translation_key for page in here}
        elsewhere = {}
        for page in (
            ConsultationPage.objects.live()
            .exclude(translation_key__in=translated)
            .select_related("locale")
            .order_by("-first_published_at")
        ):
            elsewhere.setdefault(page.translation_key, page)
        context["consultations_elsewhere"] = list(elsewhere.values())
        return context
