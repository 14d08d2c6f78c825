"""The review queue: filters, search, counts per status, pages, and the CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from users.roles import VIEW_SESSIONS

from .. import audit
from ..forms import QueueFilterForm
from ..models import AuditAction, SessionStatus, VerificationSession

PAGE_SIZE = 50
ALL_COUNTS_CACHE_KEY = "queue:status-counts"
CSV_COLUMNS = (
    "session_id",
    "session_number",
    "created_at",
    "status",
    "full_name",
    "document_type",
    "document_number",
    "issuing_state",
    "vendor_data",
    "aml_score",
    "aml_total_hits",
    "feature_statuses",
)
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@require_GET
@login_required
@permission_required(VIEW_SESSIONS, raise_exception=True)
def session_list(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET)
    context = {"form": form, "sessions": [], "counts": [], "total": 0}
    status = 200
    if form.is_valid():
        page = form.cleaned_data.get("page") or 1
        sessions = form.filter(VerificationSession.objects.all())
        rows = page_rows(sessions, page)
        counts = status_counts(form)
        context.update(
            sessions=rows[:PAGE_SIZE],
            page=page,
            previous_page=page - 1 if page > 1 else None,
            next_page=page + 1 if len(rows) > PAGE_SIZE else None,
            counts=counts,
            total=sum(count for _, count, _ in counts),
            selected_statuses=form.cleaned_data.get("status") or [],
        )
    elif not request.htmx:
        # htmx swaps only 2xx answers by default: it gets the errors with a 200.
        status = 400
    template = "verifications/session_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#session-rows"
    response = render(request, template, context, status=status)
    # The same URL answers a page or a fragment: a cache must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def page_rows(sessions, page: int) -> list[VerificationSession]:
    """The page's rows, newest first, and one more (to tell whether a next page exists,
    without a COUNT). For a page past the first, the rows to skip are read from the order's
    index alone and only the page's own rows from the table (a "late row lookup"): an OFFSET
    over whole rows would read every skipped row's decision-sized tuple."""
    ordered = sessions.order_by("-created_at", "-id")
    start = (page - 1) * PAGE_SIZE
    if start:
        page_ids = ordered.values("id")[start : start + PAGE_SIZE + 1]
        ordered = VerificationSession.objects.filter(id__in=page_ids).order_by("-created_at", "-id")
        return list(ordered.only(*LIST_FIELDS))
    return list(ordered.only(*LIST_FIELDS)[: PAGE_SIZE + 1])


LIST_FIELDS = (
    "session_id",
    "session_number",
    "status",
    "created_at",
    "full_name",
    "document_type",
    "document_number",
    "issuing_state",
    "vendor_data",
    "aml_score",
    "aml_total_hits",
    "feature_statuses",
)


def status_counts(form: QueueFilterForm) -> list[tuple[str, int, bool]]:
    """(status, count, selected) for the queue's other filters, from one GROUP BY query.

    Without other filters that query reads every row of the table, the costliest query of
    the page at 100k+ sessions: its result is shared by every reviewer for a few seconds
    (``QUEUE_COUNTS_CACHE_SECONDS``). Filtered counts are always exact.
    """
    sessions = form.filter(VerificationSession.objects.all(), with_status=False)
    if sessions.query.where:
        found = _count_by_status(sessions)
    else:
        found = cache.get_or_set(
            ALL_COUNTS_CACHE_KEY,
            lambda: _count_by_status(sessions),
            timeout=settings.QUEUE_COUNTS_CACHE_SECONDS,
        )
    selected = set(form.cleaned_data.get("status") or [])
    known = [status for status in SessionStatus.values if status in found]
    # A status Didit adds later still gets counted, after the ones we know.
    extra = sorted(status for status in found if status not in SessionStatus.values)
    return [(status, found[status], status in selected) for status in known + extra]


def _count_by_status(sessions) -> dict[str, int]:
    return dict(sessions.order_by().values_list("status").annotate(count=Count("id")))


@require_GET
@login_required
@permission_required(VIEW_SESSIONS, raise_exception=True)
def session_export(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "Invalid filters: " + "; ".join(form.errors), status=400, content_type="text/plain"
        )
    sessions = form.filter(VerificationSession.objects.all()).order_by("-created_at", "-id")
    audit.record(
        request,
        action=AuditAction.CSV_EXPORT,
        object_type="session",
        object_id="queue",
        detail={"filters": form.active_filters()},
    )
    rows = sessions.values_list(*CSV_COLUMNS).iterator(chunk_size=2000)
    response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="didit-sessions-{stamp}.csv"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = "; ".join(f"{name}: {status}" for name, status in value.items())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
