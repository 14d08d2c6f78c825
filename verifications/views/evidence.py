"""The evidence archive over HTTP: archived files, and evidence packs for auditors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from users.roles import BUILD_EVIDENCE_PACKS, VIEW_SESSIONS, VIEW_USERS

from .. import audit
from ..evidence import evidence_storage, open_archived
from ..models import (
    AuditAction,
    Evidence,
    EvidencePack,
    EvidencePackKind,
    EvidencePackStatus,
    EvidenceStatus,
)
from ..packs import PackRefused, request_pack

VIEW_EVIDENCE = ("verifications.view_verificationsession", "verifications.view_evidence")
# Reviewers and admins build packs (a recorded, audited export); each must see every session.
BUILD_PACKS = BUILD_EVIDENCE_PACKS
PACK_TEMPLATE = "verifications/evidence_pack_detail.html"
# A background user report needs what the inline one needs (the user page's permissions).
VIEW_USER_REPORT = (VIEW_USERS, VIEW_SESSIONS)


@require_GET
@login_required
@permission_required(VIEW_EVIDENCE, raise_exception=True)
def evidence_file(request: HttpRequest, sha256: str) -> HttpResponse:
    """One archived file, to people who may see its session; never cached, always audited."""
    row = (
        Evidence.objects.filter(sha256=sha256, status=EvidenceStatus.ARCHIVED)
        .select_related("session")
        .order_by("pk")
        .first()
    )
    if row is None:
        raise Http404("No such archived file.")
    try:
        file = open_archived(sha256)
    except (FileNotFoundError, OSError):
        raise Http404("The archived file is missing; run manage.py verify_evidence.") from None
    audit.record(
        request,
        action=AuditAction.EVIDENCE_VIEW,
        object_type="session",
        object_id=row.session.session_id,
        detail={"sha256": sha256, "kind": row.kind},
    )
    response = FileResponse(file, content_type=row.content_type or "application/octet-stream")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = "inline"
    return response


@require_POST
@login_required
@permission_required(BUILD_PACKS, raise_exception=True)
def pack_create(request: HttpRequest) -> HttpResponse:
    """``session`` repeated -> a pack built in the background; its page shows progress."""
    try:
        pack = request_pack(
            user=request.user, session_ids=request.POST.getlist("session"), request=request
        )
    except PackRefused as refusal:
        if refusal.status == 403:
            raise PermissionDenied(str(refusal)) from None
        return HttpResponse(str(refusal), status=refusal.status, content_type="text/plain")
    return redirect("evidence-pack-detail", pack_id=pack.pack_id)


@require_GET
@login_required
def pack_detail(request: HttpRequest, pack_id: str) -> HttpResponse:
    pack = _own_pack(request, pack_id)
    context = {"pack": pack, "expired": _expired(pack)}
    if request.htmx:
        return render(request, PACK_TEMPLATE + "#pack-progress", context)
    return render(request, PACK_TEMPLATE, context)


@require_GET
@login_required
def pack_download(request: HttpRequest, pack_id: str, filename: str) -> HttpResponse:
    pack = _own_pack(request, pack_id)
    if filename != pack.download_name:
        raise Http404("No such file in this pack.")
    if _expired(pack):
        return HttpResponse("This evidence pack has expired.", status=410)
    if pack.status != EvidencePackStatus.READY:
        raise Http404("This evidence pack is not ready.")
    if pack.kind == EvidencePackKind.USER_REPORT:
        audit.record(
            request,
            action=AuditAction.REPORT_PDF,
            object_type="user",
            object_id=pack.vendor_data,
            detail={"report": "user", "event": "downloaded", "pack": str(pack.pack_id)},
        )
    else:
        audit.record(
            request,
            action=AuditAction.EVIDENCE_PACK,
            object_type="evidence_pack",
            object_id=str(pack.pack_id),
            detail={"event": "downloaded", "sha256": pack.sha256},
        )
    response = FileResponse(
        evidence_storage().open(pack.file_name, "rb"),
        as_attachment=True,
        filename=pack.download_name,
        content_type=pack.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _own_pack(request: HttpRequest, pack_id: str) -> EvidencePack:
    """Only the person who asked for a pack may see it (it is their audited request)."""
    pack = get_object_or_404(EvidencePack, pack_id=pack_id)
    if pack.created_by_id != request.user.pk:
        raise PermissionDenied("This evidence pack belongs to someone else.")
    if pack.kind == EvidencePackKind.USER_REPORT and not request.user.has_perms(VIEW_USER_REPORT):
        raise PermissionDenied("You may no longer see this person's report.")
    return pack


def _expired(pack: EvidencePack) -> bool:
    return pack.status == EvidencePackStatus.EXPIRED or pack.expires_at <= timezone.now()
