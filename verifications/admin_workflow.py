"""Django admin for the review workflow: claims and decisions held for a second review.

Both are written by the console's workflow (``verifications.workflow``), never by hand, so
they are read-only here. Admins release claims with an action that goes through the same
service as the console's Release button (audited); pending decisions are confirmed or
rejected by a second reviewer on the session page, not here.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest

from .admin import SessionPartAdmin
from .models import PendingDecision, SessionClaim
from .workflow import claim_cutoff, release_session


class ClaimStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("lapsed", "Lapsed")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(active_at__gte=claim_cutoff())
        if self.value() == "lapsed":
            return queryset.filter(active_at__lt=claim_cutoff())
        return queryset


@admin.register(SessionClaim)
class SessionClaimAdmin(SessionPartAdmin):
    list_display = ("session", "owner", "claimed_at", "active_at", "state")
    list_filter = (ClaimStateFilter,)
    search_fields = ("=session__session_id", "=owner__username")
    list_select_related = ("session", "owner")
    raw_id_fields = ("session", "owner")
    actions = ["release"]

    @admin.display(description="state")
    def state(self, claim: SessionClaim) -> str:
        return "Live" if claim.active_at >= claim_cutoff() else "Lapsed"

    def has_release_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("verifications.reassign_sessionclaim")

    @admin.action(description="Release the selected claims", permissions=["release"])
    def release(self, request: HttpRequest, queryset) -> None:
        released = sum(
            release_session(session=claim.session, user=request.user, request=request, force=True)
            for claim in queryset.select_related("session")
        )
        messages.success(request, f"Released {released} claim{'' if released == 1 else 's'}.")


@admin.register(PendingDecision)
class PendingDecisionAdmin(SessionPartAdmin):
    list_display = (
        "session",
        "new_status",
        "state",
        "requested_by",
        "requested_at",
        "second_reviewer",
        "resolved_at",
    )
    list_filter = ("state", "new_status")
    search_fields = ("=session__session_id", "=requested_by__username")
    date_hierarchy = "requested_at"
    list_select_related = ("session", "requested_by", "second_reviewer")
    raw_id_fields = ("session", "requested_by", "second_reviewer")
