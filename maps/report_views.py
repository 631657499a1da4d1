"""Public pages of safety-walk reports and their exports (thin: `maps.walk_report` does the work).

A report is public once `report_published_at` is set. Before that the report and its exports
answer 404 to the public, and a preview (with a banner, never cached) to staff and to people who
may view safety walks in the admin.
"""

import csv
import hashlib
import io
import json

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .models import WALK_PARAMETERS, WalkStop
from .walk_report import (
    walk_for_report,
    walk_report,
    walk_report_stamp,
    walk_stop_rows,
    walk_stops_csv_rows,
    walk_stops_geojson,
    walks_published,
)

INDEX_PAGE_SIZE = 30
PUBLIC_MAX_AGE = 60
# A published report's page is kept rendered this long at most; any stop arriving or moderated,
# and any change to the walks, makes a new key at once (walk_report_stamp).
REPORT_CACHE_SECONDS = 10 * 60


# The comparison chart, in SVG user units: the viewBox scales to the width of the screen, and at
# 360 units wide the 13-unit text stays legible on a 390 px phone.
CHART_WIDTH = 360
CHART_SCALE = 290  # width of a bar at the top score (3)
CHART_TOP = 24
CHART_ROW = 48
CHART_BAR = 12


def _svg_number(value: float) -> str:
    # SVG attributes need a dot whatever the language; templates would localise a float.
    return f"{value:.1f}"


def comparison_chart(numbers: dict) -> dict:
    """Geometry of the server-rendered bar chart of a comparison (before and after per
    parameter). The table next to it holds the same numbers; the chart is a picture of them."""
    rows = []
    for index, row in enumerate(numbers["parameters"]):
        top = CHART_TOP + index * CHART_ROW
        bars = []
        for side, offset in (("before", 18), ("after", 18 + CHART_BAR + 3)):
            mean = row[f"{side}_mean"]
            width = None if mean is None else max(mean / 3 * CHART_SCALE, 1.5)
            bars.append(
                {
                    "side": side,
                    "y": top + offset,
                    "text_y": top + offset + CHART_BAR - 2,
                    "width": None if width is None else _svg_number(width),
                    "text_x": _svg_number((width or 0) + 4),
                    "mean": mean,
                }
            )
        rows.append({"label": row["label"], "label_y": top + 12, "bars": bars, "row": row})
    ticks = [{"x": _svg_number(score / 3 * CHART_SCALE), "score": score} for score in range(4)]
    height = CHART_TOP + len(rows) * CHART_ROW + 4
    return {
        "width": CHART_WIDTH,
        "height": height,
        "scale": CHART_SCALE,
        "rows": rows,
        "ticks": ticks,
        "axis_bottom": height - 4,
    }


def _comparison_labels(pair, walk) -> None:
    """Column names for a comparison: day vs night for the same route at another time, baseline
    vs follow-up after works."""
    if pair.other_time:
        pair.before_label = pair.before.get_time_band_display()
        pair.after_label = pair.after.get_time_band_display()
        if pair.before_label == pair.after_label:
            pair.before_label = _("Earlier walk")
            pair.after_label = _("Later walk")
    else:
        pair.before_label = _("Baseline")
        pair.after_label = _("Follow-up")
    pair.partner = pair.before if pair.after.pk == walk.pk else pair.after
    pair.chart = comparison_chart(pair.numbers)


def stops_table_rows(stops) -> str:
    """The rows of the table of stops, as HTML.

    Built here rather than in the template: for 500 stops the template engine spent about
    100 ms resolving 6,000 variables, this loop a few milliseconds. Every text is escaped.
    """
    not_observed = escape(_("not observed"))
    photo = escape(_("photo"))
    lines = []
    for stop in stops:
        cells = [
            f'<td class="num">{stop.order}</td>',
            f'<td><span class="feel feel--{escape(stop.feeling)}">'
            f"{escape(stop.feeling_label)}</span></td>",
        ]
        for score in stop.score_list:
            if score is None:
                cells.append(
                    f'<td class="num score score--na"><span class="walk-muted" '
                    f'title="{not_observed}">–</span></td>'
                )
            else:
                cells.append(f'<td class="num score score--{int(score)}">{int(score)}</td>')
        cells.append(f"<td>{escape('; '.join(stop.hazard_labels))}</td>")
        cells.append(f'<td class="walk-notes">{escape(stop.notes)}</td>')
        link = f'<a href="{escape(stop.photo_url)}">{photo}</a>' if stop.photo else ""
        cells.append(f"<td>{link}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    return mark_safe("\n".join(lines))  # noqa: S308 — built from escaped parts above


def _photo_url(name: str) -> str:
    return default_storage.url(name)


def _cache_headers(response: HttpResponse, *, public: bool) -> HttpResponse:
    if public:
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    else:
        # A preview of an unpublished report must never sit in a shared cache.
        patch_cache_control(response, private=True, no_store=True)
    return response


def _walk_or_404(request: HttpRequest, walk_uuid):
    walk = walk_for_report(walk_uuid=walk_uuid, user=request.user)
    if walk is None:
        raise Http404(_("There is no published report of this walk."))
    return walk


def walk_report_index(request: HttpRequest) -> HttpResponse:
    """GET /<lang>/walks/: the published reports, newest first."""
    paginator = Paginator(walks_published(), INDEX_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    response = render(request, "maps/reports/index.html", {"walks": page, "paginator": paginator})
    return _cache_headers(response, public=True)


def walk_report_page(request: HttpRequest, uuid) -> HttpResponse:
    """GET /<lang>/walks/<uuid>/: the report, or a preview for staff before it is published."""
    walk = _walk_or_404(request, uuid)
    preview = not walk.report_is_public
    # Most readers are anonymous and see the same page: keep it rendered. Never for a preview, a
    # logged-in reader or one with pending messages (the page would carry them), and not for odd
    # query strings (the language links repeat them).
    cache_key = None
    if not preview and not request.GET and not request.user.is_authenticated:
        if not len(get_messages(request)):
            stamp = walk_report_stamp(walk=walk)
            source = f"{walk.pk}|{get_language()}|{request.path}|{stamp}"
            cache_key = "convive:walkreport:" + hashlib.sha256(source.encode()).hexdigest()
            body = cache.get(cache_key)
            if body is not None:
                return _cache_headers(HttpResponse(body), public=True)
    report = walk_report(walk=walk, include_unpublished=preview)
    for pair in report["comparisons"]:
        _comparison_labels(pair, walk)
    map_config = {
        "stopsUrl": reverse("walk_reports:geojson", kwargs={"uuid": walk.uuid}),
        "parameters": [{"field": name, "label": str(label)} for name, label, _h in WALK_PARAMETERS],
        "feelings": [
            {"value": value, "label": str(label)} for value, label in WalkStop.Feeling.choices
        ],
        "hazards": {value: str(label) for value, label in WalkStop.Hazard.choices},
    }
    response = render(
        request,
        "maps/reports/report.html",
        {
            **report,
            "preview": preview,
            "map_config": map_config,
            "parameters": WALK_PARAMETERS,
            "stops_rows": stops_table_rows(report["stops"]),
        },
    )
    if cache_key is not None:
        cache.set(cache_key, response.content, REPORT_CACHE_SECONDS)
    return _cache_headers(response, public=not preview)


def _export_name(walk, extension: str) -> str:
    slug = slugify(walk.title)[:60] or "walk"
    return f"walk-{walk.date.isoformat()}-{slug}-stops.{extension}"


def walk_stops_geojson_view(request: HttpRequest, uuid) -> HttpResponse:
    """GET /<lang>/walks/<uuid>/stops.geojson: the approved stops at their public points."""
    walk = _walk_or_404(request, uuid)
    stops = walk_stop_rows(walks=[walk])[walk.pk]
    data = walk_stops_geojson(
        walk=walk, stops=stops, photo_url=lambda name: request.build_absolute_uri(_photo_url(name))
    )
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    response = HttpResponse(body, content_type="application/geo+json")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(walk, "geojson")}"'
    return _cache_headers(response, public=walk.report_is_public)


def walk_stops_csv_view(request: HttpRequest, uuid) -> HttpResponse:
    """GET /<lang>/walks/<uuid>/stops.csv: the same, one row per stop, with lon/lat columns."""
    walk = _walk_or_404(request, uuid)
    stops = walk_stop_rows(walks=[walk])[walk.pk]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(
        walk_stops_csv_rows(
            walk=walk,
            stops=stops,
            photo_url=lambda name: request.build_absolute_uri(_photo_url(name)),
        )
    )
    # A byte-order mark so that spreadsheet programs read the accents as UTF-8.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(walk, "csv")}"'
    return _cache_headers(response, public=walk.report_is_public)
