"""Facilitators type in questionnaires that residents answered on paper, by telephone or face to
face (admin URL `questionnaire_paper:enter`, /admin/questionnaires/paper/<page_id>/).

The view is thin: answers go through `questionnaire_submit` with `source`, `entered_by` and
`enforce_open=False` (paper forms arrive after a consultation stops listening), so an entry obeys
exactly the rules of the resident page. The questions are the resident page's own partial and
helpers (`diagnosis.questionnaire_views`), rendered in the language of the paper form: the
facilitator sees the same words, in the same places, as the form in their hand, and gets the same
messages; the admin around it speaks the facilitator's language.

Not rate limited: it never calls `maps.ratelimit` (like the concerns' admin entry), and staff are
exempt there anyway.
"""

import datetime
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import include, path, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.log_actions import log

from maps.moderation_admin import moderation_forbidden

from .models import Concern
from .pages import ConsultationPage
from .questionnaire_views import (
    _form_context,
    _idempotency_key,
    _posted_answers,
    _posted_profile,
)
from .services.groups import FACILITATORS
from .services.questionnaires import (
    NON_FIELD,
    QuestionnaireRejected,
    questionnaire_clean,
    questionnaire_questions,
    questionnaire_submit,
)

TEMPLATE = "diagnosis/admin/questionnaire_paper.html"
SAVE_AND_ANOTHER = "another"
SOURCES = [
    (Concern.Source.PAPER, Concern.Source.PAPER.label),
    (Concern.Source.FACILITATOR, Concern.Source.FACILITATOR.label),
]


def paper_entry_allowed(user, page: ConsultationPage) -> bool:
    """Who may enter answers for residents: whoever can edit the consultation, and facilitators.

    Admin access itself is checked by Wagtail for every admin URL (`require_admin_access`).
    """
    if page.permissions_for_user(user).can_edit():
        return True
    return user.is_active and user.groups.filter(name=FACILITATORS).exists()


class PaperEntryForm(forms.Form):
    """How the answers reached us, and when the resident filled in the form.

    The answers themselves are not fields here: they are the questionnaire's, read with
    `_posted_answers` and checked by `questionnaire_submit`.

    `filled_on` is optional. It may not be in the future, nor before the consultation opened
    (when it has an opening date): such a date is almost always a mistyped year, and the
    diagnosis reports on the consultation's period. A date after closing is accepted (forms
    collected late). QuestionnaireResponse has no field for it yet: the view records it in the
    entry's log (see the module's `_log_entry`).
    """

    source = forms.ChoiceField(
        label=gettext_lazy("How the resident answered"),
        choices=SOURCES,
        initial=Concern.Source.PAPER,
        widget=forms.RadioSelect,
    )
    filled_on = forms.DateField(
        label=gettext_lazy("Date written on the form"),
        required=False,
        help_text=gettext_lazy("Optional: the day the resident filled it in or was interviewed."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, consultation: ConsultationPage, **kwargs):
        super().__init__(*args, **kwargs)
        self.consultation = consultation
        today = timezone.localdate()
        self.fields["filled_on"].widget.attrs["max"] = today.isoformat()
        if self.opened_on:
            self.fields["filled_on"].widget.attrs["min"] = self.opened_on.isoformat()

    @cached_property
    def opened_on(self) -> datetime.date | None:
        opens_at = self.consultation.opens_at
        return timezone.localdate(opens_at) if opens_at else None

    def clean_filled_on(self):
        filled_on = self.cleaned_data.get("filled_on")
        if filled_on is None:
            return None
        if filled_on > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        if self.opened_on and filled_on < self.opened_on:
            raise forms.ValidationError(
                _("The consultation opened on %(date)s: the form cannot be older.")
                % {"date": date_format(self.opened_on, "DATE_FORMAT")}
            )
        return filled_on


def _language_order(code: str) -> int:
    codes = [language for language, _name in settings.LANGUAGES]
    return codes.index(code) if code in codes else len(codes)


def _not_listening_note(page: ConsultationPage) -> str:
    """Why residents cannot answer online now, for the warning line; "" while listening."""
    if page.accepts_concerns:
        return ""
    if page.phase != ConsultationPage.Phase.LISTENING:
        reason = _("its phase is “%(phase)s”") % {"phase": page.get_phase_display()}
    elif page.opens_at and timezone.now() < page.opens_at:
        reason = _("it opens on %(date)s") % {
            "date": date_format(timezone.localtime(page.opens_at), "DATE_FORMAT")
        }
    else:
        reason = _("it closed on %(date)s") % {
            "date": date_format(timezone.localtime(page.closes_at), "DATE_FORMAT")
        }
    return _(
        "This consultation is not listening now (%(reason)s): residents cannot answer online. "
        "You can still enter the forms they filled in."
    ) % {"reason": reason}


class PaperEntryView(WagtailAdminTemplateMixin, View):
    """GET shows the consultation's questionnaire in the chosen language; POST stores one form.

    Success redirects (303): "Save and enter another" back to a blank form in the same language,
    with the same source and date; "Save" to `?next=` or the consultation's editor. A refusal
    re-renders with 400, everything typed kept, and stores nothing. The idempotency key makes a
    double click store one response.
    """

    template_name = TEMPLATE
    page_title = gettext_lazy("Enter a questionnaire")
    header_icon = "clipboard-list"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.consultation = get_object_or_404(ConsultationPage, pk=kwargs["page_id"])

    def dispatch(self, request, *args, **kwargs):
        if not paper_entry_allowed(request.user, self.consultation):
            return moderation_forbidden(
                request,
                message=_(
                    "Only people who can edit this consultation, or members of the "
                    "Facilitators group, can enter questionnaires for residents."
                ),
                back_url=reverse("wagtailadmin_home"),
                back_label=_("Back to the dashboard"),
            )
        return super().dispatch(request, *args, **kwargs)

    # --- Which page, in which language ---------------------------------------------------------

    @cached_property
    def translations(self) -> list[ConsultationPage]:
        """The live pages of this consultation, one per language, in the site's language order."""
        pages = self.consultation.get_translations(inclusive=True).live().select_related("locale")
        return sorted(pages, key=lambda page: _language_order(page.locale.language_code))

    def entry_page(self, code: str) -> ConsultationPage | None:
        """The live translation in `code`; None if there is none."""
        return next((p for p in self.translations if p.locale.language_code == code), None)

    def default_language(self) -> str:
        own = self.consultation.locale.language_code
        if self.entry_page(own) or not self.translations:
            return own
        return self.translations[0].locale.language_code

    def get_page_subtitle(self):
        return self.consultation.title

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse("wagtailadmin_pages:edit", args=[self.consultation.pk]),
                "label": self.consultation.title,
            },
            {"url": "", "label": self.get_page_title()},
        ]

    @property
    def entry_url(self) -> str:
        return reverse("questionnaire_paper:enter", args=[self.consultation.pk])

    # --- GET and POST ----------------------------------------------------------------------------

    def get(self, request, page_id):
        code = request.GET.get("language") or self.default_language()
        if self.entry_page(code) is None:
            code = self.default_language()
        form = PaperEntryForm(
            consultation=self.entry_page(code) or self.consultation,
            initial={
                "source": request.GET.get("source") or Concern.Source.PAPER,
                "filled_on": request.GET.get("filled_on") or None,
            },
        )
        return self.render(code=code, form=form)

    def post(self, request, page_id):
        code = request.POST.get("language", "")
        page = self.entry_page(code)
        if page is None:
            return self.render(
                code=self.default_language(),
                form=PaperEntryForm(request.POST, consultation=self.consultation),
                refusal=_("This consultation has no published page in that language."),
                status=400,
            )
        form = PaperEntryForm(request.POST, consultation=page)
        key = _idempotency_key(request.POST.get("idempotency_key", ""))
        profile = _posted_profile(request)
        # The questionnaire's rules and messages in the language of the form, as residents get.
        with translation.override(code):
            questions = questionnaire_questions(page)
            answers = _posted_answers(request, questions)
            values = {**answers, **profile, "idempotency_key": key}
            if not questions:
                errors = {NON_FIELD: _("This consultation has no questionnaire.")}
            elif not form.is_valid():
                # Say everything at once: the questions' problems too, without storing.
                errors = questionnaire_clean(questions=questions, answers=answers)[1]
            else:
                try:
                    result = self.store(page, form, answers=answers, profile=profile, key=key)
                except QuestionnaireRejected as rejection:
                    errors = rejection.errors
                else:
                    return self.stored(result, form)
        return self.render(code=code, form=form, values=values, errors=errors, status=400)

    def store(self, page, form, *, answers, profile, key):
        """The response and the record of who entered it, together or not at all."""
        data = form.cleaned_data
        with transaction.atomic():
            result = questionnaire_submit(
                consultation=page,
                answers=answers,
                language=page.locale.language_code,
                idempotency_key=key,
                source=data["source"],
                entered_by=self.request.user,
                enforce_open=False,
                filled_on=data["filled_on"],
                **profile,
            )
            if result.created:
                _log_entry(result.response, user=self.request.user, filled_on=data["filled_on"])
        return result

    def stored(self, result, form):
        number = result.response.pk
        if result.created:
            messages.success(
                self.request, _("Questionnaire response %(number)s saved.") % {"number": number}
            )
        else:
            messages.warning(
                self.request,
                _("This form was already saved as response %(number)s; it was not stored again.")
                % {"number": number},
            )
        if self.request.POST.get("action") == SAVE_AND_ANOTHER:
            data = form.cleaned_data
            kept = {
                "language": result.response.language,
                "source": data["source"],
                "filled_on": data["filled_on"].isoformat() if data["filled_on"] else "",
            }
            return HttpResponseRedirect(f"{self.entry_url}?{urlencode(kept)}", status=303)
        next_url = get_valid_next_url_from_request(self.request) or reverse(
            "wagtailadmin_pages:edit", args=[self.consultation.pk]
        )
        return HttpResponseRedirect(next_url, status=303)

    def render(self, *, code, form, values=None, errors=None, refusal="", status=200):
        page = self.entry_page(code)
        errors = errors or {}
        if refusal or page is None:
            refusal = refusal or _(
                "This consultation is not published: there is no questionnaire to enter yet."
            )
        with translation.override(code):
            questions = questionnaire_questions(page) if page and not refusal else []
            if page is not None and not refusal and not questions:
                refusal = _("This consultation has no questionnaire.")
            questionnaire = _form_context(questions, values=values or {}, errors=errors)
            for error in questionnaire["error_list"]:
                error["lang"] = code
        context = {
            **self.get_context_data(),
            **questionnaire,
            "consultation": self.consultation,
            "form": form,
            "language": code,
            "languages": [
                {
                    "code": p.locale.language_code,
                    "name": p.locale.get_display_name(),
                    "selected": p.locale.language_code == code,
                }
                for p in self.translations
            ],
            "refusal": refusal,
            "not_listening": _not_listening_note(page) if page else "",
            "error_list": [*_form_errors(form), *questionnaire["error_list"]],
            "action_url": self.entry_url,
            "next_url": get_valid_next_url_from_request(self.request),
            "editor_url": reverse("wagtailadmin_pages:edit", args=[self.consultation.pk]),
        }
        return TemplateResponse(self.request, self.template_name, context, status=status)


def _form_errors(form: PaperEntryForm) -> list[dict]:
    """The entry form's own errors for the summary, linked to their fields."""
    if not form.is_bound:
        return []
    listed = []
    for name, field_errors in form.errors.items():
        field = form[name] if name in form.fields else None
        anchor = (field.subwidgets[0].id_for_label if field else "") or "questionnaire-form"
        listed.extend({"anchor": anchor, "message": message} for message in field_errors)
    return listed


def _log_entry(response, *, user, filled_on: datetime.date | None) -> None:
    """Record who typed the form in, and the date written on it, in the admin's history.

    The date is stored on the response (`filled_on`); the log keeps it too, as an audit trail of
    what was typed.
    """
    data = {"source": response.source, "language": response.language}
    if filled_on:
        data["filled_on"] = filled_on.isoformat()
    log(response, "wagtail.create", user=user, data=data)


urlpatterns = [path("<int:page_id>/", PaperEntryView.as_view(), name="enter")]


@hooks.register("register_admin_urls")
def register_paper_entry_urls():
    return [path("questionnaires/paper/", include((urlpatterns, "questionnaire_paper")))]
