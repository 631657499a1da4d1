"""The XLSForm import in the admin: upload, preview, confirm into a draft. Refusals store
nothing."""

import re
import time
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, trans_real
from wagtail.models import Revision

from diagnosis.models import ConsultationPage
from diagnosis.xlsform_admin import PREVIEW_MAX_AGE, SIGNING_SALT
from tests.diagnosis.conftest import staff
from tests.diagnosis.test_questionnaire_submit import QUESTIONS, questionnaire_set
from tests.diagnosis.test_questionnaire_translation import localize
from tests.diagnosis.test_translation_prefill import translate
from tests.diagnosis.test_xlsform import EN, ES, FR, YES_NO, q, xlsform

SURVEY = [
    q("start", "start"),
    q(
        "select_one yesno",
        "walk-alone",
        "Do you walk alone after dark?",
        "¿Camina sola o solo después del anochecer?",
        required="yes",
        **{FR: "Marchez-vous seul(e) la nuit ?"},
    ),
    q("integer", "minutes", "How many minutes?", "¿Cuántos minutos?", constraint=". >= 0"),
    q("text", "where", "Where?", "¿Dónde?", relevant="${walk-alone} = '1'"),
    q("geopoint", "gps", "Location", "Ubicación"),
]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload_file(data: bytes, name="form.xlsx"):
    return SimpleUploadedFile(name, data, content_type=XLSX_TYPE)


def upload_url(page):
    return reverse("questionnaire_xlsform:upload", args=[page.pk])


def confirm_url(page):
    return reverse("questionnaire_xlsform:confirm", args=[page.pk])


def payload(response) -> str:
    return unescape(re.search(r'name="payload" value="([^"]+)"', response.content.decode())[1])


@pytest.fixture
def facilitator_client(client, facilitator):
    client.force_login(facilitator)
    return client


def preview(client, page, data=None, **fields):
    fields.setdefault("mode", "append")
    fields.setdefault("language", "")
    return client.post(
        upload_url(page), {"file": upload_file(data or xlsform(SURVEY, YES_NO)), **fields}
    )


def latest_codes(page) -> list[str]:
    page = ConsultationPage.objects.get(pk=page.pk)
    return [child.value["code"] for child in page.get_latest_revision_as_object().questionnaire]


def test_upload_page_offers_the_file_mode_and_language(facilitator_client, consultation):
    response = facilitator_client.get(upload_url(consultation))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'type="file"' in html and 'accept=".xlsx' in html
    assert 'value="append"' in html and 'value="replace"' in html
    assert 'name="language"' in html


def test_upload_preview_confirm_makes_a_draft_and_leaves_the_live_page(
    facilitator_client, consultation
):
    revisions = Revision.objects.count()
    with translation.override("es"):
        response = preview(facilitator_client, consultation)
    html = response.content.decode()
    assert response.status_code == 200
    assert "¿Camina sola o solo después del anochecer?" in html
    assert "geopoint" in html
    assert Revision.objects.count() == revisions  # the preview stores nothing

    response = facilitator_client.post(confirm_url(consultation), {"payload": payload(response)})
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[consultation.pk])
    assert Revision.objects.count() == revisions + 1

    page = ConsultationPage.objects.get(pk=consultation.pk)
    assert list(page.questionnaire) == []  # the live page is unchanged
    draft = page.get_latest_revision_as_object()
    questions = {child.value["code"]: child.value for child in draft.questionnaire}
    assert list(questions) == ["walk-alone", "minutes", "where"]
    assert questions["walk-alone"]["required"] is True
    assert [c["label"] for c in questions["walk-alone"]["choices"]] == ["Sí", "No"]
    assert questions["minutes"]["min_value"] == 0
    assert dict(questions["where"]["condition"]) == {"question": "walk-alone", "answer": "1"}
    assert page.has_unpublished_changes

    followed = facilitator_client.get(response["Location"])
    messages = [str(m) for m in followed.context["messages"]]
    review = spanish("Review them in the Questionnaire tab")
    assert any(review in m for m in messages)


def test_the_preview_shows_counts_questions_and_the_report(facilitator_client, consultation):
    with translation.override("en"):
        response = preview(facilitator_client, consultation, HTTP_ACCEPT_LANGUAGE="en")
    context = response.context
    assert context["counts"]["imported"] + context["counts"]["noted"] == 3
    assert context["counts"]["skipped"] == 2
    assert context["counts"]["rows"] == len(SURVEY)
    assert [item["value"]["code"] for item in context["questions"]] == [
        "walk-alone",
        "minutes",
        "where",
    ]
    skipped = next(s for s in context["sections"] if s["outcome"] == "skipped")
    assert [(e.row, e.name, e.type) for e in skipped["entries"]] == [
        (2, "start", "start"),
        (6, "gps", "geopoint"),
    ]


def test_append_keeps_the_draft_and_suffixes_a_code_already_used(facilitator_client, consultation):
    questionnaire_set(consultation, QUESTIONS[:2], publish=False)  # a draft with walk-alone
    response = preview(facilitator_client, consultation)
    assert "walk-alone-2" in response.content.decode()
    facilitator_client.post(confirm_url(consultation), {"payload": payload(response)})
    assert latest_codes(consultation) == [
        "walk-alone",
        "feel-safe",
        "walk-alone-2",
        "minutes",
        "where",
    ]


def test_replace_puts_the_imported_questions_in_place_of_the_current_ones(
    facilitator_client, consultation
):
    questionnaire_set(consultation, QUESTIONS)
    response = preview(facilitator_client, consultation, mode="replace")
    facilitator_client.post(confirm_url(consultation), {"payload": payload(response)})
    assert latest_codes(consultation) == ["walk-alone", "minutes", "where"]
    live = ConsultationPage.objects.get(pk=consultation.pk)
    assert len(list(live.questionnaire)) == len(QUESTIONS)  # published questions unchanged


def test_the_wording_column_can_be_chosen(facilitator_client, consultation):
    response = preview(facilitator_client, consultation, language="en")
    facilitator_client.post(confirm_url(consultation), {"payload": payload(response)})
    draft = ConsultationPage.objects.get(pk=consultation.pk).get_latest_revision_as_object()
    assert next(iter(draft.questionnaire)).value["question"] == "Do you walk alone after dark?"


# --- Refusals -----------------------------------------------------------------------------------


def spanish(message: str) -> str:
    """The Spanish translation of the one msgid that starts with `message` (its first words)."""
    catalog = trans_real.translation("es")._catalog
    matches = [key for key in catalog.keys() if isinstance(key, str) and key.startswith(message)]
    assert len(matches) == 1, f"{message!r} starts {len(matches)} msgids"
    return catalog[matches[0]]


def refused(response, message: str):
    """A 400 whose page shows `message` (a msgid, or its first words) in Spanish: the longest
    literal part of the translation."""
    assert response.status_code == 400
    expected = spanish(message)
    literal = max(re.split(r"%\(\w+\)[-.0-9]*[sdf]", expected), key=len)
    assert literal[:40] in unescape(response.content.decode())


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("form.csv", b"type,name\ntext,a\n", "“%(name)s” is not an .xlsx file."),
        ("form.xlsx", b"this is not a spreadsheet", "This file could not be read as an .xlsx"),
        (
            "form.xlsx",
            xlsform([q("text", "a", es="¿A?")], names={"survey": "Hoja1"}),
            "This spreadsheet has no sheet called “survey”",
        ),
        (
            "form.xlsx",
            xlsform([{"kind": "text", "question": "¿A?"}]),
            "The survey sheet needs the columns “type” and “name”",
        ),
        (
            "form.xlsx",
            xlsform([q("note", "hello", es="Hola"), q("calculate", "c", calculation="1")]),
            "None of the %(rows)d rows of this form can become a Convive question",
        ),
    ],
)
def test_bad_files_get_a_400_with_a_message_and_nothing_is_stored(
    facilitator_client, consultation, name, data, message
):
    revisions = Revision.objects.count()
    response = facilitator_client.post(
        upload_url(consultation),
        {"file": upload_file(data, name), "mode": "append", "language": ""},
    )
    refused(response, message)
    assert Revision.objects.count() == revisions


def test_a_file_over_5_mb_is_refused(facilitator_client, consultation):
    big = upload_file(b"0" * (5 * 1024 * 1024 + 1))
    response = facilitator_client.post(
        upload_url(consultation), {"file": big, "mode": "append", "language": ""}
    )
    refused(response, "The file is %(size).1f MB; the largest file accepted is 5 MB.")


def test_a_tampered_payload_is_refused(facilitator_client, consultation):
    token = payload(preview(facilitator_client, consultation))
    revisions = Revision.objects.count()
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = facilitator_client.post(confirm_url(consultation), {"payload": tampered})
    refused(response, "This preview was changed on its way back")
    response = facilitator_client.post(confirm_url(consultation), {"payload": ""})
    refused(response, "This preview was changed on its way back")
    assert Revision.objects.count() == revisions


class EarlierSigner(signing.TimestampSigner):
    """Signs as if it were `PREVIEW_MAX_AGE` plus a minute ago: a preview left open too long."""

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - PREVIEW_MAX_AGE - 60)


def test_an_expired_preview_is_refused(facilitator_client, consultation, facilitator):
    token = payload(preview(facilitator_client, consultation))
    data = signing.loads(token, salt=SIGNING_SALT)
    old = EarlierSigner(salt=SIGNING_SALT).sign_object(data, compress=True)
    response = facilitator_client.post(confirm_url(consultation), {"payload": old})
    refused(
        response,
        "This preview is more than %(hours)d hours old. Upload the form again to see a "
        "fresh preview; nothing was imported.",
    )
    assert latest_codes(consultation) == []


def test_a_preview_for_another_page_is_refused(facilitator_client, consultation, home):
    other = ConsultationPage(title="Otra", slug="otra", phase=ConsultationPage.Phase.LISTENING)
    home.add_child(instance=other)
    token = payload(preview(facilitator_client, other))
    response = facilitator_client.post(confirm_url(consultation), {"payload": token})
    refused(response, "This preview was made for another consultation")
    assert latest_codes(consultation) == []


def test_when_the_editor_checks_fail_at_confirmation_nothing_is_stored(
    facilitator_client, consultation
):
    response = preview(facilitator_client, consultation)
    token = payload(response)
    # Meanwhile someone adds a question coded "minutes" to the draft.
    clash = [dict(QUESTIONS[3], value=dict(QUESTIONS[3]["value"], code="minutes"))]
    questionnaire_set(consultation, clash, publish=False)
    revisions = Revision.objects.count()
    response = facilitator_client.post(confirm_url(consultation), {"payload": token})
    assert response.status_code == 400
    with translation.override("es"):
        expected = gettext(
            "The code “%(code)s” is already used by question %(number)d. Each question "
            "needs its own code."
        ) % {"code": "minutes", "number": 1}
    assert expected in unescape(response.content.decode())
    assert Revision.objects.count() == revisions
    assert latest_codes(consultation) == ["minutes"]


def test_someone_who_cannot_edit_the_page_gets_403(client, consultation):
    reader = staff("rita")  # in the admin, but no page permission
    reader.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(reader)
    assert client.get(upload_url(consultation)).status_code == 403
    response = client.post(
        upload_url(consultation),
        {"file": upload_file(xlsform(SURVEY, YES_NO)), "mode": "append", "language": ""},
    )
    assert response.status_code == 403
    assert client.post(confirm_url(consultation), {"payload": "x"}).status_code == 403
    assert latest_codes(consultation) == []


def test_anonymous_visitors_are_sent_to_the_login(client, consultation):
    response = client.get(upload_url(consultation))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_synchronised_translation_sends_the_import_to_its_source(
    facilitator_client, consultation, locales
):
    english = localize(questionnaire_set(consultation), locales["en"])
    response = facilitator_client.get(upload_url(english))
    assert response.status_code == 302
    assert response["Location"] == upload_url(consultation)


# --- Translations ---------------------------------------------------------------------------


def test_the_form_s_other_languages_arrive_when_the_page_is_translated(
    facilitator_client, consultation, locales
):
    response = preview(facilitator_client, consultation)
    facilitator_client.post(confirm_url(consultation), {"payload": payload(response)})
    page = ConsultationPage.objects.get(pk=consultation.pk)
    page.get_latest_revision().publish()
    page = ConsultationPage.objects.get(pk=consultation.pk)

    french = translate(page, locales["fr"])
    walk = next(iter(french.questionnaire)).value
    assert walk["question"] == "Marchez-vous seul(e) la nuit ?"
    assert [c["label"] for c in walk["choices"]] == ["Oui", "Non"]
    english = translate(page, locales["en"])
    texts = [child.value["question"] for child in english.questionnaire]
    assert texts == ["Do you walk alone after dark?", "How many minutes?", "Where?"]


def test_labels_only_in_english_reach_a_spanish_page_with_a_note(facilitator_client, consultation):
    survey = [{"type": "text", "name": "street", EN: "Street?"}]
    response = preview(facilitator_client, consultation, xlsform(survey))
    assert response.status_code == 200
    assert "Street?" in response.content.decode()
    assert ES not in response.content.decode()


def test_a_page_locked_by_someone_else_is_refused(facilitator_client, consultation):
    consultation.locked = True
    consultation.locked_by = staff("lola")
    consultation.save()
    assert facilitator_client.get(upload_url(consultation)).status_code == 403
