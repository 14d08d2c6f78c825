"""The reviewer console's session URLs (views are in verifications/views/)."""

from __future__ import annotations

from django.urls import path

from .views import reports

app_name = "verifications"

urlpatterns = [
    # PDF reports: Didit's own (streamed through) and our compliance report.
    path("<str:session_id>/pdf/", reports.session_didit_pdf, name="session-didit-pdf"),
    path("<str:session_id>/report.pdf", reports.session_report, name="session-report"),
]
