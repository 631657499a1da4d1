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
        context["consultations"] = (
            ConsultationPage.objects.live()
            .child_of(self)
            .specific()
            .order_by("-first_published_at")
        )
        return context
