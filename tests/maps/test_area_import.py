"""Importing area boundaries from GeoJSON: the real shipped files, re-imports and untidy input."""

import json

import pytest
from django.core.management import CommandError, call_command

from maps.models import Area
from maps.services import area_import, name_repair

from .conftest import CDMX, CHAPINERO_BARRIOS, LOCALIDADES, features_of


def square(x: float, y: float, side: float = 0.001, z: float | None = None) -> dict:
    ring = [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]
    if z is not None:
        ring = [[*point, z] for point in ring]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geometry, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


# --- The real files shipped in maps/data ------------------------------------------------------


def test_chapinero_barrios_are_imported_as_neighbourhoods(import_areas):
    run = import_areas(
        CHAPINERO_BARRIOS,
        "--name-field=SCANOMBRE",
        "--code-field=SCACODIGO",
        "--level=neighbourhood",
        "--source=IDECA – Bogotá D.C.",
    )

    assert run.counts() == {"created": 74, "updated": 0, "unchanged": 0, "skipped": 0}
    assert Area.objects.filter(level=Area.Level.NEIGHBOURHOOD).count() == 74
    el_chico = Area.objects.get(code="008308")
    assert el_chico.name == "EL CHICO"
    assert el_chico.source == "IDECA – Bogotá D.C."
    assert el_chico.geometry.geom_type == "MultiPolygon"
    assert el_chico.geometry.valid


def test_localidad_names_double_encoded_by_the_publisher_are_repaired(import_areas):
    run = import_areas(
        LOCALIDADES,
        "--name-field=LocNombre",
        "--code-field=LocCodigo",
        "--level=district",
        "--code-prefix=BOG-LOC-",
    )

    assert run.counts()["created"] == 20
    names = set(Area.objects.values_list("name", flat=True))
    assert "ANTONIO NARIÑO" in names
    assert not any("Ã" in name for name in names)
    assert Area.objects.get(code="BOG-LOC-15").name == "ANTONIO NARIÑO"
    assert "ANTONIO NARIÑO" in run.stdout  # the operator is told what was changed


def test_cdmx_alcaldias_keep_their_accents_and_get_population(import_areas):
    run = import_areas(
        CDMX,
        "--name-field=NOM_MUN",
        "--code-field=CVE_MUN",
        "--level=district",
        "--code-prefix=CDMX-",
        "--population-field=Poblacion2015",
        "--population-year=2015",
        "--source=INEGI",
    )

    assert run.counts() == {"created": 16, "updated": 0, "unchanged": 0, "skipped": 0}
    coyoacan = Area.objects.get(code="CDMX-003")
    assert coyoacan.name == "Coyoacán"
    assert coyoacan.population_total == 608479
    assert coyoacan.population_year == 2015
    assert Area.objects.filter(name="Benito Juárez").exists()
    assert "repaired" not in run.stdout


# --- Re-imports -----------------------------------------------------------------------------------


def test_importing_the_same_file_twice_updates_instead_of_duplicating(import_areas):
    args = ("--name-field=SCANOMBRE", "--code-field=SCACODIGO", "--level=neighbourhood")
    import_areas(CHAPINERO_BARRIOS, *args)
    # Typed in the admin since: a re-import of boundaries alone must not wipe it.
    Area.objects.filter(code="008308").update(population_total=5230, population_year=2018)

    again = import_areas(CHAPINERO_BARRIOS, *args)

    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 74, "skipped": 0}
    assert Area.objects.count() == 74
    el_chico = Area.objects.get(code="008308")
    assert (el_chico.population_total, el_chico.population_year) == (5230, 2018)


def test_a_corrected_file_updates_only_the_areas_that_changed(import_areas, tmp_path):
    args = ("--name-field=SCANOMBRE", "--code-field=SCACODIGO", "--level=neighbourhood")
    import_areas(CHAPINERO_BARRIOS, *args)
    el_chico_id = Area.objects.get(code="008308").pk
    document = json.loads(CHAPINERO_BARRIOS.read_text(encoding="utf-8"))
    for item in document["features"]:
        if item["properties"]["SCACODIGO"] == "008308":
            item["properties"]["SCANOMBRE"] = "El Chicó"
    corrected = tmp_path / "chapinero_v2.geojson"
    corrected.write_text(json.dumps(document), encoding="utf-8")

    run = import_areas(corrected, *args)

    assert run.counts() == {"created": 0, "updated": 1, "unchanged": 73, "skipped": 0}
    assert Area.objects.count() == 74
    el_chico = Area.objects.get(code="008308")
    assert (el_chico.pk, el_chico.name) == (el_chico_id, "El Chicó")


# --- Parents ----------------------------------------------------------------------------------


def test_barrios_hang_under_the_parent_given_by_code(import_areas, chapinero_localidad):
    import_areas(
        CHAPINERO_BARRIOS,
        "--name-field=SCANOMBRE",
        "--code-field=SCACODIGO",
        "--parent=BOG-LOC-02",
    )

    barrios = Area.objects.filter(level=Area.Level.NEIGHBOURHOOD)
    assert barrios.count() == 74
    assert set(barrios.values_list("parent", flat=True)) == {chapinero_localidad.pk}


def test_an_unknown_parent_code_is_a_clear_error(import_areas):
    with pytest.raises(CommandError, match="no area with code BOG-LOC-99"):
        import_areas(
            CHAPINERO_BARRIOS,
            "--name-field=SCANOMBRE",
            "--code-field=SCACODIGO",
            "--parent=BOG-LOC-99",
        )
    assert not Area.objects.exists()


def test_parent_auto_puts_each_barrio_under_the_localidad_that_contains_it(import_areas, db):
    # Chapinero and the localidades around it, so every barrio has wrong neighbours to choose from.
    around = {"01", "02", "03", "12", "13"}
    area_import(
        features=[f for f in features_of(LOCALIDADES) if f["properties"]["LocCodigo"] in around],
        name_field="LocNombre",
        code_field="LocCodigo",
        level="district",
        code_prefix="BOG-LOC-",
    )

    import_areas(
        CHAPINERO_BARRIOS, "--name-field=SCANOMBRE", "--code-field=SCACODIGO", "--parent-auto"
    )

    parents = set(
        Area.objects.filter(level=Area.Level.NEIGHBOURHOOD).values_list("parent__name", flat=True)
    )
    assert parents == {"CHAPINERO"}


def test_parent_auto_prefers_the_district_over_the_city(
    import_areas, write_geojson, chapinero_localidad
):
    city = square(-74.3, 4.4, side=0.6)
    import_areas(
        write_geojson([feature(city, name="Bogotá D.C.", code="BOG")], name="city.geojson"),
        "--name-field=name",
        "--code-field=code",
        "--level=city",
    )

    run = import_areas(
        write_geojson(
            [
                feature(square(-74.0515, 4.6730, side=0.0005), name="Inside", code="N-1"),
                feature(square(-74.25, 4.45, side=0.0005), name="South", code="N-2"),
                feature(square(-70.0, 4.0, side=0.0005), name="Far away", code="N-3"),
            ]
        ),
        "--name-field=name",
        "--code-field=code",
        "--parent-auto",
    )

    assert Area.objects.get(code="N-1").parent == chapinero_localidad
    assert Area.objects.get(code="N-2").parent.code == "BOG"
    assert Area.objects.get(code="N-3").parent is None
    assert "Feature 3 (code N-3): no larger area contains it" in run.stdout


# --- Untidy input -------------------------------------------------------------------------------


def test_a_self_intersecting_bow_tie_is_repaired_into_two_triangles(import_areas, write_geojson):
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[-74.05, 4.67], [-74.04, 4.68], [-74.04, 4.67], [-74.05, 4.68], [-74.05, 4.67]]
        ],
    }
    path = write_geojson([feature(bow_tie, name="Bow tie", code="BT")])

    run = import_areas(path, "--name-field=name", "--code-field=code")

    area = Area.objects.get(code="BT")
    assert area.geometry.valid
    assert area.geometry.num_geom == 2
    assert area.geometry.area == pytest.approx(0.00005)
    assert "Feature 1 (code BT): invalid geometry repaired" in run.stdout


def test_bad_features_are_reported_and_skipped_while_good_ones_are_imported(
    import_areas, write_geojson
):
    path = write_geojson(
        [
            feature(square(-74.05, 4.67), name="Good", code="G1"),
            feature(square(-74.04, 4.67), name="No code"),
            feature(None, name="No geometry", code="X3"),
            feature({"type": "Point", "coordinates": [-74.05, 4.67]}, name="A point", code="X4"),
            feature({"type": "Polygon", "coordinates": []}, name="Empty", code="X5"),
            feature(square(-74.03, 4.67), code="X6"),
            feature(square(-74.02, 4.67), name="Again", code="G1"),
            feature({"type": "Polygon", "coordinates": [[[0, 0], [1]]]}, name="Broken", code="X8"),
        ]
    )

    run = import_areas(path, "--name-field=name", "--code-field=code")

    assert run.counts() == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 7}
    assert list(Area.objects.values_list("code", flat=True)) == ["G1"]
    assert "Feature 2: it has no code in “code”; skipped" in run.stderr
    assert "Feature 3 (code X3): it has no geometry; skipped" in run.stderr
    assert "Feature 4 (code X4): its geometry is a Point, not an area; skipped" in run.stderr
    assert "Feature 5 (code X5)" in run.stderr
    assert "Feature 6 (code X6): it has no name in “name”; skipped" in run.stderr
    assert "Feature 7 (code G1): its code already appeared in feature 1" in run.stderr
    assert "Feature 8 (code X8): its geometry cannot be read" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_population_that_is_not_a_number_is_reported_and_left_empty(import_areas, write_geojson):
    path = write_geojson(
        [
            feature(square(-74.05, 4.67), name="Counted", code="P1", pop="1234"),
            feature(square(-74.04, 4.67), name="Uncounted", code="P2", pop="n/d"),
            feature(square(-74.03, 4.67), name="Negative", code="P3", pop=-5),
        ]
    )

    run = import_areas(path, "--name-field=name", "--code-field=code", "--population-field=pop")

    assert run.counts()["created"] == 3
    assert Area.objects.get(code="P1").population_total == 1234
    assert Area.objects.get(code="P2").population_total is None
    assert Area.objects.get(code="P3").population_total is None
    assert "Feature 2 (code P2): population “n/d” is not a whole number" in run.stdout
    assert "Feature 3 (code P3): population “-5” is not a whole number" in run.stdout


def test_polygons_become_multipolygons_and_heights_are_dropped(import_areas, write_geojson):
    path = write_geojson([feature(square(-74.05, 4.67, z=2600.0), name="High", code="Z1")])

    run = import_areas(path, "--name-field=name", "--code-field=code")

    area = Area.objects.get(code="Z1")
    assert area.geometry.geom_type == "MultiPolygon"
    assert not area.geometry.hasz
    assert "3D" in run.stdout


def test_a_file_in_a_projected_crs_is_reprojected_to_lon_lat(import_areas, write_geojson):
    # MAGNA-SIRGAS / Colombia Bogotá zone: its false origin (1 000 000, 1 000 000) is in Bogotá.
    metres = {
        "type": "Polygon",
        "coordinates": [
            [
                [1000000, 1000000],
                [1000200, 1000000],
                [1000200, 1000200],
                [1000000, 1000200],
                [1000000, 1000000],
            ]
        ],
    }
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3116"}}
    path = write_geojson([feature(metres, name="Origin", code="M1")], crs=crs)

    import_areas(path, "--name-field=name", "--code-field=code")

    centroid = Area.objects.get(code="M1").geometry.centroid
    assert centroid.x == pytest.approx(-74.0766, abs=0.001)
    assert centroid.y == pytest.approx(4.5971, abs=0.001)


def test_projected_coordinates_without_a_crs_are_refused_with_a_hint(import_areas, write_geojson):
    metres = square(1000000, 1000000, side=200)
    path = write_geojson([feature(metres, name="Lost", code="L1")])

    run = import_areas(path, "--name-field=name", "--code-field=code")

    assert not Area.objects.exists()
    assert "does the file declare its coordinate system" in run.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "not a GeoJSON file"),
        ('{"hello": "world"}', "not GeoJSON"),
        ('{"type": "Topology", "objects": {}}', "not a GeoJSON FeatureCollection"),
        (
            '{"type": "FeatureCollection", "features": [], '
            '"crs": {"type": "name", "properties": {"name": "urn:x:madeup"}}}',
            "not supported",
        ),
    ],
)
def test_a_file_that_is_not_geojson_is_a_command_error(import_areas, tmp_path, content, message):
    path = tmp_path / "upload.geojson"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(CommandError, match=message):
        import_areas(path, "--name-field=name", "--code-field=code")


def test_a_missing_file_is_a_command_error(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "import_areas", str(tmp_path / "nope.geojson"), "--name-field=a", "--code-field=b"
        )


def test_the_service_can_be_called_with_features_directly(db):
    features = [f for f in features_of(CDMX) if f["properties"]["NOM_MUN"] == "Coyoacán"]

    report = area_import(
        features=features,
        name_field="NOM_MUN",
        code_field="codgeo",
        level="district",
        population_field="Poblacion2015",
        population_year=2015,
    )

    assert (report.created, report.skipped) == (1, [])
    assert Area.objects.get(code="9003").population_total == 608479


# --- Names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("ANTONIO NARIÃ‘O", "ANTONIO NARIÑO"),
        ("PeÃ±alolÃ©n", "Peñalolén"),
        ("Ã‘uÃ±oa", "Ñuñoa"),
        ("Coyoacán", "Coyoacán"),
        ("Peñalolén", "Peñalolén"),
        ("São Paulo", "São Paulo"),
        ("Álvaro Obregón", "Álvaro Obregón"),
        ("CHAPINERO", "CHAPINERO"),
        ("Ciudad Bolívar — sector “Lucero”", "Ciudad Bolívar — sector “Lucero”"),
    ],
)
def test_only_double_encoded_names_are_changed(published, expected):
    assert name_repair(published) == expected
