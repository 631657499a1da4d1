"""The public numbers of a snapshot (`diagnosis.publication.published_tables`): small numbers
hidden as "fewer than k" with secondary suppression, shares only when publishable, sensitive
categories never at cell level, hotspot cells under k neither counted nor flagged.

The concern tables come from the real engine run on concerns submitted and approved through the
services; tables the engine may not produce yet (perception, hotspots, walks…) are added to the
same snapshot as rows shaped exactly as the issue 6 contract describes.
"""

import uuid

import pytest
from django.contrib.gis.geos import Point
from django.utils import translation

from diagnosis.models import DiagnosisResult, DiagnosisRun
from diagnosis.publication import FEWER_THAN_K, display, published_tables
from diagnosis.services import concern_moderate
from diagnosis.services.diagnosis_runs import diagnosis_run_execute, diagnosis_run_start
from diagnosis.statistics import share_publishable
from maps.geometry import grid_cell
from tests.conftest import EL_CHICO_POINT
from tests.diagnosis.conftest import facilitator, moderator  # noqa: F401  (fixtures)

# (category, gender, age band, where) → how many approved concerns. Worked by hand below:
# by category: lighting 12, harassment 6, domestic (sensitive) 2, centre (asset) 5; total 25.
PLAN = [
    ("lighting", "woman", "30-44", "point", 5),
    ("lighting", "man", "18-29", "point", 4),
    ("lighting", "woman", "65+", "lago", 3),
    ("harassment", "woman", "18-29", "point", 6),
    ("domestic", "woman", "30-44", "chico", 2),
    ("centre", "", "", "polo", 5),
]


@pytest.fixture
def approved(consultation, categories, barrios, submit, moderator):  # noqa: F811
    chico, lago, polo = barrios
    places = {
        "point": {"point": Point(*EL_CHICO_POINT, srid=4326)},
        "chico": {"point": None, "area": chico},
        "lago": {"point": None, "area": lago},
        "polo": {"point": None, "area": polo},
    }
    for key, gender, age, where, n in PLAN:
        for _ in range(n):
            concern = submit(category=categories[key], gender=gender, age_band=age, **places[where])
            concern_moderate(concern=concern, user=moderator, status="approved")
    return consultation


def run_snapshot(page, user, **parameters):
    run = diagnosis_run_start(page=page, user=user, **parameters)
    # Outside a test transaction the in-process queue has already computed it on commit.
    diagnosis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == DiagnosisRun.Status.DONE
    return run.snapshot


@pytest.fixture
def snapshot(approved, facilitator):  # noqa: F811
    return run_snapshot(approved, facilitator)


def add_rows(snapshot, rows):
    """Rows of tables the engine may not compute yet, appended to a real snapshot."""
    start = snapshot.results.count()
    DiagnosisResult.objects.bulk_create(
        DiagnosisResult(snapshot=snapshot, position=start + i, **row) for i, row in enumerate(rows)
    )


def by(publication, code, **match):
    return [
        row
        for row in publication.rows(code)
        if all(getattr(row, name) == value for name, value in match.items())
    ]


def one(publication, code, **match):
    rows = by(publication, code, **match)
    assert len(rows) == 1, rows
    return rows[0]


# --- Concern tables from the engine -------------------------------------------------------------


def test_a_small_category_is_fewer_than_k_and_a_second_one_hides_it(snapshot, categories):
    published = published_tables(snapshot, language="es")
    rows = {row.category_code: row for row in published.rows("concerns_by_category")}
    assert rows["poor-lighting"].count == 12
    assert rows["street-harassment"].count == 6
    # 2 domestic-violence concerns: primary. Alone it could be worked out as 25 − 12 − 6 − 5,
    # so the smallest other count (the 5 community-centre assets) is hidden too.
    assert rows["domestic-violence"].count is None
    assert rows["community-centre"].count is None
    assert display(rows["community-centre"].count) == FEWER_THAN_K
    assert {row.total for row in rows.values()} == {25}
    assert rows["poor-lighting"].share == pytest.approx(12 / 25)
    assert rows["domestic-violence"].share is None


def test_labels_are_in_the_readers_language(snapshot, categories, locales):
    english = categories["lighting"].copy_for_translation(locales["en"])
    english.name = "Poor lighting"
    english.save()
    es = published_tables(snapshot, language="es")
    en = published_tables(snapshot, language="en")
    assert {row.category for row in es.rows("concerns_by_category")} >= {"Alumbrado deficiente"}
    assert {row.category for row in en.rows("concerns_by_category")} >= {
        "Poor lighting",
        "Acoso callejero",  # not translated: the default language's name
    }
    with translation.override("en"):
        assert one(en, "concerns_by_category_gender", category_code="poor-lighting", group="man")
        assert {row.group_label for row in en.rows("concerns_by_category_gender")} >= {"Woman"}
    assert en.tables["concerns_by_category"].label == "Concerns by category"


def test_no_published_count_is_below_k_in_any_table(snapshot):
    published = published_tables(snapshot, language="es")
    k = published.k
    for table in published.tables.values():
        for row in table.rows:
            for value in (row.count, row.total):
                assert value is None or value == 0 or value >= k, (table.code, row)
            if row.share is not None and row.count is not None and row.total is not None:
                assert share_publishable(row.count, row.total, k)


def test_a_hidden_cell_cannot_be_worked_out_from_its_row_or_column(snapshot):
    """In every 2-D concern table, no row or column holds exactly one hidden count among shown
    counts and a shown total (published rows and margins alike)."""
    published = published_tables(snapshot, language="es")
    lines = {
        "concerns_by_category_gender": ("category_key", "group"),
        "concerns_by_category_age": ("category_key", "group"),
        "concerns_by_area_category": ("area_id", "category_key"),
    }
    category_totals = {
        row.category_key: row.count for row in published.rows("concerns_by_category")
    }
    for code, (row_field, column_field) in lines.items():
        rows = published.rows(code)
        for field, margin in ((row_field, column_field), (column_field, row_field)):
            groups = {}
            for row in rows:
                groups.setdefault(getattr(row, field), []).append(row)
            for key, members in groups.items():
                hidden = [row for row in members if row.count is None]
                if field == "category_key":
                    total_shown = category_totals.get(key) is not None
                else:
                    total_shown = all(row.total is not None for row in members)
                if total_shown:
                    assert len(hidden) != 1, (code, field, key, margin)


def test_category_totals_hidden_in_one_table_are_hidden_in_the_others(snapshot, categories):
    published = published_tables(snapshot, language="es")
    domestic = categories["domestic"].translation_key
    centre = categories["centre"].translation_key
    for code in ("concerns_by_category_time_band", "concerns_by_category_affected"):
        for row in published.rows(code):
            if row.category_key in (domestic, centre):
                assert row.total is None, (code, row)
    # Types are sums of categories: the psychosocial total would give the 2 domestic concerns.
    types = {row.group: row for row in published.rows("concerns_by_prevention_type")}
    assert types["psychosocial"].count is None
    assert types["situational"].count == 12


def test_a_larger_k_hides_more(approved, facilitator):  # noqa: F811
    snapshot = run_snapshot(approved, facilitator, k=7)
    published = published_tables(snapshot, language="es")
    assert published.k == 7
    rows = {row.category_code: row for row in published.rows("concerns_by_category")}
    assert rows["street-harassment"].count is None  # 6 < 7
    assert rows["poor-lighting"].count == 12


# --- Tables added by issue 6 ---------------------------------------------------------------------


def test_perception_is_shown_only_when_its_share_is_publishable(snapshot):
    add_rows(
        snapshot,
        [
            {
                "table": "perception",
                "group": "feel-safe",
                "count": 9,
                "total": 20,
                "value": 0.45,
                "low": 0.26,
                "high": 0.66,
                "detail": {"values": ["unsafe"], "excluded": 1},
            },
            {
                "table": "perception",
                "group": "walk-alone",
                "count": 18,
                "total": 20,
                "value": 0.9,
                "low": 0.7,
                "high": 0.97,
                "detail": {},
            },
            {
                "table": "perception_weighted",
                "group": "feel-safe",
                "count": 9,
                "total": 20,
                "value": 0.5,
                "low": 0.3,
                "high": 0.7,
                "detail": {
                    "n_effective": 16.2,
                    "design_effect": 1.23,
                    "population_coverage": 0.9,
                    "strata_dropped": [["male", "65+", "no_respondents"]],
                },
            },
            {
                "table": "perception_by_gender",
                "group": "feel-safe",
                "subgroup": "woman",
                "count": 6,
                "total": 12,
                "value": 0.5,
            },
            {
                "table": "perception_by_gender",
                "group": "feel-safe",
                "subgroup": "man",
                "count": 2,
                "total": 6,
                "value": 1 / 3,
            },
            {
                "table": "perception_by_gender",
                "group": "feel-safe",
                "subgroup": "not-stated",
                "count": 1,
                "total": 2,
                "value": 0.5,
            },
        ],
    )
    published = published_tables(snapshot, language="es")
    feel = one(published, "perception", group="feel-safe")
    assert (feel.count, feel.total, feel.share) == (9, 20, 0.45)
    assert (feel.low, feel.high) == (0.26, 0.66)
    # 18 of 20: the 2 who did not answer that way are a group of two.
    walk = one(published, "perception", group="walk-alone")
    assert walk.share is None and walk.count is None
    weighted = one(published, "perception_weighted", group="feel-safe")
    assert weighted.share == 0.5 and weighted.detail["design_effect"] == 1.23
    assert "strata_dropped" not in weighted.detail
    genders = {row.subgroup: row for row in published.rows("perception_by_gender")}
    assert genders["man"].share is None and genders["not-stated"].share is None
    # Women (6 of 12) alone would be 9 − 2 − 1 of 20 − 6 − 2: with two groups hidden it is
    # still shown only if nothing can be derived; here the complements of the hidden rows are
    # hidden with them, so women stay shown.
    assert genders["woman"].share in (0.5, None)
    if genders["woman"].share is not None:
        assert genders["woman"].count == 6


def test_hotspot_cells_under_k_are_neither_counted_nor_flagged(snapshot, categories):
    cx, cy = grid_cell(*EL_CHICO_POINT)
    cx += 100  # away from the cell the engine counted
    lighting = categories["lighting"].translation_key
    add_rows(
        snapshot,
        [
            {
                "table": "hotspots",
                "cell_x": cx,
                "cell_y": cy,
                "count": 9,
                "total": 12,
                "value": 2.5,
                "detail": {"expected": 3.6, "p": 0.001, "p_adjusted": 0.004, "significant": True},
            },
            {
                "table": "hotspots",
                "cell_x": cx + 1,
                "cell_y": cy,
                "count": 3,
                "total": 3,
                "value": 4.0,
                "detail": {"expected": 0.75, "p": 0.01, "p_adjusted": 0.02, "significant": True},
            },
            {
                "table": "hotspots",
                "cell_x": cx + 2,
                "cell_y": cy,
                "count": 0,
                "total": 10,
                "value": 0.0,
                "detail": {"expected": 3.0, "p": 1.0, "p_adjusted": 1.0, "significant": False},
            },
            {
                "table": "assets_by_cell",
                "cell_x": cx,
                "cell_y": cy,
                "category_key": categories["centre"].translation_key,
                "count": 6,
                "total": 8,
            },
            {
                "table": "assets_by_cell",
                "cell_x": cx + 3,
                "cell_y": cy,
                "category_key": categories["centre"].translation_key,
                "count": 2,
                "total": 8,
            },
            # A sensitive category at cell level must never come out, even if a row had it.
            {
                "table": "assets_by_cell",
                "cell_x": cx,
                "cell_y": cy + 1,
                "category_key": categories["domestic"].translation_key,
                "count": 9,
                "total": 9,
            },
        ],
    )
    published = published_tables(snapshot, language="es")
    cells = {row.cell: row for row in published.rows("hotspots")}
    assert cells[cx, cy].count == 9 and cells[cx, cy].significant is True
    assert cells[cx + 1, cy].count is None and cells[cx + 1, cy].significant is False
    assert cells[cx + 1, cy].share is None and cells[cx + 1, cy].detail == {}
    assert cells[cx + 2, cy].count is None and cells[cx + 2, cy].significant is False
    assets = published.rows("assets_by_cell")
    assert {row.category_code for row in assets} == {"community-centre"}
    assert sorted(display(row.count) for row in assets) == ["6", FEWER_THAN_K] or all(
        row.count is None for row in assets
    )
    assert lighting not in {row.category_key for row in assets}


def test_walk_scores_need_k_stops_and_tables_without_rows_are_left_out(snapshot, barrios):
    add_rows(
        snapshot,
        [
            {
                "table": "walk_scores",
                "area": barrios[0],
                "group": "lighting",
                "count": 6,
                "total": 7,
                "value": 1.5,
                "detail": {"distribution": {"0": 2, "1": 1, "2": 2, "3": 1}},
            },
            {
                "table": "walk_scores",
                "area": barrios[0],
                "group": "people",
                "count": 3,
                "total": 7,
                "value": 2.0,
                "detail": {"distribution": {"2": 3}},
            },
        ],
    )
    published = published_tables(snapshot, language="en")
    scores = {row.group: row for row in published.rows("walk_scores")}
    assert scores["lighting"].share == 1.5 and scores["lighting"].area == "El Chico"
    assert scores["lighting"].group_label == "Lighting"
    assert set(scores["lighting"].detail["distribution"].values()) == {None}
    assert scores["people"].count is None and scores["people"].share is None
    for absent in ("perception", "walk_feelings", "change_area_category"):
        assert absent not in published.tables


def test_change_shows_both_rounds_only_when_publishable(snapshot, barrios, categories):
    lighting = categories["lighting"].translation_key
    add_rows(
        snapshot,
        [
            {
                "table": "change_area_category",
                "area": barrios[1],
                "category_key": lighting,
                "count": 3,
                "total": 3,
                "value": 1.0,
                "detail": {"previous_count": 4, "previous_total": 10, "previous_value": 0.4},
            },
            {
                "table": "change_perception",
                "group": "feel-safe",
                "count": 9,
                "total": 20,
                "value": 0.45,
                "low": 0.26,
                "high": 0.66,
                "detail": {
                    "previous_value": 0.6,
                    "previous_low": 0.4,
                    "previous_high": 0.77,
                    "previous_total": 20,
                },
            },
        ],
    )
    published = published_tables(snapshot, language="es")
    assert "change_area_category" not in published.tables  # 3 of 3 now, 4 of 10 before
    change = one(published, "change_perception", group="feel-safe")
    assert change.share == 0.45 and change.detail["previous_value"] == 0.6


def test_unknown_tables_still_obey_k(snapshot):
    add_rows(snapshot, [{"table": "something_new", "group": "x", "count": 2, "total": 40}])
    published = published_tables(snapshot, language="es")
    row = one(published, "something_new")
    assert row.count is None and row.share is None


def test_reading_a_publication_is_a_handful_of_queries(snapshot, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        published_tables(snapshot, language="es")
    assert uuid.UUID(str(snapshot.consultation_key))
