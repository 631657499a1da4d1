"""The Moderators and Facilitators groups exist after migrate, with the intended permissions."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from wagtail.models import GroupCollectionPermission, GroupPagePermission, Page

from diagnosis.services import FACILITATORS, MODERATORS, groups_ensure


def codenames(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def member(username: str, *groups: str):
    user = get_user_model().objects.create_user(username, f"{username}@example.org", "pw")
    user.groups.add(*Group.objects.filter(name__in=groups))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def test_groups_exist_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {MODERATORS, FACILITATORS}


def test_moderators_can_moderate_and_view_but_not_delete_or_add(db):
    perms = codenames(Group.objects.get(name=MODERATORS))
    assert {
        "wagtailadmin.access_admin",
        "diagnosis.view_concern",
        "diagnosis.moderate_concern",
    } <= perms
    assert "diagnosis.delete_concern" not in perms
    assert "diagnosis.change_concern" not in perms
    assert "diagnosis.add_concern" not in perms


def test_facilitators_set_up_consultations_but_do_not_moderate(db):
    perms = codenames(Group.objects.get(name=FACILITATORS))
    assert {
        "wagtailadmin.access_admin",
        "diagnosis.add_concern",
        "diagnosis.view_concern",
        "diagnosis.add_concerncategory",
        "diagnosis.change_concerncategory",
        "maps.add_area",
        "maps.change_area",
    } <= perms
    assert "diagnosis.moderate_concern" not in perms
    assert "diagnosis.delete_concern" not in perms


def test_facilitators_can_add_change_and_publish_pages_from_the_root(db):
    root = Page.get_first_root_node()
    granted = set(
        GroupPagePermission.objects.filter(group__name=FACILITATORS, page=root).values_list(
            "permission__codename", flat=True
        )
    )
    assert granted == {"add_page", "change_page", "publish_page"}


def test_nobody_but_superusers_deletes_concerns(db):
    moderator = member("mara", MODERATORS)
    facilitator = member("fede", FACILITATORS)
    both = member("ana", MODERATORS, FACILITATORS)

    assert moderator.has_perm("diagnosis.moderate_concern")
    assert not facilitator.has_perm("diagnosis.moderate_concern")
    assert both.has_perm("diagnosis.moderate_concern") and both.has_perm("diagnosis.add_concern")
    assert not any(u.has_perm("diagnosis.delete_concern") for u in (moderator, facilitator, both))


def test_groups_ensure_is_idempotent_and_keeps_extra_permissions(db):
    moderators = Group.objects.get(name=MODERATORS)
    before = codenames(moderators)
    extra = Group.objects.get(name=FACILITATORS).permissions.get(codename="add_area")
    moderators.permissions.add(extra)

    groups_ensure()
    groups_ensure()

    assert Group.objects.filter(name=MODERATORS).count() == 1
    assert codenames(moderators) == before | {"maps.add_area"}
    assert GroupPagePermission.objects.filter(group__name=FACILITATORS).count() == 3


def test_facilitators_plan_walks_and_record_stops_but_do_not_judge_or_publish(db):
    perms = codenames(Group.objects.get(name=FACILITATORS))
    assert {
        "maps.view_safetywalk",
        "maps.add_safetywalk",
        "maps.change_safetywalk",
        "maps.view_walkstop",
        "maps.add_walkstop",
    } <= perms
    assert "maps.moderate_walkstop" not in perms
    assert "maps.publish_walk_report" not in perms
    assert "maps.delete_safetywalk" not in perms
    assert "maps.change_walkstop" not in perms


def test_moderators_judge_walk_stops_and_publish_reports_but_do_not_plan(db):
    perms = codenames(Group.objects.get(name=MODERATORS))
    assert {
        "maps.view_safetywalk",
        "maps.view_walkstop",
        "maps.moderate_walkstop",
        "maps.publish_walk_report",
    } <= perms
    assert "maps.add_safetywalk" not in perms
    assert "maps.change_safetywalk" not in perms
    assert "maps.change_walkstop" not in perms
    moderator = member("mara", MODERATORS)
    assert moderator.has_perm("maps.moderate_walkstop")
    assert moderator.has_perm("maps.publish_walk_report")


def test_moderators_do_not_inherit_wagtails_page_editor_rights(db):
    """Wagtail's migrations made a "Moderators" group that edits and publishes every page; ours
    judges contributions only (diagnosis 0011 takes Wagtail's rights away)."""
    moderators = Group.objects.get(name=MODERATORS)
    assert not GroupPagePermission.objects.filter(group=moderators).exists()
    assert not GroupCollectionPermission.objects.filter(group=moderators).exists()
    perms = codenames(moderators)
    assert not {p for p in perms if p.startswith(("wagtailimages.", "wagtaildocs."))}
    assert "wagtail_localize.submit_translation" not in perms


def test_a_moderator_can_neither_edit_a_consultation_nor_read_its_responses(client, consultation):
    client.force_login(member("mara", MODERATORS))
    assert not consultation.permissions_for_user(member("mia", MODERATORS)).can_edit()
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[consultation.pk]))
    assert edit.status_code == 302  # sent back to the dashboard with "permission denied"
    responses = client.get(reverse("questionnaire_responses:detail", args=[consultation.pk]))
    assert responses.status_code == 403
    # The queue they work in still opens.
    assert client.get(reverse("wagtailadmin_home")).status_code == 200

    client.force_login(member("fede", FACILITATORS))
    assert client.get(reverse("wagtailadmin_pages:edit", args=[consultation.pk])).status_code == 200
