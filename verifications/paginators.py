"""A paginator that never counts a whole large table on a page view.

Django's paginator runs ``SELECT COUNT(*)`` for the page links; at 100k+ rows that count is
the slowest query of an admin changelist. Unfiltered, PostgreSQL's planner estimate
(``pg_class.reltuples``) serves; otherwise the count stops at ``COUNT_CAP`` rows, so pages
past the cap are not linked (filter or search to narrow the list instead).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None:
            return super().count
        if not query.where and not query.distinct:
            estimate = _table_estimate(queryset)
            if estimate is not None and estimate > COUNT_CAP:
                return estimate
        return queryset.order_by()[: COUNT_CAP + 1].count()


def _table_estimate(queryset) -> int | None:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    # -1 (never analysed) or 0 is no estimate: fall back to the capped count.
    return int(row[0]) if row and row[0] and row[0] > 0 else None
