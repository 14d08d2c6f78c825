"""The verified people's URLs (Didit's User entity, keyed by vendor_data)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "users"

urlpatterns = [
    path("<str:vendor_data>/", views.user_detail, name="user-detail"),
    path("<str:vendor_data>/report.pdf", views.user_report, name="user-report"),
    path("<str:vendor_data>/reverify/", views.user_reverify, name="user-reverify"),
]
