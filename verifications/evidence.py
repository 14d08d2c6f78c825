"""The evidence archive: every media file a decision references, copied into our storage.

Didit's media URLs are presigned and expire; a compliance back-office must keep the
documents and selfies behind a decision for years. ``archive_session`` finds every media URL
in a session's stored decision (any API shape, any number of items), fetches each from
Didit's media host only (the PDF fetcher's allow-list), refuses files over
``EVIDENCE_MAX_BYTES`` or of a type that is not an image, video or PDF, and stores the bytes
in ``STORAGES["evidence"]`` under their SHA-256. An ``Evidence`` row per (session, key in the
decision) records what was fetched, when, and from where (the URL without its signature).

The pages and reports ask ``archived_sha256(session, url)`` whether a Didit URL has an
archived copy; ``verify_archive`` re-hashes every stored file.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone

from .didit.errors import DiditError
from .media import is_web_url
from .models import (
    Evidence,
    EvidenceStatus,
    SessionStatus,
    VerificationSession,
    evidence_name,
)
from .pdf import RestrictedFetcher

logger = logging.getLogger(__name__)

# Keys of a decision whose string values (or list items) are media files: "portrait_image",
# "front_video", "video_url", "document_file", "extra_images", "*_image_url", ...
MEDIA_KEY = re.compile(r"(?:^|_)(?:image|images|video|videos|file|files)(?:_url|_urls)?$")
NOT_MEDIA = frozenset({"session_url", "url", "callback"})
ARCHIVABLE_TYPES = ("image/", "video/", "application/pdf")
# An SVG is a document that can carry script: served from our origin it would be one.
REFUSED_TYPES = frozenset({"image/svg+xml"})
# Someone is waiting for the page when the media host is probed for a 403.
PROBE_TIMEOUT = 2.0
FINAL_STATUSES = frozenset(
    {SessionStatus.APPROVED, SessionStatus.DECLINED, SessionStatus.KYC_EXPIRED}
)
DIDIT_PDF_KIND = "didit_pdf"
# After this many failed attempts a file waits for the next decision (or a manual run).
MAX_ATTEMPTS = 6
CHUNK = 64 * 1024


class MediaRefused(Exception):
    """The file must not be archived (host, size, type): retrying will not help."""


class MediaExpired(Exception):
    """The media host answered 403: the presigned URL has expired."""


class MediaUnavailable(Exception):
    """The media host could not be reached or failed; worth retrying later."""


@dataclass(frozen=True)
class Progress:
    archived: int
    total: int
    failed: int = 0
    refused: int = 0

    @property
    def complete(self) -> bool:
        return self.archived == self.total

    def __str__(self) -> str:
        text = f"{self.archived} of {self.total} files archived"
        if self.failed:
            text += f", {self.failed} failed (retried)"
        if self.refused:
            text += f", {self.refused} refused"
        return text


def evidence_storage():
    return storages["evidence"]


# --- What a decision references -----------------------------------------------------------


def media_references(decision: Any) -> dict[str, str]:
    """{kind: url} for every media URL in a decision; kind is its path ("kyc.front_image")."""
    found: dict[str, str] = {}
    for kind, url in _walk(decision, "", media=False):
        found.setdefault(kind[:200], url)
    return found


def _walk(value: Any, path: str, *, media: bool) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            key = str(key)
            is_media = media or (key not in NOT_MEDIA and bool(MEDIA_KEY.search(key)))
            yield from _walk(item, f"{path}.{key}" if path else key, media=is_media)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]", media=media)
    elif media and is_web_url(value):
        yield path, value


def unsigned(url: str) -> str:
    """The URL without query and fragment: where the file is, not the credential to read it."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


# --- Reading the archive --------------------------------------------------------------------


def session_evidence(session: VerificationSession) -> list[Evidence]:
    """The session's evidence rows, read once per session object (pages ask per image)."""
    cache = getattr(session, "_prefetched_objects_cache", {})
    if "evidence" in cache:
        return list(cache["evidence"])
    rows = session.__dict__.get("_evidence_rows")
    if rows is None:
        rows = list(Evidence.objects.filter(session=session)) if session.pk else []
        session.__dict__["_evidence_rows"] = rows
    return rows


def archived_sha256(session: VerificationSession | None, url: object) -> str | None:
    """The SHA-256 of our copy of the file at Didit ``url``, or None if not archived."""
    if not is_web_url(url):
        return None
    source = unsigned(url)
    if isinstance(session, VerificationSession):
        for row in session_evidence(session):
            if row.source_url == source and row.status == EvidenceStatus.ARCHIVED:
                return row.sha256
        return None
    row = (
        Evidence.objects.filter(source_url=source, status=EvidenceStatus.ARCHIVED)
        .only("sha256")
        .first()
    )
    return row.sha256 if row else None


def archive_progress(session: VerificationSession) -> Progress:
    rows = session_evidence(session)
    count = {status: 0 for status in EvidenceStatus.values}
    for row in rows:
        count[row.status] += 1
    return Progress(
        archived=count[EvidenceStatus.ARCHIVED],
        total=len(rows),
        failed=count[EvidenceStatus.FAILED],
        refused=count[EvidenceStatus.REFUSED],
    )


def open_archived(sha256: str):
    """The stored file (a Django File, opened for reading)."""
    return evidence_storage().open(evidence_name(sha256), "rb")


def read_archived(sha256: str) -> bytes:
    with open_archived(sha256) as file:
        return file.read()


# --- Archiving ------------------------------------------------------------------------------


def archive_session(
    session_pk: int, *, client: Any = None, refetch_expired: bool = True
) -> Progress | None:
    """Archive every media file the session's decision references that is not yet archived.

    Idempotent: archived files are skipped, a file's URL that changed (a resubmitted
    document) is archived again. A 403 from the media host means the URLs expired: the
    decision is re-fetched once for fresh ones (``client``: a ``DiditClient``). Returns the
    progress, or None when the session is gone or purged.
    """
    session = VerificationSession.objects.filter(pk=session_pk, purged_at__isnull=True).first()
    if session is None:
        return None
    references = media_references(session.decision)
    rows = _reconcile(session, references)
    expired = False
    with requests.Session() as http:  # one connection pool for the session's files
        for row in rows:
            if row.status in (EvidenceStatus.ARCHIVED, EvidenceStatus.REFUSED):
                continue
            if row.attempts >= MAX_ATTEMPTS:
                continue
            try:
                _archive_one(row, references[row.kind], http=http)
            except MediaExpired:
                expired = True
                _failed(row, "the media URL has expired (403)")
    if expired and refetch_expired and _refetch(session, client):
        return archive_session(session_pk, client=client, refetch_expired=False)
    if settings.EVIDENCE_ARCHIVE_DIDIT_PDF and session.status in FINAL_STATUSES:
        _archive_didit_pdf(session, client)
    return archive_progress(_fresh(session))


def _fresh(session: VerificationSession) -> VerificationSession:
    session.__dict__.pop("_evidence_rows", None)
    return session


def _reconcile(session: VerificationSession, references: dict[str, str]) -> list[Evidence]:
    """One row per referenced file; a row whose file moved at Didit starts again."""
    existing = {row.kind: row for row in Evidence.objects.filter(session=session)}
    for kind, url in references.items():
        source = unsigned(url)
        row = existing.get(kind)
        if row is None:
            try:
                with transaction.atomic():
                    existing[kind] = Evidence.objects.create(
                        session=session, kind=kind, source_url=source
                    )
            except IntegrityError:  # Another worker created it a moment ago.
                existing[kind] = Evidence.objects.get(session=session, kind=kind)
        elif row.source_url != source:
            row.source_url = source
            row.status = EvidenceStatus.PENDING
            row.attempts = 0
            row.error = ""
            row.save(update_fields=["source_url", "status", "attempts", "error"])
    return [existing[kind] for kind in references]


def _archive_one(row: Evidence, url: str, *, http: requests.Session) -> None:
    try:
        body, content_type = fetch_media(url, http=http)
        digest = store(body)
    except MediaRefused as error:
        row.status = EvidenceStatus.REFUSED
        row.error = str(error)[:300]
        row.attempts += 1
        row.save(update_fields=["status", "error", "attempts"])
        logger.warning("Evidence refused for a session: %s", error)
        return
    except (MediaUnavailable, OSError) as error:
        _failed(row, str(error) or type(error).__name__)
        return
    row.status = EvidenceStatus.ARCHIVED
    row.sha256 = digest
    row.size = len(body)
    row.content_type = content_type
    row.fetched_at = timezone.now()
    row.error = ""
    row.attempts += 1
    row.save()


def _failed(row: Evidence, message: str) -> None:
    row.status = EvidenceStatus.FAILED
    row.error = message[:300]
    row.attempts += 1
    row.save(update_fields=["status", "error", "attempts"])


def _refetch(session: VerificationSession, client: Any) -> bool:
    # Imported here: sync imports the models' world; the archive is called from it (hook).
    from .didit.client import DiditClient
    from .sync import DecisionError, resync_session

    try:
        resync_session(
            client or DiditClient.from_settings(), session.session_id, refresh_media=True
        )
    except (DiditError, DecisionError) as error:
        logger.warning("Could not re-fetch a decision for fresh media URLs: %s", error)
        return False
    return True


def _archive_didit_pdf(session: VerificationSession, client: Any) -> None:
    """Didit's own PDF report, once per session, when it reached a final status."""
    from .didit.client import DiditClient

    row, _ = Evidence.objects.get_or_create(
        session=session,
        kind=DIDIT_PDF_KIND,
        defaults={"source_url": f"didit:pdf/{session.session_id}"},
    )
    if row.status == EvidenceStatus.ARCHIVED or row.attempts >= MAX_ATTEMPTS:
        return
    try:
        with (client or DiditClient.from_settings()).download_pdf(session.session_id) as pdf:
            body = b"".join(pdf.iter_bytes())
        if len(body) > settings.EVIDENCE_MAX_BYTES:
            raise MediaRefused("Didit's PDF is larger than EVIDENCE_MAX_BYTES")
        digest = store(body)
    except MediaRefused as error:
        row.status, row.error = EvidenceStatus.REFUSED, str(error)
        row.save(update_fields=["status", "error"])
        return
    except (DiditError, OSError) as error:
        _failed(row, f"Didit's PDF: {type(error).__name__}")
        return
    row.status, row.sha256, row.size = EvidenceStatus.ARCHIVED, digest, len(body)
    row.content_type, row.fetched_at, row.error = "application/pdf", timezone.now(), ""
    row.attempts += 1
    row.save()


def fetch_media(
    url: str, *, max_bytes: int | None = None, http: requests.Session | None = None
) -> tuple[bytes, str]:
    """GET one media file from an allowed host: (bytes, content type).

    Raises ``MediaRefused`` (host not allowed, too large, unexpected type), ``MediaExpired``
    (403) or ``MediaUnavailable``. Redirects are not followed: an allowed host must not send
    us elsewhere.
    """
    limit = max_bytes or settings.EVIDENCE_MAX_BYTES
    if not RestrictedFetcher.from_settings().is_allowed(url):
        raise MediaRefused(f"host {urlsplit(url).hostname or '?'} is not an allowed media host")
    timeout = (settings.DIDIT_CONNECT_TIMEOUT, max(settings.DIDIT_MEDIA_TIMEOUT, 5.0))
    try:
        response = (http or requests).get(url, stream=True, timeout=timeout, allow_redirects=False)
    except requests.RequestException as error:
        raise MediaUnavailable(f"media host unreachable ({type(error).__name__})") from None
    with response:
        if response.status_code == 403:
            raise MediaExpired("403 from the media host")
        if response.status_code != 200:
            raise MediaUnavailable(f"media host answered {response.status_code}")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not content_type.startswith(ARCHIVABLE_TYPES) or content_type in REFUSED_TYPES:
            raise MediaRefused(f"unexpected content type {content_type or '(none)'}")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise MediaRefused(f"file of {declared} bytes is over the {limit}-byte limit")
        body = bytearray()
        try:
            for chunk in response.iter_content(CHUNK):
                body += chunk
                if len(body) > limit:
                    raise MediaRefused(f"file is over the {limit}-byte limit")
        except requests.RequestException as error:
            raise MediaUnavailable(f"download failed ({type(error).__name__})") from None
    return bytes(body), content_type


def store(body: bytes) -> str:
    """Write bytes under their SHA-256 (once: the same content is stored once); the hash."""
    digest = hashlib.sha256(body).hexdigest()
    storage = evidence_storage()
    name = evidence_name(digest)
    if not storage.exists(name):
        saved = storage.save(name, ContentFile(body))
        if saved != name:  # Another worker stored the same file in between: keep one.
            storage.delete(saved)
    return digest


def media_url_refused(url: str) -> bool:
    """True when the media host refuses ``url`` (403): its signature expired in a form we
    cannot read. One ranged GET with a short timeout; unreachable counts as not refused."""
    if not RestrictedFetcher.from_settings().is_allowed(url):
        return False
    try:
        response = requests.get(
            url,
            headers={"Range": "bytes=0-0"},
            stream=True,
            timeout=(
                min(settings.DIDIT_CONNECT_TIMEOUT, PROBE_TIMEOUT),
                min(settings.DIDIT_MEDIA_TIMEOUT, PROBE_TIMEOUT),
            ),
            allow_redirects=False,
        )
    except requests.RequestException:
        return False
    response.close()
    return response.status_code == 403


# --- Integrity ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    sha256: str
    problem: str  # "missing" or "altered"
    sessions: tuple[str, ...]


def verify_archive() -> tuple[int, list[Problem]]:
    """Re-hash every archived file: (files checked, problems)."""
    storage = evidence_storage()
    sessions: dict[str, set[str]] = {}
    rows = Evidence.objects.filter(status=EvidenceStatus.ARCHIVED).values_list(
        "sha256", "session__session_id"
    )
    for digest, session_id in rows.iterator():
        sessions.setdefault(digest, set()).add(session_id)
    problems = []
    for digest, owners in sessions.items():
        name = evidence_name(digest)
        try:
            with storage.open(name, "rb") as file:
                hasher = hashlib.sha256()
                for chunk in file.chunks(CHUNK):
                    hasher.update(chunk)
        except (FileNotFoundError, OSError):
            problems.append(Problem(digest, "missing", tuple(sorted(owners))))
            continue
        if hasher.hexdigest() != digest:
            problems.append(Problem(digest, "altered", tuple(sorted(owners))))
    return len(sessions), problems


def delete_unreferenced(digests: set[str]) -> int:
    """Delete stored files no archived row references any more; the number deleted."""
    if not digests:
        return 0
    still = set(
        Evidence.objects.filter(sha256__in=digests, status=EvidenceStatus.ARCHIVED).values_list(
            "sha256", flat=True
        )
    )
    storage = evidence_storage()
    deleted = 0
    for digest in digests - still:
        name = evidence_name(digest)
        if storage.exists(name):
            storage.delete(name)
            deleted += 1
    return deleted
