"""Django admin for the AML whitelist and the console's hit review history.

Whitelist entries are made by reviewers on the session page; here admins see them, find the
expired ones that need a fresh look, and revoke entries (audited, never deleted).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest

from .admin import ReadOnlyAdmin
from .models import AmlHitReview, AmlWhitelistEntry
from .services_aml import revoke_whitelist_entry


class WhitelistStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("active", "Active"),
            ("expired", "Expired (to re-review)"),
            ("revoked", "Revoked"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.active()
        if self.value() == "expired":
            return queryset.expired()
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(AmlWhitelistEntry)
class AmlWhitelistEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "caption",
        "vendor_data",
        "entity_id",
        "created_by",
        "created_at",
        "review_by",
        "state",
        "revoked_by",
    )
    list_filter = (WhitelistStateFilter, "review_by")
    search_fields = ("=vendor_data", "=entity_id", "caption")
    date_hierarchy = "created_at"
    list_select_related = ("created_by", "revoked_by")
    actions = ["revoke"]

    @admin.display(description="state")
    def state(self, entry: AmlWhitelistEntry) -> str:
        return entry.state

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("verifications.change_amlwhitelistentry")

    @admin.action(description="Revoke the selected entries", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        revoked = sum(
            revoke_whitelist_entry(entry=entry, actor=request.user, request=request)
            for entry in queryset.filter(revoked_at__isnull=True)
        )
        messages.success(
            request, f"Revoked {revoked} whitelist entr{'y' if revoked == 1 else 'ies'}."
        )


@admin.register(AmlHitReview)
class AmlHitReviewAdmin(ReadOnlyAdmin):
    list_display = ("hit", "review_status", "previous_status", "staff_user", "created_at", "source")
    list_filter = ("review_status", "source")
    search_fields = ("=hit__session__session_id", "=hit__hit_id")
    date_hierarchy = "created_at"
    list_select_related = ("hit", "staff_user")
    raw_id_fields = ("hit", "staff_user", "whitelist_entry")
