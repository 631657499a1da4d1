"""The boundary of an area really draws on the Leaflet map of its edit form in the Wagtail admin.

Real headless Chromium against the live server. Tiles are blocked (there is no internet and tests
must never fetch them); what matters is that Leaflet starts, has a size, and draws the polygon.
"""

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.urls import reverse

from maps.models import Area
from tests.conftest import BARRIO_CODES

from .conftest import CHAPINERO_BARRIOS, features_of

PASSWORD = "una-clave-larga-de-prueba"


@pytest.fixture
def el_chico(import_areas, write_geojson):
    """El Chico and its neighbours, imported with the real command (the whole file is slow)."""
    features = [
        f for f in features_of(CHAPINERO_BARRIOS) if f["properties"]["SCACODIGO"] in BARRIO_CODES
    ]
    import_areas(write_geojson(features), "--name-field=SCANOMBRE", "--code-field=SCACODIGO")
    return Area.objects.get(code="008308")


def log_in(page, live_server, django_user_model):
    django_user_model.objects.create_superuser("facilitadora", "f@example.org", PASSWORD)
    page.goto(live_server.url + reverse("wagtailadmin_login"))
    page.fill("input[name=username]", "facilitadora")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + reverse("wagtailadmin_home"))


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_edit_form_draws_the_barrio_boundary_on_a_map(
    page, live_server, el_chico, locales, django_user_model
):
    log_in(page, live_server, django_user_model)

    page.goto(live_server.url + reverse("wagtailsnippets_maps_area:edit", args=[el_chico.pk]))
    container = page.locator(".leaflet-container")
    polygon = container.locator(".leaflet-overlay-pane svg path")
    polygon.first.wait_for(state="visible")
    container.scroll_into_view_if_needed()
    page.screenshot(path=page.output_dir / "edit-el-chico.png", full_page=True)
    container.screenshot(path=page.output_dir / "edit-el-chico-map.png")

    assert container.count() == 1
    box = container.bounding_box()
    assert box["width"] > 200 and box["height"] > 200
    assert polygon.count() >= 1
    assert polygon.first.get_attribute("d").startswith("M")
    outline = polygon.first.bounding_box()
    # The polygon is fitted into view: it is drawn inside the map and is not a dot.
    assert outline["width"] > 50 and outline["height"] > 50
    assert box["x"] <= outline["x"] and outline["x"] + outline["width"] <= box["x"] + box["width"]
    assert page.errors == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_saving_the_form_without_touching_the_map_keeps_the_boundary(
    page, live_server, el_chico, locales, django_user_model
):
    before = GEOSGeometry(el_chico.geometry.wkb, srid=4326)
    log_in(page, live_server, django_user_model)

    page.goto(live_server.url + reverse("wagtailsnippets_maps_area:edit", args=[el_chico.pk]))
    page.locator(".leaflet-overlay-pane svg path").first.wait_for(state="visible")
    page.fill("input[name=population_total]", "5230")
    page.fill("input[name=population_year]", "2018")
    page.click("button[type=submit]:has-text('Guardar'), button[type=submit]:has-text('Save')")
    page.wait_for_url(live_server.url + reverse("wagtailsnippets_maps_area:list"))
    page.screenshot(path=page.output_dir / "saved.png")

    el_chico.refresh_from_db()
    assert el_chico.population_total == 5230
    assert el_chico.geometry.geom_type == "MultiPolygon"
    assert el_chico.geometry.valid
    # Leaflet re-serialises the drawn polygon; it may round, but the barrio is the same place.
    assert el_chico.geometry.sym_difference(before).area < before.area * 0.001
