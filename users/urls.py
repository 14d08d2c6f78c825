"""The verified people's URLs (Didit's User entity, keyed by vendor_data)."""

from __future__ import annotations

from django.urls import path  # noqa: F401 - used as views are added

app_name = "users"

urlpatterns: list = []
