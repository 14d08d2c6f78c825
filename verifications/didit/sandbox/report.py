"""The text of the PDF report generate-pdf serves (rendered by pdf.py)."""

from __future__ import annotations

import time

from . import catalog
from .facts import iso_datetime
from .items import Context
from .pdf import render_pdf
from .render import v3_decision


def session_report(ctx: Context) -> bytes:
    decision = v3_decision(ctx)
    session, person, facts = ctx.session, ctx.person, ctx.facts
    document = facts.document
    lines: list[tuple[str, int]] = [
        ("Didit — Identity verification report", 16),
        (f"Generated at {iso_datetime(time.time())}", 8),
        ("", 10),
        (f"Session ID: {session.session_id}", 10),
        (f"Session number: {session.number}", 10),
        (f"Status: {session.status}", 10),
        (f"Vendor data: {session.vendor_data or '—'}", 10),
        (f"Workflow: {session.workflow.name if session.workflow else session.v1_features}", 10),
        (f"Created at: {decision['created_at']}", 10),
        ("", 10),
        ("Person", 12),
        (f"Full name: {person.full_name if document else '—'}", 10),
    ]
    if document is not None:
        lines += [
            (f"Date of birth: {person.date_of_birth.isoformat()}", 10),
            (f"Nationality: {person.nationality}", 10),
            ("", 10),
            ("Document", 12),
            (f"Document type: {document.document_type}", 10),
            (f"Document number: {document.number}", 10),
            (f"Issuing state: {document.issuing_state}", 10),
            (f"Expiration date: {document.expiration_date.isoformat()}", 10),
        ]
    lines += [("", 10), ("Features", 12)]
    for feature in session.features:
        lines.append((f"{feature}: {facts.statuses.get(feature) or 'Not Finished'}", 10))
    warnings = [(f, risk) for f, risks in facts.warnings.items() for risk in risks]
    if warnings:
        lines += [("", 10), ("Warnings", 12)]
        lines += [(f"{f}: {risk} — {catalog.WARNING_TEXTS[risk][0]}", 10) for f, risk in warnings]
    screenings = decision.get("aml_screenings") or []
    hits = [hit for screening in screenings for hit in screening["hits"]]
    lines += [("", 10), (f"AML screening: {len(hits)} hit(s)", 12)]
    for hit in hits:
        lines.append(
            (
                f"{hit['caption']} — match score {hit['match_score']}, risk {hit['risk_score']}, "
                f"{', '.join(hit['datasets'])}, {hit['review_status']}",
                10,
            )
        )
    lines += [("", 10), ("Reviews", 12)]
    for review in ctx.reviews or [
        {"created_at": "", "user": "No reviews", "new_status": "", "comment": None}
    ]:
        lines.append(
            (
                f"{review['created_at']} {review['user']} {review['new_status']}: "
                f"{review['comment'] or ''}".strip(),
                10,
            )
        )
    return render_pdf(lines, title=f"Session {session.session_id}")
