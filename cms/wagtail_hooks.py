"""Admin and cross-layer registrations of the site app: the problems' admin pages, a link to the
evidence from the results page's header, and the problems offered on the prioritisation ballot
(`diagnosis.services.prioritisation.PROBLEMS_HOOK`)."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.widgets import Button

from diagnosis.services.prioritisation import PROBLEMS_HOOK

from .problems import ballot_problems_for
from .problems_admin import urlpatterns as problems_urlpatterns


@hooks.register("register_admin_urls")
def register_problems_urls():
    return [path("problems/", include((problems_urlpatterns, "problems")))]


@hooks.register(PROBLEMS_HOOK)
def results_page_problems(consultation):
    return ballot_problems_for(consultation)


@hooks.register("register_page_header_buttons")
def evidence_button(page, user, view_name, next_url=None):
    """“Quotes you can use” in the results page's header menu, beside Edit, History…"""
    from .models import ResultsPage

    if page.specific_class is not ResultsPage or not page.permissions_for_user(user).can_edit():
        return
    consultation = page.get_parent()
    url = reverse("problems:evidence", args=[consultation.pk])
    snapshot_id = page.specific_deferred.snapshot_id
    yield Button(
        _("Quotes you can use"),
        f"{url}?snapshot={snapshot_id}" if snapshot_id else url,
        icon_name="openquote",
        priority=25,
    )


# Residents' feedback on commitments: the moderation queue, its bulk actions and History, the
# dashboard's pending count, and the guard against deleting a commitment that has feedback.
from . import feedback_admin  # noqa: E402, F401


# Commitments in spreadsheets (cms.commitment_csv_admin): import and export from the programme's
# header menu.
@hooks.register("register_admin_urls")
def register_commitment_csv_urls():
    from .commitment_csv_admin import urlpatterns

    return [path("commitment-spreadsheets/", include((urlpatterns, "commitment_csv")))]


@hooks.register("register_page_header_buttons")
def commitment_csv_buttons(page, user, view_name, next_url=None):
    from .commitment_csv_admin import commitment_csv_buttons as buttons

    yield from buttons(page=page, user=user)
