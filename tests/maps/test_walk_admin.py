"""Planning safety walks in the Wagtail admin: the listing, the form, the access code, the report.

Everything goes through the real admin URLs with the test client, as a facilitator's browser would
post it (the route as the map widget writes it: GeoJSON in the form field).
"""

import datetime
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext
from wagtail.models import ModelLogEntry

from maps.models import SafetyWalk, WalkParticipants
from maps.walks import walk_access_code_valid, walk_for_code
from tests.conftest import WALK_ROUTE

LIST = "wagtailsnippets_maps_safetywalk:list"
ADD = "wagtailsnippets_maps_safetywalk:add"

# A different route in the same barrio, as Leaflet writes it (GeoJSON, longitude first).
NEW_ROUTE = [[-74.0512, 4.6735], [-74.0505, 4.6748], [-74.0490, 4.6760]]


def staff(username: str, *groups: str, **extra):
    user = get_user_model().objects.create_user(username, f"{username}@example.org", "pw", **extra)
    user.groups.add(*Group.objects.filter(name__in=groups))
    return user


@pytest.fixture
def facilitator(db):
    return staff("fede", "Facilitators", first_name="Federica", last_name="Ruiz")


@pytest.fixture
def moderator(db):
    return staff("mara", "Moderators")


def url(name: str, walk: SafetyWalk) -> str:
    return reverse(f"wagtailsnippets_maps_safetywalk:{name}", args=[walk.pk])


def geojson_line(coordinates) -> str:
    return json.dumps({"type": "LineString", "coordinates": coordinates})


def formset(rows=(), *, initial=0) -> dict:
    data = {
        "participants-TOTAL_FORMS": str(len(rows)),
        "participants-INITIAL_FORMS": str(initial),
        "participants-MIN_NUM_FORMS": "0",
        "participants-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"participants-{index}-{key}"] = value
        data.setdefault(f"participants-{index}-ORDER", str(index + 1))
        data.setdefault(f"participants-{index}-id", "")
        data.setdefault(f"participants-{index}-DELETE", "")
    return data


def walk_form(barrios, **overrides) -> dict:
    data = {
        "title": "Camino a la estación",
        "areas": [str(barrios[0].pk)],
        "route": geojson_line(NEW_ROUTE),
        "meeting_point": json.dumps({"type": "Point", "coordinates": NEW_ROUTE[0]}),
        "meeting_place": "Panadería de la esquina",
        "date": "2026-12-03",
        "starts_at": "17:30",
        "time_band": "dusk",
        "target_group": "women",
        "facilitator": "",
        "light": "twilight",
        "weather": "cloudy",
        "status": "planned",
        "repeats": "",
        "repeat_kind": "",
        "notes": "Llevar chalecos.",
        **formset(
            [
                {"gender": "women", "age_band": "18-29", "count": "6"},
                {"gender": "women", "age_band": "30-44", "count": "4"},
            ]
        ),
    }
    data.update(overrides)
    return data


def listed_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="snippet_(\d+)_title"', response.content.decode())]


def stop(walk, fraction=0.5, **overrides):
    """A stop recorded through the real service, as the field page does."""
    import uuid

    from maps.walks import walk_stop_record
    from tests.conftest import along_route

    kwargs = {
        "walk": walk,
        "idempotency_key": uuid.uuid4(),
        "point": along_route(fraction),
        "located_by": "route",
        "feeling": "uncomfortable",
        "scores": {"lighting": 1},
    }
    kwargs.update(overrides)
    return walk_stop_record(**kwargs).stop


# --- Listing ----------------------------------------------------------------------------------


def test_listing_shows_each_walk_with_its_stops_and_those_awaiting_moderation(
    client, facilitator, walk, night_walk
):
    from maps.walk_moderation import walk_stop_moderate

    approved, _pending = stop(walk, 0.2), stop(walk, 0.6)
    stop(night_walk, 0.4)
    walk_stop_moderate(stop=approved, user=staff("root", is_superuser=True), status="approved")
    client.force_login(facilitator)

    response = client.get(reverse(LIST))

    assert response.status_code == 200
    rows = {row.pk: row for row in response.context["object_list"]}
    assert (rows[walk.pk].stop_count, rows[walk.pk].pending_count) == (2, 1)
    assert (rows[night_walk.pk].stop_count, rows[night_walk.pk].pending_count) == (1, 1)
    html = response.content.decode()
    assert "Camino al colegio (noche)" in html
    with translation.override("es"):  # the admin speaks the user's language, Spanish here
        women = gettext("Women and girls")
    # In each walk's row, not only among the filter's choices.
    assert len(re.findall(rf"<td[^>]*>\s*{re.escape(women)}\s*</td>", html)) == 2


def test_listing_counts_stops_in_a_fixed_number_of_queries(
    client, facilitator, walk, barrios, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    stop(walk, 0.3)
    client.force_login(facilitator)
    with CaptureQueriesContext(connection) as one_walk:
        client.get(reverse(LIST))
    for day in range(2, 12):
        more = SafetyWalk.objects.create(
            title=f"Ronda {day}",
            route=walk.route,
            date=datetime.date(2026, 10, day),
            time_band="night",
            target_group="mixed",
        )
        more.areas.set([barrios[day % 3]])
        more.save()
        stop(more, 0.5)
        stop(more, 0.7, feeling="frightening")

    with django_assert_max_num_queries(len(one_walk) + 2):
        response = client.get(reverse(LIST))

    assert len(listed_ids(response)) == 11
    assert {row.stop_count for row in response.context["object_list"]} <= {1, 2}


def test_listing_is_newest_first_and_filters_by_status_time_group_and_area(
    client, facilitator, walk, night_walk, barrios
):
    later = SafetyWalk.objects.create(
        title="Ruta al centro de salud",
        date=datetime.date(2027, 1, 15),
        time_band="day",
        target_group="older",
        status="done",
    )
    later.areas.set([barrios[2]])
    # Areas are a ParentalManyToManyField: `set` is kept in memory until the walk is saved (the
    # shared fixtures do not save after setting them).
    for saved in (walk, night_walk, later):
        saved.save()
    client.force_login(facilitator)

    everything = listed_ids(client.get(reverse(LIST)))
    done = listed_ids(client.get(reverse(LIST), {"status": "done"}))
    night = listed_ids(client.get(reverse(LIST), {"time_band": "night"}))
    older = listed_ids(client.get(reverse(LIST), {"target_group": "older"}))
    el_chico = listed_ids(client.get(reverse(LIST), {"area": barrios[0].pk}))

    assert everything[0] == later.pk  # newest date first
    assert set(everything) == {walk.pk, night_walk.pk, later.pk}
    assert done == [later.pk]
    assert night == [night_walk.pk]
    assert older == [later.pk]
    assert set(el_chico) == {walk.pk, night_walk.pk}


def test_listing_searches_by_title(client, facilitator, walk, barrios):
    SafetyWalk.objects.create(
        title="Ruta al centro de salud",
        date=datetime.date(2027, 1, 15),
        time_band="day",
        target_group="older",
    )
    client.force_login(facilitator)

    found = client.get(reverse(LIST), {"q": "colegio"})

    assert found.status_code == 200
    assert listed_ids(found) == [walk.pk]


# --- The form ---------------------------------------------------------------------------------


def test_facilitator_plans_a_walk_with_a_drawn_route_and_participants(client, facilitator, barrios):
    client.force_login(facilitator)

    response = client.post(
        reverse(ADD), walk_form(barrios, facilitator=str(facilitator.pk), areas=[barrios[0].pk])
    )

    assert response.status_code == 302
    walk = SafetyWalk.objects.get(title="Camino a la estación")
    assert walk.route.geom_type == "LineString"
    assert [list(c) for c in walk.route.coords] == NEW_ROUTE
    assert walk.meeting_point.coords == tuple(NEW_ROUTE[0])
    assert list(walk.areas.all()) == [barrios[0]]
    assert walk.facilitator == facilitator
    assert walk.status == SafetyWalk.Status.PLANNED
    assert walk.access_code  # participants' code made with the walk
    cells = {(p.gender, p.age_band): p.count for p in walk.participants.all()}
    assert cells == {("women", "18-29"): 6, ("women", "30-44"): 4}
    assert ModelLogEntry.objects.filter(object_id=str(walk.pk), action="wagtail.create").exists()


def test_the_add_form_offers_the_route_and_meeting_point_maps(client, facilitator, barrios):
    client.force_login(facilitator)

    html = client.get(reverse(ADD)).content.decode()

    assert "geodjango_id_route" in html and "geodjango_id_meeting_point" in html
    assert "'LineString'" in html and "'Point'" in html
    assert "maps/js/map-draw-i18n.js" in html
    assert "leaflet/draw/leaflet.draw.js" in html


def test_editing_changes_the_route_and_keeps_one_row_per_participants_cell(
    client, facilitator, walk, barrios
):
    row = WalkParticipants.objects.create(walk=walk, gender="women", age_band="18-29", count=3)
    client.force_login(facilitator)
    data = walk_form(
        barrios,
        title=walk.title,
        **formset(
            [{"gender": "women", "age_band": "18-29", "count": "5", "id": str(row.pk)}],
            initial=1,
        ),
    )

    response = client.post(url("edit", walk), data)

    assert response.status_code == 302
    walk.refresh_from_db()
    assert [list(c) for c in walk.route.coords] == NEW_ROUTE
    assert [(p.pk, p.count) for p in walk.participants.all()] == [(row.pk, 5)]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"repeat_kind": "follow_up"}, "repeats"),
        ({"title": ""}, "title"),
        ({"time_band": "noon"}, "time_band"),
        ({"route": json.dumps({"type": "Point", "coordinates": NEW_ROUTE[0]})}, "route"),
        ({"route": "{not geojson"}, "route"),
        ({"date": "31/31/2026"}, "date"),
    ],
)
def test_invalid_walks_are_refused_with_a_message_and_nothing_is_saved(
    client, facilitator, barrios, overrides, field
):
    client.force_login(facilitator)

    response = client.post(reverse(ADD), walk_form(barrios, **overrides))

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not SafetyWalk.objects.exists()
    assert not WalkParticipants.objects.exists()


def test_repeating_needs_a_kind_and_cannot_point_at_itself_or_make_a_circle(
    client, facilitator, walk, night_walk, barrios
):
    client.force_login(facilitator)

    without_kind = client.post(
        url("edit", walk), walk_form(barrios, title=walk.title, repeats=str(night_walk.pk))
    )
    itself = client.post(
        url("edit", walk),
        walk_form(barrios, title=walk.title, repeats=str(walk.pk), repeat_kind="follow_up"),
    )
    circle = client.post(
        url("edit", walk),
        walk_form(barrios, title=walk.title, repeats=str(night_walk.pk), repeat_kind="follow_up"),
    )

    assert without_kind.status_code == 400
    assert without_kind.context["form"].errors["repeat_kind"]
    assert itself.status_code == 400
    assert itself.context["form"].errors["repeats"]  # not even offered as a choice
    assert circle.status_code == 400
    with translation.override("es"):
        circular = gettext(
            "That walk already repeats this one; two walks cannot repeat each other."
        )
    assert circle.context["form"].errors["repeats"] == [circular]
    walk.refresh_from_db()
    assert walk.repeats is None
    assert walk.title == "Camino al colegio"
    assert [list(c) for c in walk.route.coords] == [list(c) for c in WALK_ROUTE]


def test_a_walk_repeating_another_is_saved_with_its_kind(client, facilitator, walk, barrios):
    client.force_login(facilitator)

    response = client.post(
        reverse(ADD), walk_form(barrios, repeats=str(walk.pk), repeat_kind="other_time")
    )

    assert response.status_code == 302
    repeated = SafetyWalk.objects.get(title="Camino a la estación")
    assert (repeated.repeats, repeated.repeat_kind) == (walk, "other_time")


def test_two_rows_for_the_same_participants_cell_are_refused(client, facilitator, barrios):
    client.force_login(facilitator)
    rows = [
        {"gender": "women", "age_band": "18-29", "count": "6"},
        {"gender": "women", "age_band": "18-29", "count": "2"},
    ]

    response = client.post(reverse(ADD), walk_form(barrios, **formset(rows)))

    assert response.status_code == 400
    with translation.override("es"):
        assert (
            gettext("There is already a row for this gender and age band; add the counts up.")
            in response.content.decode()
        )
    assert not SafetyWalk.objects.exists()


def test_only_active_facilitators_and_superusers_can_lead_a_walk(
    client, facilitator, moderator, barrios
):
    root = staff("root", is_superuser=True)
    gone = staff("ida", "Facilitators", is_active=False)
    client.force_login(facilitator)

    choices = client.get(reverse(ADD)).context["form"].fields["facilitator"].queryset
    refused = client.post(reverse(ADD), walk_form(barrios, facilitator=str(moderator.pk)))

    assert set(choices) == {facilitator, root}
    assert gone not in choices and moderator not in choices
    assert refused.status_code == 400
    assert refused.context["form"].errors["facilitator"]
    assert not SafetyWalk.objects.exists()


def test_a_new_walk_is_led_by_the_facilitator_who_plans_it(client, facilitator, barrios):
    client.force_login(facilitator)

    form = client.get(reverse(ADD)).context["form"]

    assert form["facilitator"].value() == facilitator.pk
    assert "Federica Ruiz" in str(form["facilitator"])


def test_the_areas_list_does_not_load_boundaries(client, facilitator, barrios):
    client.force_login(facilitator)

    form = client.get(reverse(ADD)).context["form"]

    assert "geometry" in form.fields["areas"].queryset.query.deferred_loading[0]


def test_moderators_cannot_plan_or_change_walks(client, moderator, walk, barrios):
    client.force_login(moderator)

    add = client.post(reverse(ADD), walk_form(barrios))
    edit = client.post(url("edit", walk), walk_form(barrios, title="Otro"))
    listing = client.get(reverse(LIST))

    assert add.status_code in (302, 403)
    assert edit.status_code in (302, 403)
    assert SafetyWalk.objects.count() == 1
    walk.refresh_from_db()
    assert walk.title == "Camino al colegio"
    assert listing.status_code == 200  # they read walks to moderate their stops
    assert reverse(ADD) not in listing.content.decode()


def test_anonymous_users_are_sent_to_login(client, walk):
    for target in (reverse(LIST), url("inspect", walk), url("access_code", walk)):
        response = client.post(target)
        assert response.status_code == 302
        assert reverse("wagtailadmin_login") in response["Location"]


# --- Access code ------------------------------------------------------------------------------


def test_the_walk_page_shows_the_code_the_join_link_and_the_stops(client, facilitator, walk):
    stop(walk, 0.2)
    stop(walk, 0.8)
    client.force_login(facilitator)

    response = client.get(url("inspect", walk))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"data-walk-access-code>{walk.access_code}</p>" in html
    assert f"/es/walks/join/?code={walk.access_code}" in html
    assert f"/walks/{walk.uuid}/record/" in html
    assert 'data-stop-status="pending">2<' in html
    stops_list = reverse("wagtailsnippets_maps_walkstop:list")
    assert f"{stops_list}?walk={walk.pk}&amp;status=pending" in html
    assert url("access_code", walk) in html
    assert url("publish", walk) not in html  # facilitators do not publish


def test_a_new_access_code_shuts_out_the_old_one_and_is_logged(client, facilitator, walk):
    old = walk.access_code
    client.force_login(facilitator)

    response = client.post(url("access_code", walk))

    assert response.status_code == 302
    assert response["Location"] == url("inspect", walk)
    walk.refresh_from_db()
    assert walk.access_code != old
    assert not walk_access_code_valid(walk=walk, code=old)
    assert walk_for_code(old) is None
    assert walk_for_code(walk.access_code) == walk
    entry = ModelLogEntry.objects.get(
        object_id=str(walk.pk), action="convive.walk.access_code_renew"
    )
    assert entry.user == facilitator
    history = client.get(url("history", walk)).content.decode()
    with translation.override("es"):
        assert escape(gettext("A new participants' access code replaced the old one")) in history


def test_the_access_code_is_only_renewed_by_a_post_from_someone_who_may_change_the_walk(
    client, moderator, facilitator, walk
):
    old = walk.access_code
    client.force_login(facilitator)
    by_get = client.get(url("access_code", walk))
    client.force_login(moderator)
    by_moderator = client.post(url("access_code", walk))

    assert by_get.status_code == 405
    assert by_moderator.status_code == 403
    walk.refresh_from_db()
    assert walk.access_code == old
    assert not ModelLogEntry.objects.filter(action="convive.walk.access_code_renew").exists()


# --- Report publishing ------------------------------------------------------------------------


def test_a_report_is_only_published_once_the_walk_is_done(client, moderator, walk):
    client.force_login(moderator)
    # The button is there but cannot be pressed; the page says why.
    inspect = client.get(url("inspect", walk)).content.decode()
    assert re.search(r'<button type="submit" class="button" disabled[^>]*>', inspect)

    refused = client.post(url("publish", walk), follow=True)

    walk.refresh_from_db()
    assert walk.report_published_at is None
    with translation.override("es"):
        refusal = gettext(
            "Only a walk that is done can have its report published. This walk is "
            "“%(status)s”: set its status to “Done” once the group has finished."
        ) % {"status": SafetyWalk.Status.PLANNED.label}
    assert refusal in refused.content.decode()
    assert not ModelLogEntry.objects.filter(action="convive.walk.report_publish").exists()

    walk.status = SafetyWalk.Status.DONE
    walk.save()
    published = client.post(url("publish", walk))

    assert published.status_code == 302
    walk.refresh_from_db()
    assert walk.report_published_at is not None
    entry = ModelLogEntry.objects.get(object_id=str(walk.pk), action="convive.walk.report_publish")
    assert entry.user == moderator
    page = client.get(url("inspect", walk)).content.decode()
    assert url("unpublish", walk) in page


def test_a_done_walk_offers_an_active_publish_button(client, moderator, walk):
    walk.status = SafetyWalk.Status.DONE
    walk.save()
    client.force_login(moderator)
    page = client.get(url("inspect", walk)).content.decode()
    assert url("publish", walk) in page
    assert not re.search(r'<button type="submit" class="button" disabled[^>]*>', page)


def test_unpublishing_withdraws_the_report_and_is_logged(client, moderator, walk):
    walk.status = SafetyWalk.Status.DONE
    walk.save()
    client.force_login(moderator)
    client.post(url("publish", walk))

    response = client.post(url("unpublish", walk))

    assert response.status_code == 302
    walk.refresh_from_db()
    assert walk.report_published_at is None
    assert ModelLogEntry.objects.filter(
        object_id=str(walk.pk), action="convive.walk.report_unpublish"
    ).exists()


def test_facilitators_cannot_publish_reports(client, facilitator, walk):
    walk.status = SafetyWalk.Status.DONE
    walk.save()
    client.force_login(facilitator)

    response = client.post(url("publish", walk))

    assert response.status_code == 403
    walk.refresh_from_db()
    assert walk.report_published_at is None


def test_a_published_walk_cannot_be_set_back_to_planned(client, facilitator, walk, barrios):
    from django.utils import timezone

    SafetyWalk.objects.filter(pk=walk.pk).update(status="done", report_published_at=timezone.now())
    client.force_login(facilitator)

    response = client.post(url("edit", walk), walk_form(barrios, title=walk.title))

    assert response.status_code == 400
    assert response.context["form"].errors["status"]
    walk.refresh_from_db()
    assert walk.status == SafetyWalk.Status.DONE
