"""Evidence packs: a ZIP of several sessions' evidence for an auditor, built in the background.

Per session (a folder named by its session id): our compliance PDF, Didit's PDF when it has
one (the archived copy, else fetched), the decision JSON, the archived media and the
session's audit trail as JSON lines. ``manifest.json`` at the top lists every file with its
SHA-256 and size. A pack can be downloaded by the person who asked for it until it expires
(``EVIDENCE_PACK_TTL_HOURS``), then its file is deleted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import re
import tempfile
import zipfile
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from . import audit
from .didit.errors import DiditError
from .evidence import DIDIT_PDF_KIND, evidence_storage, read_archived
from .models import (
    AuditAction,
    AuditEntry,
    EvidencePack,
    EvidencePackKind,
    EvidencePackStatus,
    EvidenceStatus,
    VerificationSession,
)
from .pdf import render_session_report, render_user_report, report_sessions

logger = logging.getLogger(__name__)

MAX_PACK_SESSIONS = 200
VIEW_PERMISSIONS = ("verifications.view_verificationsession", "verifications.view_evidence")


class PackRefused(Exception):
    """The request names sessions the user may not see (403) or none at all (400)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def may_see_sessions(user: Any, session_ids: list[str]) -> bool:
    """Whether ``user`` may see every one of ``session_ids`` (and that they all exist)."""
    if not user.has_perms(VIEW_PERMISSIONS):
        return False
    found = VerificationSession.objects.filter(session_id__in=session_ids).count()
    return found == len(set(session_ids))


def request_pack(
    *, user: Any, session_ids: list[str], request: HttpRequest | None = None
) -> EvidencePack:
    """Record the pack, audit it and build it in the background once committed."""
    from .tasks import build_evidence_pack

    ids = list(dict.fromkeys(i for i in session_ids if i))
    if not ids:
        raise PackRefused("Choose at least one session.", status=400)
    if len(ids) > MAX_PACK_SESSIONS:
        raise PackRefused(f"A pack holds at most {MAX_PACK_SESSIONS} sessions.", status=400)
    if not may_see_sessions(user, ids):
        raise PackRefused("You may not see every one of these sessions.", status=403)
    with transaction.atomic():
        pack = EvidencePack.objects.create(
            created_by=user,
            session_ids=ids,
            total=len(ids),
            expires_at=timezone.now() + timedelta(hours=settings.EVIDENCE_PACK_TTL_HOURS),
        )
        audit.record(
            request,
            actor=user,
            action=AuditAction.EVIDENCE_PACK,
            object_type="evidence_pack",
            object_id=str(pack.pack_id),
            detail={"sessions": ids, "event": "requested"},
        )
        transaction.on_commit(partial(build_evidence_pack.enqueue, pack.pk))
    return pack


def request_user_report(
    *, user: Any, didit_user: Any, session_ids: list[str], request: HttpRequest | None = None
) -> EvidencePack:
    """A person's compliance report rendered in the background (too many sessions to render
    inside a request); audited like the inline report. The caller checked the permissions."""
    from .tasks import build_evidence_pack

    with transaction.atomic():
        pack = EvidencePack.objects.create(
            created_by=user,
            kind=EvidencePackKind.USER_REPORT,
            vendor_data=didit_user.vendor_data,
            session_ids=session_ids,
            total=len(session_ids),
            expires_at=timezone.now() + timedelta(hours=settings.EVIDENCE_PACK_TTL_HOURS),
        )
        audit.record(
            request,
            actor=user,
            action=AuditAction.REPORT_PDF,
            object_type="user",
            object_id=didit_user.vendor_data,
            detail={"report": "user", "event": "requested", "pack": str(pack.pack_id)},
        )
        transaction.on_commit(partial(build_evidence_pack.enqueue, pack.pk))
    return pack


def build_pack(pack_pk: int) -> str:
    """Build the ZIP (or the user report's PDF); idempotent (a ready, failed or expired pack
    is left alone)."""
    claimed = EvidencePack.objects.filter(
        pk=pack_pk, status__in=[EvidencePackStatus.QUEUED, EvidencePackStatus.BUILDING]
    ).update(status=EvidencePackStatus.BUILDING, done=0)
    if not claimed:
        return "nothing to do"
    pack = EvidencePack.objects.select_related("created_by").get(pk=pack_pk)
    write = _write_user_report if pack.kind == EvidencePackKind.USER_REPORT else _write_zip
    try:
        with tempfile.TemporaryFile() as spool:
            write(pack, spool)
            spool.seek(0)
            digest = _sha256(spool)
            size = spool.seek(0, 2)
            spool.seek(0)
            name = evidence_storage().save(_stored_name(pack), File(spool))
    except Exception as error:
        logger.exception("Evidence pack %s failed", pack.pack_id)
        EvidencePack.objects.filter(pk=pack.pk).update(
            status=EvidencePackStatus.FAILED, error=f"{type(error).__name__}: {error}"[:300]
        )
        return "failed"
    EvidencePack.objects.filter(pk=pack.pk).update(
        status=EvidencePackStatus.READY, file_name=name, size=size, sha256=digest
    )
    return "ready"


def _stored_name(pack: EvidencePack) -> str:
    if pack.kind == EvidencePackKind.USER_REPORT:
        return f"packs/user-report-{pack.pack_id}.pdf"
    return f"packs/{pack.download_name}"


def _write_user_report(pack: EvidencePack, spool) -> None:
    from users.models import DiditUser

    from .services import refresh_expiring_media

    didit_user = DiditUser.objects.get(vendor_data=pack.vendor_data)
    history = report_sessions().filter(user=didit_user).order_by("created_at", "id")
    sessions = list(history)
    if refresh_expiring_media(sessions).refreshed:
        sessions = list(history.all())
    spool.write(render_user_report(didit_user, generated_by=pack.created_by, sessions=sessions))
    EvidencePack.objects.filter(pk=pack.pk).update(done=len(sessions), total=len(sessions))


def _write_zip(pack: EvidencePack, spool) -> None:
    files: list[dict] = []
    sessions = report_sessions().filter(session_id__in=pack.session_ids).order_by("created_at")
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(path: str, data: bytes) -> None:
            archive.writestr(path, data)
            files.append(
                {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            )

        for done, session in enumerate(sessions, start=1):
            _add_session(add, session, pack)
            EvidencePack.objects.filter(pk=pack.pk).update(done=done)
        manifest = {
            "pack_id": str(pack.pack_id),
            "created_at": pack.created_at.isoformat(),
            "created_by": pack.created_by.get_username(),
            "sessions": pack.session_ids,
            "files": files,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))


def _add_session(add, session: VerificationSession, pack: EvidencePack) -> None:
    folder = _safe(session.session_id)
    add(
        f"{folder}/compliance-report.pdf",
        render_session_report(session, generated_by=pack.created_by),
    )
    didit_pdf = _didit_pdf(session)
    if didit_pdf is not None:
        add(f"{folder}/didit-report.pdf", didit_pdf)
    add(
        f"{folder}/decision.json",
        json.dumps(session.decision, indent=2, sort_keys=True, cls=DjangoJSONEncoder).encode(),
    )
    for row in session.evidence.all():
        if row.status != EvidenceStatus.ARCHIVED or row.kind == DIDIT_PDF_KIND:
            continue
        extension = mimetypes.guess_extension(row.content_type) or ""
        add(f"{folder}/media/{_safe(row.kind)}{extension}", read_archived(row.sha256))
    trail = AuditEntry.objects.filter(object_type="session", object_id=session.session_id)
    lines = [
        json.dumps(
            {
                "at": entry.at,
                "actor": entry.actor_username,
                "action": entry.action,
                "ip_address": entry.ip_address,
                "detail": entry.detail,
            },
            cls=DjangoJSONEncoder,
            sort_keys=True,
        )
        for entry in trail.order_by("at", "id")
    ]
    add(f"{folder}/audit-trail.jsonl", ("\n".join(lines) + "\n" if lines else "").encode())


def _didit_pdf(session: VerificationSession) -> bytes | None:
    for row in session.evidence.all():
        if row.kind == DIDIT_PDF_KIND and row.status == EvidenceStatus.ARCHIVED:
            return read_archived(row.sha256)
    if session.purged_at is not None:
        return None
    from .didit.client import DiditClient

    try:
        with DiditClient.from_settings().download_pdf(session.session_id) as download:
            return b"".join(download.iter_bytes())
    except DiditError as error:  # Not final yet, deleted at Didit, or Didit down.
        logger.info("No Didit PDF for a pack: %s", type(error).__name__)
        return None


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._\[\]-]+", "_", name).strip(".") or "_"


def _sha256(file) -> str:
    hasher = hashlib.sha256()
    for chunk in iter(partial(file.read, 1024 * 1024), b""):
        hasher.update(chunk)
    return hasher.hexdigest()


def delete_expired_packs(*, now=None) -> int:
    """Delete the ZIPs of packs past their expiry; the rows stay (audit), marked expired."""
    now = now or timezone.now()
    expired = EvidencePack.objects.filter(expires_at__lte=now).exclude(
        status=EvidencePackStatus.EXPIRED
    )
    storage = evidence_storage()
    count = 0
    for pack in expired:
        if pack.file_name and storage.exists(pack.file_name):
            storage.delete(pack.file_name)
        EvidencePack.objects.filter(pk=pack.pk).update(status=EvidencePackStatus.EXPIRED)
        count += 1
    return count
