"""Wagtail admin views for concerns: the moderation queue, inspect, decide, enter on paper.

Each view is thin: moderation goes through `concern_moderate`/`concern_moderate_bulk` and staff
entry through `concern_submit`, so the admin obeys exactly the rules the public form obeys.

Concerns are read-only in the admin. What a resident wrote is theirs: no one (superusers
included) edits it, and the edit URL shows the concern instead. A moderator who finds personal
data or abuse in it hides the concern with a reason; a facilitator who mistyped a paper form
asks a moderator to reject the wrong entry (with that reason) and enters it again.
"""

import json
import uuid

from django import forms
from django.conf import settings
from django.contrib.admin.utils import quote
from django.db.models import Case, F, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property, classproperty
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django.views.generic import FormView, View
from wagtail.admin import messages
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton
from wagtail.log_actions import log
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction
from wagtail.snippets.views.snippets import (
    CreateView,
    HistoryView,
    IndexView,
    InspectView,
)

from maps.widgets import AreaMapWidget

from .filters import area_choices, category_choices
from .models import Concern
from .pages import ConsultationPage
from .services import ConcernRejected, concern_submit
from .services.moderation import (
    MODERATE_PERMISSION,
    REASON_MAX_LENGTH,
    REASON_REQUIRED,
    ModerationRefused,
    concern_moderate,
    concern_moderate_bulk,
    moderation_check,
)

DECISIONS = [
    (Concern.Status.APPROVED, _("Approve")),
    (Concern.Status.REJECTED, _("Reject")),
    (Concern.Status.HIDDEN, _("Hide")),
]


def moderation_queue(queryset):
    """Pending concerns first, oldest first (a fair queue); decided ones after, newest first."""
    pending = Concern.Status.PENDING
    return queryset.select_related("category", "consultation", "area").order_by(
        Case(When(status=pending, then=Value(0)), default=Value(1), output_field=IntegerField()),
        Case(When(status=pending, then=F("submitted_at"))).asc(),
        "-submitted_at",
        "-pk",
    )


def can_moderate(user) -> bool:
    return user.is_active and user.has_perm(MODERATE_PERMISSION)


def moderation_forbidden(request):
    """A real 403 (Wagtail would redirect to the dashboard): the decision was not recorded."""
    return TemplateResponse(
        request,
        "diagnosis/admin/forbidden.html",
        {
            "message": _("Only moderators can approve, reject or hide concerns."),
            "back_url": reverse(Concern.snippet_viewset.get_url_name("list")),
        },
        status=403,
    )


def _url(concern: Concern, name: str) -> str:
    return reverse(Concern.snippet_viewset.get_url_name(name), args=(quote(concern.pk),))


# --- Forms ------------------------------------------------------------------------------------


class ModerationForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect, required=False
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to reject or hide. Kept in the concern's history."),
    )


class BulkModerationForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the history of every selected concern."),
    )


class ConcernPointWidget(AreaMapWidget):
    """The admin map widget of `maps` (media and sizing solved there), used to drop one pin."""

    settings_overrides = {"DEFAULT_ZOOM": 14}


class ConcernEntryForm(WagtailAdminModelForm):
    """What a facilitator copies from a resident at a session or from a paper form.

    Never saved directly: the view passes the cleaned data to `concern_submit`. The photo is a
    plain file field so that `photo_clean` (size limits, re-encoding, its messages) is its only
    gate, as on the public form. `entry_key` makes a double click store one concern, not two.
    """

    entry_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    source = forms.ChoiceField(
        label=_("source"),
        choices=[
            (Concern.Source.PAPER, Concern.Source.PAPER.label),
            (Concern.Source.FACILITATOR, Concern.Source.FACILITATOR.label),
        ],
        initial=Concern.Source.PAPER,
        widget=forms.RadioSelect,
    )
    language = forms.ChoiceField(
        label=_("language"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        help_text=_("The language the resident used."),
    )
    affected = forms.MultipleChoiceField(
        label=_("who is affected"),
        choices=Concern.Affected.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    photo = forms.FileField(
        label=_("photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        consultation = self.fields["consultation"]
        consultation.queryset = ConsultationPage.objects.select_related("locale").order_by("title")
        consultation.label_from_instance = lambda page: (
            f"{page.title} ({page.locale.language_code})"
        )
        self.fields["category"].queryset = category_choices()
        self.fields["area"].queryset = area_choices()
        self.fields["area"].help_text = _(
            "If there is no pin: the area of the consultation where it happens."
        )
        self.fields["point"].help_text = _(
            "Optional. If you drop a pin, the area is found from it."
        )


# --- Listing, inspect, history ----------------------------------------------------------------


class ConcernIndexView(IndexView):
    """The moderation queue."""

    def get_edit_url(self, instance):
        return None  # concerns are read-only; the title links to the inspect view

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if can_moderate(self.request.user):
            next_url = self.request.get_full_path()
            for priority, (status, label) in enumerate(DECISIONS, start=1):
                if instance.status == status:
                    continue
                url = f"{_url(instance, 'moderate')}?status={status}"
                buttons.append(
                    MenuItem(
                        label,
                        url=f"{url}&next={quote(next_url)}",
                        icon_name={"approved": "check", "rejected": "cross"}.get(status, "view"),
                        priority=priority,
                    )
                )
        buttons.append(
            MenuItem(_("History"), url=_url(instance, "history"), icon_name="history", priority=40)
        )
        return buttons


class ConcernInspectView(InspectView):
    """Everything a moderator needs on one page, and the decision form under it."""

    template_name = "diagnosis/admin/concern_inspect.html"

    def get_object(self, queryset=None):
        return get_object_or_404(
            Concern.objects.select_related("category", "consultation", "area", "entered_by"),
            pk=self.pk,
        )

    def get_edit_url(self):
        return None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        concern = self.object
        affected = dict(Concern.Affected.choices)
        context.update(
            {
                "concern": concern,
                "affected_labels": [affected.get(key, key) for key in concern.affected],
                "entered_by": concern.entered_by
                and (concern.entered_by.get_full_name() or concern.entered_by.get_username()),
                "language_name": dict(settings.LANGUAGES).get(concern.language, concern.language),
                "map_data": self._map_data(concern),
                "can_moderate": can_moderate(self.request.user),
                "moderation_form": ModerationForm(),
                "moderate_url": _url(concern, "moderate"),
                "history_url": _url(concern, "history"),
                "decisions": DECISIONS,
            }
        )
        return context

    @staticmethod
    def _map_data(concern: Concern) -> dict | None:
        if concern.point is None and concern.area is None:
            return None
        return {
            "point": [concern.point.y, concern.point.x] if concern.point else None,
            "area": json.loads(concern.area.geometry.geojson) if concern.area else None,
        }


class ConcernHistoryView(HistoryView):
    # Moderators have view + moderate, not add/change/delete; they must see the decisions.
    any_permission_required = ["add", "change", "delete", "view", "moderate"]

    def get_edit_url(self, instance):
        return _url(instance, "inspect")

    @cached_property
    def header_buttons(self):
        return [
            HeaderButton(
                label=_("Inspect"), url=_url(self.object, "inspect"), icon_name="info-circle"
            )
        ]


class ConcernEditView(View):
    """Residents' words are not edited: the edit URL (used by Wagtail's links) shows the concern."""

    inspect_url_name = None

    def get(self, request, pk):
        return redirect(self.inspect_url_name, pk)

    post = get


class ConcernCreateView(CreateView):
    """A facilitator enters a concern on a resident's behalf, through `concern_submit`.

    The consultation may be closed (paper forms arrive after closing), hence `enforce_open=False`;
    every other rule (category of the consultation, point inside its areas, photo cleaning)
    applies. The area is assigned from the pin server-side.
    """

    template_name = "diagnosis/admin/concern_create.html"
    success_message = _("Concern %(object)s saved; it now waits for moderation.")

    def get_success_buttons(self):
        return [messages.button(_url(self.object, "inspect"), _("View"))]

    def get_edit_url(self):
        return _url(self.object, "inspect")

    def form_valid(self, form):
        self.form = form
        data = form.cleaned_data
        try:
            result = concern_submit(
                consultation=data["consultation"],
                category=data["category"],
                idempotency_key=data["entry_key"],
                language=data["language"],
                description=data.get("description") or "",
                point=data.get("point"),
                area=data.get("area"),
                place_description=data.get("place_description") or "",
                time_band=data.get("time_band") or "",
                day_type=data.get("day_type") or "",
                frequency=data.get("frequency") or "",
                affected=data.get("affected") or [],
                gender=data.get("gender") or "",
                gender_description=data.get("gender_description") or "",
                age_band=data.get("age_band") or "",
                photo=data.get("photo") or None,
                source=data["source"],
                entered_by=self.request.user,
                enforce_open=False,
            )
        except ConcernRejected as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal)
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)
        self.object = result.concern
        if result.created:
            log(self.object, "wagtail.create", user=self.request.user)
        return self.save_action()

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


# --- Moderation -------------------------------------------------------------------------------


class ConcernModerateView(WagtailAdminTemplateMixin, FormView):
    """Decide on one concern. GET shows the form (pre-selected from ?status=), POST decides."""

    model = Concern
    template_name = "diagnosis/admin/concern_moderate.html"
    form_class = ModerationForm
    page_title = _("Moderate")
    header_icon = "tasks"
    index_url_name = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(
            Concern.objects.select_related("category", "consultation", "area"),
            pk=kwargs["pk"],
        )

    def dispatch(self, request, *args, **kwargs):
        if not can_moderate(request.user):
            return moderation_forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Concerns")},
            {"url": _url(self.object, "inspect"), "label": str(self.object)},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_initial(self):
        status = self.request.GET.get("status", "")
        return {"status": status if status in dict(DECISIONS) else ""}

    @cached_property
    def next_url(self):
        return get_valid_next_url_from_request(self.request) or _url(self.object, "inspect")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "concern": self.object,
                "next_url": self.next_url,
                "reason_required": [str(status) for status in REASON_REQUIRED],
            }
        )
        return context

    def form_valid(self, form):
        try:
            concern = concern_moderate(
                concern=self.object,
                user=self.request.user,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ModerationRefused as refusal:
            form.add_error(refusal.field, refusal.message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Concern %(reference)s: %(status)s.")
            % {"reference": concern.reference, "status": concern.get_status_display()},
        )
        return redirect(self.next_url)

    def form_invalid(self, form):
        messages.error(self.request, _("Nothing was changed: please correct the errors below."))
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class ConcernModerationBulkAction(SnippetBulkAction):
    """Approve, reject or hide the selected concerns with one reason, all or nothing."""

    template_name = "diagnosis/admin/bulk_moderate.html"
    form_class = BulkModerationForm
    status = None
    confirm_label = None

    @classproperty
    def models(cls):
        return [Concern]

    def dispatch(self, request, *args, **kwargs):
        if not can_moderate(request.user):
            return moderation_forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "action_label": self.display_name,
                "intro": self.intro_message(len(context.get("items", []))),
                "confirm_label": self.confirm_label,
                "reason_required": self.status in REASON_REQUIRED,
            }
        )
        return context

    def object_context(self, snippet):
        return {"item": snippet, "edit_url": _url(snippet, "inspect")}

    def form_valid(self, form):
        try:
            moderation_check(
                user=self.request.user, status=self.status, reason=form.cleaned_data["reason"]
            )
        except ModerationRefused as refusal:
            form.add_error("reason", refusal.message)
            return self.form_invalid(form)
        return super().form_valid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def get_execution_context(self):
        return {
            "user": self.request.user,
            "status": self.status,
            "reason": self.cleaned_form.cleaned_data["reason"],
        }

    @classmethod
    def execute_action(cls, objects, user=None, status=None, reason="", **kwargs):
        return concern_moderate_bulk(concerns=objects, user=user, status=status, reason=reason), 0

    # One whole sentence per action (set by each subclass), so every language can say it.
    intro = None
    done = None

    def intro_message(self, count: int) -> str:
        return self.intro % {"count": count}

    def get_success_message(self, num_parent_objects, num_child_objects):
        return self.done % {"count": num_parent_objects}


class ApproveBulkAction(ConcernModerationBulkAction):
    display_name = _("Approve")
    action_type = "approve"
    aria_label = _("Approve the selected concerns")
    confirm_label = _("Yes, approve")
    status = Concern.Status.APPROVED
    action_priority = 10

    intro = ngettext_lazy(
        "You are about to approve this concern:",
        "You are about to approve these %(count)d concerns:",
        "count",
    )
    done = ngettext_lazy("%(count)d concern approved.", "%(count)d concerns approved.", "count")


class RejectBulkAction(ConcernModerationBulkAction):
    display_name = _("Reject")
    action_type = "reject"
    aria_label = _("Reject the selected concerns")
    confirm_label = _("Yes, reject")
    status = Concern.Status.REJECTED
    action_priority = 20

    intro = ngettext_lazy(
        "You are about to reject this concern:",
        "You are about to reject these %(count)d concerns:",
        "count",
    )
    done = ngettext_lazy("%(count)d concern rejected.", "%(count)d concerns rejected.", "count")


class HideBulkAction(ConcernModerationBulkAction):
    display_name = _("Hide")
    action_type = "hide"
    aria_label = _("Hide the selected concerns")
    confirm_label = _("Yes, hide")
    status = Concern.Status.HIDDEN
    action_priority = 25

    intro = ngettext_lazy(
        "You are about to hide this concern:",
        "You are about to hide these %(count)d concerns:",
        "count",
    )
    done = ngettext_lazy("%(count)d concern hidden.", "%(count)d concerns hidden.", "count")
