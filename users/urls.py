"""The verified people's URLs (Didit's User entity, keyed by vendor_data)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "users"

# vendor_data is the customer's own id and may hold "/" (e.g. "team/alice"): a path, not a
# segment. The fixed endings come first, so the catch-all detail page cannot swallow them.
urlpatterns = [
    path("<path:vendor_data>/report.pdf", views.user_report, name="user-report"),
    path("<path:vendor_data>/reverify/", views.user_reverify, name="user-reverify"),
    path("<path:vendor_data>/", views.user_detail, name="user-detail"),
]
