"""The question bank screen: a facilitator ticks standard questions and they join the draft.

`/admin/questionnaires/bank/<page_id>/` (`questionnaire_bank:add`). The screen lists the bank
(`diagnosis.question_bank`) by theme, in the page's language, with each item's type, choices,
condition and method note; questions already in the draft are shown as such and cannot be ticked
again. Posting hands the ticked codes to `question_bank_add`, which writes a new draft revision,
and comes back to the page editor: the facilitator reviews the Questionnaire tab and publishes.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import include, path, reverse
from django.utils import translation
from django.utils.translation import get_language_info, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views import View
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from maps.moderation_admin import moderation_forbidden

from .pages import ConsultationPage
from .question_bank import (
    BANK,
    BANK_BY_CODE,
    LANGUAGES,
    THEMES,
    BankItem,
    QuestionBankAddition,
    QuestionBankRefused,
    bank_ancestors,
    bank_language,
    question_bank_add,
    question_bank_page,
    question_bank_present,
)
from .questionnaire_blocks import TIME_BAND, QuestionnaireBlock, time_band_choices

TEMPLATE = "diagnosis/admin/question_bank.html"
FIELD = "items"


def _language_name(code: str) -> str:
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def _item_row(item: BankItem, *, language: str, present: set[str], selected: set[str]) -> dict:
    """What the screen shows of one item: its wording in the page's language, type, choices,
    condition in words, and whether it is already in the questionnaire."""
    if item.type == TIME_BAND:
        with translation.override(language):
            choices = [str(label) for _band, label in time_band_choices()]
    else:
        choices = [choice.label[language] for choice in item.choices]
    condition = ""
    if item.condition:
        parent = BANK_BY_CODE[item.condition[0]]
        answer = next(c.label[language] for c in parent.choices if c.value == item.condition[1])
        condition = _("Shown only to residents who answered “%(answer)s” to “%(question)s”.") % {
            "answer": answer,
            "question": parent.text[language],
        }
        missing = [a for a in bank_ancestors(item) if a.code not in present]
        if missing:
            condition += " " + ngettext(
                "Choosing it adds that question too.",
                "Choosing it adds the %(count)d questions it depends on too.",
                len(missing),
            ) % {"count": len(missing)}
    return {
        "code": item.code,
        "text": item.text[language],
        "help_text": item.help_text[language],
        "type_label": QuestionnaireBlock().child_blocks[item.type].label,
        "choices": choices,
        "condition": condition,
        "note": item.note,
        "present": item.code in present,
        "selected": item.code in selected,
    }


class QuestionBankView(WagtailAdminTemplateMixin, View):
    """GET: the bank by theme, with checkboxes. POST: add the ticked questions as a draft."""

    template_name = TEMPLATE
    header_icon = "clipboard-list"
    page_title = gettext_lazy("Question bank")

    def dispatch(self, request: HttpRequest, page_id: int) -> HttpResponse:
        requested = get_object_or_404(ConsultationPage, pk=page_id)
        self.requested = requested
        # The page whose draft changes: a wagtail-localize translation's source (see there).
        self.page = question_bank_page(requested)
        self.edit_url = reverse("wagtailadmin_pages:edit", args=[self.page.pk])
        if not self.page.permissions_for_user(request.user).can_edit():
            return moderation_forbidden(
                request,
                message=_("You cannot edit this consultation, so you cannot add questions to it."),
                back_url=reverse("wagtailadmin_home"),
                back_label=_("Back to the dashboard"),
            )
        return super().dispatch(request, page_id)

    def get_page_subtitle(self):
        return self.page.get_admin_display_title()

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": self.edit_url, "label": self.page.get_admin_display_title()},
            {"url": "", "label": self.get_page_title()},
        ]

    def render(self, *, errors=(), selected=(), status=200) -> TemplateResponse:
        language = bank_language(self.page.locale.language_code)
        present = question_bank_present(self.page)
        selected = set(selected)
        themes = [
            {
                "theme": theme,
                "items": [
                    _item_row(item, language=language, present=present, selected=selected)
                    for item in BANK
                    if item.theme == theme
                ],
            }
            for theme in THEMES
        ]
        context = self.get_context_data(
            consultation=self.page,
            requested=self.requested,
            is_source_of_requested=self.requested.pk != self.page.pk,
            requested_language=_language_name(self.requested.locale.language_code),
            language=language,
            language_name=_language_name(language),
            page_language_name=_language_name(self.page.locale.language_code),
            falls_back=language != self.page.locale.language_code,
            other_languages=", ".join(
                _language_name(code) for code in LANGUAGES if code != language
            ),
            themes=themes,
            available=sum(1 for item in BANK if item.code not in present),
            errors=list(errors),
            field_name=FIELD,
            edit_url=self.edit_url,
        )
        return TemplateResponse(self.request, TEMPLATE, context, status=status)

    def get(self, request: HttpRequest, page_id: int) -> HttpResponse:
        return self.render()

    def post(self, request: HttpRequest, page_id: int) -> HttpResponse:
        codes = request.POST.getlist(FIELD)
        lock = self.page.get_lock()
        if lock and lock.for_user(request.user):
            return self.render(
                errors=[str(lock.get_message(request.user))], selected=codes, status=409
            )
        try:
            addition = question_bank_add(page=self.page, codes=codes, user=request.user)
        except QuestionBankRefused as refusal:
            return self.render(errors=refusal.messages, selected=codes, status=400)
        messages.success(request, _success_message(addition))
        # To the editor's first tab, not "#tab-…questionnaire": Wagtail would scroll to the tab's
        # panel and the message, which says what to do next, would be out of sight.
        return HttpResponseRedirect(self.edit_url)


def _quoted(items: list[BankItem], language: str) -> str:
    return ", ".join(f"“{item.text[language]}”" for item in items)


def _success_message(addition: QuestionBankAddition) -> str:
    """How many questions were added, which came along with a follow-up, and what to do next."""
    parts = [
        ngettext(
            "%(count)d question from the bank was added to the questionnaire as a draft.",
            "%(count)d questions from the bank were added to the questionnaire as a draft.",
            len(addition.added),
        )
        % {"count": len(addition.added)}
    ]
    if addition.parents_added:
        parts.append(
            ngettext(
                "%(parents)s was added too, because the question you chose is shown only after "
                "its answer.",
                "%(parents)s were added too, because the questions you chose are shown only "
                "after their answers.",
                len(addition.parents_added),
            )
            % {"parents": _quoted(addition.parents_added, addition.language)}
        )
    if addition.skipped:
        parts.append(
            _("Already in the questionnaire, so not added again: %(questions)s.")
            % {"questions": _quoted(addition.skipped, addition.language)}
        )
    if addition.translations_offered:
        parts.append(
            _(
                "Their wording in the other languages is ready for when you translate or "
                "synchronise the page."
            )
        )
    parts.append(
        _(
            "Residents see nothing yet: review the questions in the Questionnaire tab, then "
            "publish the page."
        )
    )
    return " ".join(parts)


@hooks.register("register_admin_urls")
def register_question_bank_urls():
    urls = [path("<int:page_id>/", QuestionBankView.as_view(), name="add")]
    return [path("questionnaires/bank/", include((urls, "questionnaire_bank")))]
