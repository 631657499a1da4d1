from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Site")

    def ready(self):
        from wagtail.signals import page_published

        from . import checks, routing  # noqa: F401  (system checks; Site signal handlers)
        from .groups import cms_groups_ensure_after_migrate
        from .models import ResultsPage
        from .results import results_published

        # Publishing a results page publishes its snapshot (SnapshotPublication) and drops the
        # page's cached numbers.
        page_published.connect(
            results_published, sender=ResultsPage, dispatch_uid="cms.results_published"
        )
        # The staff groups get the accountability permissions after every migrate.
        post_migrate.connect(
            cms_groups_ensure_after_migrate, sender=self, dispatch_uid="convive_cms_groups"
        )
