"""Admin registration for participation: the "Participation" menu with concerns and categories,
moderation bulk actions, and the log actions that make each decision visible in History.

The queue, decision page, bulk actions and log wording are the shared moderation admin
(`maps.moderation_admin`); `CONCERN_MODERATION` tells it about concerns."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from maps.moderation_admin import ModerationViewSetMixin, moderation_admin_register

from .admin_views import (
    CONCERN_MODERATION,
    ConcernCreateView,
    ConcernEntryForm,
    ConcernInspectView,
    ConcernPointWidget,
    moderation_queue,
)
from .filters import ConcernFilterSet
from .models import Concern, ConcernCategory


class ConcernViewSet(ModerationViewSetMixin, SnippetViewSet):
    """Concerns as a read-only snippet: a moderation queue, inspect, decide, history.

    Staff can add a concern on a resident's behalf (through `concern_submit`); nobody edits one.
    """

    model = Concern
    kind = CONCERN_MODERATION
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
    inspect_view_class = ConcernInspectView
    add_view_class = ConcernCreateView

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
moderation_admin_register(CONCERN_MODERATION)

# Questionnaire tools: each module registers its own admin URLs and menu entries with hooks.
from . import question_bank_admin, questionnaire_paper_admin, xlsform_admin  # noqa: E402, F401
