"""Django admin for the verification data: view only, because Didit is the source of truth.

Sessions and everything in them are synced: admins look, filter, search, re-sync from Didit
and download Didit's PDF, but never add, edit or delete (a re-sync would undo it anyway).
The audit log is read-only even for superusers. Changelists stay fast at 100k+ rows: no
full ``COUNT(*)`` per view (``EstimatedCountPaginator``, ``show_full_result_count`` off),
related rows joined, not fetched one by one.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import admin, messages
from django.db import connections
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import get_valid_filename

from .audit import record
from .didit.errors import DiditError
from .models import (
    AmlHit,
    AmlScreening,
    AuditAction,
    AuditEntry,
    DocumentData,
    FaceCheck,
    IpAnalysis,
    Review,
    SessionWarning,
    SyncRun,
    VerificationSession,
    WebhookDelivery,
)
from .packs import MAX_PACK_SESSIONS, PackRefused, request_pack
from .paginators import EstimatedCountPaginator
from .search import session_search
from .services import didit_client, didit_error_message, open_didit_pdf
from .sync import DecisionError, resync_session
from .views.reports import streamed_pdf

# Didit allows 100 decision calls a minute: a bigger re-sync belongs to sync_didit.
MAX_RESYNC = 100


class ReadOnlyAdmin(admin.ModelAdmin):
    """Synced data: viewable, never added, changed or deleted through the admin."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def personal_data_of(self, obj) -> tuple[str, str] | None:
        """``(object_type, object_id)`` of the person data shown for ``obj``; None: none."""
        return None

    def render_change_form(self, request: HttpRequest, context, *args, obj=None, **kwargs):
        # Opening personal data in the admin is audited like the console's pages.
        target = self.personal_data_of(obj) if obj is not None else None
        if target is not None:
            record(
                request,
                action=AuditAction.PII_VIEW,
                object_type=target[0],
                object_id=target[1],
                detail={"via": "admin", "model": self.opts.model_name},
            )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


class ReadOnlyTabularInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyStackedInline(ReadOnlyTabularInline, admin.StackedInline):
    template = admin.StackedInline.template


# --- Inlines on the session page -----------------------------------------------------------


class DocumentInline(ReadOnlyStackedInline):
    model = DocumentData


class FaceInline(ReadOnlyStackedInline):
    model = FaceCheck


class AmlScreeningInline(ReadOnlyStackedInline):
    model = AmlScreening


class IpAnalysisInline(ReadOnlyStackedInline):
    model = IpAnalysis


class AmlHitInline(ReadOnlyTabularInline):
    model = AmlHit
    fields = (
        "caption",
        "score",
        "match",
        "topics",
        "datasets",
        "first_seen",
        "last_seen",
        "removed_at",
        "disposition",
        "disposed_by",
        "disposed_at",
    )

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("disposed_by")


class WarningInline(ReadOnlyTabularInline):
    model = SessionWarning
    fields = ("feature", "risk", "short_description", "log_type", "source")


class ReviewInline(ReadOnlyTabularInline):
    model = Review
    fields = ("source", "new_status", "comment", "reviewer", "created_at", "didit_created_at")
    readonly_fields = ("reviewer",)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("staff_user")

    @admin.display(description="reviewer")
    def reviewer(self, review: Review) -> str:
        return review.reviewer


# --- Sessions ------------------------------------------------------------------------------


class HasAmlHitsFilter(admin.SimpleListFilter):
    title = "AML hits"
    parameter_name = "aml_hits"

    def lookups(self, request, model_admin):
        return [("yes", "With hits"), ("no", "Without hits")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(aml_total_hits__gt=0)
        if self.value() == "no":
            return queryset.exclude(aml_total_hits__gt=0)
        return queryset


@admin.register(VerificationSession)
class VerificationSessionAdmin(ReadOnlyAdmin):
    list_display = (
        "session_id",
        "session_number",
        "full_name",
        "status",
        "vendor_data",
        "document_type",
        "issuing_state",
        "aml_total_hits",
        "api_shape",
        "created_at",
        "synced_at",
    )
    list_filter = ("status", "api_shape", HasAmlHitsFilter)
    # Shows the search box; get_search_results below runs the queue's indexed search.
    search_fields = ("session_id", "vendor_data", "document_number", "full_name")
    search_help_text = "Session ID, document number or vendor data (prefix), or name (anywhere)."
    date_hierarchy = "created_at"
    raw_id_fields = ("user",)
    inlines = (
        DocumentInline,
        FaceInline,
        AmlScreeningInline,
        IpAnalysisInline,
        AmlHitInline,
        WarningInline,
        ReviewInline,
    )
    actions = ("resync_selected", "download_didit_pdf", "build_evidence_pack")
    readonly_fields = ("person_page",)

    @admin.display(description="Person (console page)")
    def person_page(self, obj: VerificationSession) -> str:
        if not obj.vendor_data:
            return "—"
        url = reverse("users:user-detail", args=[obj.vendor_data])
        return format_html('<a href="{}">{}</a>', url, obj.vendor_data)

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        # The queue's search: each term served by an index on SQLite and PostgreSQL. Django's
        # own (UPPER(column) = / LIKE per field and word) read the whole table at 100k rows.
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(session_search(term, connections[queryset.db].vendor)), False

    def personal_data_of(self, obj) -> tuple[str, str]:
        return "session", obj.session_id

    def get_queryset(self, request: HttpRequest):
        # The decision JSON is most of a row and the list never shows it: parsing 50 of them
        # was most of a changelist view. The change page loads it with one more query.
        return super().get_queryset(request).defer("decision")

    @admin.action(description="Re-sync selected from Didit")
    def resync_selected(self, request: HttpRequest, queryset) -> None:
        session_ids = list(queryset.values_list("session_id", flat=True)[: MAX_RESYNC + 1])
        if len(session_ids) > MAX_RESYNC:
            self.message_user(
                request,
                f"Select at most {MAX_RESYNC} sessions (Didit allows {MAX_RESYNC} decisions a "
                "minute); use sync_didit for more.",
                messages.ERROR,
            )
            return
        client = didit_client()
        results: Counter[str] = Counter()
        failures: list[str] = []
        for session_id in session_ids:
            try:
                result = resync_session(client, session_id)
            except (DiditError, DecisionError) as exc:
                failures.append(f"{session_id}: {exc}")
                continue
            results[result] += 1
            record(
                request,
                action=AuditAction.RESYNC,
                object_type="session",
                object_id=session_id,
                detail={"result": result, "via": "admin"},
            )
        if results:
            summary = ", ".join(f"{count} {name}" for name, count in sorted(results.items()))
            self.message_user(request, f"Re-synced from Didit: {summary}.", messages.SUCCESS)
        if failures:
            shown = "; ".join(failures[:10]) + ("; ..." if len(failures) > 10 else "")
            self.message_user(
                request, f"{len(failures)} failed to re-sync: {shown}", messages.ERROR
            )

    @admin.action(description="Build an evidence pack (ZIP) of selected")
    def build_evidence_pack(self, request: HttpRequest, queryset):
        ids = list(queryset.values_list("session_id", flat=True)[: MAX_PACK_SESSIONS + 1])
        try:
            pack = request_pack(user=request.user, session_ids=ids, request=request)
        except PackRefused as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return None
        return redirect("evidence-pack-detail", pack_id=pack.pack_id)

    @admin.action(description="Download Didit PDF")
    def download_didit_pdf(self, request: HttpRequest, queryset):
        session_ids = list(queryset.values_list("session_id", flat=True)[:2])
        if len(session_ids) != 1:
            self.message_user(request, "Select exactly one session.", messages.ERROR)
            return None
        session_id = session_ids[0]
        try:
            download = open_didit_pdf(session_id=session_id, request=request, client=didit_client())
        except DiditError as error:
            message = didit_error_message(error, doing="produce its PDF report")
            self.message_user(request, message, messages.ERROR)
            return None
        filename = get_valid_filename(f"didit-session-{session_id}.pdf")
        return streamed_pdf(download, filename=filename)


# --- The parts of a session, on their own ---------------------------------------------------


class SessionPartAdmin(ReadOnlyAdmin):
    list_select_related = ("session",)
    raw_id_fields = ("session",)

    def personal_data_of(self, obj) -> tuple[str, str]:
        return "session", obj.session.session_id


@admin.register(DocumentData)
class DocumentDataAdmin(SessionPartAdmin):
    list_display = (
        "session",
        "document_type",
        "document_number",
        "full_name",
        "issuing_state",
        "nationality",
        "expiration_date",
        "status",
    )
    list_filter = ("status",)
    search_fields = ("^document_number", "full_name", "=session__session_id")


@admin.register(FaceCheck)
class FaceCheckAdmin(SessionPartAdmin):
    list_display = (
        "session",
        "status",
        "face_match_status",
        "face_match_similarity",
        "liveness_status",
        "liveness_confidence",
    )
    list_filter = ("status", "liveness_status", "face_match_status")
    search_fields = ("=session__session_id",)


@admin.register(AmlScreening)
class AmlScreeningAdmin(SessionPartAdmin):
    list_display = ("session", "status", "score", "total_hits", "entity_type")
    list_filter = ("status",)
    search_fields = ("=session__session_id",)


@admin.register(AmlHit)
class AmlHitAdmin(SessionPartAdmin):
    list_display = ("caption", "session", "score", "match", "disposition", "removed_at")
    list_filter = ("match", "disposition")
    search_fields = ("caption", "=session__session_id")
    list_select_related = ("session", "disposed_by")
    raw_id_fields = ("session", "disposed_by")


@admin.register(IpAnalysis)
class IpAnalysisAdmin(SessionPartAdmin):
    list_display = (
        "session",
        "ip_address",
        "ip_country_code",
        "is_vpn_or_tor",
        "is_data_center",
        "document_distance_km",
    )
    list_filter = ("is_vpn_or_tor", "is_data_center")
    search_fields = ("=ip_address", "=session__session_id")


@admin.register(SessionWarning)
class SessionWarningAdmin(SessionPartAdmin):
    list_display = ("risk", "feature", "log_type", "session", "short_description")
    list_filter = ("log_type",)
    search_fields = ("risk", "=session__session_id")


@admin.register(Review)
class ReviewAdmin(SessionPartAdmin):
    list_display = ("session", "source", "new_status", "reviewer", "created_at")
    list_filter = ("source", "new_status")
    search_fields = ("=session__session_id", "didit_user", "staff_user__username")
    date_hierarchy = "created_at"
    list_select_related = ("session", "staff_user")
    raw_id_fields = ("session", "staff_user")


# --- Runs, webhooks, audit ------------------------------------------------------------------


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "mode",
        "status",
        "listed",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "failed",
        "duration",
        "host",
    )
    list_filter = ("status", "mode")
    date_hierarchy = "started_at"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at", "session_id", "webhook_type", "status", "outcome", "pending", "repeats"
    )  # fmt: skip
    list_filter = ("outcome", "pending", "webhook_type")
    search_fields = ("=session_id",)
    date_hierarchy = "received_at"


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Append-only: no add, change or delete permission for anyone, superusers included."""

    list_display = ("at", "actor_username", "action", "object_type", "object_id", "ip_address")
    list_filter = ("action", "object_type")
    search_fields = ("=object_id", "=actor_username")
    date_hierarchy = "at"
    raw_id_fields = ("actor",)


# The AML whitelist and hit review history have their own module.
from . import admin_aml  # noqa: E402, F401
