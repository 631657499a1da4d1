from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Site")

    def ready(self):
        from wagtail.signals import page_published

        from . import checks, routing  # noqa: F401  (system checks; Site signal handlers)
        from .models import ResultsPage
        from .results import results_published

        # Publishing a results page publishes its snapshot (SnapshotPublication) and drops the
        # page's cached numbers.
        page_published.connect(
            results_published, sender=ResultsPage, dispatch_uid="cms.results_published"
        )
