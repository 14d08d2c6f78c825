"""Django admin for Didit users: derived from their sessions, so view only."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

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

    def personal_data_of(self, obj) -> tuple[str, str]:
        return "user", obj.vendor_data


# --- Second factors ---------------------------------------------------------------------------
# django-otp's own admin lets an admin create a device for someone else and read its secret.
# Here an admin only sees who has enrolled and, for a lost phone, deletes the device: its
# owner enrols again at the next login (REQUIRE_2FA).
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)


@admin.register(TOTPDevice, StaticDevice)
class SecondFactorAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
