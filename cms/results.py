"""The results page: context, downloads and cache (see `cms.models.ResultsPage`).

Every number comes from `diagnosis.publication.published_tables` (small-number suppression with
the snapshot's k); this module only arranges it for the template, the CSV, the GeoJSON and the
PDF. What a page shows is cached per snapshot, page revision, language and a per-page generation
that `results_published` bumps, so a warm page reads no diagnosis row and a newly published
snapshot is what the next reader sees. The cached page is a few pre-rendered HTML fragments (a
string unpickles in microseconds where the context's objects took seconds at city scale), and the
maps' areas and grid squares are not in the page at all: the map script fetches them from the
page's `map/` route (`results_map_data`), cached as the bytes it sends.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from diagnosis.models import SnapshotPublication
from diagnosis.publication import FEWER_THAN_K, Publication, PublishedRow, published_tables
from maps.geometry import cell_polygon_coords
from maps.models import Area
from maps.selectors import areas_geojson
from maps.walk_report import FORMULA_START

from .problems import problems_context

CACHE_SECONDS = 60 * 60 * 24
# Browsers keep the map data this long; the page asks for it with its cache version in the URL, so
# a newly published snapshot is a new URL and never waits for this to run out.
MAP_BROWSER_SECONDS = 60 * 60
# Bits of a map cell's flags (see `results_map_data`); an asset cell's category index follows.
CELL_SIGNIFICANT = 1
CELL_ASSET = 2
CELL_CATEGORY_SHIFT = 2
# URL name → file name. Wagtail's page URLs allow no dot in a path segment, so the route is
# download/csv/ and the file is still called results.csv.
DOWNLOADS = {"csv": "results.csv", "geojson": "results.geojson", "pdf": "results.pdf"}
CSV_HEADER = [
    "table",
    "area",
    "category",
    "group",
    "subgroup",
    "count",
    "total",
    "share",
    "low",
    "high",
]
# Choropleth classes (lightest to darkest) and the colour of areas under k.
SHADES = ("#e8f1f4", "#b5d3dd", "#6fa9bc", "#2f7c95", "#0b4f63")
CHART_WIDTH = 320
BAR_LEFT = 0
BAR_MAX = 220
BAR_HEIGHT = 14
ROW_HEIGHT = 40


# --- Cache --------------------------------------------------------------------------------------


def _generation_key(page) -> str:
    return f"convive:results:generation:{page.translation_key}"


def _cache_key(page, language: str, what: str) -> str:
    generation = cache.get(_generation_key(page), 0)
    return (
        f"convive:results:{page.snapshot_id}:{page.pk}:{page.latest_revision_id}:"
        f"{language}:{generation}:{what}"
    )


def _map_version(page, language: str) -> str:
    """An ETag for the map data: its cache key hashed, so it changes exactly when the data may."""
    key = _cache_key(page, language, "map.json")
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def results_cache_clear(page) -> None:
    """Forget the cached context and downloads of every translation of `page`."""
    key = _generation_key(page)
    cache.set(key, cache.get(key, 0) + 1, None)


# --- Formatting ---------------------------------------------------------------------------------


def percent_text(value: float | None) -> str:
    """A published share as residents read it ("42,5 %"); also used by the feedback summary."""
    if value is None:
        return ""
    return number_format(round(value * 100, 1), decimal_pos=1) + " %"


def count_text(value: int | None, k: int) -> str:
    """A published count, or "fewer than k" where it was suppressed."""
    if value is None:
        return _("fewer than %(k)s") % {"k": k}
    return number_format(value, force_grouping=True)


@dataclass
class Bar:
    label: str
    text: str  # the number as read aloud and printed
    value: float | None  # None: fewer than k
    low: float | None = None
    high: float | None = None
    second: float | None = None  # a second bar under the first (weighted, population)
    second_text: str = ""


@dataclass
class Chart:
    """A horizontal bar chart drawn as SVG on the server, with the same numbers as a table."""

    id: str
    title: str
    summary: str
    bars: list[Bar]
    scale_max: float
    value_heading: str
    second_heading: str = ""
    legend: list[str] = field(default_factory=list)
    height: int = 0
    shapes: list[dict] = field(default_factory=list)
    matrix: dict | None = None  # a category × group table beside the chart
    rows: list[dict] = field(default_factory=list)  # the data table when it has more columns
    intervals: bool = False  # the data table has interval and base columns

    def layout(self) -> Chart:
        """Coordinates for the template, so the SVG needs no arithmetic there."""
        y = 4
        for bar in self.bars:
            shape = {"label": bar.label, "text": bar.text, "label_y": y + 11}
            top = y + 16
            if bar.value is None:
                shape["hidden"] = {"x": BAR_LEFT, "y": top, "width": 24, "height": BAR_HEIGHT}
                shape["text_x"] = BAR_LEFT + 30
            else:
                width = BAR_MAX * bar.value / self.scale_max if self.scale_max else 0
                shape["bar"] = {"x": BAR_LEFT, "y": top, "width": round(max(width, 1), 1)}
                shape["text_x"] = round(BAR_LEFT + max(width, 1) + 6, 1)
                if bar.low is not None and bar.high is not None and self.scale_max:
                    low = BAR_LEFT + BAR_MAX * bar.low / self.scale_max
                    high = BAR_LEFT + BAR_MAX * bar.high / self.scale_max
                    middle = top + BAR_HEIGHT / 2
                    shape["whisker"] = {"x1": round(low, 1), "x2": round(high, 1), "y": middle}
                    shape["text_x"] = round(max(shape["text_x"], high + 6), 1)
            shape["text_y"] = top + 11
            if bar.second is not None:
                width = BAR_MAX * bar.second / self.scale_max if self.scale_max else 0
                shape["second"] = {
                    "x": BAR_LEFT,
                    "y": top + BAR_HEIGHT + 2,
                    "width": round(width, 1),
                }
                y += 8
            self.shapes.append(shape)
            y += ROW_HEIGHT
        self.height = y + 4
        return self


def _bars_chart(id_, title, summary, heading, rows: list[tuple[str, int | None]], k) -> Chart:
    present = [n for _label, n in rows if n is not None]
    return Chart(
        id=id_,
        title=title,
        summary=summary,
        bars=[Bar(label=label, text=count_text(n, k), value=n) for label, n in rows],
        scale_max=max(present, default=0) or 1,
        value_heading=heading,
    ).layout()


# --- Context ------------------------------------------------------------------------------------


def results_context(*, request, page) -> dict:
    """What the template needs, read through the publication selector and cached.

    `results` holds the summary's lines, which sections exist (for the contents list and the map
    script) and the sections as HTML rendered once per cache version: the sections before the
    problems and those after them, since the problems change with ballots and are never cached.
    """
    problems = _problems_context(request=request, page=page)
    # The problems include reads its own keys (`problems`, `prioritisation_tally`…) at top level.
    extra = {"problems_context": problems, **problems}
    if page.snapshot_id is None:
        return {"results": None, **extra}
    language = page.locale.language_code
    key = _cache_key(page, language, "page")
    parts = cache.get(key)
    if parts is None:
        with translation.override(language):
            results = _results(page, published_tables(page.snapshot, language=language))
            parts = _page_parts(page, results, language)
        cache.set(key, parts, CACHE_SECONDS)
    return {
        "results": {
            **parts,
            "sections": mark_safe(parts["sections"]),  # noqa: S308 (our own templates' output)
            "closing": mark_safe(parts["closing"]),  # noqa: S308
        },
        **extra,
    }


def _page_parts(page, results: dict, language: str) -> dict:
    """The page's cacheable part: plain strings and flags, cheap to (un)pickle at any size."""
    k, who, charts = results["k"], results["who"], results["charts"]
    tiles = {
        "CONVIVE_TILE_URL": settings.CONVIVE_TILE_URL,
        "CONVIVE_TILE_ATTRIBUTION": settings.CONVIVE_TILE_ATTRIBUTION,
    }
    sections = []
    if results["map"]:
        map_context = {
            "map": results["map"],
            "k": k,
            "cell_metres": settings.CONVIVE_PUBLIC_GRID_METRES,
            "data_url": page.url
            + page.reverse_subpage("results_map_data")
            + f"?v={_map_version(page, language)}",
            **tiles,
        }
        sections.append(render_to_string("cms/includes/results_map.html", map_context))
    if results["area_table"]:
        sections.append(
            render_to_string(
                "cms/includes/results_area_table.html", {"table": results["area_table"], "k": k}
            )
        )
    for name in ("category", "gender", "age", "perception", "profile"):
        if name in charts:
            sections.append(
                render_to_string(
                    "cms/includes/results_chart.html", {"chart": charts[name], "who": who}
                )
            )
    if results["walks"]:
        sections.append(
            render_to_string(
                "cms/includes/results_walks.html", {"walks": results["walks"], "who": who}
            )
        )
    if results["change"]:
        sections.append(
            render_to_string("cms/includes/results_change.html", {"change": results["change"]})
        )
    closing = render_to_string(
        "cms/includes/results_method.html", {"method": results["method"]}
    ) + render_to_string("cms/includes/results_downloads.html", {"downloads": results["downloads"]})
    return {
        "k": k,
        "headline": results["headline"],
        "map": bool(results["map"]),
        "toc": {name: name in charts for name in ("category", "perception", "profile")},
        "sections": "".join(sections),
        "closing": closing,
    }


def _problems_context(*, request, page) -> dict:
    """The problems and the prioritisation tally, which change with ballots: never cached here."""
    return problems_context(request=request, page=page)


def _who_took_part(publication: Publication) -> dict:
    counts = publication.input_counts
    profile = {row.group: row for row in publication.rows("participation_profile")}
    concerns = profile.get("concerns")
    return {
        "concerns": counts.get("concerns", 0),
        "responses": counts.get("questionnaire_responses", 0),
        "index": concerns.share if concerns else None,
        "index_text": percent_text(concerns.share)
        if concerns and concerns.share is not None
        else "",
    }


def _results(page, publication: Publication) -> dict:
    k = publication.k
    by_category = [row for row in publication.rows("concerns_by_category") if row.category]
    by_category.sort(key=lambda row: (row.count is None, -(row.count or 0), row.category))
    charts = {}
    if by_category:
        top = next((row for row in by_category if row.count is not None), None)
        summary = (
            _("Residents reported %(category)s most often: %(count)s of %(total)s concerns.")
            % {
                "category": top.category,
                "count": count_text(top.count, k),
                "total": count_text(top.total, k),
            }
            if top
            else ""
        )
        charts["category"] = _bars_chart(
            "chart-category",
            _("Concerns by category"),
            summary,
            _("Concerns"),
            [(row.category, row.count) for row in by_category],
            k,
        )
    for code, chart_id, title in (
        ("concerns_by_category_gender", "gender", _("Concerns by gender of the person reporting")),
        ("concerns_by_category_age", "age", _("Concerns by age band of the person reporting")),
    ):
        rows = publication.rows(code)
        if not rows:
            continue
        totals: dict[str, tuple[str, int | None]] = {}
        for row in rows:
            totals[row.group] = (row.group_label, row.total)
        ordered = list(totals.values())
        present = [n for _l, n in ordered if n is not None]
        summary = ""
        if present:
            label, n = max((pair for pair in ordered if pair[1] is not None), key=lambda p: p[1])
            summary = _("Most concerns came from: %(group)s (%(count)s).") % {
                "group": label,
                "count": count_text(n, k),
            }
        charts[chart_id] = _bars_chart(
            f"chart-{chart_id}", title, summary, _("Concerns"), ordered, k
        )
        charts[chart_id].matrix = _matrix(rows, k)
    perception = _perception_chart(publication)
    if perception:
        charts["perception"] = perception
    profile = _profile_chart(publication)
    if profile:
        charts["profile"] = profile
    return {
        "k": k,
        "snapshot_id": publication.snapshot_id,
        "headline": _headline(publication, by_category),
        "who": _who_took_part(publication),
        "charts": charts,
        "area_table": _area_table(publication),
        "map": _map_config(page, publication),
        "walks": _walks(publication),
        "change": _change(publication),
        "method": _method(page, publication),
        "downloads": [
            {
                "name": filename,
                "url": page.url + page.reverse_subpage("results_download", args=[name]),
            }
            for name, filename in DOWNLOADS.items()
        ],
    }


def _headline(publication: Publication, by_category: list[PublishedRow]) -> list[str]:
    counts = publication.input_counts
    k = publication.k
    lines = [
        _(
            "%(concerns)s concerns reported by residents and %(responses)s questionnaire "
            "answers were counted."
        )
        % {
            "concerns": number_format(counts.get("concerns", 0), force_grouping=True),
            "responses": number_format(
                counts.get("questionnaire_responses", 0), force_grouping=True
            ),
        }
    ]
    risks = [row for row in by_category if row.kind == "risk" and row.count is not None]
    if risks:
        lines.append(
            _("What residents reported most: %(list)s.")
            % {"list": ", ".join(f"{row.category} ({row.count})" for row in risks[:3])}
        )
    assets = [row for row in by_category if row.kind == "asset" and row.count is not None]
    if assets:
        lines.append(
            _("Residents also mapped %(count)s places and services that make them feel safer.")
            % {"count": sum(row.count for row in assets)}
        )
    perception = publication.rows("perception")
    shown = [row for row in perception if row.share is not None]
    if shown:
        first = shown[0]
        lines.append(
            _("%(share)s of residents who answered: %(indicator)s.")
            % {"share": percent_text(first.share), "indicator": first.group_label}
        )
    lines.append(
        _("Numbers based on fewer than %(k)s people are shown as “fewer than %(k)s”.") % {"k": k}
    )
    return lines


def _matrix(rows: list[PublishedRow], k: int) -> dict:
    """A category × group table of published counts (hidden ones as "fewer than k")."""
    columns: dict[str, str] = {}
    lines: dict[str, dict] = {}
    for row in rows:
        columns.setdefault(row.group, row.group_label)
        line = lines.setdefault(row.category_key, {"label": row.category, "cells": {}})
        line["cells"][row.group] = count_text(row.count, k)
    return {
        "columns": list(columns.values()),
        "rows": [
            {"label": line["label"], "cells": [line["cells"].get(code, "0") for code in columns]}
            for line in lines.values()
        ],
    }


def _perception_chart(publication: Publication) -> Chart | None:
    raw = publication.rows("perception")
    if not raw:
        return None
    weighted = {row.group: row for row in publication.rows("perception_weighted")}
    bars = []
    for row in raw:
        other = weighted.get(row.group)
        bar = Bar(
            label=row.group_label,
            text=percent_text(row.share)
            if row.share is not None
            else count_text(None, publication.k),
            value=row.share,
            low=row.low,
            high=row.high,
        )
        if other is not None and other.share is not None and row.share is not None:
            bar.second = other.share
            bar.second_text = percent_text(other.share)
        bars.append(bar)
    shown = [row for row in raw if row.share is not None]
    summary = ""
    if shown:
        top = max(shown, key=lambda row: row.share)
        summary = _("The highest share: %(share)s — %(indicator)s.") % {
            "share": percent_text(top.share),
            "indicator": top.group_label,
        }
    chart = Chart(
        id="chart-perception",
        title=_("How residents feel"),
        summary=summary,
        bars=bars,
        scale_max=1.0,
        value_heading=_("Share of those who answered"),
        intervals=True,
        second_heading=_("Weighted to who lives here") if weighted else "",
        legend=[
            _("Dark bar: share of those who answered; the line is its interval (95 %)."),
            *([_("Light bar: the same share weighted by sex and age band.")] if weighted else []),
        ],
    )
    chart.rows = [
        {
            "label": row.group_label,
            "share": percent_text(row.share) if row.share is not None else "",
            "interval": f"{percent_text(row.low)} – {percent_text(row.high)}"
            if row.low is not None
            else "",
            "base": count_text(row.total, publication.k),
            "weighted": percent_text(weighted[row.group].share)
            if row.group in weighted and weighted[row.group].share is not None
            else "",
        }
        for row in raw
    ]
    return chart.layout()


def _profile_chart(publication: Publication) -> Chart | None:
    rows = publication.rows("participation_profile")
    concerns = next((row for row in rows if row.group == "concerns"), None)
    if concerns is None or not concerns.detail.get("cells"):
        return None
    cells = concerns.detail["cells"]
    participants = sum(cell["participants"] or 0 for cell in cells)
    population = sum(cell["population"] or 0 for cell in cells)
    bars = []
    from maps.demography import AgeBand, Sex

    sexes, ages = dict(Sex.choices), dict(AgeBand.choices)
    for cell in cells:
        label = (
            f"{sexes.get(cell['sex'], cell['sex'])}, {ages.get(cell['age_band'], cell['age_band'])}"
        )
        share = (
            cell["participants"] / participants
            if cell["participants"] is not None and participants
            else None
        )
        bar = Bar(
            label=label,
            text=percent_text(share) if share is not None else count_text(None, publication.k),
            value=share,
        )
        if population:
            bar.second = (cell["population"] or 0) / population
            bar.second_text = percent_text(bar.second)
        bars.append(bar)
    index = percent_text(concerns.share) if concerns.share is not None else ""
    chart = Chart(
        id="chart-profile",
        title=_("Who took part compared with who lives here"),
        summary=_(
            "Representativeness index: %(index)s (100 %% would mean that participants have "
            "exactly the residents' profile by sex and age)."
        )
        % {"index": index}
        if index
        else _("No population figures: who took part cannot be compared with who lives here."),
        bars=bars,
        scale_max=max([b.value or 0 for b in bars] + [b.second or 0 for b in bars]) or 1,
        value_heading=_("Participants"),
        second_heading=_("Residents"),
        legend=[_("Dark bar: share of participants."), _("Light bar: share of residents.")],
    )
    chart.rows = [
        {"label": bar.label, "share": bar.text, "weighted": bar.second_text} for bar in bars
    ]
    return chart.layout()


def _area_table(publication: Publication) -> dict | None:
    rows = publication.rows("concerns_by_area_category")
    if not rows:
        return None
    k = publication.k
    categories: dict = {}
    areas: dict = {}
    for row in rows:
        categories.setdefault(row.category_key, (row.category, row.kind))
        area = areas.setdefault(
            row.area_id, {"name": row.area, "cells": {}, "total": count_text(row.total, k)}
        )
        area["cells"][row.category_key] = count_text(row.count, k)
    return {
        "columns": [{"name": name, "kind": kind} for name, kind in categories.values()],
        "rows": [
            {
                "name": area["name"],
                "total": area["total"],
                "cells": [area["cells"].get(key, "0") for key in categories],
            }
            for area in sorted(areas.values(), key=lambda a: a["name"])
        ],
    }


def _area_values(publication: Publication) -> dict[int, dict]:
    """Per area: the published total of concerns, and per 1,000 residents when known."""
    totals: dict[int, int | None] = {}
    for row in publication.rows("concerns_by_area_category"):
        if row.area_id:
            totals[row.area_id] = row.total
    population = dict(Area.objects.filter(pk__in=totals).values_list("pk", "population_total"))
    values = {}
    for area_id, total in totals.items():
        people = population.get(area_id)
        rate = total * 1000 / people if total is not None and people else None
        values[area_id] = {"total": total, "rate": rate}
    return values


def _shade(values: list[float], value: float) -> int:
    """The class of `value` among equal-interval classes over the published values."""
    top = max(values)
    if top <= 0:
        return 0
    return min(int(value / top * len(SHADES)), len(SHADES) - 1)


def _map_areas(page, publication: Publication) -> tuple[list[int], dict]:
    """The areas a map shows (the published ones and the consultation's) and their values."""
    values = _area_values(publication)
    consultation = page.get_parent().specific
    area_ids = set(values) | set(
        getattr(consultation, "areas", Area.objects.none()).values_list("pk", flat=True)
    )
    return sorted(area_ids), values


def _map_metric(values: dict) -> str:
    per_people = all(
        v["rate"] is not None for v in values.values() if v["total"] is not None
    ) and any(v["rate"] is not None for v in values.values())
    return "rate" if per_people else "total"


def _map_config(page, publication: Publication) -> dict | None:
    """What the page says about its maps (metric, legend, squares); the shapes are fetched."""
    area_ids, values = _map_areas(page, publication)
    if not area_ids:
        return None
    metric = _map_metric(values)
    top = max((v[metric] for v in values.values() if v[metric] is not None), default=0)
    legend = (
        [
            {
                "colour": colour,
                "text": f"{number_format(round(top * i / len(SHADES), 1), 1)} – "
                f"{number_format(round(top * (i + 1) / len(SHADES), 1), 1)}",
            }
            for i, colour in enumerate(SHADES)
        ]
        if top
        else []
    )
    hotspots = publication.rows("hotspots")
    return {
        "metric": metric,
        "legend": legend,
        "cells": any(row.cell is not None for row in hotspots)
        or any(row.cell is not None for row in publication.rows("assets_by_cell")),
        "significant": sum(1 for row in hotspots if _significant(row)),
    }


def _significant(row: PublishedRow) -> bool:
    """Outlined on the map: significant and published with a count (under k: never)."""
    return bool(row.significant) and row.count is not None


def _map_data(page, publication: Publication) -> dict:
    """The maps' shapes: area polygons with their shade and text, and grid squares as indices.

    A square is `[cell_x, cell_y, count or None, flags]` on the public grid (`maps.geometry`;
    the browser builds its outline from the cell size the page gives it), so the city's twenty
    thousand squares weigh a few hundred kilobytes rather than megabytes of polygons. `flags` is
    `CELL_SIGNIFICANT | CELL_ASSET | category index << CELL_CATEGORY_SHIFT` (the index into
    `categories`, for asset squares). Counts under k are None and such squares never significant.
    """
    k = publication.k
    area_ids, values = _map_areas(page, publication)
    metric = _map_metric(values)
    per_people = metric == "rate"
    shown = [v[metric] for v in values.values() if v[metric] is not None]
    collection = areas_geojson(areas=Area.objects.filter(pk__in=area_ids))
    for feature in collection["features"]:
        value = values.get(feature["id"], {"total": 0, "rate": 0.0 if per_people else None})
        number = value[metric]
        hidden = value["total"] is None
        feature["properties"].update(
            {
                "hidden": hidden,
                "shade": None if hidden or number is None or not shown else _shade(shown, number),
                "text": count_text(value["total"], k)
                + (
                    " · "
                    + _("%(rate)s per 1,000 residents")
                    % {"rate": number_format(round(value["rate"], 1), 1)}
                    if value.get("rate") is not None and not hidden
                    else ""
                ),
            }
        )
    cells = [
        [*row.cell, row.count, CELL_SIGNIFICANT if _significant(row) else 0]
        for row in publication.rows("hotspots")
        if row.cell is not None
    ]
    categories: dict[str, int] = {}
    for row in publication.rows("assets_by_cell"):
        if row.cell is None:
            continue
        index = categories.setdefault(row.category, len(categories))
        cells.append([*row.cell, row.count, CELL_ASSET | index << CELL_CATEGORY_SHIFT])
    return {
        "areas": collection,
        "cells": cells,
        "categories": list(categories),
        "fewer": count_text(None, k),
    }


def results_map_data(request, page):
    """The maps' data of a live page as JSON (drafts only for editors who may edit the page).

    Cached as the encoded bytes, one entry per cache version of the page, so a warm request
    neither builds nor encodes anything; browsers revalidate with the ETag, and the page asks
    for `?v=<ETag>` so that a newly published snapshot is a new URL.
    """
    if page.snapshot_id is None:
        raise Http404
    if not page.live and not page.permissions_for_user(request.user).can_edit():
        raise Http404
    language = page.locale.language_code
    etag = f'"{_map_version(page, language)}"'
    cache_control = f"public, max-age={MAP_BROWSER_SECONDS}" if page.live else "private, no-cache"
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        key = _cache_key(page, language, "map.json")
        body = cache.get(key)
        if body is None:
            with translation.override(language):
                publication = published_tables(page.snapshot, language=language)
                data = _map_data(page, publication)
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            cache.set(key, body, CACHE_SECONDS)
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


def _walks(publication: Publication) -> dict | None:
    rows = publication.rows("walk_scores")
    if not rows:
        return None
    k = publication.k
    parameters: dict = {}
    areas: dict = {}
    for row in rows:
        parameters.setdefault(row.group, row.group_label)
        area = areas.setdefault(row.area_id, {"name": row.area, "cells": {}})
        area["cells"][row.group] = (
            number_format(round(row.share, 1), 1) if row.share is not None else count_text(None, k)
        )
    return {
        "columns": list(parameters.values()),
        "rows": [
            {"name": a["name"], "cells": [a["cells"].get(code, "") for code in parameters]}
            for a in areas.values()
        ],
    }


def _change(publication: Publication) -> dict | None:
    areas = publication.rows("change_area_category")
    perception = publication.rows("change_perception")
    if not areas and not perception:
        return None
    return {
        "areas": [
            {
                "area": row.area,
                "category": row.category,
                "now": percent_text(row.share),
                "before": percent_text(row.detail.get("previous_value")),
            }
            for row in areas
        ],
        "perception": [
            {
                "label": row.group_label,
                "now": percent_text(row.share),
                "before": percent_text(row.detail.get("previous_value")),
            }
            for row in perception
        ],
    }


def _method(page, publication: Publication) -> dict:
    parameters = publication.parameters
    counts = publication.input_counts
    return {
        "k": publication.k,
        "window_from": parameters.get("window_from"),
        "window_to": parameters.get("window_to"),
        "method_version": publication.method_version,
        "content_hash": publication.content_hash,
        "concerns": counts.get("concerns", 0),
        "concerns_with_area": counts.get("concerns_with_area", 0),
        "concerns_with_point": counts.get("concerns_with_point", 0),
        "responses": counts.get("questionnaire_responses", 0),
        "previous_snapshot": counts.get("previous_snapshot"),
        "docs_url": getattr(settings, "CONVIVE_METHOD_URL", ""),
    }


# --- Downloads ----------------------------------------------------------------------------------


def results_download(request, page, name):
    """results.csv, results.geojson or results.pdf (`name` csv, geojson or pdf) of a live page's
    snapshot; 404 otherwise (drafts only for editors who may edit the page)."""
    if name not in DOWNLOADS or page.snapshot_id is None:
        raise Http404
    name = DOWNLOADS[name]
    if not page.live and not page.permissions_for_user(request.user).can_edit():
        raise Http404
    language = page.locale.language_code
    what = name
    if name == "results.pdf":
        # The report lists the problems (they change only with a new revision, which is in the
        # key) and, once voting has closed, the tally: a report made before the close is not
        # served after it.
        with translation.override(language):
            problems = _problems_context(request=request, page=page)
        if problems.get("prioritisation_tally"):
            what += ":tally"
    key = _cache_key(page, language, what)
    body = cache.get(key)
    if body is None:
        with translation.override(language):
            publication = published_tables(page.snapshot, language=language)
            body = BUILDERS[name](page, publication, request)
        cache.set(key, body, CACHE_SECONDS)
    content_type = {
        "results.csv": "text/csv; charset=utf-8",
        "results.geojson": "application/geo+json",
        "results.pdf": "application/pdf",
    }[name]
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{page.slug}-{name}"'
    return response


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv(page, publication: Publication, request) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for table in publication.tables.values():
        for row in table.rows:
            where = row.area
            if row.cell is not None:
                where = f"cell {row.cell[0]},{row.cell[1]}"
            writer.writerow(
                [
                    _cell(value)
                    for value in (
                        table.code,
                        where,
                        row.category,
                        row.group_label if row.group else "",
                        row.subgroup_label if row.subgroup else "",
                        FEWER_THAN_K if row.count is None and row.share is None else row.count,
                        row.total,
                        None if row.share is None else round(row.share, 6),
                        None if row.low is None else round(row.low, 6),
                        None if row.high is None else round(row.high, 6),
                    )
                ]
            )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _geojson(page, publication: Publication, request) -> bytes:
    areas = {}
    for row in publication.rows("concerns_by_area_category"):
        if not row.area_id:
            continue
        entry = areas.setdefault(row.area_id, {"total": row.total, "categories": []})
        entry["categories"].append(
            {
                "category": row.category,
                "code": row.category_code,
                "kind": row.kind,
                "count": row.count if row.count is not None else FEWER_THAN_K,
                "share": row.share,
            }
        )
    population = dict(Area.objects.filter(pk__in=areas).values_list("pk", "population_total"))
    features = []
    for feature in areas_geojson(areas=Area.objects.filter(pk__in=areas))["features"]:
        entry = areas[feature["id"]]
        feature["properties"].update(
            {
                "kind": "area",
                "total": entry["total"] if entry["total"] is not None else FEWER_THAN_K,
                "population": population.get(feature["id"]),
                "categories": entry["categories"],
            }
        )
        features.append(feature)
    for code in ("hotspots", "assets_by_cell"):
        for row in publication.rows(code):
            if row.cell is None:
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [[round(x, 6), round(y, 6)] for x, y in cell_polygon_coords(*row.cell)]
                        ],
                    },
                    "properties": {
                        "kind": "hotspot" if code == "hotspots" else "asset",
                        "cell": list(row.cell),
                        "category": row.category,
                        "count": row.count if row.count is not None else FEWER_THAN_K,
                        "ratio": row.share if code == "hotspots" else None,
                        "significant": row.significant,
                    },
                }
            )
    collection = {
        "type": "FeatureCollection",
        "features": features,
        "meta": {
            "title": page.title,
            "snapshot": publication.snapshot_id,
            "content_hash": publication.content_hash,
            "suppression_k": publication.k,
            "fewer_than_k": FEWER_THAN_K,
        },
    }
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _pdf(page, publication: Publication, request) -> bytes:
    from weasyprint import HTML

    results = _results(page, publication)
    html = render_to_string(
        "cms/includes/results_pdf.html",
        {
            "page": page,
            "results": results,
            "generated_at": timezone.now(),
            **_problems_context(request=request, page=page),
        },
    )
    return HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()


BUILDERS = {"results.csv": _csv, "results.geojson": _geojson, "results.pdf": _pdf}


# --- Publishing ---------------------------------------------------------------------------------


def results_published(sender, instance, **kwargs):
    """A results page went live: record which snapshot it made public, and drop its cache."""
    from .models import ResultsPage

    if not isinstance(instance, ResultsPage):
        return
    results_cache_clear(instance)
    if instance.snapshot_id is None:
        return
    SnapshotPublication.objects.create(
        snapshot_id=instance.snapshot_id,
        consultation_key=instance.snapshot.consultation_key,
        page=instance,
        published_at=timezone.now(),
    )
