"""The public numbers of a diagnosis snapshot: THE selector every page, download and API reads.

A snapshot stores raw counts (`diagnosis.engine`); nothing of it reaches the public except
through `published_tables`, which applies the small-number rules of docs/privacy.md with the
snapshot's own k (`parameters["k"]`, never below 3):

- counts under k are shown as "fewer than k" (`count is None`), and a second entry is hidden
  wherever the first could be worked out by subtraction (`statistics.suppress` for the 2-D
  tables, `statistics.suppress_counts` for the 1-D ones);
- the tables of one snapshot share their margins (a category's total is a row of "concerns by
  category", the denominator of "by time of day" and the sum of its "by gender" cells), so a
  margin hidden in one table is hidden in every table that shows or sums to it, repeating until
  nothing changes (`_Margins`);
- a share (and its interval) only when `statistics.share_publishable`, and a perception
  indicator only when its share is publishable; by gender or age its groups are suppressed as
  a (group × yes/no) table, so one hidden group cannot be recovered from the overall figure;
- hotspot cells with fewer than k concerns show no count and are never flagged;
- sensitive categories never appear at cell level (the engine leaves them out of cell tables;
  this selector drops any that would slip in, failing closed).

Labels are in the reader's language: categories by translation key (`categories_localized`'s
fallback), questions from the consultation's questionnaire in that language, group codes from
`engine.TABLES`. Tables with no rows are left out, so a snapshot from before a table existed
publishes what it has.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from maps.models import WALK_PARAMETERS, Area, WalkStop

from . import engine, statistics
from .models import Concern, ConcernCategory, DiagnosisSnapshot
from .selectors import category_catalogue

FEWER_THAN_K = "<k"

# Tables the engine may not know yet (labels for the page when `engine.TABLES` lacks them).
EXTRA_TABLES: dict[str, tuple] = {
    "perception": (_("How residents feel"), _("valid answers")),
    "perception_weighted": (
        _("How residents feel, weighted to who lives here"),
        _("valid answers, weighted by sex and age band"),
    ),
    "perception_by_gender": (_("How residents feel, by gender"), _("valid answers")),
    "perception_by_age": (_("How residents feel, by age band"), _("valid answers")),
    "participation_profile": (
        _("Who took part compared with who lives here"),
        _("all participants"),
    ),
    "hotspots": (
        _("Places where residents reported more than participation predicts"),
        _("contributions in the square"),
    ),
    "assets_by_cell": (_("Assets residents mapped"), _("all assets mapped")),
    "walk_scores": (_("Safety walk scores by area"), _("walk stops in the area")),
    "walk_feelings": (_("How walkers felt at each stop, by area"), _("walk stops in the area")),
    "change_area_category": (
        _("Change since the previous round, by area and category"),
        _("concerns in this area"),
    ),
    "change_perception": (_("Change in how residents feel since the previous round"), ""),
}
TABLE_ORDER = [*engine.TABLES, *(code for code in EXTRA_TABLES if code not in engine.TABLES)]
CELL_TABLES = {"hotspots", "assets_by_cell"}


@dataclass(frozen=True)
class PublishedRow:
    """One published number with its labels. `count is None` means "fewer than k"; a share,
    interval or detail is None when it may not be published."""

    table: str
    count: int | None
    total: int | None
    share: float | None = None
    low: float | None = None
    high: float | None = None
    area_id: int | None = None
    area: str = ""
    category_key: uuid.UUID | None = None
    category: str = ""
    category_code: str = ""
    kind: str = ""
    group: str = ""
    group_label: str = ""
    subgroup: str = ""
    subgroup_label: str = ""
    cell: tuple[int, int] | None = None
    significant: bool = False
    detail: dict = field(default_factory=dict)

    @property
    def hidden(self) -> bool:
        return self.count is None


@dataclass
class PublishedTable:
    code: str
    label: str
    total_label: str
    group_label: str
    subgroup_label: str
    rows: list[PublishedRow]


@dataclass
class Publication:
    """Everything of one snapshot the public may see, in one language."""

    snapshot_id: int
    k: int
    language: str
    tables: dict[str, PublishedTable]
    input_counts: dict
    parameters: dict
    content_hash: str
    method_version: str

    def rows(self, code: str) -> list[PublishedRow]:
        table = self.tables.get(code)
        return table.rows if table else []


# --- Raw rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    table: str
    count: int
    total: int
    value: float | None
    low: float | None
    high: float | None
    area_id: int | None
    category_key: uuid.UUID | None
    group: str
    subgroup: str
    cell_x: int | None
    cell_y: int | None
    detail: dict


def _raw_rows(snapshot: DiagnosisSnapshot) -> dict[str, list[_Raw]]:
    fields = [
        "table",
        "count",
        "total",
        "value",
        "low",
        "high",
        "area_id",
        "category_key",
        "group",
        "subgroup",
        "cell_x",
        "cell_y",
        "detail",
    ]
    tables: dict[str, list[_Raw]] = defaultdict(list)
    for values in snapshot.results.order_by("position").values_list(*fields):
        row = _Raw(*values)
        tables[row.table].append(replace(row, detail=row.detail or {}))
    return tables


# --- Suppression over linked margins ------------------------------------------------------------

Margin = tuple  # ("category", key), ("gender", code), ("grand",), …


@dataclass
class _Grid:
    """A 2-D table of counts whose rows and columns are margins other tables may share."""

    rows: list[Margin]
    columns: list[Margin]
    counts: dict[tuple[Margin, Margin], int]
    grand: Margin

    def suppress(self, k: int, forced: set[Margin]) -> tuple[set, set[Margin]]:
        """(hidden (row, column) pairs, hidden margins)."""
        matrix = [[self.counts.get((r, c), 0) for c in self.columns] for r in self.rows]
        big_r, big_c = len(self.rows), len(self.columns)
        extra = {(i, big_c) for i, margin in enumerate(self.rows) if margin in forced}
        extra |= {(big_r, j) for j, margin in enumerate(self.columns) if margin in forced}
        if self.grand in forced:
            extra.add((big_r, big_c))
        result = statistics.suppress(matrix, k, forced=extra)
        hidden = {
            (i, j)
            for i, line in enumerate(result.cells)
            for j, value in enumerate(line)
            if isinstance(value, statistics.Suppressed)
        }
        hidden |= {
            (i, big_c)
            for i, value in enumerate(result.row_totals)
            if isinstance(value, statistics.Suppressed)
        }
        hidden |= {
            (big_r, j)
            for j, value in enumerate(result.column_totals)
            if isinstance(value, statistics.Suppressed)
        }
        if isinstance(result.grand_total, statistics.Suppressed):
            hidden.add((big_r, big_c))
        cells = {(self.rows[i], self.columns[j]) for i, j in hidden if i < big_r and j < big_c}
        margins = {self.rows[i] for i, j in hidden if i < big_r and j == big_c}
        margins |= {self.columns[j] for i, j in hidden if i == big_r and j < big_c}
        if (big_r, big_c) in hidden:
            margins.add(self.grand)
        return cells, margins


@dataclass
class _Line:
    """A 1-D table: counts of margins published with their total."""

    entries: list[Margin]
    counts: dict[Margin, int]
    total: Margin

    def suppress(self, k: int, forced: set[Margin]) -> set[Margin]:
        values = [self.counts.get(entry, 0) for entry in self.entries]
        result = statistics.suppress_counts(values, k)
        hidden = {
            entry
            for entry, value in zip(self.entries, result.cells, strict=True)
            if isinstance(value, statistics.Suppressed)
        }
        if isinstance(result.total, statistics.Suppressed):
            hidden.add(self.total)
        hidden |= {entry for entry in [*self.entries, self.total] if entry in forced}
        if len(hidden) == 1:
            shown = [entry for entry in self.entries if entry not in hidden]
            nonzero = [entry for entry in shown if self.counts.get(entry, 0)]
            if nonzero:
                hidden.add(min(nonzero, key=lambda e: (self.counts[e], self.entries.index(e))))
            elif self.total not in hidden:
                hidden.add(self.total)
        return hidden


# --- Labels -------------------------------------------------------------------------------------


def _choices(pairs) -> dict[str, str]:
    return {
        **{value: str(label) for value, label in pairs},
        engine.NOT_STATED: str(_("Not stated")),
    }


def _question_labels(consultation_key: uuid.UUID, language: str) -> dict[str, str]:
    """Question texts by code from the consultation's questionnaire in the reader's language (the
    default language's, else any translation, else the code itself)."""
    from .pages import ConsultationPage

    pages = ConsultationPage.objects.filter(translation_key=consultation_key).select_related(
        "locale"
    )

    def preference(page) -> int:
        code = page.locale.language_code
        return 0 if code == language else 1 if code == settings.LANGUAGE_CODE else 2

    labels: dict[str, str] = {}
    for page in sorted(pages, key=preference, reverse=True):
        for block in page.questionnaire:
            value = block.value
            code = value.get("code") if hasattr(value, "get") else None
            if code:
                labels[code] = str(value.get("question") or code)
    return labels


def _group_labels(code: str, question_labels: dict[str, str]) -> tuple[dict, dict]:
    """(group labels, subgroup labels) of a table, by code."""
    genders = _choices(Concern.Gender.choices)
    ages = _choices(Concern._meta.get_field("age_band").choices)
    table = engine.TABLES.get(code)
    if table is not None:
        groups = table.group_labels() if table.group_labels else {}
        subgroups = table.subgroup_labels() if table.subgroup_labels else {}
        if code.startswith("perception") or code == "change_perception":
            groups = {**question_labels, **groups}
        return groups, subgroups
    if code.startswith("perception") or code == "change_perception":
        return question_labels, genders if code == "perception_by_gender" else ages
    if code == "participation_profile":
        return {
            "concerns": str(_("People who reported concerns")),
            "responses": str(_("People who answered the questionnaire")),
        }, {}
    if code == "walk_scores":
        return {name: str(label) for name, label, _help in WALK_PARAMETERS}, {}
    if code == "walk_feelings":
        return _choices(WalkStop.Feeling.choices), {}
    return {}, {}


AREA_TABLES = {"concerns_by_area_category", "walk_scores", "walk_feelings", "change_area_category"}


def _area_label(row: _Raw, areas: dict[int, str]) -> str:
    if row.area_id:
        return areas.get(row.area_id, "")
    return str(_("No area given")) if row.table in AREA_TABLES else ""


def _table_labels(code: str) -> tuple[str, str, str, str]:
    table = engine.TABLES.get(code)
    if table is not None:
        return (
            str(table.label),
            str(table.total_label),
            str(table.group_label),
            str(table.subgroup_label),
        )
    label, total_label = EXTRA_TABLES.get(code, (code, ""))
    group_label = {
        "perception_by_gender": _("Gender"),
        "perception_by_age": _("Age band"),
        "walk_scores": _("Audit parameter"),
        "walk_feelings": _("Feeling"),
    }.get(code, "")
    return str(label), str(total_label), "", str(group_label)


# --- The selector -------------------------------------------------------------------------------


def _publishable(count: int, total: int, k: int) -> bool:
    return total > 0 and count <= total and statistics.share_publishable(count, total, k)


class _Margins:
    """The concern tables of a snapshot as 1-D lines and 2-D grids over shared margins, suppressed
    together until the hidden margins stop changing."""

    def __init__(self, raw: dict[str, list[_Raw]], prevention: dict[uuid.UUID, str]):
        self.grids: dict[str, tuple[_Grid, Callable[[_Raw], tuple]]] = {}
        self.lines: dict[str, tuple[_Line, Callable[[_Raw], Margin]]] = {}
        self.prevention = prevention
        self.fields: dict[str, tuple[str, str]] = {}

        def category(row):
            return ("category", row.category_key)

        def grid(code, row_field, row_kind, col_field, col_kind, grand=("grand",)):
            rows = raw.get(code, [])
            if not rows:
                return

            def row_of(row):
                return (row_kind, getattr(row, row_field))

            def col_of(row):
                return (col_kind, getattr(row, col_field))

            counts: dict = defaultdict(int)
            for row in rows:
                counts[row_of(row), col_of(row)] += row.count
            self.grids[code] = (
                _Grid(
                    rows=sorted({r for r, _c in counts}, key=statistics.order_key),
                    columns=sorted({c for _r, c in counts}, key=statistics.order_key),
                    counts=dict(counts),
                    grand=grand,
                ),
                lambda row: (row_of(row), col_of(row)),
            )
            self.fields[code] = (row_field, col_field)

        def line(code, entry_of, total=("grand",)):
            rows = raw.get(code, [])
            if not rows:
                return
            counts: dict = defaultdict(int)
            for row in rows:
                counts[entry_of(row)] += row.count
            self.lines[code] = (
                _Line(
                    entries=sorted(counts, key=statistics.order_key),
                    counts=dict(counts),
                    total=total,
                ),
                entry_of,
            )

        line("concerns_by_category", category)
        line("concerns_by_prevention_type", lambda row: ("type", row.group))
        grid("concerns_by_category_gender", "category_key", "category", "group", "gender")
        grid("concerns_by_category_age", "category_key", "category", "group", "age")
        grid("concerns_by_area_category", "area_id", "area", "category_key", "category")
        grid("concerns_by_category_time_band", "category_key", "category", "group", "band")
        grid("participation_concerns", "group", "gender", "subgroup", "age")
        grid(
            "participation_responses",
            "group",
            "response-gender",
            "subgroup",
            "response-age",
            grand=("responses",),
        )
        grid("walk_feelings", "area_id", "walk-area", "group", "feeling", grand=("stops",))

    def solve(self, k: int) -> tuple[set[Margin], dict[str, set]]:
        forced: set[Margin] = set()
        cells: dict[str, set] = {}
        for _round in range(50):
            before = set(forced)
            for code, (grid, _key) in self.grids.items():
                hidden_cells, hidden_margins = grid.suppress(k, forced)
                cells[code] = hidden_cells
                forced |= hidden_margins
            for code, (line, _entry) in self.lines.items():
                if code == "concerns_by_prevention_type":
                    # Types are sums of categories: a type with a hidden category is hidden too.
                    forced |= {
                        ("type", self.prevention.get(margin[1], ""))
                        for margin in forced
                        if margin[0] == "category"
                    }
                forced |= line.suppress(k, forced)
            if forced == before:
                break
        return forced, cells

    def hidden_zeros(self, code: str, cells: dict) -> list[_Raw]:
        """Rows for the empty cells a grid hid as complements: the engine stores no row for a
        zero, but a reader must see "fewer than k" there, not assume nothing."""
        if code not in self.grids:
            return []
        grid, _key = self.grids[code]
        row_field, col_field = self.fields[code]
        sums: dict[Margin, int] = defaultdict(int)
        for (r, c), n in grid.counts.items():
            sums[r] += n
            sums[c] += n
            sums[grid.grand] += n
        out = []
        for r, c in sorted(cells.get(code, set()), key=statistics.order_key):
            if (r, c) in grid.counts:
                continue
            values = dict.fromkeys(("area_id", "category_key", "cell_x", "cell_y", "value"))
            values |= {"group": "", "subgroup": "", row_field: r[1], col_field: c[1]}
            row = _Raw(table=code, count=0, total=0, low=None, high=None, detail={}, **values)
            out.append(replace(row, total=sums[_total_margin(code, row)]))
        return out

    def hidden(self, code: str, row: _Raw, forced: set, cells: dict) -> bool:
        if code in self.grids:
            _grid, key = self.grids[code]
            return key(row) in cells.get(code, set())
        if code in self.lines:
            _line, entry = self.lines[code]
            return entry(row) in forced
        return False


def published_tables(snapshot: DiagnosisSnapshot, *, language: str) -> Publication:
    """The snapshot's numbers as the public may see them, labelled in `language`."""
    with translation.override(language):
        return _published(snapshot, language)


def _published(snapshot: DiagnosisSnapshot, language: str) -> Publication:
    k = statistics.clamp_k(int((snapshot.parameters or {}).get("k", engine.DEFAULT_K)))
    raw = _raw_rows(snapshot)
    catalogue = category_catalogue()
    sensitive = {key for key, entry in catalogue.items() if entry["sensitive"]}
    for code in CELL_TABLES:
        raw[code] = [row for row in raw.get(code, []) if row.category_key not in sensitive]
    prevention = dict(
        ConcernCategory.objects.values_list("translation_key", "prevention_type").distinct()
    )
    margins = _Margins(raw, prevention)
    forced, hidden_cells = margins.solve(k)
    for code in margins.grids:
        raw[code] = raw[code] + margins.hidden_zeros(code, hidden_cells)

    area_ids = {row.area_id for rows in raw.values() for row in rows if row.area_id}
    areas = dict(Area.objects.filter(pk__in=area_ids).values_list("pk", "name"))
    needs_questions = any(code.startswith(("perception", "change_perception")) for code in raw)
    questions = _question_labels(snapshot.consultation_key, language) if needs_questions else {}

    tables: dict[str, PublishedTable] = {}
    for code in sorted(raw, key=lambda c: TABLE_ORDER.index(c) if c in TABLE_ORDER else 999):
        if not raw[code]:
            continue
        groups, subgroups = _group_labels(code, questions)

        def labelled(row: _Raw, groups=groups, subgroups=subgroups, **values) -> PublishedRow:
            entry = catalogue.get(row.category_key) if row.category_key else None
            return PublishedRow(
                table=row.table,
                area_id=row.area_id,
                area=_area_label(row, areas),
                category_key=row.category_key,
                category=entry["name"] if entry else "",
                category_code=entry["code"] if entry else "",
                kind=entry["kind"] if entry else "",
                group=row.group,
                group_label=groups.get(row.group, row.group),
                subgroup=row.subgroup,
                subgroup_label=subgroups.get(row.subgroup, row.subgroup),
                cell=(row.cell_x, row.cell_y) if row.cell_x is not None else None,
                **values,
            )

        publish = PUBLISHERS.get(code, _publish_plain)
        rows = publish(
            code=code,
            rows=raw[code],
            k=k,
            labelled=labelled,
            margins=margins,
            forced=forced,
            hidden_cells=hidden_cells,
            raw=raw,
        )
        if rows:
            label, total_label, group_label, subgroup_label = _table_labels(code)
            tables[code] = PublishedTable(
                code=code,
                label=label,
                total_label=total_label,
                group_label=group_label,
                subgroup_label=subgroup_label,
                rows=rows,
            )
    return Publication(
        snapshot_id=snapshot.pk,
        k=k,
        language=language,
        tables=tables,
        input_counts=dict(snapshot.input_counts or {}),
        parameters=dict(snapshot.parameters or {}),
        content_hash=snapshot.content_hash,
        method_version=snapshot.method_version,
    )


# --- Per table ----------------------------------------------------------------------------------


def _total_margin(code: str, row: _Raw) -> Margin:
    """The margin a concern table's `total` column is."""
    return {
        "concerns_by_category": ("grand",),
        "concerns_by_prevention_type": ("grand",),
        "concerns_by_category_gender": ("gender", row.group),
        "concerns_by_category_age": ("age", row.group),
        "concerns_by_area_category": ("area", row.area_id),
        "concerns_by_category_time_band": ("category", row.category_key),
        "concerns_by_category_affected": ("category", row.category_key),
        "participation_concerns": ("grand",),
        "participation_responses": ("responses",),
        "walk_feelings": ("walk-area", row.area_id),
    }.get(code, ("grand",))


def _publish_counts(*, code, rows, k, labelled, margins, forced, hidden_cells, **_extra):
    """Concern tables: counts under the linked suppression, shares when publishable."""
    out = []
    for row in rows:
        if code == "concerns_by_category_affected":
            # Not additive (a concern may name several groups): each count stands alone.
            hidden = statistics.below_k(row.count, k)
        else:
            hidden = margins.hidden(code, row, forced, hidden_cells)
        total_hidden = _total_margin(code, row) in forced or statistics.below_k(row.total, k)
        count = None if hidden else row.count
        total = None if total_hidden else row.total
        share = None
        if count is not None and total is not None and _publishable(row.count, row.total, k):
            share = row.count / row.total
        out.append(labelled(row, count=count, total=total, share=share))
    return out


def _publish_plain(*, rows, k, labelled, **_extra):
    """A table this selector has no rule for: counts under k hidden, shares when publishable."""
    out = []
    for row in rows:
        shown = not statistics.below_k(row.count, k) and not statistics.below_k(row.total, k)
        share = row.count / row.total if shown and _publishable(row.count, row.total, k) else None
        out.append(
            labelled(
                row,
                count=row.count if shown else None,
                total=row.total if shown else None,
                share=share,
            )
        )
    return out


def _publish_perception(*, code, rows, k, labelled, **_extra):
    """Perception indicators: all or nothing, on whether the share is publishable."""
    out = []
    for row in rows:
        if _publishable(row.count, row.total, k):
            detail = {}
            if code == "perception_weighted":
                detail = {
                    name: row.detail.get(name)
                    for name in ("n_effective", "design_effect", "population_coverage")
                }
            share = row.value if code == "perception_weighted" else row.count / row.total
            out.append(
                labelled(
                    row,
                    count=row.count,
                    total=row.total,
                    share=share,
                    low=row.low if share is not None else None,
                    high=row.high if share is not None else None,
                    detail=detail,
                )
            )
        else:
            out.append(labelled(row, count=None, total=None))
    return out


def _publish_perception_groups(*, rows, k, labelled, **_extra):
    """Perception by gender or age: per question, a (group × yes/no) table suppressed as one, so
    a hidden group cannot be recovered from the overall indicator."""
    by_question: dict[str, list[_Raw]] = defaultdict(list)
    for row in rows:
        by_question[row.group].append(row)
    out = []
    for question_rows in by_question.values():
        grid = _Grid(
            rows=[("sub", row.subgroup) for row in question_rows],
            columns=[("yes",), ("no",)],
            counts={
                **{(("sub", row.subgroup), ("yes",)): row.count for row in question_rows},
                **{
                    (("sub", row.subgroup), ("no",)): row.total - row.count for row in question_rows
                },
            },
            grand=("all",),
        )
        hidden, _margins = grid.suppress(k, set())
        for row in question_rows:
            key = ("sub", row.subgroup)
            if (key, ("yes",)) in hidden or (key, ("no",)) in hidden or not row.total:
                out.append(labelled(row, count=None, total=None))
            else:
                out.append(
                    labelled(
                        row,
                        count=row.count,
                        total=row.total,
                        share=row.count / row.total,
                        low=row.low,
                        high=row.high,
                    )
                )
    return out


def _publish_profile(*, rows, k, labelled, **_extra):
    """The representativeness index and its sex × age cells, participants suppressed."""
    out = []
    for row in rows:
        cells = list(row.detail.get("cells") or [])
        counts = statistics.suppress_counts([int(c.get("participants") or 0) for c in cells], k)
        public_cells = []
        for cell, participants in zip(cells, counts.cells, strict=True):
            shown = not isinstance(participants, statistics.Suppressed)
            public_cells.append(
                {
                    "sex": cell.get("sex", ""),
                    "age_band": cell.get("age_band", ""),
                    "participants": participants if shown else None,
                    "population": cell.get("population"),
                    "ratio": cell.get("ratio") if shown else None,
                }
            )
        shown = not statistics.below_k(row.count, k) and not statistics.below_k(row.total, k)
        out.append(
            labelled(
                row,
                count=row.count if shown else None,
                total=row.total if shown else None,
                share=row.value if shown else None,
                detail={"dissimilarity": row.detail.get("dissimilarity"), "cells": public_cells},
            )
        )
    return out


def _publish_hotspots(*, rows, k, labelled, **_extra):
    """Hotspot cells: a count only from k, flagged only then."""
    out = []
    for row in rows:
        shown = row.count >= k
        detail = {}
        if shown:
            detail = {
                "expected": row.detail.get("expected"),
                "p_adjusted": row.detail.get("p_adjusted"),
            }
        out.append(
            labelled(
                row,
                count=row.count if shown else None,
                total=row.total if shown and _publishable(row.count, row.total, k) else None,
                share=row.value if shown else None,
                significant=bool(shown and row.detail.get("significant")),
                detail=detail,
            )
        )
    return out


def _publish_assets(*, rows, k, labelled, **_extra):
    counts = statistics.suppress_counts([row.count for row in rows], k)
    total = None if isinstance(counts.total, statistics.Suppressed) else sum(r.count for r in rows)
    return [
        labelled(
            row,
            count=None if isinstance(count, statistics.Suppressed) else count,
            total=total,
        )
        for row, count in zip(rows, counts.cells, strict=True)
    ]


def _publish_walk_scores(*, rows, k, labelled, **_extra):
    """Mean scores only over at least k stops; the distribution suppressed as a line."""
    out = []
    for row in rows:
        shown = row.count >= k
        distribution = row.detail.get("distribution") or {}
        scores = sorted(distribution)
        detail = {}
        if shown and scores:
            line = statistics.suppress_counts([int(distribution[s]) for s in scores], k)
            detail = {
                "distribution": {
                    score: None if isinstance(n, statistics.Suppressed) else n
                    for score, n in zip(scores, line.cells, strict=True)
                }
            }
        out.append(
            labelled(
                row,
                count=row.count if shown else None,
                total=None if statistics.below_k(row.total, k) else row.total,
                share=row.value if shown else None,
                detail=detail,
            )
        )
    return out


def _previous_count(detail: dict) -> tuple[int, int] | None:
    total = detail.get("previous_total")
    if detail.get("previous_count") is not None and total is not None:
        return int(detail["previous_count"]), int(total)
    if detail.get("previous_value") is not None and total:
        return round(detail["previous_value"] * total), int(total)
    return None


def _publish_change(*, code, rows, k, labelled, raw, margins, forced, hidden_cells, **_extra):
    """Change since the previous round: shares only, each when publishable in its own round (the
    counts are in the area and perception tables, under their own suppression)."""
    area_hidden = {
        (row.area_id, row.category_key)
        for row in raw.get("concerns_by_area_category", [])
        if margins.hidden("concerns_by_area_category", row, forced, hidden_cells)
    }
    out = []
    for row in rows:
        now_ok = _publishable(row.count, row.total, k) and (
            (row.area_id, row.category_key) not in area_hidden
        )
        previous = _previous_count(row.detail)
        before_ok = previous is not None and _publishable(*previous, k)
        detail = {}
        if before_ok:
            detail["previous_value"] = row.detail.get("previous_value")
            if previous is not None and row.detail.get("previous_value") is None:
                detail["previous_value"] = previous[0] / previous[1]
            if code == "change_perception":
                detail["previous_low"] = row.detail.get("previous_low")
                detail["previous_high"] = row.detail.get("previous_high")
        share = (row.value if row.value is not None else row.count / row.total) if now_ok else None
        out.append(
            labelled(
                row,
                count=None,
                total=None,
                share=share,
                low=row.low if now_ok else None,
                high=row.high if now_ok else None,
                detail=detail,
            )
        )
    return [row for row in out if row.share is not None or row.detail]


PUBLISHERS: dict[str, Callable[..., list[PublishedRow]]] = {
    **dict.fromkeys(
        (
            "concerns_by_category",
            "concerns_by_prevention_type",
            "concerns_by_category_gender",
            "concerns_by_category_age",
            "concerns_by_area_category",
            "concerns_by_category_time_band",
            "concerns_by_category_affected",
            "participation_concerns",
            "participation_responses",
            "walk_feelings",
        ),
        _publish_counts,
    ),
    "perception": _publish_perception,
    "perception_weighted": _publish_perception,
    "perception_by_gender": _publish_perception_groups,
    "perception_by_age": _publish_perception_groups,
    "participation_profile": _publish_profile,
    "hotspots": _publish_hotspots,
    "assets_by_cell": _publish_assets,
    "walk_scores": _publish_walk_scores,
    "change_area_category": _publish_change,
    "change_perception": _publish_change,
}


def display(value: int | None) -> str:
    """A published count as text: the number, or "<k" when it is hidden."""
    return FEWER_THAN_K if value is None else str(value)


def iter_rows(publication: Publication) -> Iterable[PublishedRow]:
    for table in publication.tables.values():
        yield from table.rows
