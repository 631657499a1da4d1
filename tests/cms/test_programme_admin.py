"""Who may keep a programme up to date in the admin, and what the commitment editor offers and
refuses: problems of the programme's own diagnoses, parts of the same programme, unique IDs."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from wagtail.models import GroupPagePermission
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from cms.models import CommitmentPage, ProgrammePage
from diagnosis.services.groups import FACILITATORS, MODERATORS
from maps.models import Area
from tests.cms.conftest import status


def commitment_form(title, *, status_pk, slug="", problems=(), areas=(), **fields):
    data = nested_form_data(
        {
            "title": title,
            "slug": slug,
            "description": fields.pop("description", ""),
            "agency": fields.pop("agency", "Secretaría de Seguridad"),
            "status": status_pk,
            "weight": "1",
            "indicators": inline_formset([]),
            "milestones": inline_formset([]),
            "comments": inline_formset([]),
            **fields,
        }
    )
    data["problems"] = [str(p.pk) for p in problems]
    data["areas"] = [str(a.pk) for a in areas]
    return data


def add_url(programme):
    return reverse("wagtailadmin_pages:add", args=["cms", "commitmentpage", programme.pk])


@pytest.fixture
def agency_user(db, programme):
    """Someone from the lighting agency: may edit and publish this programme's pages only."""
    group = Group.objects.create(name="Secretaría de Seguridad")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group,
            page=programme,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    user = get_user_model().objects.create_user("agencia", "agencia@example.org", "pw")
    user.groups.add(group)
    return user


@pytest.fixture
def other_programme(home):
    page = ProgrammePage(title="Otro programa", slug="otro", responsible_body="Otra alcaldía")
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


def test_the_staff_groups_get_the_accountability_permissions(db):
    moderators = Group.objects.get(name=MODERATORS)
    facilitators = Group.objects.get(name=FACILITATORS)
    assert moderators.permissions.filter(codename="moderate_commitmentfeedback").exists()
    assert not facilitators.permissions.filter(codename="moderate_commitmentfeedback").exists()
    assert facilitators.permissions.filter(codename="change_commitmentstatus").exists()


def test_a_programme_goes_under_the_home_page_and_commitments_under_a_programme(home, programme):
    assert ProgrammePage in home.specific_class.allowed_subpage_models()
    assert ProgrammePage.allowed_subpage_models() == [CommitmentPage]
    assert CommitmentPage.allowed_parent_page_models() == [ProgrammePage]


def test_an_agency_can_add_commitments_to_its_programme_only(
    client, agency_user, programme, other_programme, diagnosed
):
    client.force_login(agency_user)
    response = client.post(
        add_url(programme),
        commitment_form(
            "Luminarias LED en El Chico",
            slug="luminarias-led",
            status_pk=status("planned").pk,
            problems=[diagnosed["lighting"]],
            areas=[diagnosed["chico"]],
            budget_planned="120000000",
            **{"action-publish": "1"},
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    commitment = CommitmentPage.objects.get(title="Luminarias LED en El Chico")
    assert commitment.live
    assert commitment.get_parent().pk == programme.pk
    assert list(commitment.problems.all()) == [diagnosed["lighting"]]
    assert commitment.budget_planned == Decimal(120000000)

    refused = client.get(add_url(other_programme))
    assert refused.status_code in (302, 403)
    assert not CommitmentPage.objects.child_of(other_programme).exists()


def test_an_agency_cannot_edit_another_programmes_commitments(client, agency_user, other_programme):
    commitment = CommitmentPage(
        title="Ajeno", slug="ajeno", agency="Otra", status=status("planned")
    )
    other_programme.add_child(instance=commitment)
    client.force_login(agency_user)
    response = client.get(reverse("wagtailadmin_pages:edit", args=[commitment.pk]))
    assert response.status_code in (302, 403)


def test_the_editor_offers_only_this_programmes_problems_and_commitments(
    client, admin_user, programme, make_commitment, other_programme, diagnosed
):
    mine = make_commitment("Mío")
    theirs = CommitmentPage(title="Ajeno", slug="ajeno", agency="Otra", status=status("planned"))
    other_programme.add_child(instance=theirs)
    client.force_login(admin_user)
    form = client.get(add_url(programme)).context["form"]
    assert set(form.fields["problems"].queryset) == {diagnosed["lighting"], diagnosed["harassment"]}
    assert list(form.fields["parent_commitment"].queryset.values_list("pk", flat=True)) == [mine.pk]
    assert form.initial["status"] == status("planned").pk
    # The areas of the consultation the programme answers, not every area in the database.
    Area.objects.create(
        name="Kennedy",
        code="BOG-LOC-08",
        level=Area.Level.DISTRICT,
        geometry=MultiPolygon(Polygon.from_bbox((-74.2, 4.6, -74.1, 4.7))),
    )
    assert set(form.fields["areas"].queryset) == set(
        diagnosed["page"].get_parent().specific.areas.all()
    )


def test_the_editor_refuses_a_duplicate_id_a_loop_and_dates_backwards(
    client, admin_user, programme, make_commitment
):
    first = make_commitment("Primero", external_id="SEG-1")
    client.force_login(admin_user)
    with translation.override("es"):
        response = client.post(
            add_url(programme),
            commitment_form(
                "Segundo",
                status_pk=status("planned").pk,
                external_id="SEG-1",
                start_date="2026-05-01",
                end_date="2026-04-01",
                **{"action-publish": "1"},
            ),
        )
        errors = response.context["form"].errors
        assert errors["external_id"] == [
            gettext("Another commitment of this programme already has this ID.")
        ]
        assert errors["end_date"] == [gettext("The commitment cannot end before it starts.")]
    assert response.status_code == 200
    assert CommitmentPage.objects.count() == 1

    part = make_commitment("Parte", parent=first)
    data = commitment_form(
        "Primero", slug=first.slug, status_pk=status("planned").pk, parent_commitment=str(part.pk)
    )
    response = client.post(reverse("wagtailadmin_pages:edit", args=[first.pk]), data)
    assert "parent_commitment" in response.context["form"].errors
    first.refresh_from_db()
    assert first.parent_commitment_id is None


def test_a_progress_outside_0_to_100_is_refused(client, admin_user, programme):
    client.force_login(admin_user)
    response = client.post(
        add_url(programme),
        commitment_form("Mal", status_pk=status("planned").pk, progress="140"),
    )
    assert "progress" in response.context["form"].errors
    assert not CommitmentPage.objects.exists()
