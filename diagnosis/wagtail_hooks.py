"""Admin registration for participation: the "Participation" menu with concerns and categories,
moderation bulk actions, and the log actions that make each decision visible in History.

The queue, decision page, bulk actions and log wording are the shared moderation admin
(`maps.moderation_admin`); `CONCERN_MODERATION` tells it about concerns."""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.widgets import Button
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
from .pages import ConsultationPage


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
    # Admin pages elsewhere in the app (questionnaire responses, …) add their items with this hook.
    submenu_hook = "register_participation_menu_item"


register_snippet(ParticipationGroup)
moderation_admin_register(CONCERN_MODERATION)

# Questionnaire tools: each module registers its own admin URLs and menu entries with hooks.
from . import (  # noqa: E402, F401
    diagnosis_admin,
    question_bank_admin,
    questionnaire_paper_admin,
    questionnaire_responses_admin,
    xlsform_admin,
)


def _questionnaire_tools(user, page) -> list[tuple[str, str, str]]:
    """(label, URL, icon) of the questionnaire tools this user may use on this consultation.

    One list for both places facilitators look: the consultation's header menu in the page
    editor, and the consultation's responses page.
    """
    page = page.specific
    if not isinstance(page, ConsultationPage):
        return []
    tools = []
    if page.permissions_for_user(user).can_edit():
        tools += [
            (_("Add questions from the question bank"), "questionnaire_bank:add", "list-ul"),
            (_("Import an XLSForm"), "questionnaire_xlsform:upload", "upload"),
        ]
    if questionnaire_paper_admin.paper_entry_allowed(user, page):
        tools.append((_("Enter a paper questionnaire"), "questionnaire_paper:enter", "edit"))
    if questionnaire_responses_admin.can_edit(user, page):
        tools.append((_("Questionnaire responses"), "questionnaire_responses:detail", "table"))
        tools.append((_("Diagnosis"), "diagnosis_runs:consultation", "table"))
    return [(label, reverse(name, args=[page.pk]), icon) for label, name, icon in tools]


@hooks.register("register_page_header_buttons")
def questionnaire_header_buttons(page, user, view_name, next_url=None):
    """The questionnaire tools in the "…" menu of a consultation in the page editor."""
    for priority, (label, url, icon) in enumerate(_questionnaire_tools(user, page), start=80):
        yield Button(label, url, icon_name=icon, priority=priority)


@hooks.register(questionnaire_responses_admin.TOOL_LINKS_HOOK)
def questionnaire_tool_links(request, page):
    """The other tools, linked from the responses page (leaving out the page itself)."""
    here = reverse("questionnaire_responses:detail", args=[page.pk])
    return [
        (label, url)
        for label, url, _icon in _questionnaire_tools(request.user, page)
        if url != here
    ]


# Importing reports from another system's CSV file (Open311 / NYC 311): admin URLs, the
# Participation menu item and this header button (docs/open311-import.md).
from . import open311_csv_admin  # noqa: E402


@hooks.register("register_page_header_buttons")
def open311_csv_header_button(page, user, view_name, next_url=None):
    """The "Import reports (CSV)" item in a consultation's "…" menu, for facilitators."""
    tool = open311_csv_admin.open311_csv_consultation_button(user, page)
    if tool is not None:
        label, url, icon = tool
        yield Button(label, url, icon_name=icon, priority=95)
