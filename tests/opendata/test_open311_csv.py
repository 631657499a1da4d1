"""Importing reports from a 311 CSV file, tested with the real NYC 311 sample (1,000 requests of
26–27 May 2024, NYC Open Data dataset erm2-nwe9; see data/reports-crowdsourced/SOURCE.md).

The consultation here is in New York: one area around the sample's boroughs (or only part of
Manhattan, to see rows fall outside), categories noise, illegal parking and street condition.
Expected numbers are counted from the file with the csv module, independently of the import.
"""

import csv
import datetime
import io
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import translation
from django.utils.translation import gettext

from diagnosis.models import Concern, ConcernContact, ConsultationPage
from diagnosis.open311_csv import (
    BAD_COORDINATES,
    BAD_DATE,
    DUPLICATE,
    NO_LOCATION,
    NYC311,
    OPEN311,
    OUTSIDE,
    UNMAPPED,
    FileRefused,
    import_key,
    open311_csv_read,
    open311_import_check,
    open311_import_run,
    open311_mapping_suggest,
)
from diagnosis.services.groups import FACILITATORS, MODERATORS
from maps.models import Area
from tests.conftest import make_category
from tests.diagnosis.conftest import staff

NYC_FILE = (
    Path(__file__).resolve().parent.parent / "data" / "nyc311-sample" / "nyc311_sample_2024-05.csv"
)
NEW_YORK = ZoneInfo("America/New_York")
# Around every point of the sample (40.514–40.906 N, 74.250–73.721 W).
NYC_BOX = (-74.30, 40.45, -73.65, 40.95)
# Midtown and lower Manhattan only: most of the sample falls outside.
MANHATTAN_BOX = (-74.02, 40.70, -73.93, 40.80)
NOISE = (
    "Noise - Residential",
    "Noise - Street/Sidewalk",
    "Noise - Commercial",
    "Noise - Vehicle",
    "Noise - Park",
    "Noise",
)


def box(bounds):
    west, south, east, north = bounds
    return MultiPolygon(Polygon.from_bbox((west, south, east, north)), srid=4326)


def nyc_rows():
    with NYC_FILE.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def make_consultation(home, locales, bounds, slug="nueva-york"):
    area = Area.objects.create(
        name=f"New York {slug}", code=slug, level=Area.Level.CITY, geometry=box(bounds)
    )
    categories = {
        "noise": make_category(locales, "noise", "Ruido"),
        "parking": make_category(locales, "illegal-parking", "Estacionamiento ilegal"),
        "street": make_category(locales, "street-condition", "Estado de la calle"),
        "domestic": make_category(
            locales, "domestic-violence", "Violencia intrafamiliar", sensitive=True
        ),
    }
    page = ConsultationPage(
        title="Nueva York escucha", slug=slug, phase=ConsultationPage.Phase.LISTENING
    )
    home.add_child(instance=page)
    page.areas.set([area])
    page.categories.set(categories.values())
    page.save_revision().publish()
    page.refresh_from_db()
    return page, categories


@pytest.fixture
def nyc(home, locales):
    page, categories = make_consultation(home, locales, NYC_BOX)
    return {"consultation": page, "categories": categories}


def read_nyc():
    with NYC_FILE.open("rb") as file:
        return open311_csv_read(file)


def nyc_plan(nyc, **overrides):
    source = read_nyc()
    kwargs = {
        "consultation": nyc["consultation"],
        "source": source,
        "mapping": open311_mapping_suggest(consultation=nyc["consultation"], source=source),
        "source_system": "",
        "language": "en",
        "time_zone": "America/New_York",
    }
    kwargs.update(overrides)
    return open311_import_check(**kwargs)


def expected_mapped(rows):
    wanted = {*NOISE, "Illegal Parking", "Street Condition"}
    return [row for row in rows if row["complaint_type"] in wanted]


# --- Reading the file -----------------------------------------------------------------------------


def test_the_nyc_sample_is_read_as_nyc_311_with_its_columns(db):
    source = read_nyc()
    assert source.dialect == NYC311
    assert source.columns == {
        "request_id": "unique_key",
        "service_name": "complaint_type",
        "description": "descriptor",
        "requested": "created_date",
        "lat": "latitude",
        "long": "longitude",
        "address": "incident_address",
        "city": "city",
    }
    assert len(source.rows) == 1000
    assert sum(1 for row in source.rows if row.lat and row.long) == 988
    counts = {category.key: category.count for category in source.categories}
    assert counts["Noise - Residential"] == 392
    assert counts["Noise - Street/Sidewalk"] == 269
    assert counts["Illegal Parking"] == 83
    assert source.categories[0].key == "Noise - Residential"  # most rows first
    assert sum(counts.values()) == 1000
    assert "resolution_description" in source.ignored_columns
    assert source.contact_columns == []


def test_categories_are_suggested_by_code_and_name(nyc):
    source = read_nyc()
    categories = nyc["categories"]
    suggestion = open311_mapping_suggest(consultation=nyc["consultation"], source=source)
    for name in NOISE:
        assert suggestion[name] == categories["noise"].translation_key, name
    assert suggestion["Illegal Parking"] == categories["parking"].translation_key
    assert suggestion["Street Condition"] == categories["street"].translation_key
    assert suggestion["Blocked Driveway"] is None
    assert suggestion["Street Light Condition"] is None


# --- The preview ----------------------------------------------------------------------------------


def test_the_preview_counts_what_the_file_holds_and_stores_nothing(nyc):
    rows = nyc_rows()
    mapped = expected_mapped(rows)
    without_point = [row for row in mapped if not row["latitude"]]
    plan = nyc_plan(nyc)

    assert plan.total == 1000
    assert len(plan.accepted) == len(mapped) == 861
    assert plan.address_only == len(without_point) == 9
    assert plan.with_coordinates == 852
    reasons = {reason["code"]: reason for reason in plan.reasons()}
    assert reasons[UNMAPPED]["count"] == 1000 - 861
    assert set(reasons) == {UNMAPPED}
    # Examples come with their row numbers (the header is row 1).
    first = reasons[UNMAPPED]["examples"][0]
    line_of = {row["unique_key"]: number for number, row in enumerate(rows, start=2)}
    assert first.line == line_of[first.request_id]
    assert len(reasons[UNMAPPED]["examples"]) == 10
    assert Concern.objects.count() == 0


def test_rows_outside_the_consultations_areas_are_skipped(home, locales):
    page, _categories = make_consultation(home, locales, MANHATTAN_BOX, slug="midtown")
    west, south, east, north = MANHATTAN_BOX
    mapped = expected_mapped(nyc_rows())
    inside = [
        row
        for row in mapped
        if row["latitude"]
        and west < float(row["longitude"]) < east
        and south < float(row["latitude"]) < north
    ]
    outside = [row for row in mapped if row["latitude"] and row not in inside]
    plan = nyc_plan({"consultation": page})
    reasons = {reason["code"]: reason["count"] for reason in plan.reasons()}
    assert reasons[OUTSIDE] == len(outside) > 500
    assert plan.with_coordinates == len(inside) > 50
    # Address-only rows: concern_submit accepts a place description without a point.
    assert plan.address_only == 9


def test_unmapped_categories_are_not_imported(nyc):
    source = read_nyc()
    mapping = {category.key: None for category in source.categories}
    mapping["Illegal Parking"] = nyc["categories"]["parking"].translation_key
    plan = nyc_plan(nyc, mapping=mapping)
    assert len(plan.accepted) == 83
    outcome = open311_import_run(
        consultation=nyc["consultation"], plan=plan, user=staff("fede", FACILITATORS)
    )
    assert outcome.created == 83
    assert set(Concern.objects.values_list("category_key", flat=True)) == {
        nyc["categories"]["parking"].translation_key
    }


# --- The import -----------------------------------------------------------------------------------


def test_import_stores_the_accepted_rows_pending_with_their_dates(nyc):
    facilitator = staff("fede", FACILITATORS)
    plan = nyc_plan(nyc)
    outcome = open311_import_run(consultation=nyc["consultation"], plan=plan, user=facilitator)
    assert (outcome.created, outcome.already, outcome.approved) == (861, 0, 0)

    concerns = Concern.objects.all()
    assert concerns.count() == 861
    assert set(concerns.values_list("status", flat=True)) == {Concern.Status.PENDING}
    assert set(concerns.values_list("source", flat=True)) == {Concern.Source.IMPORT}
    assert set(concerns.values_list("entered_by", flat=True)) == {facilitator.pk}
    assert set(concerns.values_list("language", flat=True)) == {"en"}
    assert not ConcernContact.objects.exists()

    # The first row of the file: a pothole on St Nicholas Avenue, 2024-05-27 02:08:51 New York.
    row = next(r for r in nyc_rows() if r["unique_key"] == "61276295")
    pothole = Concern.objects.get(idempotency_key=import_key("nyc311", "61276295"))
    assert pothole.description == "Pothole"
    assert pothole.submitted_at == datetime.datetime(2024, 5, 27, 2, 8, 51, tzinfo=NEW_YORK)
    assert pothole.point.x == pytest.approx(float(row["longitude"]))
    assert pothole.point.y == pytest.approx(float(row["latitude"]))
    # The public point is fuzzed: near, never the exact place.
    assert pothole.public_point is not None
    assert (pothole.public_point.x, pothole.public_point.y) != (pothole.point.x, pothole.point.y)
    assert abs(pothole.public_point.x - pothole.point.x) < 0.02
    assert abs(pothole.public_point.y - pothole.point.y) < 0.02
    assert pothole.area.code == "nueva-york"

    # A row without coordinates is placed by its address (and borough) only.
    by_address = Concern.objects.get(idempotency_key=import_key("nyc311", "61279486"))
    assert by_address.point is None and by_address.public_point is None
    assert by_address.area is None
    assert by_address.place_description == "QUEENS BOULEVARD, QUEENS"
    # Every date kept is the request's, within the sample's three hours.
    earliest = datetime.datetime(2024, 5, 26, 23, 10, tzinfo=NEW_YORK)
    latest = datetime.datetime(2024, 5, 27, 2, 9, tzinfo=NEW_YORK)
    for submitted in concerns.values_list("submitted_at", flat=True):
        assert earliest <= submitted <= latest


def test_moderators_get_one_notice_for_the_whole_file(
    nyc, mailoutbox, django_capture_on_commit_callbacks
):
    """Not one e-mail per imported row: one for the file, once the import is stored."""
    staff("mara", MODERATORS)
    facilitator = staff("fede", FACILITATORS)
    with django_capture_on_commit_callbacks(execute=True):
        open311_import_run(consultation=nyc["consultation"], plan=nyc_plan(nyc), user=facilitator)
    assert Concern.objects.filter(processed_at__isnull=False).count() == 861
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["mara@example.org"]
    with translation.override("es"):
        assert mailoutbox[0].subject == gettext("%(count)d imported concerns to moderate") % {
            "count": 861
        }


def test_importing_the_same_file_again_adds_nothing(nyc):
    facilitator = staff("fede", FACILITATORS)
    open311_import_run(consultation=nyc["consultation"], plan=nyc_plan(nyc), user=facilitator)
    again = nyc_plan(nyc)
    assert again.accepted == []
    assert len(again.already) == 861
    outcome = open311_import_run(consultation=nyc["consultation"], plan=again, user=facilitator)
    assert (outcome.created, outcome.already) == (0, 861)
    assert Concern.objects.count() == 861
    # Another name for the source system makes other reports.
    other = nyc_plan(nyc, source_system="Older app")
    assert len(other.accepted) == 861


def test_approve_on_import_needs_a_moderator_and_keeps_the_public_counts(nyc):
    facilitator = staff("fede", FACILITATORS)
    source = read_nyc()
    mapping = {category.key: None for category in source.categories}
    mapping["Street Condition"] = nyc["categories"]["street"].translation_key
    plan = nyc_plan(nyc, mapping=mapping)
    with pytest.raises(PermissionDenied):
        open311_import_run(
            consultation=nyc["consultation"], plan=plan, user=facilitator, approve=True
        )
    assert Concern.objects.count() == 0
    both = staff("ana", FACILITATORS, MODERATORS)
    outcome = open311_import_run(
        consultation=nyc["consultation"], plan=plan, user=both, approve=True
    )
    assert outcome.approved == outcome.created == 6
    assert set(Concern.objects.values_list("status", flat=True)) == {Concern.Status.APPROVED}
    from diagnosis.public_data import ConcernFilter, public_concerns

    published = public_concerns(
        ConcernFilter(consultation_keys=frozenset({nyc["consultation"].translation_key}))
    )
    # Three potholes have coordinates; three were placed by address only (no public point).
    assert published.count() == 6


def test_rows_with_bad_dates_coordinates_or_repeated_ids_are_reported(nyc):
    text = (
        "\ufeffservice_request_id;service_code;service_name;description;requested_datetime;"
        "lat;long;address;status;email;first_name;phone;media_url\n"
        "A1;noise;Loud music;Party next door;2024-05-27T01:00:00-04:00;40,75;-73,99;;open;"
        "vecina@example.org;Rosa;+1 212 555 0100;\n"
        "A1;noise;Loud music;Again;2024-05-27T01:05:00Z;40.75;-73.99;;open;;;;\n"
        "A2;noise;Loud music;Party;yesterday;40.75;-73.99;;open;;;;\n"
        "A3;noise;Loud music;Party;2024-05-27T01:00:00Z;95;-73.99;;open;;;;\n"
        "A4;noise;Loud music;Party;2024-05-27T01:00:00Z;;;;open;;;;\n"
        "A5;noise;Loud music;Party;2999-01-01T00:00:00Z;40.75;-73.99;;open;;;;\n"
        "A6;noise;Loud music;Party;05/27/2024 01:10:00 AM;40.75;-73.99;;open;;;;\n"
    )
    source = open311_csv_read(io.BytesIO(text.encode("utf-8")))
    assert source.dialect == OPEN311
    assert source.contact_columns == ["email", "first_name", "phone"]
    assert "media_url" in source.ignored_columns
    plan = open311_import_check(
        consultation=nyc["consultation"],
        source=source,
        mapping={"Loud music": nyc["categories"]["noise"].translation_key},
        source_system="city-311",
        language="en",
        time_zone="America/New_York",
    )
    reasons = {r["code"]: [row.line for row in r["examples"]] for r in plan.reasons()}
    assert reasons == {
        DUPLICATE: [3],
        BAD_DATE: [4, 7],
        BAD_COORDINATES: [5],
        NO_LOCATION: [6],
    }
    assert [item.request_id for item in plan.accepted] == ["A1", "A6"]
    assert plan.accepted[1].submitted_at == datetime.datetime(2024, 5, 27, 1, 10, tzinfo=NEW_YORK)
    open311_import_run(
        consultation=nyc["consultation"], plan=plan, user=staff("fede", FACILITATORS)
    )
    stored = Concern.objects.get(idempotency_key=import_key("City-311 ", "A1"))
    assert stored.description == "Party next door"
    assert not ConcernContact.objects.exists()
    assert "vecina" not in str(Concern.objects.values_list())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"name,colour\nRosa,red\n", "does not look like a file of Open311 or 311"),
        (
            "unique_key,complaint_type,created_date\n1,Ruido,2024-05-27\n".encode("latin-1")
            + "1,Año,2024\n".encode("latin-1"),
            "is not in UTF-8",
        ),
        (b"PK\x03\x04rest-of-a-zip", "not a CSV file"),
        (b"service_request_id,service_name,requested_datetime\n", "no requests"),
    ],
)
def test_malformed_files_are_refused_with_a_clear_message(nyc, content, message):
    with translation.override("en"), pytest.raises(FileRefused) as refused:
        open311_csv_read(io.BytesIO(content))
    assert message in refused.value.message
    assert Concern.objects.count() == 0


def test_files_over_the_limits_are_refused(nyc):
    with override_settings(CONVIVE_OPEN311_IMPORT_MAX_BYTES=100_000), translation.override("en"):
        with pytest.raises(FileRefused) as refused:
            read_nyc()
        assert "larger than 0.095" in refused.value.message
    with override_settings(CONVIVE_OPEN311_IMPORT_MAX_ROWS=500), translation.override("en"):
        with pytest.raises(FileRefused) as refused:
            read_nyc()
        assert "more than 500 requests" in refused.value.message


def test_messages_follow_the_active_language(nyc):
    with translation.override("es"), pytest.raises(FileRefused) as refused:
        open311_csv_read(io.BytesIO(b""))
    with translation.override("es"):
        assert refused.value.message == gettext(
            "The file is empty: its first row must name the columns."
        )


# --- Permissions ----------------------------------------------------------------------------------


def test_only_facilitators_may_import(nyc):
    """Facilitators enter concerns (add_concern); people who can edit the consultation may too
    (Wagtail's own Editors group can). Seeing concerns is not enough."""
    from django.contrib.auth.models import Permission

    nobody = get_user_model().objects.create_user("nadie", "n@example.org", "pw")
    reader = get_user_model().objects.create_user("lea", "l@example.org", "pw")
    reader.user_permissions.add(
        Permission.objects.get(codename="view_concern"),
        Permission.objects.get(codename="access_admin"),
    )
    for user in (nobody, reader):
        with pytest.raises(PermissionDenied):
            open311_import_run(consultation=nyc["consultation"], plan=nyc_plan(nyc), user=user)
    assert Concern.objects.count() == 0


# --- The command ----------------------------------------------------------------------------------


def test_the_command_prints_the_summary_and_imports(nyc):
    out = io.StringIO()
    with translation.override("en"):
        call_command(
            "import_open311_csv",
            str(NYC_FILE),
            "--consultation",
            "nueva-york",
            "--map",
            "Noise - Residential=noise",
            "--map",
            "Noise - Street/Sidewalk=skip",
            "--map",
            "Blocked Driveway=illegal-parking",
            "--time-zone",
            "America/New_York",
            "--dry-run",
            stdout=out,
        )
    text = out.getvalue()
    assert "nyc311_sample_2024-05.csv: 1000 requests (NYC 311 / Socrata)" in text
    assert "Noise - Residential (392) → noise" in text
    assert "Noise - Street/Sidewalk (269) → do not import" in text
    # 861 suggested, minus 269 skipped, plus 42 blocked driveways.
    assert "Will be imported: 634 (7 by address only)" in text
    assert "Dry run: nothing was stored." in text
    assert Concern.objects.count() == 0

    out = io.StringIO()
    with translation.override("en"):
        call_command(
            "import_open311_csv",
            str(NYC_FILE),
            "--consultation",
            str(nyc["consultation"].translation_key),
            "--map",
            "Illegal Parking=illegal-parking",
            "--user",
            "fede" if staff("fede", FACILITATORS) else "",
            stdout=out,
        )
    assert "Imported: 861. Already imported: 0." in out.getvalue()
    assert Concern.objects.filter(entered_by__username="fede").count() == 861


def test_the_command_refuses_unknown_categories(nyc):
    with translation.override("en"), pytest.raises(CommandError) as error:
        call_command(
            "import_open311_csv",
            str(NYC_FILE),
            "--consultation",
            "nueva-york",
            "--map",
            "Noise - Residential=lighting",
        )
    assert "is not a category of this consultation" in str(error.value)
    assert Concern.objects.count() == 0


def test_keys_are_deterministic():
    assert import_key("nyc311", "61276295") == import_key(" NYC311", "61276295")
    assert import_key("nyc311", "61276295") != import_key("nyc311", "61276296")
    assert isinstance(import_key("x", "1"), uuid.UUID)
