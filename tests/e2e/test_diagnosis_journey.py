"""A facilitator's whole diagnosis in real headless Chromium (issue 6): they run the diagnosis from
the admin and watch its progress bar reach 100 %, prepare the results page from the snapshot,
name two problems in Wagtail's page editor (one quoting a resident), publish, and the public
results page shows the map, the charts, the problems and the quote, with CSV, GeoJSON and PDF
downloads that open. Only the residents' concerns are prepared through the services; everything
the facilitator does goes through the browser. Nothing but map tiles (from a dead address) may
leave the machine. Screenshots go to test-results/diagnosis-journey/."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from cms.models import ResultsPage
from diagnosis.engine import STEPS_TOTAL
from diagnosis.models import DiagnosisRun
from diagnosis.services import FACILITATORS, concern_moderate
from tests.diagnosis.conftest import staff
from tests.diagnosis.test_diagnosis_runs import (  # noqa: F401  (fixtures)
    admin_tab,
    moderator_user,
    reported,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "diagnosis-journey"
WAIT = 30_000  # milliseconds: generous, for a machine shared with other test runs
SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2}
# The tile server the test settings point at (a port nobody listens on).
TILES = settings.CONVIVE_TILE_URL.split("{", 1)[0]

QUOTED_WORDS = "Desde la reja del parque hasta la esquina no hay un solo poste que funcione."
QUOTE = "No hay un solo poste que funcione."
PROBLEMS = (
    ("Caminos oscuros en El Chico", "Postes apagados entre el parque y la avenida."),
    ("Acoso al salir del transporte", "Gritos y seguimientos al bajar del bus."),
)


@pytest.fixture
def evidence(reported, submit, moderator_user):  # noqa: F811
    """`reported` (five approved concerns, one of them about lighting in El Chico) and five more
    about lighting in El Chico, approved: six, above k = 5 (the public tables may still hide the
    cell to protect the small ones beside it). The first of the five has words to quote."""

    def approved(**kwargs):
        return concern_moderate(concern=submit(**kwargs), user=moderator_user, status="approved")

    quoted = approved(description=QUOTED_WORDS)
    for _ in range(4):
        approved(description="Muy oscuro de noche.")
    return {**reported, "quoted": quoted}


def test_a_facilitator_runs_names_publishes_and_the_public_downloads(
    browser, live_server, evidence, categories, barrios
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    consultation = evidence["page"]
    facilitator = staff("facilitadora", FACILITATORS)
    context, tab = admin_tab(browser, live_server, facilitator, "es")
    tab.set_default_timeout(WAIT)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))

    # 1. Run the diagnosis from the consultation's page and watch it finish.
    tab.goto(f"{live_server.url}{reverse('diagnosis_runs:consultation', args=[consultation.pk])}")
    tab.locator("[data-start-form] button[type=submit]").click()
    tab.wait_for_url(re.compile(r"/admin/diagnosis/runs/\d+/$"))
    tab.wait_for_function(
        "() => { const p = document.getElementById('run-progress');"
        " return p && p.max > 0 && p.value === p.max; }",
        timeout=WAIT,
    )
    result_link = tab.locator("[data-job-result]")
    result_link.wait_for(state="visible")
    assert tab.locator("#run-progress").evaluate("p => [p.value, p.max]") == [
        STEPS_TOTAL,
        STEPS_TOTAL,
    ]
    with translation.override("es"):
        assert gettext("Done: the snapshot is ready.") in tab.inner_text("[data-job-text]")
    run = DiagnosisRun.objects.get()
    assert run.status == DiagnosisRun.Status.DONE
    tab.screenshot(path=SHOTS / "1-run-done.png", full_page=True)

    # 2. From the snapshot, prepare the results page: the editor opens on its draft.
    result_link.click()
    tab.wait_for_selector('[data-table="concerns_by_area_category"]')
    tab.locator("[data-prepare-results] button[type=submit]").click()
    tab.wait_for_url(re.compile(r"/admin/pages/\d+/edit/$"))
    draft = ResultsPage.objects.get()
    assert not draft.live and draft.snapshot_id == run.snapshot.pk
    assert tab.locator("input[name=problems-TOTAL_FORMS]").input_value() == "0"

    # 3. Two problems through the inline panel; the first quotes a resident.
    lighting, harassment = categories["lighting"], categories["harassment"]
    chico = barrios[0]
    add_problem(tab, 0, PROBLEMS[0], categories=[lighting], areas=[chico])
    add_quote(tab, 0, evidence["quoted"].reference, QUOTE)
    add_problem(tab, 1, PROBLEMS[1], categories=[harassment], areas=[chico])
    assert tab.locator("input[name=problems-TOTAL_FORMS]").input_value() == "2"
    tab.screenshot(path=SHOTS / "2-editor-problems.png", full_page=True)

    # 4. Publish from the dropdown beside "Save draft" (once no autosave is in flight: Wagtail
    # saves drafts of the editor's form in the background as it changes).
    tab.locator("#w-autosave-indicator:not([data-w-autosave-state-value=saving])").wait_for(
        state="attached"
    )
    tab.locator("footer .w-dropdown__toggle").click()
    publish = tab.locator("button[name=action-publish]")
    publish.wait_for(state="visible")
    publish.click()
    tab.wait_for_selector(".messages .success")
    with translation.override("es"):
        published_message = gettext("Page '%(page_title)s' has been published.") % {
            "page_title": draft.title
        }
    assert published_message in tab.inner_text(".messages")
    results = ResultsPage.objects.get()
    assert results.live and not results.has_unpublished_changes
    assert sorted(results.problems.values_list("title", flat=True)) == sorted(
        title for title, _ in PROBLEMS
    )
    [quoted] = [p for p in results.problems.all() if p.title == PROBLEMS[0][0]]
    assert quoted.quotes[0].value["text"] == QUOTE
    assert list(quoted.categories.all()) == [lighting]
    assert list(quoted.areas.all()) == [chico]
    tab.screenshot(path=SHOTS / "3-published.png", full_page=True)

    # 5. The public page, on a laptop (logged in) and on a 360 px phone (anonymous). Every request
    # the admin and the public pages made is recorded, for step 7.
    url = live_server.url + results.url
    public_page_check(tab, url, SHOTS / "4-public-desktop.png")
    phone = browser.new_context(locale="es-CO", **SMALL_PHONE)
    phone.on("request", lambda request: requests.append(request.url))
    phone_tab = phone.new_page()
    phone_tab.set_default_timeout(WAIT)
    public_page_check(phone_tab, url, SHOTS / "5-public-360.png")
    assert phone_tab.evaluate("document.documentElement.scrollWidth") <= 360

    # 6. The downloads, followed from the phone's page as a resident would.
    files = {}
    for link in phone_tab.locator(".results-downloads a").all():
        with phone_tab.expect_download(timeout=WAIT) as info:
            link.click()
        download = info.value
        files[download.suggested_filename.rsplit("-", 1)[-1]] = Path(download.path()).read_bytes()
    assert set(files) == {"results.csv", "results.geojson", "results.pdf"}

    rows = list(csv.reader(io.StringIO(files["results.csv"].decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert "table" in header and len(body) > 0
    assert all(len(row) == len(header) for row in body)
    assert lighting.name in {cell for row in body for cell in row}

    geojson = json.loads(files["results.geojson"])
    assert geojson["type"] == "FeatureCollection"
    assert geojson["features"]
    assert {feature["properties"]["kind"] for feature in geojson["features"]} >= {"area"}

    assert files["results.pdf"].startswith(b"%PDF")
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(files["results.pdf"])).pages
    )
    assert results.title in text
    assert lighting.name in text
    # The report carries the named problems too (PDF text extraction may break lines).
    assert all(" ".join(title.split()) in " ".join(text.split()) for title, _ in PROBLEMS)

    # 7. Nothing left the machine but requests for tiles (no avatars from Gravatar in the admin).
    assert any(u.startswith(live_server.url) for u in requests)
    elsewhere = [u for u in requests if not u.startswith(f"{live_server.url}/")]
    assert all(u.startswith(TILES) for u in elsewhere), elsewhere
    phone.close()
    context.close()


def add_problem(tab, index: int, texts: tuple[str, str], *, categories, areas) -> None:
    """Click "Add problem" once, wait for the new form, fill it in."""
    tab.locator("#id_problems-ADD").click()
    form = tab.locator(f"#inline_child_problems-{index}")
    form.wait_for(state="visible")
    title, description = texts
    form.locator(f"#id_problems-{index}-title").fill(title)
    form.locator(f"#id_problems-{index}-description").fill(description)
    for name, chosen in (("categories", categories), ("areas", areas)):
        for item in chosen:
            form.locator(f"input[name=problems-{index}-{name}][value='{item.pk}']").check()


def add_quote(tab, index: int, reference: str, text: str) -> None:
    """Add one quote block to a problem's quotes stream and fill it in."""
    form = tab.locator(f"#inline_child_problems-{index}")
    form.locator("button.c-sf-add-button").first.click()
    concern = form.locator(f"[name='problems-{index}-quotes-0-value-concern']")
    concern.wait_for(state="visible")
    concern.fill(reference)
    form.locator(f"[name='problems-{index}-quotes-0-value-text']").fill(text)


def public_page_check(tab, url: str, screenshot: Path) -> None:
    """The live results page draws its area map, fetches its cells, shows a chart with its table,
    both problems and the quote."""
    with tab.expect_response(lambda r: r.url.split("?")[0].endswith("/map/")) as fetched:
        tab.goto(url)
    assert fetched.value.ok
    assert fetched.value.json()
    tab.wait_for_selector("#results-map-areas.leaflet-container")
    tab.wait_for_selector("#results-map-areas path.leaflet-interactive")
    tab.wait_for_selector("#results-map-cells.leaflet-container canvas")
    chart = tab.locator("svg.results-chart__svg").first
    chart.wait_for(state="visible")
    assert tab.locator(".results-table table").first.is_visible()
    titles = tab.locator("[data-problem] h3").all_inner_texts()
    assert sorted(titles) == sorted(title for title, _ in PROBLEMS)
    assert QUOTE in tab.inner_text("[data-problem] blockquote")
    tab.screenshot(path=screenshot, full_page=True)
