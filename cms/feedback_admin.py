"""The Wagtail admin of residents' feedback and complaints on commitments: a moderation queue
like the concerns' and the walk stops' (`maps.moderation_admin`), the pending count on the
dashboard, and the guard that keeps a commitment with feedback from being deleted.

Moderators approve a comment (it is shown on the commitment page), hide it (it named someone or
gave an address: the words are not shown, the answer and the rating still count) or reject it
(spam or abuse: nothing counts, and a rejected complaint leaves the public count). Facilitators
can read the queue but not decide. What a resident wrote is never edited or deleted.

Imported by `cms.wagtail_hooks`, which is where Wagtail looks for registrations.
"""

import django_filters
from django.db.models import Q
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from django.views import View
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.site_summary import SummaryItem
from wagtail.admin.ui.tables import Column
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from diagnosis.filters import _default_locale_first
from maps.models import ModerationStatus
from maps.moderation import moderation_queue_order
from maps.moderation_admin import (
    DecisionSentences,
    ModeratedKind,
    ModerationIndexView,
    ModerationInspectView,
    ModerationViewSetMixin,
    moderation_admin_register,
)

from .feedback import POLICY, feedback_moderate, feedback_moderate_bulk, feedback_under
from .models import CommitmentFeedback, ProgrammePage

FEEDBACK_MODERATION = ModeratedKind(
    policy=POLICY,
    moderate=lambda feedback, **decision: feedback_moderate(feedback=feedback, **decision),
    moderate_bulk=lambda items, **decision: feedback_moderate_bulk(feedback=items, **decision),
    forbidden_message=_("Only moderators can approve, reject or hide feedback on commitments."),
    reason_help=_("Required to reject or hide. Kept in the history."),
    bulk_reason_help=_("Recorded in the history of every selected item."),
    bulk_reason_note=_(
        "A reason is required. It is recorded in the history of every selected item; nothing "
        "is deleted."
    ),
    done_message=_("Feedback %(reference)s: %(status)s."),
    summary_template="cms/admin/_feedback_summary.html",
    bulk_item_template="cms/admin/_feedback_bulk_item.html",
    decisions={
        ModerationStatus.APPROVED: DecisionSentences(
            log_label=_("Approve feedback on a commitment"),
            bulk_label=_("Approve the selected feedback"),
            bulk_intro=ngettext_lazy(
                "You are about to approve this item:",
                "You are about to approve these %(count)d items:",
                "count",
            ),
            bulk_done=ngettext_lazy(
                "%(count)d item approved.", "%(count)d items approved.", "count"
            ),
        ),
        ModerationStatus.REJECTED: DecisionSentences(
            log_label=_("Reject feedback on a commitment"),
            bulk_label=_("Reject the selected feedback"),
            bulk_intro=ngettext_lazy(
                "You are about to reject this item:",
                "You are about to reject these %(count)d items:",
                "count",
            ),
            bulk_done=ngettext_lazy(
                "%(count)d item rejected.", "%(count)d items rejected.", "count"
            ),
        ),
        ModerationStatus.HIDDEN: DecisionSentences(
            log_label=_("Hide feedback on a commitment"),
            bulk_label=_("Hide the selected feedback"),
            bulk_intro=ngettext_lazy(
                "You are about to hide this item:",
                "You are about to hide these %(count)d items:",
                "count",
            ),
            bulk_done=ngettext_lazy("%(count)d item hidden.", "%(count)d items hidden.", "count"),
        ),
    },
    related=("commitment",),
    index_label=_("Feedback on commitments"),
    back_label=_("Back to feedback on commitments"),
)


def feedback_queue(queryset):
    return moderation_queue_order(queryset.select_related("commitment"), arrived="submitted_at")


# --- Filters -------------------------------------------------------------------------------------


def programme_choices(request=None):
    return _default_locale_first(ProgrammePage.objects.all()).order_by("title")


class FeedbackFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=CommitmentFeedback.Kind.choices, empty_label=_("All")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=ModerationStatus.choices, empty_label=_("All")
    )
    programme = django_filters.ModelChoiceFilter(
        label=_("Programme"),
        queryset=programme_choices,
        method="filter_programme",
        empty_label=_("All"),
    )
    sent = django_filters.ChoiceFilter(
        label=_("Complaint sent to the contact"),
        choices=[("yes", _("Sent")), ("no", _("Not sent yet"))],
        method="filter_sent",
        empty_label=_("All"),
    )

    class Meta:
        model = CommitmentFeedback
        fields = ["kind", "status", "programme", "sent"]

    def filter_programme(self, queryset, name, value):
        # Feedback points at original commitments, which may sit under any translation.
        under = Q()
        for programme in ProgrammePage.objects.filter(translation_key=value.translation_key):
            under |= Q(commitment__path__startswith=programme.path)
        return queryset.filter(under)

    def filter_sent(self, queryset, name, value):
        complaints = queryset.filter(kind=CommitmentFeedback.Kind.COMPLAINT)
        return complaints.filter(forwarded_at__isnull=(value == "no"))


# --- Views ---------------------------------------------------------------------------------------


class FeedbackIndexView(ModerationIndexView):
    @cached_property
    def add_url(self):
        return None  # residents send feedback from the commitment page, through feedback_submit


class FeedbackCreateView(View):
    """Feedback is sent by residents from the commitment page: the add URL leads to the queue."""

    def get(self, request):
        messages.info(request, _("Residents send feedback from the commitment's public page."))
        return redirect(CommitmentFeedback.snippet_viewset.get_url_name("list"))

    post = get


class FeedbackInspectView(ModerationInspectView):
    template_name = "cms/admin/feedback_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        commitment = self.object.commitment
        context.update(
            {
                "feedback": self.object,
                "commitment": commitment,
                "programme": commitment.get_parent(),
                "commitment_edit_url": reverse("wagtailadmin_pages:edit", args=[commitment.pk]),
            }
        )
        return context


class FeedbackViewSet(ModerationViewSetMixin, SnippetViewSet):
    """Feedback and complaints as a read-only snippet: a moderation queue, inspect, decide,
    history."""

    model = CommitmentFeedback
    kind = FEEDBACK_MODERATION
    icon = "comment"
    menu_label = _("Feedback on commitments")
    menu_name = "commitment-feedback"
    menu_order = 310  # just after Participation
    add_to_admin_menu = True
    list_display = [
        "reference",
        "kind",
        Column("commitment", label=capfirst(_("commitment")), accessor="commitment"),
        "happening",
        "rating",
        "status",
        "submitted_at",
        "forwarded_at",
    ]
    filterset_class = FeedbackFilterSet
    index_view_class = FeedbackIndexView
    inspect_view_class = FeedbackInspectView
    add_view_class = FeedbackCreateView

    def get_queryset(self, request):
        return feedback_queue(CommitmentFeedback.objects.all())


# --- Dashboard -----------------------------------------------------------------------------------


class PendingFeedbackSummaryItem(SummaryItem):
    """ "3 pieces of feedback to moderate" on the dashboard, linking to the queue."""

    order = 450

    def is_shown(self):
        return self.request.user.has_perm("cms.view_commitmentfeedback")

    def render_html(self, parent_context=None):
        pending = CommitmentFeedback.objects.filter(status=ModerationStatus.PENDING).count()
        url = reverse(CommitmentFeedback.snippet_viewset.get_url_name("list"))
        return render_to_string(
            "cms/admin/feedback_summary_item.html",
            {
                "url": f"{url}?status={ModerationStatus.PENDING}",
                "label": ngettext(
                    "%(count)d piece of feedback on commitments to moderate",
                    "%(count)d pieces of feedback on commitments to moderate",
                    pending,
                )
                % {"count": pending},
            },
        )


# --- Deleting a commitment -----------------------------------------------------------------------


def _delete_refusal(request, page, count: int):
    messages.error(
        request,
        ngettext(
            "“%(title)s” cannot be deleted: residents have sent %(count)d piece of feedback or "
            "complaint about it (or a commitment below it), and it stays part of the public "
            "record. To take a commitment off the programme, set its status to “Cancelled” "
            "instead.",
            "“%(title)s” cannot be deleted: residents have sent %(count)d pieces of feedback or "
            "complaints about it (or a commitment below it), and they stay part of the public "
            "record. To take a commitment off the programme, set its status to “Cancelled” "
            "instead.",
            count,
        )
        % {"title": page.get_admin_display_title(), "count": count},
    )


def commitment_delete_guard(request, page):
    """before_delete_page: refuse, with a message, to delete a page that has residents'
    feedback on it or below it. The feedback's link is PROTECT, and Wagtail's delete view
    would otherwise end in a server error."""
    count = feedback_under(page)
    if not count:
        return None
    _delete_refusal(request, page, count)
    return redirect("wagtailadmin_pages:edit", page.pk)


def commitment_bulk_delete_guard(request, action_type, objects, action_class_instance):
    """before_bulk_action: the same refusal for the page listing's bulk delete."""
    if action_type != "delete":
        return None
    for page in objects:
        if not hasattr(page, "path"):
            return None  # not pages: another model's bulk delete
        count = feedback_under(page)
        if count:
            _delete_refusal(request, page, count)
            return redirect(action_class_instance.next_url)
    return None


register_snippet(FeedbackViewSet)
moderation_admin_register(FEEDBACK_MODERATION)
hooks.register("before_delete_page", commitment_delete_guard)
hooks.register("before_bulk_action", commitment_bulk_delete_guard)
hooks.register(
    "construct_homepage_summary_items",
    lambda request, items: items.append(PendingFeedbackSummaryItem(request)),
)
