"""Django admin for Didit users: derived from their sessions, so view only."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

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
        "didit_status",
        "latest_status",
        "session_count",
        "approved_count",
        "declined_count",
        "in_review_count",
        "last_session_at",
    )
    list_filter = ("didit_status", "latest_status", "flag_repeat_declines", "flag_session_burst")
    readonly_fields = ("person_page",)
    search_fields = ("=vendor_data", "full_name")
    date_hierarchy = "last_session_at"
    inlines = (SessionInline,)

    @admin.display(description="Person (console page)")
    def person_page(self, obj: DiditUser) -> str:
        url = reverse("users:user-detail", args=[obj.vendor_data])
        return format_html('<a href="{}">{}</a>', url, obj.vendor_data)
