"""Moderating walk stops, and the moderation core they share with concerns.

The core (`maps.moderation`) is tested through both of its users: walk stops here, and concerns,
whose own tests (tests/diagnosis/test_moderation.py, test_map_counts.py) run unchanged on it.
"""

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from wagtail.models import ModelLogEntry

from maps.models import ModerationStatus, WalkStop
from maps.moderation import ModerationRefused, decision_record_bulk
from maps.walk_moderation import POLICY, walk_stop_moderate, walk_stop_moderate_bulk
from maps.walks import walk_stop_record
from tests.conftest import along_route, jpeg_bytes

LIST = "wagtailsnippets_maps_walkstop:list"


def staff(username: str, *groups: str, **extra):
    user = get_user_model().objects.create_user(username, f"{username}@example.org", "pw", **extra)
    user.groups.add(*Group.objects.filter(name__in=groups))
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def moderator(db):
    return staff("mara", "Moderators")


@pytest.fixture
def facilitator(db):
    return staff("fede", "Facilitators")


@pytest.fixture
def record(walk):
    def _record(fraction=0.5, *, on=None, **overrides):
        kwargs = {
            "walk": on or walk,
            "idempotency_key": uuid.uuid4(),
            "point": along_route(fraction),
            "located_by": "gps",
            "accuracy_m": 12.0,
            "feeling": "uncomfortable",
            "scores": {"lighting": 0, "people": 2, "walk_path": 3},
            "hazards": ["maintenance"],
            "notes": "Poste de luz roto frente a la panadería.",
        }
        kwargs.update(overrides)
        return walk_stop_record(**kwargs).stop

    return _record


def url(name: str, stop: WalkStop) -> str:
    return reverse(f"wagtailsnippets_maps_walkstop:{name}", args=[stop.pk])


def bulk_url(action: str, stops) -> str:
    ids = "&".join(f"id={s.pk}" for s in stops)
    return reverse("wagtail_bulk_action", args=["maps", "walkstop", action]) + f"?{ids}"


def decisions(stop: WalkStop):
    return ModelLogEntry.objects.filter(
        object_id=str(stop.pk), action__startswith="convive.walkstop."
    )


def listed_ids(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'id="snippet_(\d+)_title"', response.content.decode())}


# --- The core, through walk stops --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("approved", "convive.walkstop.approve"),
        ("rejected", "convive.walkstop.reject"),
        ("hidden", "convive.walkstop.hide"),
    ],
)
def test_each_decision_is_stored_with_its_reason_and_logged(moderator, record, status, action):
    stop = record()

    decided = walk_stop_moderate(stop=stop, user=moderator, status=status, reason="Revisado")

    stop.refresh_from_db()
    assert decided.status == stop.status == status
    assert stop.moderation_reason == "Revisado"
    assert stop.moderated_at is not None
    entry = decisions(stop).get()
    assert entry.action == action
    assert entry.user_id == moderator.pk
    assert entry.data == {"status": {"old": "pending", "new": status}, "reason": "Revisado"}


@pytest.mark.parametrize("status", ["rejected", "hidden"])
def test_reject_and_hide_need_a_reason(moderator, record, status):
    stop = record()

    with pytest.raises(ModerationRefused) as refusal:
        walk_stop_moderate(stop=stop, user=moderator, status=status, reason="   ")

    assert refusal.value.field == "reason"
    assert "walk stop" in refusal.value.message
    stop.refresh_from_db()
    assert stop.status == ModerationStatus.PENDING
    assert not decisions(stop).exists()


def test_unknown_decisions_and_overlong_reasons_are_refused(moderator, record):
    stop = record()

    with pytest.raises(ModerationRefused) as unknown:
        walk_stop_moderate(stop=stop, user=moderator, status="deleted", reason="x")
    with pytest.raises(ModerationRefused) as too_long:
        walk_stop_moderate(stop=stop, user=moderator, status="approved", reason="x" * 501)

    assert unknown.value.field == "status"
    assert too_long.value.field == "reason"
    stop.refresh_from_db()
    assert stop.status == ModerationStatus.PENDING


def test_users_without_the_permission_are_refused(facilitator, record):
    stop = record()
    with pytest.raises(PermissionDenied):
        walk_stop_moderate(stop=stop, user=facilitator, status="approved")
    stop.refresh_from_db()
    assert stop.status == ModerationStatus.PENDING


def test_bulk_decisions_share_one_log_uuid(moderator, record):
    stops = [record(0.1), record(0.5), record(0.9)]

    count = walk_stop_moderate_bulk(
        stops=stops, user=moderator, status="approved", reason="Marcha del 20"
    )

    assert count == 3
    assert set(WalkStop.objects.values_list("status", flat=True)) == {"approved"}
    entries = ModelLogEntry.objects.filter(action="convive.walkstop.approve")
    assert entries.count() == 3
    assert len({entry.uuid for entry in entries}) == 1


def test_a_bulk_decision_is_all_or_nothing(moderator, record):
    """When the work done after the status change fails, no stop changes and nothing is logged."""
    stops = [record(0.2), record(0.8)]

    def fails(decisions):
        assert [previous for _obj, previous in decisions] == ["pending", "pending"]
        raise RuntimeError("the follow-up work failed")

    with pytest.raises(RuntimeError):
        decision_record_bulk(
            policy=POLICY, objects=stops, user=moderator, status="hidden", reason="x", after=fails
        )

    assert set(WalkStop.objects.values_list("status", flat=True)) == {"pending"}
    assert not ModelLogEntry.objects.filter(action__startswith="convive.walkstop.").exists()


def test_concerns_and_walk_stops_share_one_core():
    from diagnosis.services import ModerationRefused as ConcernRefused
    from diagnosis.services.moderation import LOG_ACTIONS
    from diagnosis.services.moderation import POLICY as CONCERN_POLICY

    assert ConcernRefused is ModerationRefused
    assert CONCERN_POLICY.permission == "diagnosis.moderate_concern"
    assert set(LOG_ACTIONS.values()) == {
        "convive.concern.approve",
        "convive.concern.reject",
        "convive.concern.hide",
    }


def test_a_concern_decision_goes_through_the_core(moderator, submit):
    from diagnosis.services import concern_moderate

    concern = submit()
    staff_both = staff("ana", "Moderators")

    with pytest.raises(ModerationRefused):
        concern_moderate(concern=concern, user=staff_both, status="rejected", reason="")
    concern_moderate(concern=concern, user=staff_both, status="approved", reason="ok")

    entry = ModelLogEntry.objects.get(object_id=str(concern.pk))
    assert entry.action == "convive.concern.approve"
    assert entry.data["status"] == {"old": "pending", "new": "approved"}


# --- The queue in the admin -----------------------------------------------------------------


def test_moderator_approves_a_stop_and_history_shows_the_reason(client, moderator, record):
    stop = record()
    client.force_login(moderator)

    response = client.post(
        url("moderate", stop), {"status": "approved", "reason": "Coincide con la ruta"}
    )

    assert response.status_code == 302
    assert response["Location"] == url("inspect", stop)
    stop.refresh_from_db()
    assert stop.status == ModerationStatus.APPROVED
    history = client.get(url("history", stop))
    assert history.status_code == 200
    assert "Coincide con la ruta" in history.content.decode()


def test_the_decision_form_is_preselected_and_a_missing_reason_changes_nothing(
    client, moderator, record
):
    stop = record()
    client.force_login(moderator)

    form = client.get(url("moderate", stop), {"status": "hidden"})
    refused = client.post(url("moderate", stop), {"status": "hidden", "reason": ""})

    assert form.status_code == 200
    assert 'value="hidden" checked' in form.content.decode() or (
        form.context["form"].initial["status"] == "hidden"
    )
    assert refused.status_code == 400
    with translation.override("es"):  # the admin speaks the user's language, Spanish here
        assert (
            gettext("Give a reason to reject or hide a walk stop; it is kept in its history.")
            in refused.content.decode()
        )
    stop.refresh_from_db()
    assert stop.status == ModerationStatus.PENDING
    assert not decisions(stop).exists()


def test_bulk_approve_from_the_queue(client, moderator, record):
    stops = [record(0.1), record(0.6)]
    client.force_login(moderator)

    confirm = client.get(bulk_url("approve", stops))
    done = client.post(bulk_url("approve", stops), {"reason": "Marcha del 20"})

    assert confirm.status_code == 200
    for stop in stops:
        assert stop.reference in confirm.content.decode()
    assert done.status_code == 302
    assert WalkStop.objects.filter(status="approved").count() == 2
    assert {
        e.data["reason"] for e in ModelLogEntry.objects.filter(action__contains="walkstop")
    } == {"Marcha del 20"}


def test_bulk_hide_without_a_reason_changes_nothing(client, moderator, record):
    stops = [record(0.1), record(0.6)]
    client.force_login(moderator)

    response = client.post(bulk_url("hide", stops), {"reason": ""})

    assert response.status_code == 400
    assert set(WalkStop.objects.values_list("status", flat=True)) == {"pending"}
    assert not ModelLogEntry.objects.filter(action__startswith="convive.walkstop.").exists()


def test_facilitators_see_stops_but_cannot_decide(client, facilitator, record):
    stop = record()
    client.force_login(facilitator)

    listing = client.get(reverse(LIST))
    inspect = client.get(url("inspect", stop))
    single = client.post(url("moderate", stop), {"status": "approved"})
    bulk = client.post(bulk_url("approve", [stop]), {"reason": ""})

    assert listing.status_code == 200
    assert listed_ids(listing) == {stop.pk}
    assert inspect.status_code == 200
    assert stop.notes in inspect.content.decode()
    assert url("moderate", stop) not in inspect.content.decode()
    assert single.status_code == 403
    assert bulk.status_code == 403
    stop.refresh_from_db()
    assert stop.status == ModerationStatus.PENDING


def test_people_without_walk_permissions_and_anonymous_users_are_kept_out(client, record):
    stop = record()
    for target in (reverse(LIST), url("inspect", stop), url("moderate", stop)):
        response = client.post(target, {"status": "approved"})
        assert response.status_code == 302
        assert reverse("wagtailadmin_login") in response["Location"]

    client.force_login(staff("otra", is_staff=False))
    outsider = client.get(reverse(LIST))
    assert outsider.status_code in (302, 403)
    stop.refresh_from_db()
    assert stop.status == ModerationStatus.PENDING


def test_inspect_shows_the_point_scores_hazards_notes_and_photo(client, moderator, record):
    photo = SimpleUploadedFile("IMG.jpg", jpeg_bytes(), content_type="image/jpeg")
    stop = record(0.5, photo=photo, hazards=["no_escape", "maintenance"])
    client.force_login(moderator)

    response = client.get(url("inspect", stop))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"{stop.point.y:.5f}, {stop.point.x:.5f}" in html  # exact point, staff only
    assert 'id="walk-admin-map"' in html
    assert "Poste de luz roto" in html
    with translation.override("es"):  # the admin speaks the user's language, Spanish here
        assert gettext("No escape route") in html
        assert gettext("Poor maintenance (rubbish, broken lights, graffiti)") in html
        assert html.count(gettext("Not observed")) == 5  # 8 parameters, 3 scored
        assert gettext("0 – poor") in html and gettext("3 – good") in html
    assert stop.photo.url in html
    assert stop.reference in html and "Camino al colegio" in html
    assert url("moderate", stop) in html


def test_queue_filters_by_walk_status_feeling_and_hazard(
    client, moderator, record, walk, night_walk
):
    day = record(0.2, hazards=["no_help"], feeling="frightening")
    decided = record(0.7, hazards=[])
    night = record(0.5, on=night_walk, hazards=["isolated"])
    walk_stop_moderate(stop=decided, user=moderator, status="approved")
    client.force_login(moderator)

    def ids(**params):
        return listed_ids(client.get(reverse(LIST), params))

    assert ids() == {day.pk, decided.pk, night.pk}
    assert ids(walk=walk.pk) == {day.pk, decided.pk}
    assert ids(status="pending") == {day.pk, night.pk}
    assert ids(feeling="frightening") == {day.pk}
    assert ids(hazard="no_help") == {day.pk}
    assert ids(hazard="isolated") == {night.pk}


def test_queue_puts_pending_stops_first(client, moderator, record):
    older_decided = record(0.1)
    walk_stop_moderate(stop=older_decided, user=moderator, status="approved")
    pending = record(0.9)
    client.force_login(moderator)

    html = client.get(reverse(LIST)).content.decode()

    assert html.index(f"snippet_{pending.pk}_title") < html.index(
        f"snippet_{older_decided.pk}_title"
    )


def test_stops_cannot_be_edited_or_added_in_the_admin(client, record):
    stop = record()
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(root)

    edit = client.post(url("edit", stop), {"notes": "cambiado"})
    add = client.get(reverse("wagtailsnippets_maps_walkstop:add"))

    assert edit.status_code == 302 and edit["Location"] == url("inspect", stop)
    assert add.status_code == 302
    assert add["Location"] == reverse("wagtailsnippets_maps_safetywalk:list")
    stop.refresh_from_db()
    assert stop.notes == "Poste de luz roto frente a la panadería."
