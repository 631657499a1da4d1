"""Questionnaire responses in the admin: counts per version, and CSV/XLSX exports as a job.

The consultation's questionnaire has two versions (a question removed, one added) and answers in
Spanish and English (a real wagtail-localize translation), with a conditional question skipped,
multiple choice, numbers and residents' text that starts like a spreadsheet formula. Exports are
read back byte for byte (CSV) and with openpyxl (XLSX).
"""

import copy
import csv
import datetime
import io
import logging
import re
import tempfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook
from wagtail.users.models import UserProfile

from diagnosis.models import (
    Concern,
    ConsultationPage,
    QuestionnaireResponse,
    QuestionnaireVersion,
    ResponseExport,
)
from diagnosis.questionnaire_responses_admin import PARTICIPATION_SUBMENU_HOOK
from diagnosis.services import questionnaire_submit
from diagnosis.services.response_exports import (
    EXPIRE_AFTER,
    KEEP_PER_CONSULTATION,
    response_export_request,
    response_export_run,
    response_exports_cleanup,
)
from tests.diagnosis import test_questionnaire_translation as questionnaire_translation
from tests.diagnosis.conftest import staff
from tests.diagnosis.test_questionnaire_submit import QUESTIONS, questionnaire_set

WALK, FEEL, AVOID, MINUTES, STREET, IDEAS = (QUESTIONS[i] for i in range(6))
VERSION_1 = [WALK, FEEL, AVOID, MINUTES, IDEAS]
ENGLISH = {
    WALK["value"]["question"]: "Do you walk alone in your area after dark?",
    FEEL["value"]["question"]: "How safe do you feel walking alone in your area after dark?",
    AVOID["value"]["question"]: "Which places do you avoid?",
    MINUTES["value"]["question"]: "How many minutes do you walk to transport?",
    IDEAS["value"]["question"]: "What would make it safer?",
    "Sí": "Yes",
    "No, nunca": "No, never",
    "Muy seguro/a": "Very safe",
    "Seguro/a": "Safe",
    "Inseguro/a": "Unsafe",
    "Muy inseguro/a": "Very unsafe",
    "El parque": "The park",
    "El puente": "The bridge",
    "El paradero": "The bus stop",
    "minutos": "minutes",
}
BOGOTA_EVENING = datetime.datetime(2026, 3, 2, 0, 30, tzinfo=datetime.UTC)  # 19:30 in Bogotá
SHOTS = Path(tempfile.gettempdir()) / "shots" / "responses"


def answer(page, answers, *, at, language="es", **kwargs):
    response = questionnaire_submit(
        consultation=page,
        answers=answers,
        language=language,
        idempotency_key=uuid.uuid4(),
        **kwargs,
    ).response
    QuestionnaireResponse.objects.filter(pk=response.pk).update(submitted_at=at)
    return response


def second_version(page: ConsultationPage) -> ConsultationPage:
    """The editor removes the minutes question and adds the street one: a new structure. The
    questions kept keep their block ids."""
    raw = [block for block in page.questionnaire.raw_data if block["value"]["code"] != "minutes"]
    raw.append(copy.deepcopy(STREET))
    return questionnaire_set(page, raw)


@pytest.fixture
def answered(consultation, locales, monkeypatch):
    """Three residents: two on version 1 (Spanish online, English on paper), one on version 2."""
    spanish = questionnaire_set(consultation, VERSION_1)
    # Translated as an editor does in wagtail-localize, with this module's strings too.
    for source, target in ENGLISH.items():
        monkeypatch.setitem(questionnaire_translation.ENGLISH, source, target)
    english = questionnaire_translation.localize(spanish, locales["en"])
    first = answer(
        spanish,
        {
            "walk-alone": "yes",
            "feel-safe": "unsafe",
            "avoid": ["bus-stop", "park"],
            "minutes": "15",
            "ideas": '=HYPERLINK("http://example.org","luz")',
        },
        at=BOGOTA_EVENING,
        gender="woman",
        age_band="30-44",
    )
    second = answer(
        english,
        {"walk-alone": "no", "feel-safe": "safe", "minutes": "5", "ideas": "More light\nplease"},
        at=BOGOTA_EVENING + datetime.timedelta(hours=1),
        language="en",
        source=Concern.Source.PAPER,
        filled_on=datetime.date(2026, 2, 27),
        gender="unsaid",
    )
    spanish = second_version(spanish)
    third = answer(
        spanish,
        {
            "walk-alone": "yes",
            "feel-safe": "very-safe",
            "street": "+57 Calle 63",
            "ideas": "@todos",
        },
        at=BOGOTA_EVENING + datetime.timedelta(days=1),
        gender="other",
        gender_description="-fluido",
        age_band="18-29",
    )
    return {"page": spanish, "english": english, "responses": [first, second, third]}


@pytest.fixture
def facilitator_b(db):
    from diagnosis.services import FACILITATORS

    return staff("fabi", FACILITATORS)


@pytest.fixture
def admin_reader(db):
    """Someone who may use the admin but edit no page (Wagtail's own "Moderators" group, which
    Convive's shares its name with, can edit every page, so it will not do here)."""
    user = get_user_model().objects.create_user("lector", "lector@example.org", "pw")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    return user


def export_for(page, user, *, language="es", format="csv", cells="labels") -> ResponseExport:
    with TestCase.captureOnCommitCallbacks(execute=True):
        export = response_export_request(
            page=page, user=user, language=language, format=format, cells=cells
        )
    export.refresh_from_db()
    return export


def csv_text(export: ResponseExport) -> str:
    with export.file.open("rb") as handle:
        data = handle.read()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    return data.decode("utf-8-sig")


def csv_rows(export: ResponseExport) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_text(export))))


def csv_lines(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def fixed_header(language: str) -> list[str]:
    with translation.override(language):
        return [
            gettext("Response"),
            gettext("Submitted (%(zone)s)") % {"zone": "America/Bogota"},
            gettext("Date on the form"),
            gettext("Language"),
            gettext("Source"),
            gettext("Questionnaire version"),
            gettext("Gender"),
            gettext("Gender, in their words"),
            gettext("Age"),
        ]


def labels(language: str, *pairs) -> list[str]:
    with translation.override(language):
        return [str(dict(choices)[value]) for choices, value in pairs]


# --- The file -------------------------------------------------------------------------------------


def test_csv_in_spanish_has_one_column_per_question_across_versions(answered, facilitator):
    first, second, third = answered["responses"]
    export = export_for(answered["page"], facilitator, language="es")
    assert export.status == ResponseExport.Status.DONE
    assert (export.rows_done, export.rows_total) == (3, 3)

    online, paper = labels(
        "es", (Concern.Source.choices, "online"), (Concern.Source.choices, "paper")
    )
    woman, unsaid, other = labels(
        "es",
        (Concern.Gender.choices, "woman"),
        (Concern.Gender.choices, "unsaid"),
        (Concern.Gender.choices, "other"),
    )
    age_30, age_18 = labels(
        "es",
        (QuestionnaireResponse._meta.get_field("age_band").choices, "30-44"),
        (QuestionnaireResponse._meta.get_field("age_band").choices, "18-29"),
    )
    expected = csv_lines(
        [
            [
                *fixed_header("es"),
                "¿Camina sola o solo por su barrio después del anochecer? [walk-alone]",
                "¿Qué tan seguro/a se siente caminando solo/a por su barrio después del "
                "anochecer? [feel-safe]",
                "¿Qué lugares evita? [avoid]",
                "¿Cuántos minutos camina hasta el transporte? [minutes]",
                "¿Qué mejoraría la seguridad? [ideas]",
                "¿En qué calle vive? [street]",
            ],
            [
                first.pk,
                "2026-03-01T19:30:00-05:00",
                "",
                "es",
                online,
                1,
                woman,
                "",
                age_30,
                "Sí",
                "Inseguro/a",
                "El parque; El paradero",  # in the order of the choices
                15,
                '\'=HYPERLINK("http://example.org","luz")',  # defused
                "",  # not in version 1
            ],
            # Answered in English, labelled in Spanish; the skipped question is empty.
            [
                *(
                    second.pk,
                    "2026-03-01T20:30:00-05:00",
                    "2026-02-27",
                    "en",
                    paper,
                    1,
                    unsaid,
                    "",
                    "",
                ),
                *("No, nunca", "", "", 5, "More light\nplease", ""),
            ],
            [
                *(third.pk, "2026-03-02T19:30:00-05:00", "", "es", online, 2, other, "'-fluido"),
                *(age_18, "Sí", "Muy seguro/a", "", "", "'@todos", "'+57 Calle 63"),
            ],
        ]
    )
    assert csv_text(export) == expected


def test_csv_in_english_falls_back_to_spanish_where_nothing_is_translated(answered, facilitator):
    export = export_for(answered["page"], facilitator, language="en")
    rows = csv_rows(export)
    assert rows[0] == [
        *fixed_header("en"),
        "Do you walk alone in your area after dark? [walk-alone]",
        "How safe do you feel walking alone in your area after dark? [feel-safe]",
        "Which places do you avoid? [avoid]",
        "How many minutes do you walk to transport? [minutes]",
        "What would make it safer? [ideas]",
        # Added in version 2, which only the Spanish page had: the default language's text.
        "¿En qué calle vive? [street]",
    ]
    assert rows[1][4:7] == ["Online, by the resident", "1", "Woman"]
    assert rows[1][9:12] == ["Yes", "Unsafe", "The park; The bus stop"]
    assert rows[2][2] == "2026-02-27"  # the date written on the paper form
    assert rows[2][4] == "From a paper form"
    assert rows[2][6] == "Prefer not to say"
    # Version 2 was only answered in Spanish; its labels come from version 1's English.
    assert rows[3][5] == "2"
    assert rows[3][9:11] == ["Yes", "Very safe"]
    assert rows[3][8] == "18–29 years"


def test_codes_instead_of_labels(answered, facilitator):
    export = export_for(answered["page"], facilitator, language="en", cells="codes")
    rows = csv_rows(export)
    assert rows[0] == [
        "response_id",
        "submitted_at",
        "filled_on",
        "language",
        "source",
        "version",
        "gender",
        "gender_description",
        "age_band",
        "walk-alone",
        "feel-safe",
        "avoid",
        "minutes",
        "ideas",
        "street",
    ]
    assert rows[1][4:] == [
        "online",
        "1",
        "woman",
        "",
        "30-44",
        "yes",
        "unsafe",
        "park; bus-stop",
        "15",
        '\'=HYPERLINK("http://example.org","luz")',
        "",
    ]
    assert rows[3][9:11] == ["yes", "very-safe"]


def test_xlsx_has_numbers_as_numbers_text_as_text_and_a_codebook(answered, facilitator):
    export = export_for(answered["page"], facilitator, language="en", format="xlsx")
    assert export.file.name.endswith(".xlsx")
    with export.file.open("rb") as handle:
        workbook = load_workbook(io.BytesIO(handle.read()))
    with translation.override("en"):
        responses_title, codebook_title = gettext("Responses"), gettext("Codebook")
    assert workbook.sheetnames == [responses_title, codebook_title]
    sheet = workbook[responses_title]
    rows = list(sheet.iter_rows())
    assert [cell.value for cell in rows[0]][9] == (
        "Do you walk alone in your area after dark? [walk-alone]"
    )
    first = rows[1]
    assert first[0].value == answered["responses"][0].pk and first[0].data_type == "n"
    assert first[1].value == datetime.datetime(2026, 3, 1, 19, 30)  # a real date-time, local
    assert first[5].value == 1
    assert first[12].value == 15 and first[12].data_type == "n"
    # Text that looks like a formula is a text cell: Excel shows it, never runs it.
    assert first[13].data_type == "s"
    assert first[13].value == '=HYPERLINK("http://example.org","luz")'
    assert first[14].value is None
    assert rows[2][13].value == "More light\nplease"
    assert rows[2][2].value == datetime.datetime(2026, 2, 27)  # the date on the paper form
    assert rows[2][2].is_date

    codebook = [[cell.value for cell in row] for row in workbook[codebook_title].iter_rows()]
    with translation.override("en"):
        assert codebook[0] == [
            gettext("Column"),
            gettext("Code"),
            gettext("Question"),
            gettext("Type"),
            gettext("Versions"),
            gettext("Value"),
            gettext("Label"),
        ]
    walk = [row for row in codebook if row[1] == "walk-alone"]
    assert [(row[5], row[6]) for row in walk] == [("yes", "Yes"), ("no", "No, never")]
    assert walk[0][3] == "Single choice" and walk[0][4] == "1, 2"
    minutes = [row for row in codebook if row[1] == "minutes"]
    assert minutes == [
        [
            "How many minutes do you walk to transport? [minutes]",
            "minutes",
            "How many minutes do you walk to transport?",
            "Number (minutes)",
            "1",
            None,
            None,
        ]
    ]
    street = next(row for row in codebook if row[1] == "street")
    assert (street[1], street[4]) == ("street", "2")
    assert ("paper", "From a paper form") in {(row[5], row[6]) for row in codebook}


# --- The job ------------------------------------------------------------------------------------


def test_progress_is_visible_to_the_status_page_after_every_chunk(client, answered, facilitator):
    export = ResponseExport.objects.create(
        consultation_key=answered["page"].translation_key,
        consultation=answered["page"],
        requested_by=facilitator,
        language="es",
        format="csv",
    )
    client.force_login(facilitator)
    url = reverse("questionnaire_responses:export_progress", args=[export.pk])
    seen = []

    def watch(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if (
            sql.startswith("UPDATE")
            and "diagnosis_responseexport" in sql
            and "rows_done" in sql
            and "status" not in sql
        ):
            seen.append(client.get(url).json())
        return result

    with connection.execute_wrapper(watch):
        assert response_export_run(export_id=export.pk, chunk_size=1) is True
    assert [(state["status"], state["done"], state["total"]) for state in seen] == [
        ("running", 1, 3),
        ("running", 2, 3),
        ("running", 3, 3),
    ]
    assert [state["percent"] for state in seen] == [33, 66, 100]
    final = client.get(url).json()
    assert final["finished"] is True and final["status"] == "done"
    assert final["download_url"].endswith(f"/exports/{export.pk}/download/")


def test_a_task_delivered_twice_writes_one_file(answered, facilitator):
    export = export_for(answered["page"], facilitator)
    name, folder = export.file.name, Path(export.file.path).parent
    files = sorted(folder.iterdir())
    assert response_export_run(export_id=export.pk) is False
    export.refresh_from_db()
    assert export.file.name == name
    assert sorted(folder.iterdir()) == files


def test_failure_is_recorded_and_shown_translated_never_left_running(
    client, answered, facilitator, caplog
):
    version = QuestionnaireVersion.objects.filter(
        consultation_key=answered["page"].translation_key
    ).first()
    version.definition["format"] = 99  # written by a newer Convive than this one
    version.save(update_fields=["definition"])
    with caplog.at_level(logging.ERROR, logger="convive.exports"):
        export = export_for(answered["page"], facilitator)
    assert export.status == ResponseExport.Status.FAILED
    assert export.error == ResponseExport.Error.FAILED
    assert "definition format 99" in export.error_detail
    assert not export.file
    assert "Traceback" in caplog.text or caplog.records[-1].exc_info

    client.force_login(facilitator)
    page = client.get(reverse("questionnaire_responses:export", args=[export.pk]))
    with translation.override("es"):
        message = gettext("The export failed. The details are in the server log.")
    assert message in page.content.decode()
    progress = client.get(reverse("questionnaire_responses:export_progress", args=[export.pk]))
    assert progress.json()["text"] == message
    assert progress.json()["finished"] is True


def test_a_worker_that_went_silent_shows_as_interrupted(client, answered, facilitator):
    export = ResponseExport.objects.create(
        consultation_key=answered["page"].translation_key,
        consultation=answered["page"],
        requested_by=facilitator,
        language="es",
        format="csv",
        status=ResponseExport.Status.RUNNING,
        heartbeat_at=timezone.now() - datetime.timedelta(hours=1),
    )
    client.force_login(facilitator)
    data = client.get(reverse("questionnaire_responses:export_progress", args=[export.pk])).json()
    assert data["status"] == "failed"
    with translation.override("es"):
        assert data["text"] == gettext(ResponseExport.Error.INTERRUPTED.label)


def test_the_file_is_outside_media_root(answered, facilitator):
    export = export_for(answered["page"], facilitator)
    path = Path(export.file.path).resolve()
    assert path.is_file()
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve())


def test_old_exports_expire_and_a_consultation_keeps_its_newest(answered, facilitator):
    page = answered["page"]
    old = export_for(page, facilitator)
    old_path = Path(old.file.path)
    ResponseExport.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - EXPIRE_AFTER - datetime.timedelta(minutes=1)
    )
    kept = [export_for(page, facilitator, cells=("codes", "labels")[i % 2]) for i in range(11)]
    assert not ResponseExport.objects.filter(pk=old.pk).exists()
    assert not old_path.exists()
    assert response_exports_cleanup(consultation_key=page.translation_key) == 1
    remaining = set(ResponseExport.objects.values_list("pk", flat=True))
    assert remaining == {export.pk for export in kept[-KEEP_PER_CONSULTATION:]}


def test_a_double_click_makes_one_export(answered, facilitator):
    page = answered["page"]
    first = response_export_request(
        page=page, user=facilitator, language="es", format="csv", cells="labels"
    )
    again = response_export_request(
        page=page, user=facilitator, language="es", format="csv", cells="labels"
    )
    assert first.pk == again.pk
    assert ResponseExport.objects.count() == 1


# --- The admin pages ------------------------------------------------------------------------------


def test_hub_lists_counts_per_version_language_and_source(client, answered, facilitator):
    client.force_login(facilitator)
    index = client.get(reverse("questionnaire_responses:index")).content.decode()
    page = answered["page"]
    assert f'data-consultation="{page.pk}"' in index
    assert "data-total>3<" in index
    assert 'data-version="1"' in index and 'data-version="2"' in index

    detail = client.get(reverse("questionnaire_responses:detail", args=[page.pk])).content.decode()
    assert 'data-version="1"' in detail and 'data-version="2"' in detail
    versions = detail.split("data-versions", 1)[1].split("</table>", 1)[0]
    rows = [
        chunk.split("data-count>", 1)[1].split("<", 1)[0]
        for chunk in versions.split("<tr data-version=")[1:]
    ]
    assert rows == ["2", "1"]
    assert 'data-language="es"' in detail and 'data-language="en"' in detail
    assert 'data-source="paper"' in detail


def test_the_export_form_makes_the_file_and_its_owner_downloads_it(
    client, answered, facilitator, django_capture_on_commit_callbacks
):
    client.force_login(facilitator)
    url = reverse("questionnaire_responses:detail", args=[answered["page"].pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"language": "es", "format": "csv", "cells": "labels"})
    export = ResponseExport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("questionnaire_responses:export", args=[export.pk])
    status = client.get(response["Location"]).content.decode()
    assert reverse("questionnaire_responses:export_download", args=[export.pk]) in status
    assert "<progress" in status

    download = client.get(reverse("questionnaire_responses:export_download", args=[export.pk]))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    assert "chapinero-responses-es-" in download["Content-Disposition"]
    assert "no-store" in download["Cache-Control"]
    body = b"".join(download.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.decode("utf-8-sig").count("\n") == 1 + 3 + 1  # header, rows, a line break inside


def test_bad_export_form_is_a_400_and_stores_nothing(client, answered, facilitator):
    client.force_login(facilitator)
    url = reverse("questionnaire_responses:detail", args=[answered["page"].pk])
    response = client.post(url, {"language": "xx", "format": "pdf", "cells": "labels"})
    assert response.status_code == 400
    with translation.override("es"):
        message = gettext("Select a valid choice. %(value)s is not one of the available choices.")
    assert message % {"value": "pdf"} in response.content.decode()
    assert not ResponseExport.objects.exists()


def test_people_who_cannot_edit_the_consultation_get_403_everywhere(
    client, answered, facilitator, admin_reader
):
    export = export_for(answered["page"], facilitator)
    detail = reverse("questionnaire_responses:detail", args=[answered["page"].pk])
    urls = [
        reverse("questionnaire_responses:index"),
        detail,
        reverse("questionnaire_responses:export", args=[export.pk]),
        reverse("questionnaire_responses:export_progress", args=[export.pk]),
        reverse("questionnaire_responses:export_download", args=[export.pk]),
    ]
    client.force_login(admin_reader)  # may use the admin, may edit no page
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 403)
    post = client.post(detail, {"language": "es", "format": "csv", "cells": "labels"})
    assert post.status_code == 403
    assert ResponseExport.objects.count() == 1
    client.logout()
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 302)


def test_a_colleague_sees_the_status_but_cannot_download_anothers_export(
    client, answered, facilitator, facilitator_b
):
    export = export_for(answered["page"], facilitator)
    client.force_login(facilitator_b)
    status = client.get(reverse("questionnaire_responses:export", args=[export.pk]))
    assert status.status_code == 200
    download_url = reverse("questionnaire_responses:export_download", args=[export.pk])
    assert download_url not in status.content.decode()
    assert client.get(download_url).status_code == 403
    assert (
        client.get(reverse("questionnaire_responses:export_progress", args=[export.pk])).json()[
            "download_url"
        ]
        == ""
    )


def test_menu_item_is_offered_to_editors_only(rf, facilitator, admin_reader, answered):
    from wagtail import hooks

    items = [register() for register in hooks.get_hooks(PARTICIPATION_SUBMENU_HOOK)]
    [item] = [item for item in items if item.url == reverse("questionnaire_responses:index")]
    request = rf.get("/admin/")
    request.user = facilitator
    assert item.is_shown(request)
    assert item.url == reverse("questionnaire_responses:index")
    request.user = admin_reader
    assert not item.is_shown(request)


# --- In a real browser ---------------------------------------------------------------------------


def admin_login(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def admin_tab(browser, live_server, user, language: str):
    """A logged-in admin tab for a facilitator who reads the admin in `language`."""
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    context = browser.new_context(locale=language, viewport={"width": 1280, "height": 1300})
    tab = context.new_page()
    admin_login(tab, live_server, user.username)
    return context, tab


def new_export(answered, user, language: str) -> ResponseExport:
    """An export as the form records it, before any worker has picked it up."""
    return ResponseExport.objects.create(
        consultation_key=answered["page"].translation_key,
        consultation=answered["page"],
        requested_by=user,
        language=language,
        format="xlsx",
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_status_page_follows_the_job_and_offers_the_download(browser, live_server, answered):
    SHOTS.mkdir(parents=True, exist_ok=True)
    from diagnosis.services import FACILITATORS

    hub = f"{live_server.url}{reverse('questionnaire_responses:index')}"
    detail = (
        f"{live_server.url}{reverse('questionnaire_responses:detail', args=[answered['page'].pk])}"
    )

    def status(export):
        return f"{live_server.url}{reverse('questionnaire_responses:export', args=[export.pk])}"

    # In Spanish: a job that has not started; the page polls and offers the file when it is done.
    user = staff("faci", FACILITATORS)
    context, tab = admin_tab(browser, live_server, user, "es")
    tab.goto(hub)
    tab.wait_for_selector("[data-responses-index]")
    tab.screenshot(path=SHOTS / "hub-es.png", full_page=True)
    tab.goto(detail)
    tab.screenshot(path=SHOTS / "detail-es.png", full_page=True)
    export = new_export(answered, user, "es")
    tab.goto(status(export))
    assert tab.locator("[data-job-ready]").is_hidden()
    tab.screenshot(path=SHOTS / "status-waiting-es.png", full_page=True)
    assert response_export_run(export_id=export.pk) is True
    tab.wait_for_selector("[data-export-download]", state="visible", timeout=10_000)
    assert tab.locator("#export-progress").evaluate("p => [p.value, p.max]") == [3, 3]
    assert tab.locator("[data-job-working]").is_hidden()
    tab.screenshot(path=SHOTS / "status-done-es.png", full_page=True)
    with tab.expect_download() as download:
        tab.click("[data-export-download]")
    assert re.fullmatch(
        r"chapinero-responses-es-\d{8}-\d{4}\.xlsx", download.value.suggested_filename
    )
    context.close()

    # In English, a colleague: the Spanish export is listed, but only its owner downloads it.
    colleague = staff("facien", FACILITATORS)
    own = new_export(answered, colleague, "en")
    response_export_run(export_id=own.pk)
    context, tab = admin_tab(browser, live_server, colleague, "en")
    tab.goto(hub)
    tab.screenshot(path=SHOTS / "hub-en.png", full_page=True)
    tab.goto(detail)
    assert tab.locator(f'[data-export="{own.pk}"] a[href$="/download/"]').count() == 1
    assert tab.locator(f'[data-export="{export.pk}"] a[href$="/download/"]').count() == 0
    tab.screenshot(path=SHOTS / "detail-en.png", full_page=True)
    tab.goto(status(own))
    tab.screenshot(path=SHOTS / "status-done-en.png", full_page=True)
    context.close()
