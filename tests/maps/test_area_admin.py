"""Areas in the Wagtail admin: the snippet listing facilitators use to find and check areas."""

import pytest
from django.urls import reverse

from .conftest import CDMX


@pytest.fixture
def admin_client(client, django_user_model, locales):
    user = django_user_model.objects.create_superuser("facilitadora", "f@example.org", "x")
    client.force_login(user)
    return client


@pytest.fixture
def alcaldias(import_areas):
    import_areas(
        CDMX,
        "--name-field=NOM_MUN",
        "--code-field=CVE_MUN",
        "--level=district",
        "--code-prefix=CDMX-",
        "--population-field=Poblacion2015",
        "--population-year=2015",
    )


def test_the_area_list_shows_name_code_level_parent_and_population(
    admin_client, alcaldias, barrios
):
    response = admin_client.get(reverse("wagtailsnippets_maps_area:list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Coyoacán" in html
    assert "CDMX-003" in html
    assert "608479" in html or "608.479" in html or "608,479" in html
    assert "El Chico" in html


def test_the_area_list_filters_by_level(admin_client, alcaldias, barrios):
    response = admin_client.get(
        reverse("wagtailsnippets_maps_area:list"), {"level": "neighbourhood"}
    )

    html = response.content.decode()
    assert "El Chico" in html
    assert "Coyoacán" not in html


def test_the_area_list_searches_by_name(admin_client, alcaldias, barrios):
    response = admin_client.get(reverse("wagtailsnippets_maps_area:list"), {"q": "Coyoacán"})

    html = response.content.decode()
    assert "Coyoacán" in html
    assert "Azcapotzalco" not in html
    assert "El Chico" not in html


def test_a_neighbourhood_cannot_be_chosen_as_a_parent(admin_client, barrios):
    el_chico, lago_gaitan = barrios[0], barrios[1]
    url = reverse("wagtailsnippets_maps_area:edit", args=[el_chico.pk])
    form = admin_client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["geometry"] = el_chico.geometry.geojson
    data["parent"] = lago_gaitan.pk
    data.update(
        {
            "population-TOTAL_FORMS": "0",
            "population-INITIAL_FORMS": "0",
            "population-MIN_NUM_FORMS": "0",
            "population-MAX_NUM_FORMS": "1000",
        }
    )

    response = admin_client.post(url, data)

    assert response.status_code == 200  # the form again, with the error
    assert response.context["form"].errors["parent"]
    el_chico.refresh_from_db()
    assert el_chico.parent is None
