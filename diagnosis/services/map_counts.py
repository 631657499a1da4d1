"""The public map's summary of approved concerns: counts per (cell, category) and (area, category).

The map endpoint reads `ConcernCellCount` and `ConcernAreaCount` instead of counting up to a
million concerns on every view (docs/public-map.md, docs/benchmarks.md). They must always equal
what counting the approved concerns would give, so they change only here:

- `map_counts_adjust`, called by the moderation service in the same transaction as a status change
  to or from `approved` (the only way a concern's public state changes: concerns are never edited
  after submission and are created `pending`);
- `map_counts_rebuild`, after imports and bulk loads that write concerns without the services.
"""

import uuid
from collections import Counter
from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F

from ..models import Concern, ConcernAreaCount, ConcernCellCount

CELL_FIELDS = ("consultation_key", "cell_x", "cell_y", "category_key")
AREA_FIELDS = ("consultation_key", "area_id", "category_key")


def map_counts_adjust(*, changes: Iterable[tuple[Concern, int]]) -> None:
    """Add `delta` (+1 approved, -1 no longer approved) for each concern to its cell and area.

    Call inside the transaction that changes the statuses. Deltas are summed per row first and rows
    are written in key order, so two bulk decisions at once lock rows in the same order (no
    deadlock on PostgreSQL). Rows that reach zero are deleted: a rebuild never makes them either.
    """
    cells: Counter = Counter()
    areas: Counter = Counter()
    for concern, delta in changes:
        if not delta:
            continue
        if concern.cell_x is not None and concern.cell_y is not None:
            cells[tuple(getattr(concern, name) for name in CELL_FIELDS)] += delta
        if concern.area_id is not None:
            areas[tuple(getattr(concern, name) for name in AREA_FIELDS)] += delta
    for model, fields, deltas in (
        (ConcernCellCount, CELL_FIELDS, cells),
        (ConcernAreaCount, AREA_FIELDS, areas),
    ):
        for key in sorted(deltas):
            if deltas[key]:
                _row_add(model, dict(zip(fields, key, strict=True)), deltas[key])


def _row_add(model, key: dict, delta: int) -> None:
    rows = model.objects.filter(**key)
    if delta < 0:
        # Never below zero, even if the table was out of date (a bulk load not rebuilt yet): a
        # moderation decision must not fail because of the summary.
        rows.filter(count__lte=-delta).delete()
        rows.update(count=F("count") + delta)
        return
    if rows.update(count=F("count") + delta):
        return
    try:
        # The savepoint keeps the outer transaction usable if another moderator inserted the same
        # row first (PostgreSQL); then their row exists and the update below finds it.
        with transaction.atomic():
            model.objects.create(**key, count=delta)
    except IntegrityError:
        rows.update(count=F("count") + delta)


def map_counts_rebuild(*, consultation_key: uuid.UUID | None = None) -> dict[str, int]:
    """Recompute the summary from the concerns, database-side (one INSERT … SELECT … GROUP BY).

    For after imports and bulk loads that bypass the services; safe at any time. On PostgreSQL the
    summary tables are locked against writers (readers go on seeing the old counts) until commit,
    so a moderation decision made meanwhile is either counted by the rebuild or applied after it.
    Returns the number of rows written per table.
    """
    approved = Concern.objects.filter(status=Concern.Status.APPROVED)
    if consultation_key is not None:
        approved = approved.filter(consultation_key=consultation_key)
    sources = {
        ConcernCellCount: approved.filter(cell_x__isnull=False, cell_y__isnull=False)
        .values(*CELL_FIELDS)
        .annotate(n=Count("id"))
        .order_by(),
        ConcernAreaCount: approved.filter(area__isnull=False)
        .values(*AREA_FIELDS)
        .annotate(n=Count("id"))
        .order_by(),
    }
    written = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in sources)
            cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        for model, source in sources.items():
            stale = model.objects.all()
            if consultation_key is not None:
                stale = stale.filter(consultation_key=consultation_key)
            stale.delete()  # a single DELETE: nothing refers to these rows
            # The SELECT's columns come in the order of values(), then the count.
            columns = [
                connection.ops.quote_name(model._meta.get_field(name).column)
                for name in (*source.query.values_select, "count")
            ]
            select, params = source.query.sql_with_params()
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} "
                f"({', '.join(columns)}) {select}",
                params,
            )
            written[model._meta.model_name] = cursor.rowcount
    return written
