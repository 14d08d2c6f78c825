"""Didit's presigned media URLs: which are safe to put in a page, and when they expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from .models import VerificationSession

AMZ_DATE = "%Y%m%dT%H%M%SZ"
# Refresh a little early: a page must not be rendered with images that die while it loads.
EXPIRY_MARGIN = timedelta(minutes=1)
DOCUMENT_MEDIA = (
    "portrait_image_url",
    "front_image_url",
    "back_image_url",
    "full_front_image_url",
    "full_back_image_url",
    "front_video_url",
    "back_video_url",
)
FACE_MEDIA = ("source_image_url", "target_image_url", "reference_image_url", "video_url")


def is_web_url(url: object) -> bool:
    """Only http(s) URLs go into ``src``/``href``: never ``javascript:``, ``data:`` or ``file:``."""
    if not isinstance(url, str) or not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and bool(parts.netloc)


def expires_at(url: str, *, issued_at: datetime | None = None) -> datetime | None:
    """When a presigned URL stops working, else None (not signed, or no way to tell).

    Reads the signed-URL forms in use: S3 SigV4 (``X-Amz-Date`` + ``X-Amz-Expires``), S3
    SigV2 and CloudFront (``Expires``, epoch seconds), Google Cloud Storage (``X-Goog-Date``
    + ``X-Goog-Expires``), Azure SAS (``se``, ISO time) and a plain ``exp``/``expires``
    epoch. A lifetime without its start (``X-Amz-Expires`` alone) counts from ``issued_at``.
    """
    try:
        query = {key.lower(): values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    except ValueError:
        return None
    try:
        for prefix in ("x-amz-", "x-goog-"):
            lifetime = query.get(f"{prefix}expires")
            if lifetime is None:
                continue
            stamp = query.get(f"{prefix}date")
            start = datetime.strptime(stamp, AMZ_DATE).replace(tzinfo=UTC) if stamp else issued_at
            return start + timedelta(seconds=int(lifetime)) if start else None
        for key in ("expires", "exp", "expiry"):
            if query.get(key, "").isdigit():
                return datetime.fromtimestamp(int(query[key]), tz=UTC)
        if "se" in query and "sig" in query:
            return datetime.fromisoformat(query["se"].replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return None


def session_media_urls(session: VerificationSession) -> list[str]:
    """Every image and video URL of a session loaded with its document and face."""
    urls = []
    for relation, fields in (("document", DOCUMENT_MEDIA), ("face", FACE_MEDIA)):
        part = getattr(session, relation, None)
        if part is not None:
            urls.extend(getattr(part, field) for field in fields)
    return [url for url in urls if url]


def media_expiring(session: VerificationSession, *, now: datetime | None = None) -> bool:
    """True when a media URL the page would show from Didit (one not in our archive) has
    expired or will within the margin; when no URL tells its expiry, the media host is asked
    once (a 403 means expired)."""
    from .evidence import archived_sha256, media_url_refused

    deadline = (now or datetime.now(UTC)) + EXPIRY_MARGIN
    unknown = []
    for url in session_media_urls(session):
        if archived_sha256(session, url):
            continue  # Our copy is shown: Didit's URL no longer matters.
        expiry = expires_at(url, issued_at=session.synced_at)
        if expiry is None:
            unknown.append(url)
        elif expiry <= deadline:
            return True
    return bool(unknown) and media_url_refused(unknown[0])
