"""Accessibility in real headless Chromium: axe-core (pinned in package-lock.json) runs on every
public page a resident or the public meets, in Spanish and English, on a phone and a desktop, and
must find no serious or critical violation of WCAG 2.0/2.1 A and AA. A second test checks that the
pages residents fill in on the street do not scroll sideways on a 320 px wide screen, and a third
that every page still fits, with no text cut off, at 200 % zoom.

axe cannot judge everything (it finds roughly a third of WCAG problems: not whether a label makes
sense, nor whether focus order is logical); docs/accessibility.md lists what is checked by hand.
Screenshots at 320 px and 390 px (phone) are saved under test-results/accessibility/, with axe's
full findings (every impact) as axe-<lang>.json, for people to look at.
"""

import datetime
import json
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point
from django.utils import timezone, translation

from diagnosis.services import concern_submit
from diagnosis.services.groups import MODERATORS
from diagnosis.services.moderation import concern_moderate
from maps.models import ModerationStatus, SafetyWalk, WalkStop
from maps.walks import walk_stop_record
from tests.conftest import EL_CHICO_POINT, along_route
from tests.diagnosis.test_questionnaire_submit import questionnaire_set

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-results" / "accessibility"
PHONE = {"viewport": {"width": 390, "height": 780}, "device_scale_factor": 2, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
NARROW = {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 2, "has_touch": True}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
LOCALES = {"es": "es-CO", "en": "en-GB"}
# The rules axe applies: WCAG 2.0 and 2.1, levels A and AA (the target).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

# (category, offset in degrees from EL_CHICO_POINT, description): approved, so that the map
# and the table have data.
CONCERNS = [
    ("lighting", (0, 0), "El parque queda a oscuras desde las seis."),
    ("lighting", (0.0003, 0.0002), "Dos postes sin luz en la esquina."),
    ("harassment", (-0.0002, 0.0003), "Gritos y piropos a la salida del colegio."),
    ("centre", (0.0002, -0.0003), "El salón comunal abre hasta tarde y se siente seguro."),
]
WALK_STOPS = [
    ("comfortable", {"lighting": 3, "openness": 2, "people": 3}),
    ("uncomfortable", {"lighting": 1, "openness": 1, "visibility": 1}),
    ("frightening", {"lighting": 0, "people": 0, "security": 0}),
]


# --- Data -----------------------------------------------------------------------------------------


def approved_concerns(consultation, categories):
    """A few concerns submitted and approved through the real services."""
    moderator = get_user_model().objects.create_user("mara", "mara@example.org", "pw")
    moderator.groups.add(Group.objects.get(name=MODERATORS))
    for key, (dlon, dlat), description in CONCERNS:
        concern = concern_submit(
            consultation=consultation,
            category=categories[key],
            idempotency_key=uuid.uuid4(),
            language="es",
            description=description,
            point=Point(EL_CHICO_POINT[0] + dlon, EL_CHICO_POINT[1] + dlat, srid=4326),
            time_band="night",
        ).concern
        concern_moderate(concern=concern, user=moderator, status="approved")


ENGLISH_NAMES = {
    "lighting": "Poor lighting",
    "harassment": "Street harassment",
    "domestic": "Domestic violence",
    "centre": "Community centre",
}


def english_site(consultation, categories, locales):
    """The home page, the consultation and its categories translated to English, as editors do."""
    for key, category in categories.items():
        translated = category.copy_for_translation(locales["en"])
        translated.name = ENGLISH_NAMES[key]
        translated.save()
    with translation.override("es"):
        page = consultation.copy_for_translation(locales["en"], copy_parents=True)
    page.title = "Chapinero looks after itself"
    page.save_revision().publish()
    home = page.get_parent().specific
    home.save_revision().publish()


def site_with_data(consultation, categories, locales, walk):
    # The questionnaire first, so the English translation made next carries it too.
    consultation = questionnaire_set(consultation)
    english_site(consultation, categories, locales)
    approved_concerns(consultation, categories)
    published_walk(walk)


def published_walk(walk):
    """The walk with three approved stops and its report published."""
    for index, (feeling, scores) in enumerate(WALK_STOPS):
        stop = walk_stop_record(
            walk=walk,
            idempotency_key=uuid.uuid4(),
            point=along_route((index + 0.5) / len(WALK_STOPS)),
            located_by=WalkStop.Located.GPS,
            feeling=feeling,
            scores=scores,
            hazards=["entrapment"] if feeling == "frightening" else [],
            notes="Muro largo sin ventanas." if feeling != "comfortable" else "",
            recorded_at=timezone.now() - datetime.timedelta(minutes=30 - index),
        ).stop
        WalkStop.objects.filter(pk=stop.pk).update(
            status=ModerationStatus.APPROVED, moderated_at=timezone.now()
        )
    SafetyWalk.objects.filter(pk=walk.pk).update(
        report_published_at=timezone.now(), status=SafetyWalk.Status.DONE
    )


# --- Browser helpers ------------------------------------------------------------------------------


def settle(page) -> None:
    """Let scripts finish drawing (maps, counters) before axe looks at the page."""
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)


def axe_violations(page) -> list[dict]:
    """Run axe-core in the page and return its violations (every impact)."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )


def describe(found: list[tuple[str, dict]]) -> str:
    lines = []
    for where, violation in found:
        lines.append(f"{where}: {violation['id']} ({violation['impact']}) — {violation['help']}")
        for node in violation["nodes"][:8]:
            summary = " ".join(node["summary"].split())[:300]
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def visit_pages(page, base: str, lang: str, consultation, walk):
    """Open each public page in turn and yield its name once it is ready to be checked.

    The field page needs this browser to have joined the walk first, so the join page comes
    before it; the concern form's error state is reached the way a resident reaches it, by
    sending the form empty.
    """
    page.goto(f"{base}/{lang}/")
    yield "home"

    page.goto(f"{base}/{lang}/{consultation.slug}/")
    page.wait_for_selector("#public-map-canvas.leaflet-container")
    page.wait_for_selector("#public-map-canvas .leaflet-marker-icon")  # the concerns are drawn
    yield "consultation"

    page.goto(f"{base}/{lang}/{consultation.slug}/report/")
    page.wait_for_selector("#concern-map.leaflet-container")
    yield "concern-form"

    page.locator("#concern-form button[type=submit]").click()
    page.wait_for_selector("#error-summary")
    page.wait_for_selector("#concern-map.leaflet-container")
    yield "concern-form-errors"

    page.goto(f"{base}/{lang}/{consultation.slug}/questionnaire/")
    page.wait_for_selector("form button[type=submit]")
    yield "questionnaire"

    page.locator("form button[type=submit]").click()
    page.wait_for_selector("#error-summary")
    yield "questionnaire-errors"

    page.goto(f"{base}/{lang}/walks/join/")
    yield "walk-join"

    page.fill("#id_code", walk.access_code)
    page.locator("form.walk-join button[type=submit]").click()
    page.wait_for_url(f"**/{lang}/walks/{walk.uuid}/record/")
    page.wait_for_selector("#walk-map.leaflet-container")
    page.wait_for_selector("#walk-map path.walk-route")
    yield "walk-field"

    page.goto(f"{base}/{lang}/walks/{walk.uuid}/")
    page.wait_for_selector("[data-walk-map-ready]")
    yield "walk-report"


# The page's scroll width, and the outermost elements that stick out past the right edge (leaving
# out what a clipping or scrolling box holds: map tiles, a wide table in its own scroll box).
OVERFLOW = """() => {
    const edge = document.documentElement.clientWidth;
    const clipped = el => {
        for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
            if (getComputedStyle(up).overflowX !== 'visible') return true;
        }
        return false;
    };
    const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (typeof el.className === 'string' && el.className
           ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    const culprits = [];
    for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.width && box.right > edge + 0.5 && !clipped(el)
            && !(el.parentElement && el.parentElement.getBoundingClientRect().right > edge + 0.5)) {
            culprits.push(`${name(el)} (right edge ${Math.round(box.right)})`);
        }
    }
    return {width: document.documentElement.scrollWidth, culprits: culprits.slice(0, 10)};
}"""


# --- Tests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["es", "en"])
def test_public_pages_have_no_serious_or_critical_violations(
    browser, live_server, consultation, categories, locales, walk, lang
):
    assert AXE.exists(), "axe-core is missing: run `make node-tools` (npm ci --ignore-scripts)"
    site_with_data(consultation, categories, locales, walk)
    SHOTS.mkdir(parents=True, exist_ok=True)

    found: list[tuple[str, dict]] = []
    everything: dict[str, list[dict]] = {}
    checked = []
    for viewport, options in VIEWPORTS.items():
        context = browser.new_context(locale=LOCALES[lang], **options)
        page = context.new_page()
        for name in visit_pages(page, live_server.url, lang, consultation, walk):
            settle(page)
            assert page.evaluate("document.documentElement.lang") == lang
            where = f"{lang}/{viewport}/{name}"
            zoom = page.locator(".leaflet-control-zoom-in")
            if zoom.count():  # Leaflet's own buttons speak the page's language, not English
                assert zoom.get_attribute("aria-label") == page.evaluate("gettext('Zoom in')")
            if viewport == "phone":
                page.screenshot(path=SHOTS / f"390-{lang}-{name}.png", full_page=True)
            violations = axe_violations(page)
            everything[where] = violations
            checked.append(where)
            found += [(where, v) for v in violations if v["impact"] in BLOCKING]
        context.close()

    (SHOTS / f"axe-{lang}.json").write_text(json.dumps(everything, indent=2, ensure_ascii=False))
    assert len(checked) == 18
    assert not found, "axe-core found serious or critical violations:\n" + describe(found)


# The pages residents and facilitators fill in on the street, on the smallest phones.
FIELD_PAGES = {
    "consultation",
    "concern-form",
    "concern-form-errors",
    "questionnaire",
    "questionnaire-errors",
    "walk-field",
}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_field_pages_fit_a_320px_screen(
    browser, live_server, consultation, categories, locales, walk, lang
):
    """No sideways scrolling at 320 CSS px (WCAG 1.4.10 reflow; also 1280 px at 400 % zoom)."""
    site_with_data(consultation, categories, locales, walk)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale=LOCALES[lang], **NARROW)
    page = context.new_page()
    widths = {}
    for name in visit_pages(page, live_server.url, lang, consultation, walk):
        if name not in FIELD_PAGES:
            continue
        settle(page)
        widths[name] = page.evaluate(OVERFLOW)
        page.screenshot(path=SHOTS / f"320-{lang}-{name}.png", full_page=True)
        if name == "walk-field":
            break
    context.close()
    assert set(widths) == FIELD_PAGES
    too_wide = {name: found for name, found in widths.items() if found["width"] > 320}
    assert not too_wide, f"pages wider than a 320 px screen (scrollWidth): {too_wide}"


# Text whose box cuts it off: an element that hides its overflow while its content is larger than
# the box (leaving out visually hidden helpers and the maps' own panes).
CLIPPED_TEXT = """() => {
    const found = [];
    for (const el of document.body.querySelectorAll('*')) {
        if (el.closest('.leaflet-container, .visually-hidden, .skip-link, [hidden]')) continue;
        const style = getComputedStyle(el);
        const hides = v => v === 'hidden' || v === 'clip';
        if (!hides(style.overflowX) && !hides(style.overflowY)) continue;
        if (!el.innerText || !el.innerText.trim()) continue;
        if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
            found.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                       + ' ' + el.innerText.trim().slice(0, 40));
        }
    }
    return found.slice(0, 10);
}"""


@pytest.mark.parametrize("lang", ["es", "en"])
def test_pages_work_at_200_percent_zoom(
    browser, live_server, consultation, categories, locales, walk, lang
):
    """WCAG 1.4.4 (resize text): a 1280 px wide window zoomed to 200 %.

    Chromium's page zoom lays the page out in half as many CSS pixels at twice the pixel density,
    which is exactly this context. Every page must still fit (no sideways scrolling) and no text
    may be cut off by a box too small for it.
    """
    site_with_data(consultation, categories, locales, walk)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        locale=LOCALES[lang], viewport={"width": 640, "height": 450}, device_scale_factor=2
    )
    page = context.new_page()
    problems, checked = {}, []
    for name in visit_pages(page, live_server.url, lang, consultation, walk):
        settle(page)
        checked.append(name)
        overflow = page.evaluate(OVERFLOW)
        clipped = page.evaluate(CLIPPED_TEXT)
        if overflow["width"] > 640 or clipped:
            problems[name] = {"overflow": overflow, "clipped": clipped}
        page.screenshot(path=SHOTS / f"zoom200-{lang}-{name}.png", full_page=True)
    context.close()
    assert len(checked) == 9
    assert not problems, f"pages that do not survive 200 % zoom: {problems}"
