"""The review queue: filters, search, counts per status, pages, and the CSV export."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.db.models import Count, Max
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from users.roles import VIEW_SESSIONS

from .. import audit, workflow
from ..forms import SORT_LABELS, QueueFilterForm
from ..models import AuditAction, PendingDecision, Review, SessionStatus, VerificationSession

PAGE_SIZE = 50
NEWEST_FIRST = ["-created_at", "-id"]
# (computed at, counts): version 2 of the cached value.
ALL_COUNTS_CACHE_KEY = "queue:status-counts:2"
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
    form = QueueFilterForm(request.GET, user=request.user)
    context = {"form": form, "sessions": [], "counts": [], "total": 0}
    status = 200
    if form.is_valid():
        page = form.cleaned_data.get("page") or 1
        sessions = form.filter(VerificationSession.objects.all())
        rows = page_rows(sessions, page, ordering=form.ordering())
        counts = status_counts(form, request)
        context.update(
            sessions=annotate_rows(rows[:PAGE_SIZE]),
            page=page,
            previous_page=page - 1 if page > 1 else None,
            next_page=page + 1 if len(rows) > PAGE_SIZE else None,
            counts=counts,
            total=sum(count for _, count, _ in counts),
            selected_statuses=form.cleaned_data.get("status") or [],
            sort_label=SORT_LABELS[form.sort_name()],
            workload=workload_counts(request.user),
            sla_hours=settings.REVIEW_SLA_HOURS,
        )
    elif not request.htmx:
        # htmx swaps only 2xx answers by default: it gets the errors with a 200.
        status = 400
    context["queue_query"] = workflow.queue_query(request.GET)
    template = "verifications/session_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#session-rows"
    response = render(request, template, context, status=status)
    # The same URL answers a page or a fragment: a cache must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def page_rows(sessions, page: int, *, ordering: list = NEWEST_FIRST) -> list[VerificationSession]:
    """The page's rows in ``ordering``, and one more (to tell whether a next page exists,
    without a COUNT). For a page past the first, the rows to skip are read from the order's
    index alone and only the page's own rows from the table (a "late row lookup"): an OFFSET
    over whole rows would read every skipped row's decision-sized tuple."""
    ordered = sessions.order_by(*ordering)
    start = (page - 1) * PAGE_SIZE
    if start:
        page_ids = ordered.values("id")[start : start + PAGE_SIZE + 1]
        ordered = VerificationSession.objects.filter(id__in=page_ids).order_by(*ordering)
        return list(ordered.only(*LIST_FIELDS))
    return list(ordered.only(*LIST_FIELDS)[: PAGE_SIZE + 1])


def annotate_rows(rows: list[VerificationSession]) -> list[VerificationSession]:
    """Each row's live claim owner (``claim_owner``) and, for In Review rows, when it entered
    review (``review_since``: Didit's last In Review review, else its creation): two
    queries for the whole page."""
    ids = [row.pk for row in rows]
    owners = dict(
        workflow.live_claims()
        .filter(session_id__in=ids)
        .values_list("session_id", "owner__username")
    )
    in_review = [row.pk for row in rows if row.status == SessionStatus.IN_REVIEW]
    entered = dict(
        Review.objects.filter(session_id__in=in_review, new_status=SessionStatus.IN_REVIEW)
        .values("session_id")
        .annotate(at=Max(Coalesce("didit_created_at", "created_at")))
        .values_list("session_id", "at")
    )
    for row in rows:
        row.claim_owner = owners.get(row.pk)
        if row.status == SessionStatus.IN_REVIEW:
            row.review_since = entered.get(row.pk) or row.created_at
    return rows


def workload_counts(user) -> dict[str, int]:
    """The header's workflow figures: In Review sessions past the SLA (by creation time, an
    index range), decisions pending a second review, and the reviewer's own claims."""
    sla_start = timezone.now() - timedelta(hours=settings.REVIEW_SLA_HOURS)
    return {
        "breached": VerificationSession.objects.filter(
            status=SessionStatus.IN_REVIEW, created_at__lt=sla_start
        ).count(),
        "pending": PendingDecision.objects.filter(state__in=workflow.OPEN_STATES).count(),
        "mine": workflow.live_claims().filter(owner=user).count(),
    }


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


def status_counts(form: QueueFilterForm, request: HttpRequest) -> list[tuple[str, int, bool]]:
    """(status, count, selected) for the queue's other filters, from one GROUP BY query.

    Without other filters that query reads every row of the table, the costliest query of
    the page at 100k+ sessions: its result is shared by every reviewer for a few seconds
    (``QUEUE_COUNTS_CACHE_SECONDS``), but never if it is older than the reviewer's own last
    decision (their counts must show it). Filtered counts are always exact, except that the
    "unclaimed" filter alone is those shared counts minus the (few) live claims.
    """
    sessions = form.filter(VerificationSession.objects.all(), with_status=False)
    others = set(form.active_filters()) - {"status", "sort"}
    if not sessions.query.where:
        found = _all_counts(sessions, request)
    elif others == {"claim"} and form.cleaned_data.get("claim") == "unclaimed":
        # Unclaimed = all minus the few claimed: an anti-join over every row costs more.
        found = dict(_all_counts(VerificationSession.objects.all(), request))
        claimed = VerificationSession.objects.filter(
            pk__in=workflow.live_claims().values("session_id")
        )
        for status, count in _count_by_status(claimed).items():
            found[status] = found.get(status, 0) - count
        found = {status: count for status, count in found.items() if count > 0}
    else:
        found = _count_by_status(sessions)
    selected = set(form.cleaned_data.get("status") or [])
    known = [status for status in SessionStatus.values if status in found]
    # A status Didit adds later still gets counted, after the ones we know.
    extra = sorted(status for status in found if status not in SessionStatus.values)
    return [(status, found[status], status in selected) for status in known + extra]


def _all_counts(sessions, request: HttpRequest) -> dict[str, int]:
    """Per-status counts of the whole table, shared for ``QUEUE_COUNTS_CACHE_SECONDS``."""
    if not settings.QUEUE_COUNTS_CACHE_SECONDS:
        return _count_by_status(sessions)
    cached = cache.get(ALL_COUNTS_CACHE_KEY)
    if cached is None or cached[0] < workflow.acted_at(request):
        cached = (time.time(), _count_by_status(sessions))
        cache.set(ALL_COUNTS_CACHE_KEY, cached, timeout=settings.QUEUE_COUNTS_CACHE_SECONDS)
    return cached[1]


def _count_by_status(sessions) -> dict[str, int]:
    return dict(sessions.order_by().values_list("status").annotate(count=Count("id")))


@require_GET
@login_required
@permission_required(VIEW_SESSIONS, raise_exception=True)
def session_export(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return HttpResponse(
            "Invalid filters: " + "; ".join(form.errors), status=400, content_type="text/plain"
        )
    sessions = form.filter(VerificationSession.objects.all()).order_by(*form.ordering())
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
