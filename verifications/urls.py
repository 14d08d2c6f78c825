"""The reviewer console's session URLs (views are in verifications/views/)."""

from __future__ import annotations

from django.urls import path  # noqa: F401 - used as views are added

app_name = "verifications"

urlpatterns: list = []
