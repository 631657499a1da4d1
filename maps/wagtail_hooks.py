"""Areas and safety walks in the Wagtail admin.

Areas: a snippet listing to find an area and an edit form with its map. Facilitators mostly import
boundaries with `manage.py import_areas` (docs/areas.md) and come here to check them, fix a name,
hang a barrio under its localidad or type in population figures.

Safety walks (`maps.walk_admin`): the "Safety walks" menu with the walks and the moderation queue
of their stops, the stops' bulk decisions, and the log actions that make each decision, each
published report and each new access code visible in History.
"""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Area
from .moderation_admin import moderation_admin_register
from .walk_admin import STOP_MODERATION, SafetyWalksGroup
from .walk_moderation import (
    LOG_ACCESS_CODE_RENEW,
    LOG_REPORT_PUBLISH,
    LOG_REPORT_UNPUBLISH,
)


class AreaAdminForm(WagtailAdminModelForm):
    """The model form with a parent list that does not drag every boundary along.

    A ModelChoiceField only needs each area's label, but its default queryset loads every row in
    full — for a city with hundreds of barrios that is megabytes of polygons per page view.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parent = self.fields.get("parent")
        if isinstance(parent, forms.ModelChoiceField):
            queryset = Area.objects.exclude(level=Area.Level.NEIGHBOURHOOD).defer("geometry")
            if self.instance.pk:
                queryset = queryset.exclude(pk=self.instance.pk)
            parent.queryset = queryset.order_by("level", "name")


class AreaViewSet(SnippetViewSet):
    model = Area
    icon = "site"
    menu_label = _("Areas")
    menu_name = "areas"
    menu_order = 250
    add_to_admin_menu = True
    list_display = [
        "name",
        "code",
        "level",
        Column("parent", label=capfirst(_("part of")), accessor="parent"),
        Column(
            "population_total",
            label=capfirst(_("total population")),
            accessor="population_total",
        ),
    ]
    list_filter = ["level"]
    # Search goes through the model's own index (Area.search_fields: the name). Passing
    # `search_fields` here makes the SQLite full-text backend query a column its FTS table does
    # not have ("no such column: name"), a 500 on every search.
    list_per_page = 50
    ordering = ["name"]
    edit_handler = ObjectList(Area.panels, base_form_class=AreaAdminForm)

    def get_queryset(self, request):
        # The listing shows names and numbers; boundaries are only needed on the edit form.
        return Area.objects.select_related("parent").defer("geometry", "parent__geometry")


register_snippet(AreaViewSet)
register_snippet(SafetyWalksGroup)
moderation_admin_register(STOP_MODERATION)


@hooks.register("register_log_actions")
def register_walk_log_actions(actions):
    actions.register_action(
        LOG_REPORT_PUBLISH, _("Publish walk report"), _("The walk's report was published")
    )
    actions.register_action(
        LOG_REPORT_UNPUBLISH, _("Unpublish walk report"), _("The walk's report was withdrawn")
    )
    actions.register_action(
        LOG_ACCESS_CODE_RENEW,
        _("New access code"),
        _("A new participants' access code replaced the old one"),
    )
