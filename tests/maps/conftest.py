"""Fixtures for the maps tests: the shipped boundary files, an import runner, a real browser."""

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from maps.services import area_import

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "maps" / "data"
CHAPINERO_BARRIOS = DATA / "bogota" / "chapinero_barrios.geojson"
LOCALIDADES = DATA / "bogota" / "localidades.geojson"
CDMX = DATA / "cdmx" / "MunicipiosCDMX.geojson"
RESULTS = ROOT / "test-results" / "maps"


@pytest.fixture(autouse=True)
def english():
    """Operator messages are asserted in the language they are written in (the default is es)."""
    with translation.override("en"):
        yield


class ImportRun:
    """What `manage.py import_areas` printed."""

    def __init__(self, stdout: str, stderr: str):
        self.stdout = stdout
        self.stderr = stderr

    def counts(self) -> dict[str, int]:
        match = re.search(
            r"(\d+) created, (\d+) updated, (\d+) unchanged, (\d+) skipped", self.stdout
        )
        assert match, self.stdout
        return dict(
            zip(
                ("created", "updated", "unchanged", "skipped"),
                map(int, match.groups()),
                strict=True,
            )
        )


@pytest.fixture
def import_areas(db):
    """Run the real management command, as an operator (or load_demo) would."""

    def _run(path, *args: str) -> ImportRun:
        stdout, stderr = io.StringIO(), io.StringIO()
        call_command("import_areas", str(path), *args, stdout=stdout, stderr=stderr)
        return ImportRun(stdout.getvalue(), stderr.getvalue())

    return _run


def features_of(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


@pytest.fixture
def chapinero_localidad(db):
    """The Chapinero localidad alone (the full file is 2.5 MB; most tests need one district)."""
    features = [f for f in features_of(LOCALIDADES) if f["properties"]["LocCodigo"] == "02"]
    area_import(
        features=features,
        name_field="LocNombre",
        code_field="LocCodigo",
        level="district",
        code_prefix="BOG-LOC-",
    )
    from maps.models import Area

    return Area.objects.get(code="BOG-LOC-02")


@pytest.fixture
def write_geojson(tmp_path):
    """Write a small FeatureCollection to a file and return its path."""

    def _write(features: list[dict], *, crs: dict | None = None, name="areas.geojson") -> Path:
        document = {"type": "FeatureCollection", "features": features}
        if crs is not None:
            document["crs"] = crs
        path = tmp_path / name
        path.write_text(json.dumps(document), encoding="utf-8")
        return path

    return _write


# --- A real browser -------------------------------------------------------------------------------


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser tab that can only reach the live server (never tiles or the internet)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="es-CO")
    tab = context.new_page()
    tab.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
        ),
    )
    tab.errors = []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.output_dir = RESULTS / request.node.name
    tab.output_dir.mkdir(parents=True, exist_ok=True)
    yield tab
    context.close()
