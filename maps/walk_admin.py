"""Safety walks in the Wagtail admin: planning a walk, its access code and report, and the
moderation queue of its stops.

Views are thin. Stops are moderated through `walk_stop_moderate`/`walk_stop_moderate_bulk` (the
moderation core shared with concerns), reports are published through `walk_report_publish`, and a
new participants' code comes from `walk_access_code_replace`; this module only asks, shows and
redirects.

The moderation queue is the shared moderation admin (`maps.moderation_admin`, also used for
concerns) told about stops by `STOP_MODERATION`; this module adds only what a moderator reads
about one stop.

Stops are read-only in the admin, like concerns: what a group recorded in the street is theirs.
They enter through the field page (`walk_stop_record`), and a moderator who finds something that
cannot be public hides the stop with a reason.
"""

import json

from django import forms
from django.conf import settings
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, path, reverse
from django.utils import translation
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy
from django.views.generic import View
from django_filters import ChoiceFilter, ModelChoiceFilter
from modelcluster.forms import BaseChildFormSet
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
)
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.snippets.views.snippets import (
    CreateView,
    EditView,
    IndexView,
    InspectView,
    SnippetViewSet,
    SnippetViewSetGroup,
)

from .models import (
    WALK_PARAMETERS,
    Area,
    ModerationStatus,
    SafetyWalk,
    WalkStop,
)
from .moderation import moderation_queue_order
from .moderation_admin import (
    DecisionSentences,
    ModeratedKind,
    ModerationIndexView,
    ModerationInspectView,
    ModerationViewSetMixin,
    moderation_forbidden,
    user_label,
)
from .walk_moderation import (
    CHANGE_WALK_PERMISSION,
    POLICY,
    PUBLISH_PERMISSION,
    ReportRefused,
    walk_access_code_replace,
    walk_report_publish,
    walk_report_unpublish,
    walk_stop_moderate,
    walk_stop_moderate_bulk,
)
from .widgets import PointMapWidget, RouteMapWidget

# The staff group that plans and leads walks. `diagnosis.services.groups` creates it with this
# name on every migrate; `maps` cannot import `diagnosis`, so the name is repeated here.
FACILITATORS_GROUP = "Facilitators"

# Geometry a listing or a choice list never shows: deferred so pages do not carry lines around.
WALK_GEOMETRY = ("route", "meeting_point")


# --- Links to the public site ----------------------------------------------------------------


def _site_language() -> str:
    """The language for links to the public site: the admin's if the site has it, else the
    site's default (the admin may run in a language the public site does not offer)."""
    current = translation.get_language() or settings.LANGUAGE_CODE
    codes = {code for code, _name in settings.LANGUAGES}
    return current if current in codes else settings.LANGUAGE_CODE


def site_path(name: str, *, fallback: str, language: str | None = None, **kwargs) -> str:
    """The public path of a named URL under /<lang>/, or `fallback` (after the prefix) if the
    URL is not mounted in this build — the field and report pages live in their own modules."""
    language = language or _site_language()
    with translation.override(language):
        try:
            return reverse(name, kwargs=kwargs or None)
        except NoReverseMatch:
            return f"/{language}/{fallback}"


def walk_join_path(walk: SafetyWalk, *, language: str | None = None) -> str:
    path = site_path("walks:join", fallback="walks/join/", language=language)
    return f"{path}?code={walk.access_code}"


def walk_record_path(walk: SafetyWalk) -> str:
    return site_path("walks:record", fallback=f"walks/{walk.uuid}/record/", uuid=walk.uuid)


def walk_report_path(walk: SafetyWalk) -> str:
    return site_path("walk_reports:report", fallback=f"walks/{walk.uuid}/", uuid=walk.uuid)


# --- Safety walks: the form ------------------------------------------------------------------


class FacilitatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class WalkChoiceField(forms.ModelChoiceField):
    """A walk by title and date: a route walked by day and by night has one title twice."""

    def label_from_instance(self, obj):
        return f"{obj.title} · {obj.date:%Y-%m-%d} · {obj.get_time_band_display()}"


def facilitator_choices(*, keep=None):
    """Active members of the Facilitators group and active superusers.

    `keep` (the walk's current facilitator) stays choosable even if they have since left the
    group, so that editing an older walk does not fail on a field nobody touched.
    """
    eligible = Q(is_active=True) & (Q(groups__name=FACILITATORS_GROUP) | Q(is_superuser=True))
    if keep is not None:
        eligible |= Q(pk=keep)
    users = get_user_model().objects.filter(eligible).distinct()
    return users.order_by("first_name", "last_name", get_user_model().USERNAME_FIELD)


def walk_choices():
    return SafetyWalk.objects.defer(*WALK_GEOMETRY, "notes").order_by("-date", "title")


class SafetyWalkAdminForm(WagtailAdminModelForm):
    """The walk form with choice lists that stay light and rules a planner can read.

    Areas and earlier walks are listed without their geometry (a city's barrios are megabytes of
    polygons); only facilitators can be chosen as the facilitator.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        walk = self.instance
        areas = self.fields.get("areas")
        if areas is not None:
            areas.queryset = Area.objects.defer("geometry").order_by("level", "name")
        facilitator = self.fields.get("facilitator")
        if facilitator is not None:
            self.fields["facilitator"] = FacilitatorChoiceField(
                queryset=facilitator_choices(keep=walk.facilitator_id),
                required=False,
                label=facilitator.label,
                help_text=_("Only active members of the Facilitators group can lead a walk."),
            )
            user = getattr(self, "for_user", None)
            if walk.pk is None and user is not None and not self.is_bound:
                if self.fields["facilitator"].queryset.filter(pk=user.pk).exists():
                    self.initial.setdefault("facilitator", user.pk)
        repeats = self.fields.get("repeats")
        if repeats is not None:
            queryset = walk_choices()
            if walk.pk is not None:
                queryset = queryset.exclude(pk=walk.pk)
            self.fields["repeats"] = WalkChoiceField(
                queryset=queryset,
                required=False,
                label=repeats.label,
                help_text=repeats.help_text,
            )

    def clean(self):
        cleaned = super().clean()
        repeats = cleaned.get("repeats")
        kind = cleaned.get("repeat_kind")
        if repeats is not None and not kind:
            self.add_error(
                "repeat_kind",
                _("Say how this walk repeats the earlier one: at another time, or as a follow-up."),
            )
        if kind and repeats is None and "repeats" not in self.errors:
            self.add_error(
                "repeats",
                _("Choose the walk this one repeats, or leave the kind of repetition empty."),
            )
        if repeats is not None and self.instance.pk is not None:
            if repeats.pk == self.instance.pk:
                self.add_error("repeats", _("A walk cannot repeat itself."))
            elif self._repeats_in_a_circle(repeats):
                self.add_error(
                    "repeats",
                    _("That walk already repeats this one; two walks cannot repeat each other."),
                )
        status = cleaned.get("status")
        if self.instance.report_published_at and status and status != SafetyWalk.Status.DONE:
            self.add_error(
                "status",
                _(
                    "The report of this walk is published. Withdraw the report before setting "
                    "the walk back to planned or in progress."
                ),
            )
        return cleaned

    def _repeats_in_a_circle(self, repeats: SafetyWalk) -> bool:
        """Whether following `repeats` back through earlier walks leads to this walk."""
        seen = set()
        current = repeats.repeats_id
        while current is not None and current not in seen:
            if current == self.instance.pk:
                return True
            seen.add(current)
            current = (
                SafetyWalk.objects.filter(pk=current).values_list("repeats_id", flat=True).first()
            )
        return False


class ParticipantsFormSet(BaseChildFormSet):
    """Participants' rows, refusing a second row for the same gender and age band in words a
    facilitator understands (Django's default names the columns: "walk, gender and age_band")."""

    def get_unique_error_message(self, unique_check):
        if set(unique_check) >= {"gender", "age_band"}:
            return _("There is already a row for this gender and age band; add the counts up.")
        return super().get_unique_error_message(unique_check)


class ParticipantsPanel(InlinePanel):
    def get_form_options(self):
        options = super().get_form_options()
        options["formsets"][self.relation_name]["formset"] = ParticipantsFormSet
        return options


WALK_PANELS = [
    MultiFieldPanel(
        [
            FieldPanel("title"),
            FieldPanel(
                "areas",
                widget=forms.SelectMultiple(attrs={"size": 8}),
                help_text=_("The areas the route goes through. Hold Ctrl (⌘ on a Mac) for more."),
            ),
        ],
        heading=_("Walk"),
    ),
    MultiFieldPanel(
        [
            FieldPanel("route", widget=RouteMapWidget),
            FieldPanel(
                "meeting_point",
                widget=PointMapWidget,
                help_text=_("Where the group meets, with the marker tool."),
            ),
            FieldPanel("meeting_place"),
        ],
        heading=_("Route and meeting point"),
    ),
    MultiFieldPanel(
        [
            FieldRowPanel([FieldPanel("date"), FieldPanel("starts_at"), FieldPanel("time_band")]),
            FieldRowPanel([FieldPanel("target_group"), FieldPanel("facilitator")]),
            FieldRowPanel([FieldPanel("light"), FieldPanel("weather")]),
            FieldPanel("status"),
        ],
        heading=_("When and who"),
    ),
    MultiFieldPanel(
        [FieldRowPanel([FieldPanel("repeats", widget=forms.Select), FieldPanel("repeat_kind")])],
        heading=_("Repetition"),
        help_text=_(
            "A walk of the same route at dusk or at night, or after works, is compared with the "
            "earlier one in the report."
        ),
    ),
    ParticipantsPanel(
        "participants",
        heading=_("Who walked"),
        label=_("Participants by gender and age band"),
        help_text=_("Counts only, never names. One row per gender and age band."),
    ),
    FieldPanel("notes"),
]


# --- Safety walks: listing, inspect (access code and report), actions -------------------------


def walk_listing(queryset):
    """Walks with their number of stops and of stops awaiting moderation, in the same query.

    `distinct` keeps the counts right when a filter joins the walk's areas.
    """
    pending = ModerationStatus.PENDING
    return queryset.defer(*WALK_GEOMETRY, "notes").annotate(
        stop_count=Count("stops", distinct=True),
        pending_count=Count("stops", filter=Q(stops__status=pending), distinct=True),
    )


def stops_by_status(walk: SafetyWalk) -> dict[str, int]:
    counts = dict(
        WalkStop.objects.filter(walk=walk)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in ModerationStatus.values}


def areas_with_walks(request=None):
    return Area.objects.filter(walks__isnull=False).distinct().defer("geometry").order_by("name")


class SafetyWalkFilterSet(WagtailFilterSet):
    status = ChoiceFilter(
        label=pgettext_lazy("walk", "Status"),
        choices=SafetyWalk.Status.choices,
        empty_label=_("All"),
    )
    time_band = ChoiceFilter(
        label=_("Time of day"), choices=SafetyWalk.TimeBand.choices, empty_label=_("All")
    )
    target_group = ChoiceFilter(
        label=_("Who walks"), choices=SafetyWalk.TargetGroup.choices, empty_label=_("All")
    )
    area = ModelChoiceFilter(
        label=_("Area"), field_name="areas", queryset=areas_with_walks, empty_label=_("All")
    )

    class Meta:
        model = SafetyWalk
        fields = ["status", "time_band", "target_group", "area"]


def _walk_url(walk: SafetyWalk, name: str) -> str:
    return reverse(SafetyWalk.snippet_viewset.get_url_name(name), args=(quote(walk.pk),))


def walk_stops_url(walk: SafetyWalk, status: str | None = None) -> str:
    url = f"{reverse(WalkStop.snippet_viewset.get_url_name('list'))}?walk={walk.pk}"
    return f"{url}&status={status}" if status else url


class SafetyWalkIndexView(IndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        buttons.append(
            MenuItem(
                _("Walk stops"),
                url=walk_stops_url(instance),
                icon_name="list-ul",
                priority=35,
            )
        )
        buttons.append(
            MenuItem(
                _("Record stops"),
                url=walk_record_path(instance),
                icon_name="plus",
                priority=36,
            )
        )
        return buttons


class WalkFormResponseMixin:
    """Form errors answer 400, not 200: the planner's input was refused, nothing was saved."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class SafetyWalkCreateView(WalkFormResponseMixin, CreateView):
    pass


class SafetyWalkEditView(WalkFormResponseMixin, EditView):
    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        for button in buttons:
            if str(button.url) == self.get_inspect_url():
                button.label = _("Access code and report")
        return buttons


class SafetyWalkInspectView(InspectView):
    """The walk at a glance: the participants' code, links, its stops and its report."""

    template_name = "maps/admin/walk_inspect.html"

    def get_object(self, queryset=None):
        return get_object_or_404(
            SafetyWalk.objects.select_related("facilitator", "repeats").defer(
                "repeats__route", "repeats__meeting_point"
            ),
            pk=self.pk,
        )

    def get_page_title(self):
        return _("Access code and report")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        walk = self.object
        user = self.request.user
        counts = stops_by_status(walk)
        languages = [
            {
                "code": code,
                "name": name,
                "url": self.request.build_absolute_uri(walk_join_path(walk, language=code)),
            }
            for code, name in settings.LANGUAGES
        ]
        context.update(
            {
                "walk": walk,
                "join_url": self.request.build_absolute_uri(walk_join_path(walk)),
                "join_languages": languages,
                "record_url": walk_record_path(walk),
                "report_url": walk_report_path(walk),
                "can_change": user.has_perm(CHANGE_WALK_PERMISSION),
                "can_publish": user.has_perm(PUBLISH_PERMISSION),
                "renew_url": _walk_url(walk, "access_code"),
                "publish_url": _walk_url(walk, "publish"),
                "unpublish_url": _walk_url(walk, "unpublish"),
                "history_url": _walk_url(walk, "history"),
                "stop_counts": [
                    {
                        "label": label,
                        "count": counts[status],
                        "url": walk_stops_url(walk, status),
                        "status": status,
                    }
                    for status, label in ModerationStatus.choices
                ],
                "stop_total": sum(counts.values()),
                "stops_url": walk_stops_url(walk),
                "areas": walk.areas.defer("geometry").order_by("name"),
                "participants": walk.participants.all(),
                "participant_total": sum(p.count for p in walk.participants.all()),
                "map_data": walk_map_data(walk),
                "is_done": walk.status == SafetyWalk.Status.DONE,
            }
        )
        return context


def walk_map_data(walk: SafetyWalk, *, stops=None) -> dict | None:
    """The route, meeting point and (exact, staff-only) stops for an admin map."""
    data = {
        "route": json.loads(walk.route.geojson) if walk.route else None,
        "meeting_point": [walk.meeting_point.y, walk.meeting_point.x]
        if walk.meeting_point
        else None,
        "stops": [
            {"point": [stop.point.y, stop.point.x], "feeling": stop.feeling}
            for stop in (stops if stops is not None else [])
        ],
    }
    if not (data["route"] or data["meeting_point"] or data["stops"]):
        return None
    return data


def _access_code_renew(request, walk) -> str:
    code = walk_access_code_replace(walk=walk, user=request.user)
    return _("New access code: %(code)s. The old code no longer works.") % {"code": code}


def _report_publish(request, walk) -> str:
    walk_report_publish(walk=walk, user=request.user)
    return _("The report of “%(walk)s” is public.") % {"walk": walk}


def _report_unpublish(request, walk) -> str:
    walk_report_unpublish(walk=walk, user=request.user)
    return _("The report of “%(walk)s” is no longer public.") % {"walk": walk}


class WalkActionView(View):
    """A POST-only action on one walk that redirects back to its inspect view.

    `action(request, walk)` calls the service and returns the success message; it is given to
    `as_view`. Anonymous users never get here (Wagtail's admin URLs send them to the login); the
    service checks the permission and the view turns its refusal into a 403.
    """

    http_method_names = ["post"]
    action = None

    def post(self, request, pk):
        walk = get_object_or_404(SafetyWalk.objects.defer(*WALK_GEOMETRY), pk=pk)
        try:
            messages.success(request, self.action(request, walk))
        except PermissionDenied as denied:
            return moderation_forbidden(
                request,
                message=str(denied) or _("You are not allowed to do this."),
                back_url=_walk_url(walk, "inspect"),
                back_label=_("Back to the walk"),
            )
        except ReportRefused as refusal:
            messages.error(request, refusal.message)
        return redirect(get_valid_next_url_from_request(request) or _walk_url(walk, "inspect"))


class SafetyWalkViewSet(SnippetViewSet):
    """Safety walks: plan, follow the stops, hand out the access code, publish the report."""

    model = SafetyWalk
    icon = "site"
    menu_label = _("Walks")
    menu_name = "safety-walks"
    menu_order = 100
    list_display = [
        "title",
        "date",
        "time_band",
        "target_group",
        "status",
        Column("stop_count", label=_("Stops"), accessor="stop_count", sort_key="stop_count"),
        Column(
            "pending_count",
            label=_("Awaiting moderation"),
            accessor="pending_count",
            sort_key="pending_count",
        ),
    ]
    filterset_class = SafetyWalkFilterSet
    # Search goes through the model's own index (SafetyWalk.search_fields: the title); see the
    # note on AreaViewSet for why `search_fields` is not set here.
    list_per_page = 50
    ordering = ["-date", "-starts_at", "-pk"]
    inspect_view_enabled = True
    copy_view_enabled = False
    index_view_class = SafetyWalkIndexView
    add_view_class = SafetyWalkCreateView
    edit_view_class = SafetyWalkEditView
    inspect_view_class = SafetyWalkInspectView
    edit_handler = ObjectList(WALK_PANELS, base_form_class=SafetyWalkAdminForm)

    def get_queryset(self, request):
        return walk_listing(SafetyWalk.objects.all())

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(
                "access-code/<int:pk>/",
                WalkActionView.as_view(action=_access_code_renew),
                name="access_code",
            ),
            path(
                "publish/<int:pk>/", WalkActionView.as_view(action=_report_publish), name="publish"
            ),
            path(
                "unpublish/<int:pk>/",
                WalkActionView.as_view(action=_report_unpublish),
                name="unpublish",
            ),
        ]


# --- Walk stops: the moderation queue ---------------------------------------------------------


def stop_queue(queryset):
    return moderation_queue_order(
        queryset.select_related("walk").defer(*(f"walk__{name}" for name in WALK_GEOMETRY)),
        arrived="received_at",
    )


STOP_MODERATION = ModeratedKind(
    policy=POLICY,
    moderate=lambda stop, **decision: walk_stop_moderate(stop=stop, **decision),
    moderate_bulk=lambda stops, **decision: walk_stop_moderate_bulk(stops=stops, **decision),
    forbidden_message=_("Only moderators can approve, reject or hide walk stops."),
    reason_help=_("Required to reject or hide. Kept in the history."),
    bulk_reason_help=_("Recorded in the history of every selected item."),
    bulk_reason_note=_(
        "A reason is required. It is recorded in the history of every selected item; nothing "
        "is deleted."
    ),
    done_message=_("Stop %(object)s: %(status)s."),
    summary_template="maps/admin/_walkstop_summary.html",
    bulk_item_template="maps/admin/_walkstop_bulk_item.html",
    decisions={
        ModerationStatus.APPROVED: DecisionSentences(
            log_label=_("Approve walk stop"),
            bulk_label=_("Approve the selected stops"),
            bulk_intro=ngettext_lazy(
                "You are about to approve this stop:",
                "You are about to approve these %(count)d stops:",
                "count",
            ),
            bulk_done=ngettext_lazy(
                "%(count)d stop approved.", "%(count)d stops approved.", "count"
            ),
        ),
        ModerationStatus.REJECTED: DecisionSentences(
            log_label=_("Reject walk stop"),
            bulk_label=_("Reject the selected stops"),
            bulk_intro=ngettext_lazy(
                "You are about to reject this stop:",
                "You are about to reject these %(count)d stops:",
                "count",
            ),
            bulk_done=ngettext_lazy(
                "%(count)d stop rejected.", "%(count)d stops rejected.", "count"
            ),
        ),
        ModerationStatus.HIDDEN: DecisionSentences(
            log_label=_("Hide walk stop"),
            bulk_label=_("Hide the selected stops"),
            bulk_intro=ngettext_lazy(
                "You are about to hide this stop:",
                "You are about to hide these %(count)d stops:",
                "count",
            ),
            bulk_done=ngettext_lazy("%(count)d stop hidden.", "%(count)d stops hidden.", "count"),
        ),
    },
    related=("walk", "recorded_by"),
    stylesheets=("maps/css/walk-admin.css",),
)


def walks_with_stops(request=None):
    return walk_choices().filter(stops__isnull=False).distinct()


class WalkFilter(ModelChoiceFilter):
    field_class = WalkChoiceField


class WalkStopFilterSet(WagtailFilterSet):
    walk = WalkFilter(label=_("Safety walk"), queryset=walks_with_stops, empty_label=_("All"))
    status = ChoiceFilter(
        label=pgettext_lazy("walk", "Status"),
        choices=ModerationStatus.choices,
        empty_label=_("All"),
    )
    feeling = ChoiceFilter(
        label=_("Feeling of safety"), choices=WalkStop.Feeling.choices, empty_label=_("All")
    )
    hazard = ChoiceFilter(
        label=_("Hazard"),
        choices=WalkStop.Hazard.choices,
        method="filter_hazard",
        empty_label=_("All"),
    )

    class Meta:
        model = WalkStop
        fields = ["walk", "status", "feeling", "hazard"]

    def filter_hazard(self, queryset, name, value):
        # A JSON list of codes. `contains` on JSON is PostgreSQL-only; a quoted code matched in
        # the stored text works on both databases, and no code is a part of another.
        return queryset.filter(hazards__icontains=f'"{value}"')


class WalkStopIndexView(ModerationIndexView):
    @cached_property
    def add_url(self):
        return None  # stops are recorded on the field page, through walk_stop_record


class WalkStopInspectView(ModerationInspectView):
    """Where, scores, hazards, notes and photo of one stop, and the decision form."""

    template_name = "maps/admin/walkstop_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        stop = self.object
        hazards = dict(WalkStop.Hazard.choices)
        scores = []
        for name, label, help_text in WALK_PARAMETERS:
            value = getattr(stop, name)
            scores.append(
                {
                    "label": label,
                    "help": help_text,
                    "value": value,
                    "display": getattr(stop, f"get_{name}_display")()
                    if value is not None
                    else None,
                }
            )
        context.update(
            {
                "stop": stop,
                "walk": stop.walk,
                "scores": scores,
                "hazard_labels": [hazards.get(code, code) for code in stop.hazards],
                "recorded_by": stop.recorded_by and user_label(stop.recorded_by),
                "map_data": walk_map_data(stop.walk, stops=[stop])
                | {
                    "public_point": [stop.public_point.y, stop.public_point.x]
                    if stop.public_point
                    else None
                },
                "walk_url": _walk_url(stop.walk, "inspect"),
            }
        )
        return context


class WalkStopCreateView(View):
    """Stops are recorded on the field page of their walk: the add URL leads to the walks."""

    def get(self, request):
        messages.info(
            request, _("Stops are recorded on the field page of a walk: open the walk's menu.")
        )
        return redirect(SafetyWalk.snippet_viewset.get_url_name("list"))

    post = get


class WalkStopViewSet(ModerationViewSetMixin, SnippetViewSet):
    """Walk stops as a read-only snippet: a moderation queue, inspect, decide, history."""

    model = WalkStop
    kind = STOP_MODERATION
    icon = "tasks"
    menu_label = _("Walk stops")
    menu_name = "walk-stops"
    menu_order = 200
    list_display = [
        "reference",
        Column("walk", label=capfirst(_("safety walk")), accessor="walk"),
        "feeling",
        "recorded_at",
        "status",
    ]
    filterset_class = WalkStopFilterSet
    index_view_class = WalkStopIndexView
    inspect_view_class = WalkStopInspectView
    add_view_class = WalkStopCreateView

    def get_queryset(self, request):
        return stop_queue(WalkStop.objects.all())


class SafetyWalksGroup(SnippetViewSetGroup):
    menu_label = _("Safety walks")
    menu_icon = "site"
    menu_order = 260  # just after Areas
    items = (SafetyWalkViewSet, WalkStopViewSet)
