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


def expires_at(url: str) -> datetime | None:
    """When a presigned URL stops working (``X-Amz-Date`` + ``X-Amz-Expires``), else None."""
    try:
        query = parse_qs(urlsplit(url).query)
        signed = datetime.strptime(query["X-Amz-Date"][0], AMZ_DATE).replace(tzinfo=UTC)
        return signed + timedelta(seconds=int(query["X-Amz-Expires"][0]))
    except (KeyError, IndexError, ValueError, OverflowError):
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
    """True when one of the session's media URLs has expired or will within the margin."""
    deadline = (now or datetime.now(UTC)) + EXPIRY_MARGIN
    for url in session_media_urls(session):
        expiry = expires_at(url)
        if expiry is not None and expiry <= deadline:
            return True
    return False
