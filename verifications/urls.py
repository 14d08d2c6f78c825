"""The reviewer console's session URLs (views are in verifications/views/)."""

from __future__ import annotations

from django.urls import path

from .views import aml, queue, reports, session

app_name = "verifications"

urlpatterns = [
    path("", queue.session_list, name="session-list"),
    path("export.csv", queue.session_export, name="session-export"),
    path("<str:session_id>/", session.session_detail, name="session-detail"),
    # PDF reports: Didit's own (streamed through) and our compliance report.
    path("<str:session_id>/pdf/", reports.session_didit_pdf, name="session-didit-pdf"),
    path("<str:session_id>/report.pdf", reports.session_report, name="session-report"),
    path("<str:session_id>/status/", session.session_status, name="session-status"),
    path("<str:session_id>/aml-hits/", aml.aml_hits_section, name="aml-hits"),
    path(
        "<str:session_id>/aml-hits/disposition/",
        aml.aml_hits_disposition,
        name="aml-hits-disposition",
    ),
    path(
        "<str:session_id>/aml-hits/<int:hit_pk>/disposition/",
        aml.aml_hit_disposition,
        name="aml-hit-disposition",
    ),
]
