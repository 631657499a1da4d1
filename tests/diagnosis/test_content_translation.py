"""Content translation as facilitators do it in the admin: wagtail-localize's own views.

A consultation is translated segment by segment, with a machine translator when one is configured,
or through a PO file sent to a translator. Machine-made wording is marked on the public page until
a person has reviewed every machine-made segment.
"""

import polib
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from wagtail_localize.models import StringSegment, StringTranslation, Translation

from diagnosis.models import ConsultationPage
from tests.diagnosis.test_questionnaire_submit import questionnaire_set

DUMMY_TRANSLATOR = {"CLASS": "wagtail_localize.machine_translators.dummy.DummyTranslator"}
NOTICE = "Parts of this page were translated automatically and may contain mistakes."


@pytest.fixture
def editor(db):
    return get_user_model().objects.create_superuser("edita", "edita@example.org", "pw")


@pytest.fixture
def admin(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def surveyed(consultation):
    return questionnaire_set(consultation)


def start_translation(admin, page, locale) -> Translation:
    """The "Translate" action of the page's menu, into one language."""
    response = admin.post(
        reverse("wagtail_localize:submit_page_translation", args=[page.pk]),
        {"locales": [locale.pk]},
    )
    assert response.status_code == 302, response.content[:500]
    return Translation.objects.get(source__object_id=page.translation_key, target_locale=locale)


def publish(admin, job: Translation, django_capture_on_commit_callbacks):
    """The translation editor's "Publish" button (wagtail-localize publishes on commit)."""
    target = job.get_target_instance()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("wagtailadmin_pages:edit", args=[target.pk]), {"action": "publish"}
        )
    assert response.status_code == 302, response.content[:500]
    return ConsultationPage.objects.get(pk=target.pk)


def page_text(client, page) -> str:
    response = client.get(page.url)
    assert response.status_code == 200
    return response.content.decode()


@override_settings(WAGTAILLOCALIZE_MACHINE_TRANSLATOR=DUMMY_TRANSLATOR)
def test_machine_translation_is_marked_until_a_person_reviews_it(
    admin, client, surveyed, locales, django_capture_on_commit_callbacks
):
    job = start_translation(admin, surveyed, locales["en"])
    response = admin.post(
        reverse("wagtail_localize:machine_translate", args=[job.pk]), {"next": "/admin/"}
    )
    assert response.status_code == 302
    assert StringTranslation.objects.filter(
        locale=locales["en"], translation_type="machine"
    ).exists()
    english = publish(admin, job, django_capture_on_commit_callbacks)

    with translation.override("en"):
        html = page_text(client, english)
    assert NOTICE in html
    # The original is one click away, its language named in that language.
    assert f'href="{surveyed.url}"' in html
    assert '<span lang="es">Español</span>' in html
    # The original itself carries no notice.
    assert NOTICE not in page_text(client, surveyed)

    # A translator reviews every machine-made segment in the editor (each save makes it manual)…
    for segment in StringSegment.objects.filter(source=job.source):
        response = admin.put(
            reverse("wagtail_localize:edit_string_translation", args=[job.pk, segment.pk]),
            f"value=Reviewed+{segment.pk}",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200, response.content[:300]
    # …and publishes: the notice is gone.
    english = publish(admin, job, django_capture_on_commit_callbacks)
    with translation.override("en"):
        html = page_text(client, english)
    assert NOTICE not in html
    assert f"Reviewed {StringSegment.objects.filter(source=job.source).first().pk}" in html


def machine_translate_offered(admin, job: Translation) -> bool:
    """Whether the translation editor shows a machine-translation button."""
    response = admin.get(reverse("wagtailadmin_pages:edit", args=[job.get_target_instance().pk]))
    assert response.status_code == 200
    return reverse("wagtail_localize:machine_translate", args=[job.pk]) in response.content.decode()


def test_the_machine_translator_is_offered_only_when_configured(admin, surveyed, locales):
    job = start_translation(admin, surveyed, locales["en"])
    assert not machine_translate_offered(admin, job)
    admin.post(reverse("wagtail_localize:machine_translate", args=[job.pk]))
    assert not StringTranslation.objects.exists()

    with override_settings(WAGTAILLOCALIZE_MACHINE_TRANSLATOR=DUMMY_TRANSLATOR):
        assert machine_translate_offered(admin, job)


def test_po_round_trip_translates_the_questionnaire(
    admin, client, surveyed, locales, django_capture_on_commit_callbacks
):
    """Export the strings for a translator, import the file back, publish."""
    job = start_translation(admin, surveyed, locales["pt"])
    response = admin.get(reverse("wagtail_localize:download_pofile", args=[job.pk]))
    assert response.status_code == 200
    po = polib.pofile(response.content.decode())
    msgids = {entry.msgid for entry in po}
    assert "¿Camina sola o solo por su barrio después del anochecer?" in msgids
    assert "Muy seguro/a" in msgids
    # Codes and choice values are structure, never offered to a translator.
    assert not msgids & {"walk-alone", "feel-safe", "very-safe"}

    portuguese = {
        "¿Camina sola o solo por su barrio después del anochecer?": (
            "Você anda sozinho/a no seu bairro depois que escurece?"
        ),
        "Muy seguro/a": "Muito seguro/a",
    }
    for entry in po:
        entry.msgstr = portuguese.get(entry.msgid, "")
    upload = SimpleUploadedFile(
        "pt.po", str(po).encode(), content_type="text/x-gettext-translation"
    )
    response = admin.post(
        reverse("wagtail_localize:upload_pofile", args=[job.pk]),
        {"file": upload, "next": "/admin/"},
    )
    assert response.status_code == 302

    page = publish(admin, job, django_capture_on_commit_callbacks)
    questions = list(page.questionnaire)
    assert (
        questions[0].value["question"]
        == portuguese["¿Camina sola o solo por su barrio después del anochecer?"]
    )
    assert questions[1].value["choices"][0]["label"] == "Muito seguro/a"
    # Structure comes from the source, whatever the file said.
    assert [q.id for q in questions] == [q.id for q in surveyed.questionnaire]
    with translation.override("pt"):
        assert NOTICE not in page_text(client, page)
