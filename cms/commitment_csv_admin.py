"""Admin pages for keeping a programme's commitments in a spreadsheet: "Import commitments"
(upload a CSV file) and "Export commitments (CSV)", both in the programme page's header menu.

The work is done by `cms.commitment_csv`; these views check who may use it, take the upload and
show the result. Importing needs the right to edit the programme and add commitments to it (an
agency given page permissions on its own programme has both); exporting needs the right to edit
it, since the admin file holds drafts and the contacts' e-mail and telephone. Anyone else gets a
403 page in their language.
"""

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets import Button

from maps.moderation_admin import moderation_forbidden

from .commitment_csv import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    commitments_csv,
    commitments_export,
    commitments_import,
    csv_download,
    programme_original,
)
from .commitment_forms import programme_areas, programme_problems
from .models import CommitmentStatus, ProgrammePage


def _forbidden(request, programme: ProgrammePage, message):
    return moderation_forbidden(
        request,
        message=message,
        back_url=reverse("wagtailadmin_explore", args=[programme.pk]),
        back_label=_("Back to the programme"),
    )


class CommitmentImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("At most %(size)d MB and %(rows)d commitments.")
        % {"size": MAX_BYTES // (1024 * 1024), "rows": MAX_ROWS},
    )
    publish = forms.BooleanField(
        label=_("Publish the changes"),
        required=False,
        help_text=_(
            "Ticked, the public pages show the spreadsheet's commitments at once. Unticked, new "
            "and changed commitments are saved as drafts for someone to review and publish."
        ),
    )

    def __init__(self, *args, can_publish: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_publish:
            self.fields["publish"].disabled = True
            self.fields["publish"].initial = False
            self.fields["publish"].help_text = _(
                "You may save drafts; someone who can publish this programme makes them public."
            )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB. Split it into smaller files.")
                % {"size": MAX_BYTES // (1024 * 1024)}
            )
        return upload


class CommitmentImportView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "cms/admin/commitment_import.html"
    page_title = _("Import commitments")
    header_icon = "upload"

    def dispatch(self, request, *args, **kwargs):
        self.programme = get_object_or_404(ProgrammePage, pk=kwargs["programme_id"])
        self.original = programme_original(self.programme)
        permissions = self.original.permissions_for_user(request.user)
        if not (permissions.can_edit() and permissions.can_add_subpage()):
            return _forbidden(
                request,
                self.programme,
                _(
                    "Only people who can edit this programme and add commitments to it can "
                    "import a spreadsheet of commitments."
                ),
            )
        self.can_publish = permissions.can_publish_subpage()
        self.result = None
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        self.form = CommitmentImportForm(
            can_publish=self.can_publish, initial={"publish": self.can_publish}
        )
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.form = CommitmentImportForm(request.POST, request.FILES, can_publish=self.can_publish)
        if not self.form.is_valid():
            return self.render_to_response(self.get_context_data(), status=400)
        publish = self.can_publish and self.form.cleaned_data["publish"]
        self.result = commitments_import(
            programme=self.original,
            file=self.form.cleaned_data["file"],
            user=request.user,
            publish=publish,
        )
        if not self.result.ok:
            return self.render_to_response(self.get_context_data(), status=400)
        text = gettext(
            "The spreadsheet was imported. Added: %(created)d. Updated: %(updated)d. "
            "Unchanged: %(unchanged)d."
        ) % {
            "created": self.result.created,
            "updated": self.result.updated,
            "unchanged": self.result.unchanged,
        }
        if not publish and (self.result.created or self.result.updated):
            text += " " + gettext(
                "The changes are saved as drafts: publish them in the editor when they are ready."
            )
        if self.result.ignored_columns:
            text += " " + gettext("Columns not read: %(columns)s.") % {
                "columns": ", ".join(self.result.ignored_columns)
            }
        messages.success(request, text)
        return HttpResponseRedirect(request.path)

    def get_page_subtitle(self):
        return self.programme.title

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        locale = self.original.locale
        export_url = reverse("commitment_csv:export", args=[self.programme.pk])
        context.update(
            {
                "programme": self.programme,
                "form": self.form,
                "result": self.result,
                "columns": COLUMNS,
                "statuses": CommitmentStatus.objects.filter(locale=locale),
                "problems": programme_problems(self.original, locale=locale)
                .select_related("page")
                .order_by("page__pk", "sort_order", "pk"),
                "areas": programme_areas(self.original).defer("geometry").order_by("code"),
                "language": locale.get_display_name(),
                "export_url": export_url,
                "export_semicolon_url": f"{export_url}?format=semicolon",
                "explore_url": reverse("wagtailadmin_explore", args=[self.programme.pk]),
            }
        )
        return context

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse("wagtailadmin_explore", args=[self.programme.pk]),
                "label": self.programme.title,
            },
            {"url": "", "label": self.page_title},
        ]


def commitment_export_view(request, programme_id: int):
    """The admin's file: every commitment, drafts included, with the contacts. `?format=semicolon`
    gives semicolons and decimal commas, which Excel in Spanish, French and Portuguese opens
    with a double click."""
    programme = get_object_or_404(ProgrammePage, pk=programme_id)
    original = programme_original(programme)
    if not original.permissions_for_user(request.user).can_edit():
        return _forbidden(
            request,
            programme,
            _("Only people who can edit this programme can export its commitments."),
        )
    semicolon = request.GET.get("format") == "semicolon"
    rows = commitments_export(programme=original, request=request, decimal_comma=semicolon)
    content = commitments_csv(rows, delimiter=";" if semicolon else ",")
    return csv_download(content, f"{original.slug}-commitments-all.csv")


def commitment_csv_buttons(*, page, user):
    """The two entries of the programme page's header menu, for those who may use them."""
    if page.specific_class is not ProgrammePage:
        return
    original = programme_original(page.specific_deferred)
    permissions = original.permissions_for_user(user)
    if not permissions.can_edit():
        return
    if permissions.can_add_subpage():
        yield Button(
            _("Import commitments"),
            reverse("commitment_csv:import", args=[page.pk]),
            icon_name="upload",
            priority=30,
        )
    yield Button(
        _("Export commitments (CSV)"),
        reverse("commitment_csv:export", args=[page.pk]),
        icon_name="download",
        priority=31,
    )


urlpatterns = [
    path("<int:programme_id>/import/", CommitmentImportView.as_view(), name="import"),
    path("<int:programme_id>/export/", commitment_export_view, name="export"),
]
