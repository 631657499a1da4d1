"""Residents' word on a commitment: "is it happening?", a rating and a comment, or a complaint
about the authority's action — and the social-audit summary the commitment page shows.

No account is needed. Every submission is rate-limited per client (`maps.ratelimit`, setting
`CONVIVE_FEEDBACK_RATE_LIMIT`, one window for feedback and complaints together) and stored on the
*original* commitment (`cms.commitments.commitment_original`), so what residents say in every
language counts together.

What counts in the public summary (docs/social-audit.md):

- An answer ("is it happening?") and its rating count while pending, once approved and when the
  comment was hidden. The answer and the rating are two clicks that carry no words to moderate;
  waiting for a moderator before counting them would silence residents for as long as nobody
  moderates. "Hidden" is what a moderator does with a comment that names someone or gives an
  address: the words go, the answer and the rating stay. "Rejected" is spam or abuse: it never
  counts.
- The small-number rule of the whole project applies: no count, share or average is shown
  unless it rests on at least k = `CONVIVE_SUPPRESSION_K` answers; below that the page says
  "fewer than k residents have answered so far". Answer counts are suppressed like any published
  line of counts (`diagnosis.statistics.suppress_counts`).
- Only approved comments are shown, newest first, without names.
- Complaints are counted publicly, every one except those rejected as spam or abuse, and the
  count is shown even when small: it describes the authority's record, not the residents who
  complained (it is not broken down by anything about them), and a count hidden until five
  people complained would hide exactly the shortcomings residents are asked to report. Their
  words are never published.

Comments are published after moderation, so one with an e-mail address or a phone number is
refused with a message (as the results page's quotes are); a complaint goes only to the people
responsible, so a resident may leave a way to be contacted in it.

A complaint is stored first; its e-mail to the commitment's contact (or, without one, to the
moderators) is only requested after the commit (`cms.tasks.complaint_forward`). If sending fails
the complaint stays stored with `forwarded_at` empty, and `complaints_sweep_unforwarded` (a
periodic task and `manage.py complaints_forward`) sends it later.
"""

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from diagnosis.services.processing import moderator_emails
from diagnosis.statistics import Suppressed, clamp_k, publishable_share, suppress_counts
from maps.models import ModerationStatus
from maps.moderation import ModerationPolicy, decision_record, decision_record_bulk
from maps.ratelimit import rate_limit_hit

from .commitments import commitment_original
from .models import CommitmentFeedback, CommitmentPage
from .problems import EMAIL, text_has_phone
from .results import count_text, percent_text

logger = logging.getLogger("convive.feedback")

Kind = CommitmentFeedback.Kind
Happening = CommitmentFeedback.Happening

# Which feedback counts in the summary (see the module docstring).
COUNTED = (ModerationStatus.PENDING, ModerationStatus.APPROVED, ModerationStatus.HIDDEN)
COMMENTS_PER_PAGE = 10
COMMENT_MAX_LENGTH = CommitmentFeedback._meta.get_field("comment").max_length
RATINGS = [
    (1, _("1 — very poor")),
    (2, _("2 — poor")),
    (3, _("3 — fair")),
    (4, _("4 — good")),
    (5, _("5 — very good")),
]
RATE_SCOPE = "commitment-feedback"
DEFAULT_RATE = "10/3600"

FEEDBACK_ROUTE = "commitment_feedback"
COMPLAINT_ROUTE = "commitment_complaint"
FORM_TEMPLATE = "cms/commitment_feedback_form.html"
COMPLAINT_TEMPLATE = "cms/commitment_complaint.html"
# A signed cookie carries the reference code to the thank-you, so only the sender sees it (the
# concern form does the same, `diagnosis.views`).
THANKS_COOKIE = "convive-feedback"
THANKS_SALT = "convive.commitment.feedback"
THANKS_MAX_AGE = 24 * 3600


class FeedbackRejected(Exception):
    """Feedback that cannot be stored; the message is in the resident's language."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- Checks and forms ----------------------------------------------------------------------------


def comment_check(*, comment: str, public: bool) -> str:
    """The cleaned comment, or FeedbackRejected. A public comment may hold no e-mail address and
    no phone number: it is read by everyone once approved, and a moderator who missed one would
    publish someone's contact details."""
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise FeedbackRejected(
            gettext("Please keep it under %(max)d characters.") % {"max": COMMENT_MAX_LENGTH},
            field="comment",
        )
    if public and (EMAIL.search(comment) or text_has_phone(comment)):
        raise FeedbackRejected(
            gettext(
                "Your comment will be public: please remove e-mail addresses and phone numbers "
                "from it. If you want to be contacted, send a complaint instead: it goes only to "
                "the people responsible."
            ),
            field="comment",
        )
    return comment


def feedback_check(*, happening: str, rating: int | None, comment: str) -> tuple:
    """(happening, rating, comment) cleaned, or FeedbackRejected naming the field."""
    if happening not in Happening.values:
        raise FeedbackRejected(
            gettext("Choose an answer: yes, partly, no or I don't know."), field="happening"
        )
    if rating is not None and not (isinstance(rating, int) and 1 <= rating <= 5):
        raise FeedbackRejected(gettext("Choose a rating from 1 to 5."), field="rating")
    return happening, rating, comment_check(comment=comment, public=True)


def _rejections_to_form(form: forms.Form, check, **values) -> None:
    try:
        check(**values)
    except FeedbackRejected as rejection:
        form.add_error(
            rejection.field if rejection.field in form.fields else None, rejection.message
        )


class FeedbackForm(forms.Form):
    """The resident's answer on the commitment page. The rules are `feedback_check`'s."""

    happening = forms.ChoiceField(
        label=_("Is it happening?"),
        choices=Happening.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose an answer: yes, partly, no or I don't know.")},
    )
    rating = forms.TypedChoiceField(
        label=_("How would you rate it? (optional)"),
        choices=RATINGS,
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Shown on this page after a moderator has read it, without your name. Do not write "
            "names, addresses, phone numbers or e-mail addresses."
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "feedback-%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if not self.errors:
            _rejections_to_form(
                self,
                feedback_check,
                happening=data.get("happening", ""),
                rating=data.get("rating"),
                comment=data.get("comment", ""),
            )
        return data


class ComplaintForm(forms.Form):
    comment = forms.CharField(
        label=_("What is wrong?"),
        max_length=COMMENT_MAX_LENGTH,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_(
            "Say what you saw, where and when. If you want an answer, you can add a way to "
            "contact you: only the people who receive the complaint will see it."
        ),
        error_messages={
            "required": _("Write your complaint."),
            "min_length": _("Please say a little more (at least %(limit_value)d characters)."),
        },
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "complaint-%s")
        super().__init__(*args, **kwargs)

    def clean_comment(self):
        try:
            return comment_check(comment=self.cleaned_data["comment"], public=False)
        except FeedbackRejected as rejection:
            raise ValidationError(rejection.message) from rejection


# --- Services ------------------------------------------------------------------------------------


def feedback_submit(
    *,
    commitment: CommitmentPage,
    happening: str,
    rating: int | None,
    comment: str,
    language: str,
) -> CommitmentFeedback:
    """Store a resident's answer on the original commitment, pending moderation of its comment.

    Raises FeedbackRejected (nothing stored) when a rule is broken.
    """
    happening, rating, comment = feedback_check(happening=happening, rating=rating, comment=comment)
    with transaction.atomic():
        return CommitmentFeedback.objects.create(
            commitment=commitment_original(commitment),
            kind=Kind.FEEDBACK,
            happening=happening,
            rating=rating,
            comment=comment,
            language=(language or settings.LANGUAGE_CODE)[:10],
            submitted_at=timezone.now(),
        )


def complaint_submit(
    *, commitment: CommitmentPage, comment: str, language: str
) -> CommitmentFeedback:
    """Store a complaint on the original commitment, then (after the commit) request its e-mail.

    The complaint is in the database before anything is sent: a dead broker or mail server
    loses nothing (`complaints_sweep_unforwarded` sends it later).
    """
    comment = comment_check(comment=comment, public=False)
    if not comment:
        raise FeedbackRejected(gettext("Write your complaint."), field="comment")
    with transaction.atomic():
        complaint = CommitmentFeedback.objects.create(
            commitment=commitment_original(commitment),
            kind=Kind.COMPLAINT,
            comment=comment,
            language=(language or settings.LANGUAGE_CODE)[:10],
            submitted_at=timezone.now(),
        )
        transaction.on_commit(lambda: complaint_enqueue_forward(complaint_id=complaint.pk))
    return complaint


def complaint_enqueue_forward(*, complaint_id: int) -> bool:
    """Ask the workers to e-mail a complaint. False (logged) when that failed for now."""
    from .tasks import complaint_forward

    try:
        complaint_forward.apply_async(args=[complaint_id], retry=False)
    except Exception as error:
        # A dead broker raises transport errors; with no broker the task runs here and a failed
        # send lands here too. The complaint stays stored and unsent; the sweep sends it later,
        # and the resident's submission has already succeeded.
        logger.warning(
            "Could not send complaint %s now (%s); left for the sweep", complaint_id, error
        )
        return False
    return True


def _complaint_message(complaint: CommitmentFeedback, *, to_moderators: bool) -> tuple[str, str]:
    """Subject and body, in the active language."""
    commitment = complaint.commitment
    programme = commitment.get_parent()
    language_name = dict(settings.LANGUAGES).get(complaint.language, complaint.language)
    subject = gettext("Complaint about “%(commitment)s” (%(reference)s)") % {
        "commitment": commitment.title,
        "reference": complaint.reference,
    }
    parts = []
    if to_moderators:
        parts.append(
            gettext(
                "This commitment has no contact e-mail, so the complaint was sent to the "
                "moderators of Convive. Please pass it on to %(agency)s, who is responsible, and "
                "add a contact e-mail to the commitment so that the next complaints reach them "
                "directly."
            )
            % {"agency": commitment.agency}
        )
    parts.append(
        gettext(
            "A resident sent a complaint about a commitment that %(agency)s is responsible for."
        )
        % {"agency": commitment.agency}
    )
    parts.append(
        "\n".join(
            [
                gettext("Programme: %(title)s") % {"title": programme.title if programme else ""},
                gettext("Commitment: %(title)s") % {"title": commitment.title},
                gettext("Reference code: %(reference)s") % {"reference": complaint.reference},
                gettext("Sent on: %(date)s")
                % {
                    "date": date_format(
                        timezone.localtime(complaint.submitted_at), "DATETIME_FORMAT"
                    )
                },
                gettext("Written in: %(language)s") % {"language": language_name},
            ]
        )
    )
    parts.append(gettext("The complaint:") + "\n\n" + complaint.comment)
    parts.append(
        gettext("The commitment's public page: %(url)s") % {"url": commitment.get_full_url() or ""}
    )
    if to_moderators:
        url = settings.WAGTAILADMIN_BASE_URL + reverse(
            "wagtailsnippets_cms_commitmentfeedback:inspect", args=[complaint.pk]
        )
        parts.append(gettext("In the admin: %(url)s") % {"url": url})
    parts.append(
        gettext(
            "The resident has no account and gave no name. If they left a way to contact them, "
            "it is in the text above; if they ask about the complaint, they will quote its "
            "reference code. The commitment's page shows how many complaints it received, never "
            "their words."
        )
    )
    return subject, "\n\n".join(parts)


def complaint_send(*, complaint_id: int) -> bool:
    """E-mail an unsent complaint to the commitment's contact (or the moderators), once, in the
    commitment's language, and record when. True if this call sent it.

    A failed send raises and leaves `forwarded_at` empty; so does a complaint with nobody to send
    it to (logged), which goes out once a contact e-mail or a moderator address exists.
    """
    with transaction.atomic():
        complaint = (
            CommitmentFeedback.objects.select_for_update()
            .filter(pk=complaint_id, kind=Kind.COMPLAINT, forwarded_at__isnull=True)
            .select_related("commitment", "commitment__locale")
            .first()
        )
        if complaint is None:
            return False
        commitment = complaint.commitment
        to_moderators = not commitment.contact_email
        recipients = moderator_emails() if to_moderators else [commitment.contact_email]
        if not recipients:
            logger.warning(
                "Complaint %s: commitment %s has no contact e-mail and there is no moderator "
                "address; not sent",
                complaint.reference,
                commitment.pk,
            )
            return False
        with translation.override(commitment.locale.language_code):
            subject, body = _complaint_message(complaint, to_moderators=to_moderators)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        complaint.forwarded_at = timezone.now()
        complaint.save(update_fields=["forwarded_at"])
    return True


def complaints_sweep_unforwarded(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Send the complaints that were stored but never sent. Returns how many were sent.

    Stops at the first failure: the mail server is probably down, the next sweep tries again.
    """
    cutoff = timezone.now() - older_than
    ids = list(
        CommitmentFeedback.objects.filter(
            kind=Kind.COMPLAINT, forwarded_at__isnull=True, submitted_at__lte=cutoff
        )
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:500]
    )
    sent = 0
    for complaint_id in ids:
        try:
            sent += complaint_send(complaint_id=complaint_id)
        except Exception as error:
            logger.warning("Could not send complaint %s (%s); will try again", complaint_id, error)
            break
    return sent


# --- Moderation ----------------------------------------------------------------------------------

MODERATE_PERMISSION = "cms.moderate_commitmentfeedback"
LOG_ACTIONS = {
    ModerationStatus.APPROVED: "convive.commitmentfeedback.approve",
    ModerationStatus.REJECTED: "convive.commitmentfeedback.reject",
    ModerationStatus.HIDDEN: "convive.commitmentfeedback.hide",
}
POLICY = ModerationPolicy(
    model=CommitmentFeedback,
    permission=MODERATE_PERMISSION,
    log_actions=LOG_ACTIONS,
    denied_message=_("You do not have permission to moderate feedback on commitments."),
    reason_missing_message=_(
        "Give a reason to reject or hide feedback; it is kept in its history."
    ),
)


def feedback_moderate(
    *, feedback: CommitmentFeedback, user, status: str, reason: str = ""
) -> CommitmentFeedback:
    """Approve (the comment is shown), hide (the comment is not shown, the answer still counts)
    or reject (spam or abuse: nothing counts) one piece of feedback or a complaint."""
    return decision_record(policy=POLICY, obj=feedback, user=user, status=status, reason=reason)


def feedback_moderate_bulk(*, feedback, user, status: str, reason: str = "") -> int:
    return decision_record_bulk(
        policy=POLICY, objects=feedback, user=user, status=status, reason=reason
    )


# --- Selectors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerRow:
    value: str
    label: str
    count: str  # a number, or "fewer than k"
    share: str  # "40,0 %", or "" when it cannot be published
    percent: float | None  # for the bar


@dataclass(frozen=True)
class SocialAudit:
    k: int
    answered: int
    enough: bool  # at least k answers: the breakdown may be shown
    rows: list[AnswerRow]
    rated: int
    average: str  # "3,4", or "" below k ratings
    complaints: int


def feedback_summary(*, commitment: CommitmentPage) -> SocialAudit:
    """The social-audit numbers of a commitment (any translation), under the small-number rule."""
    original = commitment_original(commitment)
    k = clamp_k(settings.CONVIVE_SUPPRESSION_K)
    counted = Q(kind=Kind.FEEDBACK, status__in=COUNTED)
    totals = CommitmentFeedback.objects.filter(commitment=original).aggregate(
        **{
            f"answer_{value}": Count("pk", filter=counted & Q(happening=value))
            for value in Happening.values
        },
        rated=Count("rating", filter=counted),
        rating_sum=Sum("rating", filter=counted),
        complaints=Count(
            "pk", filter=Q(kind=Kind.COMPLAINT) & ~Q(status=ModerationStatus.REJECTED)
        ),
    )
    counts = [totals[f"answer_{value}"] for value in Happening.values]
    answered = sum(counts)
    rows = []
    if answered >= k:
        published = suppress_counts(counts, k)
        for (value, label), count, shown in zip(
            Happening.choices, counts, published.cells, strict=True
        ):
            share = None if isinstance(shown, Suppressed) else publishable_share(count, answered, k)
            rows.append(
                AnswerRow(
                    value=value,
                    label=label,
                    count=count_text(None if isinstance(shown, Suppressed) else shown, k),
                    share=percent_text(share),
                    percent=round(share * 100, 1) if share is not None else None,
                )
            )
    rated = totals["rated"]
    average = ""
    if rated >= k:
        average = number_format(round(totals["rating_sum"] / rated, 1), decimal_pos=1)
    return SocialAudit(
        k=k,
        answered=answered,
        enough=answered >= k,
        rows=rows,
        rated=rated,
        average=average,
        complaints=totals["complaints"],
    )


def public_comments(*, commitment: CommitmentPage):
    """Approved comments on a commitment (any translation), newest first."""
    return (
        CommitmentFeedback.objects.filter(
            commitment=commitment_original(commitment),
            kind=Kind.FEEDBACK,
            status=ModerationStatus.APPROVED,
        )
        .exclude(comment="")
        .only("happening", "rating", "comment", "language", "submitted_at")
        .order_by("-submitted_at", "-pk")
    )


def feedback_under(page) -> int:
    """How many pieces of feedback and complaints point at `page` or a page below it."""
    return CommitmentFeedback.objects.filter(commitment__path__startswith=page.path).count()


# --- The commitment page's block ------------------------------------------------------------------


def _page_path(request: HttpRequest | None, page: CommitmentPage) -> str:
    """The commitment's path as the resident reached it (keeping their language prefix), from
    the page itself or one of its routes; the page's own URL in previews."""
    match = getattr(request, "routable_resolver_match", None)
    if request is None or match is None or getattr(request, "is_preview", False):
        return page.url or ""
    suffix = page.reverse_subpage(match.url_name, args=match.args, kwargs=match.kwargs)
    path = request.path
    return path[: -len(suffix)] if suffix and path.endswith(suffix) else path


def _thanks(request: HttpRequest | None, page: CommitmentPage, kind: str) -> str | None:
    """The reference code this browser just sent for this commitment, if of `kind`."""
    if request is None:
        return None
    signed = request.get_signed_cookie(
        THANKS_COOKIE, default="", salt=THANKS_SALT, max_age=THANKS_MAX_AGE
    )
    key, sent_kind, reference = [*signed.split(":", 2), "", ""][:3]
    return reference if key == str(page.translation_key) and sent_kind == kind else None


def _with_thanks(response: HttpResponse, page: CommitmentPage, feedback: CommitmentFeedback):
    response.set_signed_cookie(
        THANKS_COOKIE,
        f"{page.translation_key}:{feedback.kind}:{feedback.reference}",
        salt=THANKS_SALT,
        max_age=THANKS_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _comments_page(request, page, page_path: str):
    paginator = Paginator(public_comments(commitment=page), COMMENTS_PER_PAGE)
    number = request.GET.get("comments") if request is not None else None
    comments = paginator.get_page(number)
    happening = dict(Happening.choices)
    return {
        "page": comments,
        "items": [
            {
                "date": comment.submitted_at,
                "answer": happening.get(comment.happening, ""),
                "rating": comment.rating,
                "text": comment.comment,
                "language": comment.language,
            }
            for comment in comments
        ],
        "previous_url": f"{page_path}?comments={comments.previous_page_number()}#feedback-comments"
        if comments.has_previous()
        else "",
        "next_url": f"{page_path}?comments={comments.next_page_number()}#feedback-comments"
        if comments.has_next()
        else "",
    }


def feedback_context(*, request, page, form: FeedbackForm | None = None) -> dict:
    """What the commitment page's feedback block needs (`cms/includes/commitment_feedback.html`):
    the summary, the approved comments, the form, the link to the complaint page and, just after
    sending, the thank-you. A commitment previewed before its first save has none of these."""
    if page.pk is None:
        return {"feedback": None}
    page_path = _page_path(request, page)
    original = commitment_original(page)
    thanks = _thanks(request, page, Kind.FEEDBACK)
    return {
        "feedback": {
            "summary": feedback_summary(commitment=original),
            "comments": _comments_page(request, original, page_path),
            "form": form or FeedbackForm(),
            "action": page_path + page.reverse_subpage(FEEDBACK_ROUTE),
            "complaint_url": page_path + page.reverse_subpage(COMPLAINT_ROUTE),
            "thanks_reference": thanks if request and request.GET.get("feedback") else None,
        }
    }


# --- Views ---------------------------------------------------------------------------------------


def _rate_limited(request: HttpRequest) -> tuple[str, int] | None:
    """The refusal and Retry-After seconds when this client is over the limit, else None."""
    limit = rate_limit_hit(
        request=request,
        scope=RATE_SCOPE,
        rate=getattr(settings, "CONVIVE_FEEDBACK_RATE_LIMIT", DEFAULT_RATE),
    )
    if limit.allowed:
        return None
    minutes = max(1, math.ceil(limit.retry_after / 60))
    message = ngettext(
        "Many messages about commitments were sent from your connection in a short time. "
        "Please try again in %(minutes)d minute.",
        "Many messages about commitments were sent from your connection in a short time. "
        "Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    return message, limit.retry_after


def _error_list(form: forms.Form) -> list[dict]:
    errors = []
    for name, messages in form.errors.items():
        field = form.fields.get(name)
        anchor = form[name].auto_id if field is not None else "feedback-form"
        if field is not None and isinstance(field.widget, forms.RadioSelect):
            anchor = f"{anchor}_0"
        errors += [{"anchor": anchor, "message": message} for message in messages]
    return errors


def _render(request, page, template, *, status=200, refusal="", retry_after=0, **context):
    page_path = _page_path(request, page)
    response = TemplateResponse(
        request,
        template,
        {
            "page": page,
            "self": page,
            "page_path": page_path,
            "refusal": refusal,
            **context,
        },
        status=status,
    )
    response["Cache-Control"] = "private, no-store"
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _live_or_404(page: CommitmentPage) -> None:
    # Wagtail routes only live pages here; a page unpublished between render and submit, or
    # a direct call, is refused the same way.
    if not page.live:
        raise Http404


def feedback_submit_view(request: HttpRequest, page: CommitmentPage) -> HttpResponse:
    """POST the block's form: store it and go back to the page's thank-you (303). A GET goes
    to the page. 429 over the rate limit, 400 with the form and its messages for bad input."""
    _live_or_404(page)
    page_path = _page_path(request, page)
    if request.method != "POST":
        return HttpResponseRedirect(f"{page_path}#feedback")
    limited = _rate_limited(request)
    if limited:
        refusal, retry_after = limited
        return _render(
            request, page, FORM_TEMPLATE, status=429, refusal=refusal, retry_after=retry_after
        )
    form = FeedbackForm(request.POST)
    feedback = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            feedback = feedback_submit(
                commitment=page,
                happening=data["happening"],
                rating=data["rating"],
                comment=data["comment"],
                language=get_language(),
            )
        except FeedbackRejected as rejection:
            field = rejection.field if rejection.field in form.fields else None
            form.add_error(field, rejection.message)
    if feedback is None:
        return _render(
            request,
            page,
            FORM_TEMPLATE,
            status=400,
            form=form,
            error_list=_error_list(form),
            action=page_path + page.reverse_subpage(FEEDBACK_ROUTE),
        )
    response = HttpResponseRedirect(f"{page_path}?feedback=sent#feedback-thanks", status=303)
    return _with_thanks(response, page, feedback)


def _complaint_recipient(page: CommitmentPage) -> dict:
    original = commitment_original(page)
    return {
        "agency": original.agency,
        "contact_name": original.contact_name,
        "has_contact": bool(original.contact_email),
    }


def complaint_view(request: HttpRequest, page: CommitmentPage) -> HttpResponse:
    """GET: the complaint form, saying who receives it and what happens with it (or, after
    `?sent=1`, the thank-you with the reference code). POST: store it and redirect (303)."""
    _live_or_404(page)
    page_path = _page_path(request, page)
    action = page_path + page.reverse_subpage(COMPLAINT_ROUTE)
    common = {"action": action, "recipient": _complaint_recipient(page)}
    if request.method != "POST":
        if request.GET.get("sent"):
            reference = _thanks(request, page, Kind.COMPLAINT)
            return _render(
                request, page, COMPLAINT_TEMPLATE, sent=True, reference=reference, **common
            )
        return _render(request, page, COMPLAINT_TEMPLATE, form=ComplaintForm(), **common)

    limited = _rate_limited(request)
    if limited:
        refusal, retry_after = limited
        return _render(
            request,
            page,
            COMPLAINT_TEMPLATE,
            status=429,
            refusal=refusal,
            retry_after=retry_after,
            **common,
        )
    form = ComplaintForm(request.POST)
    complaint = None
    if form.is_valid():
        try:
            complaint = complaint_submit(
                commitment=page, comment=form.cleaned_data["comment"], language=get_language()
            )
        except FeedbackRejected as rejection:
            form.add_error("comment", rejection.message)
    if complaint is None:
        return _render(
            request,
            page,
            COMPLAINT_TEMPLATE,
            status=400,
            form=form,
            error_list=_error_list(form),
            **common,
        )
    response = HttpResponseRedirect(f"{action}?sent=1", status=303)
    return _with_thanks(response, page, complaint)
