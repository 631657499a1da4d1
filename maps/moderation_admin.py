"""The Wagtail admin of moderation, for every kind of contribution: concerns and walk stops.

The service core (`maps.moderation`) decides; this module is the admin around it, written once:
the moderation queue's row menu, the inspect page's frame and decision form, the confirmation
page of one decision, the bulk approve / reject / hide actions, History that moderators can
read, the real 403 page and the log entries' wording. Each kind of contribution describes
itself with a `ModeratedKind` (its policy, its services, its templates and its sentences) and
hands it to a viewset that mixes in `ModerationViewSetMixin`; only what a moderator reads about
one contribution (the inspect page's content, the summary and bulk-list partials) is the app's.

Contributions are read-only here: what a resident or a walking group wrote is theirs. A
moderator approves, rejects or hides, with a reason for the last two; nothing is edited or
deleted. The edit URL that Wagtail links to shows the contribution instead.

Sentences that name the kind ("Only moderators can approve, reject or hide concerns.") stay
whole sentences in the app that owns the kind, so every language can say them.

This module knows no app but `maps`: `diagnosis` builds on it, never the other way round.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from django import forms
from django.conf import settings
from django.contrib.admin.utils import quote
from django.db import models
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property, classproperty
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, View
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton
from wagtail.log_actions import LogFormatter
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction
from wagtail.snippets.views.snippets import HistoryView, IndexView, InspectView

from .models import ModerationStatus
from .moderation import ModerationPolicy, ModerationRefused, decision_check, moderation_allowed

DECISIONS = [
    (ModerationStatus.APPROVED, _("Approve")),
    (ModerationStatus.REJECTED, _("Reject")),
    (ModerationStatus.HIDDEN, _("Hide")),
]
DECISION_ICONS = {ModerationStatus.APPROVED: "check", ModerationStatus.REJECTED: "cross"}
# How History names a decision once taken.
DECISIONS_TAKEN = {
    ModerationStatus.APPROVED: _("Approved"),
    ModerationStatus.REJECTED: _("Rejected"),
    ModerationStatus.HIDDEN: _("Hidden"),
}


@dataclass(frozen=True)
class DecisionSentences:
    """What the admin says about one decision on one kind, in whole sentences for translation."""

    log_label: str  # the log action in History's filter: "Approve concern"
    bulk_label: str  # the bulk button's accessible name: "Approve the selected concerns"
    bulk_intro: str  # ngettext_lazy with %(count)d: "You are about to approve these … concerns:"
    bulk_done: str  # ngettext_lazy with %(count)d: "%(count)d concerns approved."


@dataclass(frozen=True)
class ModeratedKind:
    """What the moderation admin needs to know about one kind of contribution.

    `moderate(obj, user=, status=, reason=)` and `moderate_bulk(objects, user=, status=,
    reason=)` are the app's own services (which may do more than the core, like the public map's
    counts for concerns). The sentences are lazy translations, whole so they can be translated;
    `done_message` may use `%(object)s`, `%(reference)s` and `%(status)s`.
    `summary_template` shows the contribution above the decision form (it includes
    "maps/admin/moderation/_status.html" where it wants the status); `bulk_item_template` is one
    line of the bulk confirmation list (`entry.item`, `entry.edit_url`).
    """

    policy: ModerationPolicy
    moderate: Callable[..., models.Model]
    moderate_bulk: Callable[..., int]
    forbidden_message: str
    reason_help: str
    bulk_reason_help: str
    bulk_reason_note: str
    done_message: str
    summary_template: str
    bulk_item_template: str
    # Decision (a status) → what the admin says about that decision on this kind.
    decisions: Mapping[str, DecisionSentences]
    # What a moderator's pages load with the contribution.
    related: tuple[str, ...] = ()
    # Static stylesheets the summary and the inspect content need besides the shared styles.
    stylesheets: tuple[str, ...] = ()
    # The listing's name in breadcrumbs, and the 403 page's button back to the listing;
    # default: the model's verbose plural name (and "Back" to the listing a bulk action came from).
    index_label: str | None = None
    back_label: str | None = None

    @property
    def model(self) -> type[models.Model]:
        return self.policy.model

    def plural_label(self) -> str:
        return capfirst(self.model._meta.verbose_name_plural)

    def url(self, obj: models.Model, name: str) -> str:
        return reverse(self.model.snippet_viewset.get_url_name(name), args=(quote(obj.pk),))

    def index_url(self) -> str:
        return reverse(self.model.snippet_viewset.get_url_name("list"))

    def allowed(self, user) -> bool:
        return moderation_allowed(policy=self.policy, user=user)

    def queryset(self):
        return self.model._default_manager.select_related(*self.related)


def user_label(user) -> str:
    """A staff member as colleagues know them: full name, else username."""
    return user.get_full_name() or user.get_username()


# --- Forms ------------------------------------------------------------------------------------


def _reason_field(*, max_length: int, help_text) -> forms.CharField:
    return forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text,
    )


class ModerationForm(forms.Form):
    """One decision and its reason; the reason rules are the core's (`decision_check`)."""

    status = forms.ChoiceField(
        label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect, required=False
    )

    def __init__(self, *args, kind: ModeratedKind, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"] = _reason_field(
            max_length=kind.policy.reason_max_length, help_text=kind.reason_help
        )


class BulkModerationForm(forms.Form):
    """The one reason recorded on every selected contribution."""

    def __init__(self, *args, kind: ModeratedKind, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"] = _reason_field(
            max_length=kind.policy.reason_max_length, help_text=kind.bulk_reason_help
        )


# --- Pieces -----------------------------------------------------------------------------------


def moderation_forbidden(request, *, message, back_url: str, back_label):
    """A real 403 (Wagtail would redirect to the dashboard): the decision was not recorded."""
    return TemplateResponse(
        request,
        "maps/admin/forbidden.html",
        {"message": message, "back_url": back_url, "back_label": back_label},
        status=403,
    )


def decision_menu_items(*, moderate_url: str, current: str, next_url: str) -> list[MenuItem]:
    """Approve / Reject / Hide in a listing row's menu, leaving out the current status."""
    return [
        MenuItem(
            label,
            url=f"{moderate_url}?status={status}&next={quote(next_url)}",
            icon_name=DECISION_ICONS.get(status, "view"),
            priority=priority,
        )
        for priority, (status, label) in enumerate(DECISIONS, start=1)
        if status != current
    ]


# --- Views ------------------------------------------------------------------------------------


class ModerationIndexView(IndexView):
    """The moderation queue: rows link to the inspect view; their menu decides."""

    kind: ModeratedKind = None

    def get_edit_url(self, instance):
        return None  # read-only; the title links to the inspect view

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if self.kind.allowed(self.request.user):
            buttons += decision_menu_items(
                moderate_url=self.kind.url(instance, "moderate"),
                current=instance.status,
                next_url=self.request.get_full_path(),
            )
        buttons.append(
            MenuItem(
                _("History"),
                url=self.kind.url(instance, "history"),
                icon_name="history",
                priority=40,
            )
        )
        return buttons


class ModerationInspectView(InspectView):
    """Everything a moderator needs on one page, and the decision form under it.

    The frame (status, provenance, photo, decision) is "maps/admin/moderation/inspect.html";
    each kind's template extends it and fills in what the contribution says.
    """

    kind: ModeratedKind = None

    def get_object(self, queryset=None):
        return get_object_or_404(self.kind.queryset(), pk=self.pk)

    def get_edit_url(self):
        return None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = self.object
        context.update(
            {
                "language_name": dict(settings.LANGUAGES).get(obj.language, obj.language),
                "stylesheets": self.kind.stylesheets,
                "can_moderate": self.kind.allowed(self.request.user),
                "moderation_form": ModerationForm(kind=self.kind),
                "moderate_url": self.kind.url(obj, "moderate"),
                "history_url": self.kind.url(obj, "history"),
            }
        )
        return context


class ModerationHistoryView(HistoryView):
    # Moderators have view + moderate, not add/change/delete; they must see the decisions.
    any_permission_required = ["add", "change", "delete", "view", "moderate"]
    kind: ModeratedKind = None

    def get_edit_url(self, instance):
        return self.kind.url(instance, "inspect")

    @cached_property
    def header_buttons(self):
        return [
            HeaderButton(
                label=_("Inspect"),
                url=self.kind.url(self.object, "inspect"),
                icon_name="info-circle",
            )
        ]


class ReadOnlyEditView(View):
    """Contributions are not edited: the edit URL (used by Wagtail's links) shows one instead."""

    inspect_url_name = None

    def get(self, request, pk):
        return redirect(self.inspect_url_name, pk)

    post = get


class ModerateView(WagtailAdminTemplateMixin, FormView):
    """Decide on one contribution. GET shows the form (pre-selected from ?status=), POST decides."""

    kind: ModeratedKind = None
    template_name = "maps/admin/moderation/moderate.html"
    form_class = ModerationForm
    page_title = _("Moderate")
    header_icon = "tasks"
    index_url_name = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(self.kind.queryset(), pk=kwargs["pk"])

    def dispatch(self, request, *args, **kwargs):
        if not self.kind.allowed(request.user):
            return moderation_forbidden(
                request,
                message=self.kind.forbidden_message,
                back_url=self.kind.index_url(),
                back_label=self.kind.back_label or self.kind.plural_label(),
            )
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "kind": self.kind}

    def get_page_subtitle(self):
        return str(self.object)

    @cached_property
    def inspect_url(self) -> str:
        return self.kind.url(self.object, "inspect")

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": self.kind.index_label or self.kind.plural_label(),
            },
            {"url": self.inspect_url, "label": str(self.object)},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_initial(self):
        status = self.request.GET.get("status", "")
        return {"status": status if status in dict(DECISIONS) else ""}

    @cached_property
    def next_url(self):
        return get_valid_next_url_from_request(self.request) or self.inspect_url

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "object": self.object,
                "summary_template": self.kind.summary_template,
                "stylesheets": self.kind.stylesheets,
                "next_url": self.next_url,
            }
        )
        return context

    def form_valid(self, form):
        try:
            decided = self.kind.moderate(
                self.object,
                user=self.request.user,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ModerationRefused as refusal:
            form.add_error(refusal.field, refusal.message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            self.kind.done_message
            % {
                "object": decided,
                "reference": decided.reference,
                "status": decided.get_status_display(),
            },
        )
        return redirect(self.next_url)

    def form_invalid(self, form):
        messages.error(self.request, _("Nothing was changed: please correct the errors below."))
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class ModerationViewSetMixin:
    """Makes a snippet viewset a read-only moderation queue: list, inspect, decide, history.

    Set `kind`; every view of the viewset receives it. The decision page is at
    `moderate/<pk>/` (URL name "moderate").
    """

    kind: ModeratedKind = None
    list_per_page = 50
    search_fields = None
    inspect_view_enabled = True
    copy_view_enabled = False
    index_view_class = ModerationIndexView
    inspect_view_class = ModerationInspectView
    history_view_class = ModerationHistoryView
    edit_view_class = ReadOnlyEditView
    moderate_view_class = ModerateView

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(kind=self.kind, **kwargs)

    @property
    def moderate_view(self):
        return self.construct_view(
            self.moderate_view_class, index_url_name=self.get_url_name("list")
        )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("moderate/<int:pk>/", self.moderate_view, name="moderate"),
        ]


# --- Bulk actions -----------------------------------------------------------------------------


class ModerationBulkAction(SnippetBulkAction):
    """Approve, reject or hide the selected contributions with one reason, all or nothing.

    `moderation_bulk_actions` makes one subclass per decision, from the kind's sentences.
    """

    template_name = "maps/admin/moderation/bulk_moderate.html"
    form_class = BulkModerationForm
    kind: ModeratedKind = None
    status = None
    confirm_label = None
    intro = None  # ngettext_lazy, with %(count)d
    done = None  # ngettext_lazy, with %(count)d

    @classproperty
    def models(cls):
        return [cls.kind.model] if cls.kind else []

    def dispatch(self, request, *args, **kwargs):
        if not self.kind.allowed(request.user):
            back_url, back_label = self.forbidden_back()
            return moderation_forbidden(
                request,
                message=self.kind.forbidden_message,
                back_url=back_url,
                back_label=back_label,
            )
        return super().dispatch(request, *args, **kwargs)

    def forbidden_back(self) -> tuple[str, str]:
        """The kind's own way back if it has one, else back to where the moderator came from."""
        if self.kind.back_label:
            return self.kind.index_url(), self.kind.back_label
        return self.next_url, _("Back")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "kind": self.kind}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "action_label": self.display_name,
                "intro": self.intro % {"count": len(context.get("items", []))},
                "confirm_label": self.confirm_label,
                "reason_required": self.status in self.kind.policy.reason_required,
                "reason_note": self.kind.bulk_reason_note,
                "item_template": self.kind.bulk_item_template,
            }
        )
        return context

    def object_context(self, snippet):
        return {"item": snippet, "edit_url": self.kind.url(snippet, "inspect")}

    def form_valid(self, form):
        try:
            decision_check(
                policy=self.kind.policy,
                user=self.request.user,
                status=self.status,
                reason=form.cleaned_data["reason"],
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
    def execute_action(cls, objects: Iterable, user=None, status=None, reason="", **kwargs):
        return cls.kind.moderate_bulk(objects, user=user, status=status, reason=reason), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return self.done % {"count": num_parent_objects}


# Decision → the bulk action's type (in its URL), button, confirmation button and place in the
# bulk actions bar.
BULK_DECISIONS = {
    ModerationStatus.APPROVED: ("approve", _("Approve"), _("Yes, approve"), 10),
    ModerationStatus.REJECTED: ("reject", _("Reject"), _("Yes, reject"), 20),
    ModerationStatus.HIDDEN: ("hide", _("Hide"), _("Yes, hide"), 25),
}


def moderation_bulk_actions(kind: ModeratedKind) -> list[type[ModerationBulkAction]]:
    """The kind's approve, reject and hide bulk actions.

    Wagtail finds a bulk action by its class's attributes (model, action type), so each decision
    is its own class; they differ only in data, so they are made here rather than written out.
    """
    actions = []
    for status, (action_type, label, confirm_label, priority) in BULK_DECISIONS.items():
        sentences = kind.decisions[status]
        name = f"{action_type.capitalize()}{kind.model.__name__}BulkAction"
        attributes = {
            "__module__": __name__,
            "__qualname__": name,
            "kind": kind,
            "status": status,
            "action_type": action_type,
            "display_name": label,
            "confirm_label": confirm_label,
            "action_priority": priority,
            "aria_label": sentences.bulk_label,
            "intro": sentences.bulk_intro,
            "done": sentences.bulk_done,
        }
        actions.append(type(name, (ModerationBulkAction,), attributes))
    return actions


# --- History ----------------------------------------------------------------------------------


class DecisionFormatter(LogFormatter):
    """A moderation decision in History: the decision and, if given, its reason."""

    def __init__(self, *, label, decision):
        self.label = label
        self.decision = decision

    def format_message(self, log_entry):
        reason = (log_entry.data or {}).get("reason", "")
        if reason:
            return _("%(decision)s. Reason: %(reason)s") % {
                "decision": self.decision,
                "reason": reason,
            }
        return str(self.decision)


def decision_log_actions_register(actions, *, kind: ModeratedKind) -> None:
    """Register the kind's decision log actions (from a `register_log_actions` hook)."""
    for status, action in kind.policy.log_actions.items():
        actions.register_action(action)(
            partial(
                DecisionFormatter,
                label=kind.decisions[status].log_label,
                decision=DECISIONS_TAKEN[status],
            )
        )


def moderation_admin_register(kind: ModeratedKind) -> None:
    """Register the kind's bulk decisions and History wording with Wagtail.

    Called once, from the `wagtail_hooks` module of the app that owns the kind.
    """
    for action in moderation_bulk_actions(kind):
        hooks.register("register_bulk_action", action)
    hooks.register("register_log_actions", partial(decision_log_actions_register, kind=kind))
