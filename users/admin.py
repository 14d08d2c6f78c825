"""Django admin for Didit users: derived from their sessions, so view only."""

from __future__ import annotations

from django.contrib import admin

from verifications.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from verifications.models import VerificationSession

from .models import DiditUser


class SessionInline(ReadOnlyTabularInline):
    model = VerificationSession
    fields = ("session_id", "status", "created_at", "document_type", "aml_total_hits")
    show_change_link = True
    ordering = ("-created_at", "-id")


@admin.register(DiditUser)
class DiditUserAdmin(ReadOnlyAdmin):
    list_display = (
        "vendor_data",
        "full_name",
        "latest_status",
        "session_count",
        "approved_count",
        "declined_count",
        "in_review_count",
        "last_session_at",
    )
    list_filter = ("latest_status",)
    search_fields = ("=vendor_data", "full_name")
    date_hierarchy = "last_session_at"
    inlines = (SessionInline,)

    def personal_data_of(self, obj) -> tuple[str, str]:
        return "user", obj.vendor_data
