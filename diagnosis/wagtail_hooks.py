"""Admin registration for participation: the "Participation" menu with concerns and categories,
moderation bulk actions, and the log actions that make each decision visible in History."""

from django import forms
from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.log_actions import LogFormatter
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .admin_views import (
    ApproveBulkAction,
    ConcernCreateView,
    ConcernEditView,
    ConcernEntryForm,
    ConcernHistoryView,
    ConcernIndexView,
    ConcernInspectView,
    ConcernModerateView,
    ConcernPointWidget,
    HideBulkAction,
    RejectBulkAction,
    moderation_queue,
)
from .filters import ConcernFilterSet
from .models import Concern, ConcernCategory


class ConcernViewSet(SnippetViewSet):
    """Concerns as a read-only snippet: a moderation queue, inspect, decide, history.

    Staff can add a concern on a resident's behalf (through `concern_submit`); nobody edits one.
    """

    model = Concern
    icon = "warning"
    menu_label = _("Concerns")
    menu_order = 100
    list_display = [
        "reference",
        "category",
        "consultation",
        "area",
        "status",
        "source",
        "submitted_at",
    ]
    filterset_class = ConcernFilterSet
    list_per_page = 50
    search_fields = None
    inspect_view_enabled = True
    copy_view_enabled = False
    index_view_class = ConcernIndexView
    inspect_view_class = ConcernInspectView
    history_view_class = ConcernHistoryView
    add_view_class = ConcernCreateView
    edit_view_class = ConcernEditView

    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    # Plain selects: a handful of consultations and categories, no chooser modal.
                    FieldPanel("consultation", widget=forms.Select),
                    FieldPanel("category", widget=forms.Select),
                    FieldPanel("description"),
                ],
                heading=_("What"),
            ),
            MultiFieldPanel(
                [
                    FieldPanel("point", widget=ConcernPointWidget),
                    FieldPanel("area", widget=forms.Select),
                    FieldPanel("place_description"),
                ],
                heading=_("Where"),
            ),
            MultiFieldPanel(
                [
                    FieldRowPanel(
                        [FieldPanel("time_band"), FieldPanel("day_type"), FieldPanel("frequency")]
                    ),
                    FieldPanel("affected"),
                ],
                heading=_("When and who"),
            ),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("gender"), FieldPanel("age_band")]),
                    FieldPanel("gender_description"),
                ],
                heading=_("About the resident (optional, self-described)"),
            ),
            FieldPanel("photo"),
            MultiFieldPanel(
                [FieldPanel("source"), FieldPanel("language")], heading=_("Provenance")
            ),
        ],
        base_form_class=ConcernEntryForm,
    )

    def get_queryset(self, request):
        return moderation_queue(Concern.objects.all())

    @property
    def moderate_view(self):
        return self.construct_view(ConcernModerateView, index_url_name=self.get_url_name("list"))

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("moderate/<int:pk>/", self.moderate_view, name="moderate"),
        ]


class ConcernCategoryViewSet(SnippetViewSet):
    """Translatable categories; Wagtail adds the locale filter because the model is translatable."""

    model = ConcernCategory
    icon = "tag"
    menu_label = _("Concern categories")
    menu_order = 200
    list_display = ["name", "code", "kind", "prevention_type", "sensitive"]
    list_filter = ["kind", "prevention_type", "sensitive"]
    ordering = ["sort_order", "name"]
    sort_order_field = None  # ordering is by the sort_order field, edited in the form


class ParticipationGroup(SnippetViewSetGroup):
    menu_label = _("Participation")
    menu_icon = "group"
    menu_order = 300
    items = (ConcernViewSet, ConcernCategoryViewSet)


register_snippet(ParticipationGroup)


hooks.register("register_bulk_action", ApproveBulkAction)
hooks.register("register_bulk_action", RejectBulkAction)
hooks.register("register_bulk_action", HideBulkAction)


class ConcernDecisionFormatter(LogFormatter):
    """A moderation decision in a concern's History: the decision and, if given, its reason."""

    decision = ""

    def format_message(self, log_entry):
        reason = (log_entry.data or {}).get("reason", "")
        if reason:
            return _("%(decision)s. Reason: %(reason)s") % {
                "decision": self.decision,
                "reason": reason,
            }
        return str(self.decision)


@hooks.register("register_log_actions")
def register_moderation_log_actions(actions):
    @actions.register_action("convive.concern.approve")
    class ApproveFormatter(ConcernDecisionFormatter):
        label = _("Approve concern")
        decision = _("Approved")

    @actions.register_action("convive.concern.reject")
    class RejectFormatter(ConcernDecisionFormatter):
        label = _("Reject concern")
        decision = _("Rejected")

    @actions.register_action("convive.concern.hide")
    class HideFormatter(ConcernDecisionFormatter):
        label = _("Hide concern")
        decision = _("Hidden")
