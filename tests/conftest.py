"""Shared fixtures: real Chapinero (Bogotá) boundaries, a published consultation, categories.

Everything is built through the same services the site uses, so fixtures obey the data rules.
"""

import datetime
import io
import json
import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, LineString, MultiPolygon, Point
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image
from wagtail.models import Locale, Page, Site

from cms.models import HomePage
from diagnosis.models import ConcernCategory, ConsultationPage
from diagnosis.services import concern_submit
from maps.models import Area, SafetyWalk

ROOT = Path(__file__).resolve().parent.parent
CHAPINERO = ROOT / "maps" / "data" / "bogota" / "chapinero_barrios.geojson"
# Three neighbouring barrios of Chapinero used across the suite.
BARRIO_CODES = ("008308", "008313", "007401")  # El Chico, Lago Gaitán, Polo Club
# A point inside El Chico (checked against the real boundary in tests/maps).
EL_CHICO_POINT = (-74.0512, 4.6735)
OUTSIDE_POINT = (-74.2, 4.5)  # far south-west of Chapinero
# A safety walk's route starting in El Chico and heading north-east for about 550 m.
WALK_ROUTE = ((-74.0512, 4.6735), (-74.0490, 4.6740), (-74.0475, 4.6755))


@pytest.fixture(autouse=True)
def default_language():
    """Start every test in the site's default language (es).

    Django's LocaleMiddleware activates a request's language in the thread and never resets it, so
    without this a test-client request in one test would change the language of the next.
    """
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    """Start every test with an empty cache.

    Cache keys name rows by primary key (a consultation's rules, a map view), and a rolled-back
    test's keys would otherwise describe another test's rows that reuse the same ids.
    """
    cache.clear()
    yield


@pytest.fixture
def barrios(db):
    features = json.loads(CHAPINERO.read_text(encoding="utf-8"))["features"]
    areas = []
    for feature in features:
        code = feature["properties"]["SCACODIGO"]
        if code not in BARRIO_CODES:
            continue
        geometry = GEOSGeometry(json.dumps(feature["geometry"]), srid=4326)
        if geometry.geom_type == "Polygon":
            geometry = MultiPolygon(geometry, srid=4326)
        areas.append(
            Area.objects.create(
                name=feature["properties"]["SCANOMBRE"].title(),
                code=code,
                level=Area.Level.NEIGHBOURHOOD,
                geometry=geometry,
                source="IDECA",
            )
        )
    return sorted(areas, key=lambda a: BARRIO_CODES.index(a.code))


@pytest.fixture
def locales(db):
    return {
        code: Locale.objects.get_or_create(language_code=code)[0]
        for code in ("es", "en", "fr", "pt")
    }


@pytest.fixture
def home(db, locales):
    """The Spanish home page as the site root (replacing Wagtail's welcome page)."""
    root = Page.get_first_root_node()
    site = Site.objects.get(is_default_site=True)
    existing = HomePage.objects.filter(locale=locales["es"]).first()
    if existing:
        return existing
    home = root.add_child(instance=HomePage(title="Convive", slug="inicio", locale=locales["es"]))
    old_root = site.root_page
    site.root_page = home
    site.save()
    if old_root.pk != home.pk and not isinstance(old_root.specific, HomePage):
        old_root.delete()
    return home


def make_category(locales, code, name, *, kind="risk", sensitive=False, prevention="situational"):
    return ConcernCategory.objects.create(
        locale=locales["es"],
        code=code,
        name=name,
        kind=kind,
        sensitive=sensitive,
        prevention_type=prevention,
    )


@pytest.fixture
def categories(locales):
    return {
        "lighting": make_category(locales, "poor-lighting", "Alumbrado deficiente"),
        "harassment": make_category(
            locales, "street-harassment", "Acoso callejero", prevention="social"
        ),
        "domestic": make_category(
            locales,
            "domestic-violence",
            "Violencia intrafamiliar",
            sensitive=True,
            prevention="psychosocial",
        ),
        "centre": make_category(
            locales, "community-centre", "Centro comunitario", kind="asset", prevention="community"
        ),
    }


@pytest.fixture
def consultation(home, barrios, categories):
    page = ConsultationPage(
        title="Chapinero se cuida",
        slug="chapinero",
        phase=ConsultationPage.Phase.LISTENING,
    )
    home.add_child(instance=page)
    page.areas.set(barrios)
    page.categories.set(categories.values())
    page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.fixture
def submit(consultation, categories):
    """Submit a concern through the real service; keyword arguments override the defaults."""

    def _submit(**overrides):
        kwargs = {
            "consultation": consultation,
            "category": categories["lighting"],
            "idempotency_key": uuid.uuid4(),
            "language": "es",
            "description": "La calle está muy oscura de noche.",
            "point": Point(*EL_CHICO_POINT, srid=4326),
        }
        kwargs.update(overrides)
        return concern_submit(**kwargs).concern

    return _submit


def jpeg_bytes(size=(640, 480), *, exif=None, colour=(200, 120, 40)) -> bytes:
    image = Image.new("RGB", size, colour)
    buffer = io.BytesIO()
    if exif is not None:
        image.save(buffer, "JPEG", exif=exif)
    else:
        image.save(buffer, "JPEG")
    return buffer.getvalue()


def gps_exif() -> bytes:
    """EXIF with a GPS position (Bogotá) and a camera serial, as a phone would write."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0xA431] = "SERIAL-1234"  # BodySerialNumber
    gps = {1: "N", 2: (4.0, 40.0, 8.0), 3: "W", 4: (74.0, 2.0, 48.0)}
    exif[0x8825] = gps
    return exif.tobytes()


@pytest.fixture
def photo_with_gps():
    return SimpleUploadedFile(
        "IMG_0001.jpg", jpeg_bytes(exif=gps_exif()), content_type="image/jpeg"
    )


# --- A real browser -------------------------------------------------------------------------------

# Flags for Chromium in a closed network: without the background-networking ones it keeps trying to
# reach Google's hosts. Playwright always uses Debian's /usr/bin/chromium and never downloads one.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the tests of one module.

    Playwright's sync API keeps an asyncio loop running in this thread while it is open, and Django
    refuses ORM calls under a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE says the mix is
    intended. The variable is set only while the browser is open: set for the whole session, it
    makes `check --deploy` (tests/cms) fail with async.E001, as it should in a deployment.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# --- Serialized rollback across browser tests -----------------------------------------------------
# Transactional tests (live server, Celery worker) empty the database afterwards; with
# serialized_rollback=True Django restores what the migrations created (Wagtail's root page and
# site, locales, groups) from a copy it keeps as an attribute of the connection object. Driving a
# real browser (Playwright's greenlets) leaves the test thread with a fresh connection object that
# lacks the attribute, so Django would flush without restoring and every later test would start
# without a site. Keeping the copy on the connection *class* makes every connection object see it.


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's database setup, then keep the serialized copy where it cannot be lost."""
    from django.db import connections

    for alias in connections:
        connection = connections[alias]
        if hasattr(connection, "_test_serialized_contents"):
            type(connection)._test_serialized_contents = connection._test_serialized_contents
    return django_db_setup


@pytest.fixture
def walk(barrios):
    """A planned daytime walk of women along WALK_ROUTE in El Chico."""
    walk = SafetyWalk.objects.create(
        title="Camino al colegio",
        route=LineString(WALK_ROUTE, srid=4326),
        meeting_point=Point(*WALK_ROUTE[0], srid=4326),
        meeting_place="Parque El Chico, entrada norte",
        date=datetime.date(2026, 11, 20),
        time_band=SafetyWalk.TimeBand.DAY,
        target_group=SafetyWalk.TargetGroup.WOMEN,
        light=SafetyWalk.Light.DAYLIGHT,
        weather=SafetyWalk.Weather.CLEAR,
    )
    walk.areas.set([barrios[0]])
    walk.save()  # a ParentalManyToManyField is written on save
    return walk


@pytest.fixture
def night_walk(walk, barrios):
    """The same route walked again at night, paired with `walk` for the day/night comparison."""
    night = SafetyWalk.objects.create(
        title="Camino al colegio (noche)",
        route=walk.route,
        meeting_point=walk.meeting_point,
        date=datetime.date(2026, 11, 20),
        time_band=SafetyWalk.TimeBand.NIGHT,
        target_group=SafetyWalk.TargetGroup.WOMEN,
        light=SafetyWalk.Light.DARK_LIT,
        repeats=walk,
        repeat_kind=SafetyWalk.RepeatKind.OTHER_TIME,
    )
    night.areas.set([barrios[0]])
    night.save()
    return night


def along_route(fraction: float) -> Point:
    """The point a fraction (0–1) of the way along WALK_ROUTE."""
    line = LineString(WALK_ROUTE, srid=4326)
    point = line.interpolate_normalized(fraction)
    return Point(point.x, point.y, srid=4326)
