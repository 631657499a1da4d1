"""Commitments in spreadsheets: the export, the import (all or nothing, idempotent by external
ID), the public download, and who may use the admin pages."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from wagtail.models import GroupPagePermission, PageLogEntry, Revision

from cms.commitment_csv import (
    COLUMN_NAMES,
    MAX_ROWS,
    commitments_csv,
    commitments_export,
    commitments_import,
    parse_date,
    parse_decimal,
)
from cms.models import CommitmentPage, ProgrammePage
from tests.cms.conftest import status

HEADER = [
    "external_id",
    "parent_external_id",
    "title",
    "status",
    "progress",
    "agency",
    "budget_planned",
    "areas",
    "problems",
]


def csv_bytes(rows, *, delimiter=",", bom=True, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return ("\ufeff" if bom else "").encode(encoding) + buffer.getvalue().encode(encoding)


def upload(rows, **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile("compromisos.csv", csv_bytes(rows, **kwargs), "text/csv")


def read(content: bytes) -> list[dict]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def public_csv(programme):
    """The public download, as a visitor gets it from the programme page's link."""
    return Client().get(programme.url + programme.reverse_subpage("programme_commitments_csv"))


def commitments_of(programme):
    return {c.external_id: c for c in CommitmentPage.objects.child_of(programme)}


def revisions(page) -> int:
    return Revision.page_revisions.filter(object_id=str(page.pk)).count()


@pytest.fixture
def stocked(make_commitment, diagnosed):
    """A parent commitment with two weighted parts, tied to problems and areas, with money."""
    parent = make_commitment(
        "Entornos seguros",
        external_id="SEG-1",
        status="in-progress",
        problems=[diagnosed["lighting"]],
        areas=[diagnosed["chico"]],
        budget_planned=Decimal("1234.50"),
        budget_spent=Decimal("100"),
        funding_source="Fondo de Desarrollo Local",
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 12, 31),
        contact_name="Ana Gómez",
        contact_email="ana@example.org",
        contact_phone="+57 1 234 5678",
        description="Luz y senderos.\nSegunda línea.",
        prevention_type="situational",
    )
    lights = make_commitment(
        "Luminarias LED",
        external_id="SEG-1.1",
        parent=parent,
        status="completed",
        weight=Decimal(3),
        problems=[diagnosed["lighting"], diagnosed["harassment"]],
    )
    paths = make_commitment(
        "=Senderos", external_id="SEG-1.2", parent=parent, progress=20, weight=Decimal(1)
    )
    return {"parent": parent, "lights": lights, "paths": paths}


# --- Export ------------------------------------------------------------------------------------


def test_the_export_writes_plain_numbers_iso_dates_and_problem_ids(programme, stocked, diagnosed):
    rows = read(commitments_csv(commitments_export(programme=programme)))
    assert list(rows[0]) == list(COLUMN_NAMES)
    by_id = {row["external_id"]: row for row in rows}
    parent = by_id["SEG-1"]
    assert parent["budget_planned"] == "1234.50"
    assert parent["start_date"] == "2026-02-01"
    assert parent["status"] == "in-progress"
    assert parent["progress"] == ""  # the status's default applies
    assert parent["progress_shown"] == "80"  # (100·3 + 20·1) / 4
    assert parent["problems"] == str(diagnosed["lighting"].translation_key)
    assert parent["problem_titles"] == "Calles oscuras en El Chico"
    assert parent["areas"] == "008308"
    assert parent["contact_phone"] == "'+57 1 234 5678"  # not run as a formula
    assert parent["description"] == "Luz y senderos.\nSegunda línea."
    assert by_id["SEG-1.1"]["parent_external_id"] == "SEG-1"
    assert by_id["SEG-1.1"]["weight"] == "3.00"
    assert by_id["SEG-1.2"]["title"] == "'=Senderos"
    assert parent["url"].endswith(stocked["parent"].url)


def test_the_admin_export_includes_drafts_and_the_public_one_does_not(programme, stocked):
    draft = CommitmentPage(
        title="Borrador", slug="borrador", agency="X", status=status("planned"), live=False
    )
    draft.external_id = "SEG-9"
    programme.add_child(instance=draft)
    draft.save_revision()
    admin_rows = read(commitments_csv(commitments_export(programme=programme)))
    assert {r["external_id"]: r["published"] for r in admin_rows}["SEG-9"] == gettext("no")

    # Through the programme page's route (`ProgrammePage.csv_route`); see public_csv.
    response = public_csv(programme)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="programa-commitments.csv"' in response["Content-Disposition"]
    public = read(response.content)
    assert {r["external_id"] for r in public} == {"SEG-1", "SEG-1.1", "SEG-1.2"}
    assert "contact_email" not in public[0] and "contact_phone" not in public[0]
    assert "published" not in public[0]
    assert public[0]["contact_name"] == "Ana Gómez"
    assert "ana@example.org" not in response.content.decode()


# --- Round trip and idempotency ----------------------------------------------------------------


def test_importing_the_exported_file_again_changes_nothing(programme, stocked, facilitator_user):
    content = commitments_csv(commitments_export(programme=programme))
    before = {key: revisions(page) for key, page in commitments_of(programme).items()}
    for _attempt in range(2):
        result = commitments_import(
            programme=programme, file=io.BytesIO(content), user=facilitator_user
        )
        assert result.ok, result.errors
        assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert {key: revisions(page) for key, page in commitments_of(programme).items()} == before


def test_the_file_recreates_the_same_commitments_in_another_programme(
    home, programme, stocked, diagnosed, facilitator_user
):
    content = commitments_csv(commitments_export(programme=programme))
    twin = ProgrammePage(title="Gemelo", slug="gemelo", responsible_body="Alcaldía")
    home.add_child(instance=twin)
    twin.diagnoses.set([diagnosed["page"]])
    twin.save_revision().publish()

    result = commitments_import(programme=twin, file=io.BytesIO(content), user=facilitator_user)
    assert result.ok, result.errors
    assert result.created == 3
    copies = commitments_of(twin)
    fields = (
        "title description status_id progress weight agency contact_name contact_email "
        "contact_phone prevention_type budget_planned budget_spent funding_source start_date "
        "end_date live"
    ).split()
    for key, original in commitments_of(programme).items():
        copy = copies[key]
        assert {f: getattr(copy, f) for f in fields} == {f: getattr(original, f) for f in fields}
        assert set(copy.problems.all()) == set(original.problems.all())
        assert set(copy.areas.all()) == set(original.areas.all())
        parent = original.parent_commitment
        assert (copy.parent_commitment.external_id if copy.parent_commitment else None) == (
            parent.external_id if parent else None
        )
    assert copies["SEG-1.2"].title == "=Senderos"
    assert copies["SEG-1"].slug == "entornos-seguros"
    # The export of the copy is the export of the original, but for the links to the pages.
    export = [r[:-2] for r in commitments_export(programme=programme)]
    again = [r[:-2] for r in commitments_export(programme=twin)]
    assert export == again


def test_a_row_updates_the_commitment_with_its_external_id(programme, stocked, facilitator_user):
    lights = stocked["lights"]
    before = revisions(lights)
    rows = [["external_id", "status", "progress", "budget_spent"], ["SEG-1.1", "delayed", "60", ""]]
    result = commitments_import(programme=programme, file=upload(rows), user=facilitator_user)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    lights.refresh_from_db()
    assert lights.status == status("delayed")
    assert lights.progress == 60
    assert lights.title == "Luminarias LED"  # no title column: left as it was
    assert lights.live and not lights.has_unpublished_changes
    assert revisions(lights) == before + 1
    entry = PageLogEntry.objects.filter(page=lights, action="wagtail.publish").latest("pk")
    assert entry.user == facilitator_user


def test_parts_find_their_parent_further_down_the_file(programme, facilitator_user, diagnosed):
    rows = [
        HEADER,
        ["B-1", "A", "Luminarias", "planned", "", "Secretaría", "10", "", ""],
        ["B-2", "A", "Senderos", "in-progress", "", "Secretaría", "", "", ""],
        ["A", "", "Entornos seguros", "planned", "", "Secretaría", "", "", ""],
    ]
    result = commitments_import(programme=programme, file=upload(rows), user=facilitator_user)
    assert result.ok, result.errors
    made = commitments_of(programme)
    assert made["B-1"].parent_commitment == made["A"]
    assert made["B-2"].parent_commitment == made["A"]
    assert all(page.live for page in made.values())
    assert made["A"].owner == facilitator_user

    # A part can move to an existing commitment not named in the file.
    rows = [["external_id", "parent_external_id"], ["B-2", "B-1"]]
    result = commitments_import(programme=programme, file=upload(rows), user=facilitator_user)
    assert result.ok and result.updated == 1
    assert commitments_of(programme)["B-2"].parent_commitment == made["B-1"]


def test_a_loop_of_parts_is_refused(programme, stocked, facilitator_user):
    rows = [["external_id", "parent_external_id"], ["SEG-1", "SEG-1.1"]]
    with translation.override("en"):
        result = commitments_import(programme=programme, file=upload(rows), user=facilitator_user)
    assert [(e.line, e.column) for e in result.errors] == [(2, "parent_external_id")]
    assert "part of itself" in result.errors[0].message
    stocked["parent"].refresh_from_db()
    assert stocked["parent"].parent_commitment is None

    # Swapping parent and part in one file is not a loop.
    rows = [
        ["external_id", "parent_external_id"],
        ["SEG-1", "SEG-1.1"],
        ["SEG-1.1", ""],
        ["SEG-1.2", "SEG-1.1"],
    ]
    result = commitments_import(programme=programme, file=upload(rows), user=facilitator_user)
    assert result.ok, result.errors
    made = commitments_of(programme)
    assert made["SEG-1"].parent_commitment == made["SEG-1.1"]
    assert made["SEG-1.1"].parent_commitment is None


def test_one_bad_row_refuses_the_whole_file_and_stores_nothing(
    programme, stocked, facilitator_user
):
    rows = [
        HEADER,
        ["N-1", "", "Nuevo", "planned", "", "Secretaría", "", "", ""],
        ["SEG-1.1", "", "Luminarias LED", "completed", "150", "Secretaría", "", "", ""],
        ["N-2", "", "", "planned", "", "", "diez", "", ""],
    ]
    with translation.override("es"):
        result = commitments_import(programme=programme, file=upload(rows), user=facilitator_user)
        assert not result.ok
        assert [(e.line, e.column) for e in result.errors] == [
            (3, "progress"),
            (4, "title"),
            (4, "agency"),
            (4, "budget_planned"),
        ]
        assert result.errors[0].message == gettext("Progress is a whole percent from 0 to 100.")
        assert result.errors[0].value == "150"
    assert result.created == result.updated == 0
    assert "N-1" not in commitments_of(programme)
    assert stocked["lights"].revisions.count() == revisions(stocked["lights"])
    stocked["lights"].refresh_from_db()
    assert stocked["lights"].progress is None


def test_rows_need_an_external_id_unique_in_the_file(programme, facilitator_user):
    rows = [
        HEADER,
        ["", "", "Sin ID", "planned", "", "Secretaría", "", "", ""],
        ["X", "", "Uno", "planned", "", "Secretaría", "", "", ""],
        ["X", "", "Otro", "planned", "", "Secretaría", "", "", ""],
    ]
    with translation.override("es"):
        result = commitments_import(programme=programme, file=upload(rows), user=facilitator_user)
        assert [(e.line, e.column) for e in result.errors] == [
            (2, "external_id"),
            (4, "external_id"),
        ]
        assert result.errors[0].message == gettext(
            "Give every commitment an ID: the import matches rows by it."
        )
    assert not CommitmentPage.objects.exists()


def test_a_new_row_with_the_title_of_a_commitment_without_id_is_refused(
    programme, make_commitment, facilitator_user
):
    make_commitment("Luminarias en El Chico")
    rows = [HEADER, ["L-1", "", "Luminarias en El Chico", "planned", "", "S", "", "", ""]]
    result = commitments_import(programme=programme, file=upload(rows), user=facilitator_user)
    assert [(e.line, e.column) for e in result.errors] == [(2, "external_id")]
    assert CommitmentPage.objects.count() == 1


def test_a_semicolon_file_from_excel_with_decimal_commas_and_day_first_dates(
    programme, facilitator_user, diagnosed
):
    header = ["external_id", "title", "status", "agency", "budget_planned", "weight"]
    header += ["start_date", "areas", "problems"]
    key = str(diagnosed["lighting"].translation_key)
    rows = [
        header,
        [
            *("A-1", "Iluminación peatonal", "Planned", "Secretaría", "1.234.567,50", "2,5"),
            *("01/03/2026", "8308", key.upper()),
        ],
    ]
    # UTF-8 with a byte order mark
    result = commitments_import(
        programme=programme, file=upload(rows, delimiter=";"), user=facilitator_user
    )
    assert result.ok, result.errors
    made = commitments_of(programme)["A-1"]
    assert made.title == "Iluminación peatonal"
    assert made.budget_planned == Decimal("1234567.50")
    assert made.weight == Decimal("2.5")
    assert made.start_date == datetime.date(2026, 3, 1)
    assert list(made.areas.all()) == [diagnosed["chico"]]  # "008308" without its zeros
    assert list(made.problems.all()) == [diagnosed["lighting"]]

    # Excel's plain "CSV" on Windows: Windows-1252, no byte order mark.
    rows[1][1] = "Iluminación peatonal y señalización"
    result = commitments_import(
        programme=programme,
        file=upload(rows, delimiter=";", bom=False, encoding="cp1252"),
        user=facilitator_user,
    )
    assert (result.updated, result.created) == (1, 0)
    assert commitments_of(programme)["A-1"].title == "Iluminación peatonal y señalización"


@pytest.mark.parametrize(
    ("text", "decimal_comma", "value"),
    [
        ("1234.50", False, "1234.50"),
        ("1,234.50", False, "1234.50"),
        ("1.234,50", False, "1234.50"),
        ("1 234,50", True, "1234.50"),
        ("1\u202f234,5", True, "1234.5"),
        ("1.234", True, "1234"),
        ("1,234", False, "1234"),
        ("1,5", True, "1.5"),
        ("1.5", True, "1.5"),
        ("1,25", False, "1.25"),
    ],
)
def test_numbers_are_read_as_spreadsheets_write_them(text, decimal_comma, value):
    assert parse_decimal(text, decimal_comma=decimal_comma) == Decimal(value)


@pytest.mark.parametrize("text", ["$ 1.234", "12,34,5", "1.2.3,4,5", "doce", "1,2,3"])
def test_numbers_that_could_be_misread_are_refused(text):
    with pytest.raises(ValidationError):
        parse_decimal(text, decimal_comma=False)


def test_dates_are_iso_or_day_first():
    assert parse_date("2026-03-31") == datetime.date(2026, 3, 31)
    assert parse_date("31/03/2026") == datetime.date(2026, 3, 31)
    assert parse_date("2026-03-31 00:00:00") == datetime.date(2026, 3, 31)
    for text in ("03/31/2026", "31 de marzo", "2026-02-30"):
        with pytest.raises(ValidationError):
            parse_date(text)


def test_unknown_status_area_and_problem_say_what_is_allowed(programme, facilitator_user):
    rows = [
        HEADER,
        ["U-1", "", "Algo", "ongoing", "", "S", "", "999999", "not-a-problem"],
    ]
    with translation.override("en"):
        result = commitments_import(programme=programme, file=upload(rows), user=facilitator_user)
    messages = {e.column: e.message for e in result.errors}
    assert set(messages) == {"status", "areas", "problems"}
    assert "planned, started, in-progress, completed, delayed, cancelled" in messages["status"]
    assert "008308 (El Chico)" in messages["areas"]
    assert "Calles oscuras en El Chico" in messages["problems"]
    assert not CommitmentPage.objects.exists()


def test_the_file_itself_is_refused_with_a_reason(programme, facilitator_user):
    def refused(content: bytes) -> str:
        result = commitments_import(
            programme=programme, file=io.BytesIO(content), user=facilitator_user
        )
        assert [e.line for e in result.errors] == [None]
        return result.errors[0].message

    with translation.override("en"):
        assert "Excel workbook" in refused(b"PK\x03\x04 rest of a zip")
        assert "external_id" in refused(csv_bytes([["title", "status"], ["A", "planned"]]))
        assert "empty" in refused(b"")
        too_many = [HEADER] + [
            [f"R-{n}", "", "T", "planned", "", "S", "", "", ""] for n in range(MAX_ROWS + 1)
        ]
        assert str(MAX_ROWS) in refused(csv_bytes(too_many))
        assert "2 MB" in refused(b"external_id\n" + b"x" * (2 * 1024 * 1024))


def test_without_publish_changes_wait_as_drafts(programme, stocked, facilitator_user):
    rows = [HEADER, ["D-1", "", "Borrador", "planned", "", "S", "", "", ""]]
    rows.append(["SEG-1.1", "SEG-1", "Luminarias LED", "completed", "90", "S", "", "", ""])
    result = commitments_import(
        programme=programme, file=upload(rows), user=facilitator_user, publish=False
    )
    assert (result.created, result.updated) == (1, 1)
    made = commitments_of(programme)
    assert not made["D-1"].live
    lights = made["SEG-1.1"]
    assert lights.live and lights.has_unpublished_changes
    assert lights.progress is None  # the public still sees the published version
    assert lights.get_latest_revision_as_object().progress == 90

    # The same file again, now published: the drafts go live, with no new revision.
    count = revisions(lights)
    result = commitments_import(programme=programme, file=upload(rows), user=facilitator_user)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 0)
    lights.refresh_from_db()
    assert lights.progress == 90 and not lights.has_unpublished_changes
    assert revisions(lights) == count
    assert commitments_of(programme)["D-1"].live


# --- Admin pages -------------------------------------------------------------------------------


def import_url(programme):
    return reverse("commitment_csv:import", args=[programme.pk])


def export_url(programme):
    return reverse("commitment_csv:export", args=[programme.pk])


@pytest.fixture
def other_agency(db, home):
    """An agency with page permissions on another programme only."""
    other = ProgrammePage(title="Otro programa", slug="otro", responsible_body="Otra alcaldía")
    home.add_child(instance=other)
    group = Group.objects.create(name="Otra agencia")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group,
            page=other,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    user = get_user_model().objects.create_user("otra", "otra@example.org", "pw")
    user.groups.add(group)
    return user


def test_a_facilitator_imports_a_spreadsheet_through_the_admin(
    client, programme, stocked, facilitator_user
):
    client.force_login(facilitator_user)
    page = client.get(import_url(programme))
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-import-form" in html and 'name="publish"' in html
    assert "<code>in-progress</code>" in html and "<code>008308</code>" in html

    rows = [HEADER, ["N-1", "", "Nuevo", "planned", "", "S", "", "", ""]]
    rows.append(["SEG-1.1", "SEG-1", "Luminarias LED", "completed", "", "S", "", "", ""])
    response = client.post(
        import_url(programme), {"file": upload(rows), "publish": "on"}, follow=True
    )
    assert response.redirect_chain[-1][0] == import_url(programme)
    with translation.override("es"):
        expected = gettext(
            "The spreadsheet was imported. Added: %(created)d. Updated: %(updated)d. "
            "Unchanged: %(unchanged)d."
        ) % {"created": 1, "updated": 1, "unchanged": 0}
    assert expected in [str(m) for m in response.context["messages"]]
    assert commitments_of(programme)["N-1"].live


def test_the_import_page_lists_the_refused_rows(client, programme, facilitator_user):
    client.force_login(facilitator_user)
    rows = [HEADER, ["N-1", "", "Nuevo", "unknown", "", "S", "", "", ""]]
    response = client.post(import_url(programme), {"file": upload(rows), "publish": "on"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-error-line="2" data-error-column="status"' in html
    assert not CommitmentPage.objects.exists()


def test_the_upload_must_be_a_file(client, programme, facilitator_user):
    client.force_login(facilitator_user)
    response = client.post(import_url(programme), {"publish": "on"})
    assert response.status_code == 400
    assert "file" in response.context["form"].errors


def test_the_admin_export_has_drafts_and_contacts(client, programme, stocked, facilitator_user):
    client.force_login(facilitator_user)
    response = client.get(export_url(programme))
    assert response.status_code == 200
    assert 'filename="programa-commitments-all.csv"' in response["Content-Disposition"]
    rows = read(response.content)
    assert {r["external_id"]: r["contact_email"] for r in rows}["SEG-1"] == "ana@example.org"

    semicolon = client.get(export_url(programme) + "?format=semicolon").content.decode()
    assert semicolon.startswith("\ufeffexternal_id;parent_external_id;")
    assert ";1234,50;" in semicolon


def test_the_programme_header_offers_import_and_export_to_editors(
    client, programme, facilitator_user
):
    client.force_login(facilitator_user)
    html = client.get(reverse("wagtailadmin_pages:edit", args=[programme.pk])).content.decode()
    assert import_url(programme) in html
    assert export_url(programme) in html


def test_people_who_cannot_edit_the_programme_get_a_403(client, programme, stocked, other_agency):
    reader = get_user_model().objects.create_user("lectora", "l@example.org", "pw")
    reader.user_permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    for user in (other_agency, reader):
        client.force_login(user)
        rows = [["external_id", "progress"], ["SEG-1", "99"]]
        assert client.get(import_url(programme)).status_code == 403
        assert client.post(import_url(programme), {"file": upload(rows)}).status_code == 403
        assert client.get(export_url(programme)).status_code == 403
    with translation.override("es"):
        page = client.get(import_url(programme)).content.decode()
        assert gettext("Not allowed") in page
    stocked["parent"].refresh_from_db()
    assert stocked["parent"].progress is None
    html = client.get(reverse("wagtailadmin_pages:edit", args=[programme.pk])).content.decode()
    assert import_url(programme) not in html


def test_an_agency_imports_into_its_own_programme(client, other_agency):
    other = ProgrammePage.objects.get(slug="otro")
    client.force_login(other_agency)
    rows = [HEADER, ["O-1", "", "Propio", "planned", "", "Otra", "", "", ""]]
    response = client.post(import_url(other), {"file": upload(rows), "publish": "on"})
    assert response.status_code == 302
    assert commitments_of(other)["O-1"].live
