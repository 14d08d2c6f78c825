from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import RedirectView

from users.two_factor_views import two_factor_setup, two_factor_verify
from verifications.views.webhooks import didit_webhook

urlpatterns = [
    # The console opens on the review queue; anonymous visitors go to the login page first.
    path(
        "",
        login_required(
            RedirectView.as_view(
                pattern_name="verifications:session-list", http_method_names=["get", "head"]
            )
        ),
        name="home",
    ),
    path("admin/", admin.site.urls),
    # The second step of signing in (REQUIRE_2FA), before Django's login/logout/password URLs.
    path("accounts/2fa/", two_factor_verify, name="two-factor"),
    path("accounts/2fa/setup/", two_factor_setup, name="two-factor-setup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("sessions/", include("verifications.urls")),
    path("users/", include("users.urls")),
    path("webhooks/didit/", didit_webhook, name="didit-webhook"),
    # The evidence archive (/evidence/<sha256>/) and evidence packs (/evidence-packs/...).
    path("", include("verifications.evidence_urls")),
]
