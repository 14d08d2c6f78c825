"""The reviewer console's session URLs (views are in verifications/views/)."""

from __future__ import annotations

from django.urls import path

from .views import aml, queue, reports, session, sharing, workflow

app_name = "verifications"

urlpatterns = [
    path("", queue.session_list, name="session-list"),
    path("export.csv", queue.session_export, name="session-export"),
    # Before the session pages: "import" is not a session id.
    path("import/", sharing.session_import, name="session-import"),
    path("next/", workflow.session_next, name="session-next"),
    path("my-work/", workflow.my_work, name="my-work"),
    path("<str:session_id>/", session.session_detail, name="session-detail"),
    path("<str:session_id>/share/", sharing.session_share, name="session-share"),
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
    path("<str:session_id>/claim/", workflow.session_claim, name="session-claim"),
    path("<str:session_id>/release/", workflow.session_release, name="session-release"),
    path(
        "<str:session_id>/second-review/",
        workflow.session_second_review,
        name="session-second-review",
    ),
    path(
        "<str:session_id>/aml-hits/<int:hit_pk>/disposition/",
        aml.aml_hit_disposition,
        name="aml-hit-disposition",
    ),
]
