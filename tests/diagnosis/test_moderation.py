"""Moderating concerns in the Wagtail admin: the queue, decisions, bulk actions and history."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.models import ModelLogEntry

from diagnosis.models import Concern
from diagnosis.services import (
    ModerationRefused,
    concern_moderate,
    concern_moderate_bulk,
)

LIST_URL = "wagtailsnippets_diagnosis_concern:list"


def url(name: str, concern: Concern) -> str:
    return reverse(f"wagtailsnippets_diagnosis_concern:{name}", args=[concern.pk])


def bulk_url(action: str, concerns) -> str:
    ids = "&".join(f"id={c.pk}" for c in concerns)
    return reverse("wagtail_bulk_action", args=["diagnosis", "concern", action]) + f"?{ids}"


def decisions(concern: Concern):
    return ModelLogEntry.objects.filter(
        object_id=str(concern.pk), action__startswith="convive.concern."
    )


def listed_ids(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'id="snippet_(\d+)_title"', response.content.decode())}


def test_moderator_approves_a_concern_and_history_shows_the_reason(client, moderator, submit):
    concern = submit()
    client.force_login(moderator)

    response = client.post(
        url("moderate", concern), {"status": "approved", "reason": "Clear and on topic"}
    )

    assert response.status_code == 302
    concern.refresh_from_db()
    assert concern.status == Concern.Status.APPROVED
    assert concern.moderation_reason == "Clear and on topic"
    assert concern.moderated_at is not None
    entry = decisions(concern).get()
    assert entry.action == "convive.concern.approve"
    assert entry.user_id == moderator.pk
    assert entry.data["reason"] == "Clear and on topic"

    history = client.get(url("history", concern))
    assert history.status_code == 200
    assert "Clear and on topic" in history.content.decode()


def test_bulk_approve_logs_one_decision_per_concern(client, moderator, submit):
    concerns = [submit() for _ in range(3)]
    client.force_login(moderator)

    confirm = client.get(bulk_url("approve", concerns))
    assert confirm.status_code == 200
    for concern in concerns:
        assert concern.reference in confirm.content.decode()

    response = client.post(bulk_url("approve", concerns), {"reason": "Session of 12 May"})

    assert response.status_code == 302
    assert Concern.objects.filter(status=Concern.Status.APPROVED).count() == 3
    entries = ModelLogEntry.objects.filter(action="convive.concern.approve")
    assert entries.count() == 3
    assert {e.data["reason"] for e in entries} == {"Session of 12 May"}
    assert len({e.uuid for e in entries}) == 1  # one action in the site history


def test_reject_without_reason_is_refused_and_changes_nothing(client, moderator, submit):
    concern = submit()
    client.force_login(moderator)

    response = client.post(url("moderate", concern), {"status": "rejected", "reason": "  "})

    assert response.status_code == 400
    assert "reason" in response.content.decode().lower()
    concern.refresh_from_db()
    assert concern.status == Concern.Status.PENDING
    assert concern.moderated_at is None
    assert not decisions(concern).exists()


def test_bulk_hide_without_reason_is_refused(client, moderator, submit):
    concerns = [submit(), submit()]
    client.force_login(moderator)

    response = client.post(bulk_url("hide", concerns), {"reason": ""})

    assert response.status_code == 400
    assert not Concern.objects.exclude(status=Concern.Status.PENDING).exists()
    assert not ModelLogEntry.objects.filter(action__startswith="convive.concern.").exists()


def test_hidden_and_rejected_concerns_are_kept(moderator, submit):
    hidden, rejected = submit(), submit()

    concern_moderate(concern=hidden, user=moderator, status="hidden", reason="Names a neighbour")
    concern_moderate_bulk(concerns=[rejected], user=moderator, status="rejected", reason="Spam")

    assert Concern.objects.get(pk=hidden.pk).status == Concern.Status.HIDDEN
    assert Concern.objects.get(pk=rejected.pk).status == Concern.Status.REJECTED
    assert Concern.objects.get(pk=hidden.pk).description == "La calle está muy oscura de noche."


def test_unknown_decision_is_refused(moderator, submit):
    concern = submit()
    with pytest.raises(ModerationRefused):
        concern_moderate(concern=concern, user=moderator, status="deleted", reason="x")
    concern.refresh_from_db()
    assert concern.status == Concern.Status.PENDING


def test_facilitator_cannot_moderate(client, facilitator, submit):
    concern = submit()
    client.force_login(facilitator)

    single = client.post(url("moderate", concern), {"status": "approved", "reason": ""})
    bulk = client.post(bulk_url("approve", [concern]), {"reason": ""})
    inspect = client.get(url("inspect", concern))

    assert single.status_code == 403
    assert bulk.status_code == 403
    concern.refresh_from_db()
    assert concern.status == Concern.Status.PENDING
    assert not decisions(concern).exists()
    # The facilitator can read the concern, but is offered no decision.
    assert inspect.status_code == 200
    assert concern.description in inspect.content.decode()
    assert url("moderate", concern) not in inspect.content.decode()


def test_anonymous_users_are_sent_to_login(client, submit):
    concern = submit()
    for target in (
        reverse(LIST_URL),
        url("inspect", concern),
        url("moderate", concern),
        bulk_url("approve", [concern]),
    ):
        response = client.post(target, {"status": "approved"})
        assert response.status_code == 302
        assert reverse("wagtailadmin_login") in response["Location"]
    concern.refresh_from_db()
    assert concern.status == Concern.Status.PENDING


def test_inspect_view_shows_what_a_moderator_needs(client, moderator, submit):
    concern = submit(place_description="Parque de la 93", time_band="night")
    client.force_login(moderator)

    response = client.get(url("inspect", concern))

    html = response.content.decode()
    assert response.status_code == 200
    assert concern.description in html
    assert "Parque de la 93" in html
    assert "4.67350, -74.05120" in html  # the exact point, for staff
    assert concern.area.name in html
    assert concern.reference in html
    assert url("moderate", concern) in html


def test_queue_filters_by_status_category_and_consultation(
    client, moderator, submit, categories, consultation
):
    lighting = submit()
    harassment = submit(category=categories["harassment"])
    approved = submit()
    concern_moderate(concern=approved, user=moderator, status="approved")
    client.force_login(moderator)
    listing = reverse(LIST_URL)

    everything = client.get(listing)
    by_status = client.get(listing, {"status": "pending"})
    by_category = client.get(listing, {"category": categories["harassment"].pk})
    by_consultation = client.get(listing, {"consultation": consultation.pk})

    assert listed_ids(everything) == {lighting.pk, harassment.pk, approved.pk}
    assert listed_ids(by_status) == {lighting.pk, harassment.pk}
    assert listed_ids(by_category) == {harassment.pk}
    assert listed_ids(by_consultation) == {lighting.pk, harassment.pk, approved.pk}


def test_queue_puts_pending_concerns_first(client, moderator, submit):
    older_decided = submit()
    concern_moderate(concern=older_decided, user=moderator, status="approved")
    pending = submit()
    client.force_login(moderator)

    html = client.get(reverse(LIST_URL)).content.decode()

    assert html.index(f"snippet_{pending.pk}_title") < html.index(
        f"snippet_{older_decided.pk}_title"
    )


def test_empty_queue_renders(client, moderator, consultation):
    client.force_login(moderator)
    response = client.get(reverse(LIST_URL))
    assert response.status_code == 200
    assert listed_ids(response) == set()


def test_concerns_cannot_be_edited_in_the_admin(client, submit):
    concern = submit()
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)

    response = client.post(url("edit", concern), {"description": "Texto cambiado"})

    assert response.status_code == 302
    assert response["Location"] == url("inspect", concern)
    concern.refresh_from_db()
    assert concern.description == "La calle está muy oscura de noche."
