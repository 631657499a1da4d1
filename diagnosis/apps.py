from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DiagnosisConfig(AppConfig):
    name = "diagnosis"
    verbose_name = _("Participation and diagnosis")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .services.groups import groups_ensure_after_migrate

        # The staff groups exist after every migrate, including a test database's.
        post_migrate.connect(
            groups_ensure_after_migrate, sender=self, dispatch_uid="convive_groups_ensure"
        )
