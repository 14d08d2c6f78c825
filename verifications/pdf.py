"""Our compliance reports: templates rendered to PDF bytes with WeasyPrint.

WeasyPrint fetches what a template points at (stylesheets, images). Its default fetcher
would read any ``file://`` path or any host the server can reach, so it gets
``RestrictedFetcher`` instead: our static files (read from disk through the staticfiles
finders, under the internal origin ``STATIC_ORIGIN``), ``data:`` URLs, and http(s) images on
Didit's hosts, with a timeout and a size limit. Anything else is refused; WeasyPrint then
leaves the image out and the report still renders.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import storages
from django.db.models import Prefetch, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .models import (
    AmlHit,
    Evidence,
    EvidenceStatus,
    PendingDecision,
    Review,
    VerificationSession,
    evidence_name,
)

# Templates link to static files under this origin; only the fetcher below resolves it, from
# disk. ``.invalid`` is reserved (RFC 2606): the name can never reach the network.
STATIC_ORIGIN = "https://didit-console.invalid"
STATIC_BASE = f"{STATIC_ORIGIN}/static/"
# Archived evidence (verifications/evidence.py), read from the evidence storage by hash.
EVIDENCE_BASE = f"{STATIC_ORIGIN}/evidence/"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
DEFAULT_PORTS = {"http": 80, "https": 443}
# A passport scan is a few hundred kilobytes; anything far larger is not an image we want.
MAX_IMAGE_BYTES = 15 * 1024 * 1024


class FetchRefused(ValueError):
    """The report asked for a URL the fetcher does not serve."""


@dataclass(frozen=True)
class HostPort:
    host: str
    port: int | None  # None: the default port of the URL's scheme


def allowed_media_hosts() -> frozenset[HostPort]:
    """Didit's API host (with its port) plus ``DIDIT_MEDIA_HOSTS``."""
    entries = [urlsplit(settings.DIDIT_VERIFICATION_URL).netloc, *settings.DIDIT_MEDIA_HOSTS]
    return frozenset(_host_port(entry) for entry in entries if entry)


def _host_port(entry: str) -> HostPort:
    parts = urlsplit(entry if "//" in entry else f"//{entry}")
    return HostPort(host=(parts.hostname or "").lower(), port=parts.port)


class RestrictedFetcher(URLFetcher):
    """WeasyPrint's fetcher, limited to our static files, ``data:`` and allowed image hosts."""

    def __init__(self, *, allowed_hosts: Iterable[HostPort], timeout: float) -> None:
        # No redirects: an allowed host must not be able to send us somewhere else.
        super().__init__(timeout=timeout, allow_redirects=False)
        self.allowed_hosts = frozenset(allowed_hosts)

    @classmethod
    def from_settings(cls) -> RestrictedFetcher:
        return cls(allowed_hosts=allowed_media_hosts(), timeout=settings.DIDIT_MEDIA_TIMEOUT)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if url.startswith(STATIC_BASE):
            return self._static(url)
        if url.startswith(EVIDENCE_BASE):
            return self._evidence(url)
        if scheme in DEFAULT_PORTS and self.is_allowed(url):
            return self._image(url, headers)
        raise FetchRefused(f"refused to fetch a {scheme or 'relative'} URL outside the allow-list")

    def is_allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            return False
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError:  # a port that is not a number
            return False
        return any(
            allowed.host == parts.hostname.lower()
            and (allowed.port or DEFAULT_PORTS[scheme]) == port
            for allowed in self.allowed_hosts
        )

    def _static(self, url: str) -> URLFetcherResponse:
        relative = unquote(urlsplit(url).path.removeprefix("/static/"))
        try:
            path = finders.find(relative) if relative and ".." not in relative else None
        except SuspiciousFileOperation:
            path = None
        if not path:
            raise FetchRefused("no such static file")
        with open(path, "rb") as file:
            body = file.read()
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": content_type})

    def _evidence(self, url: str) -> URLFetcherResponse:
        digest = urlsplit(url).path.removeprefix("/evidence/").rstrip("/")
        row = (
            Evidence.objects.filter(sha256=digest, status=EvidenceStatus.ARCHIVED)
            .only("content_type")
            .first()
            if SHA256_HEX.fullmatch(digest)
            else None
        )
        if row is None:
            raise FetchRefused("no such archived file")
        with storages["evidence"].open(evidence_name(digest), "rb") as file:
            body = file.read()
        return URLFetcherResponse(url, body, {"Content-Type": row.content_type})

    def _image(self, url: str, headers: dict | None) -> URLFetcherResponse:
        response = super().fetch(url, headers)
        try:
            content_type = response.content_type or ""
            body = response.read(MAX_IMAGE_BYTES + 1)
        finally:
            response.close()
        if not content_type.startswith("image/"):
            raise FetchRefused(f"expected an image, got {content_type or 'no content type'}")
        if len(body) > MAX_IMAGE_BYTES:
            raise FetchRefused("image too large")
        return URLFetcherResponse(response.url, body, response.headers, response.status)


class _RedactUrls(logging.Filter):
    """WeasyPrint logs the URL of every image it could not load; Didit's are presigned and
    personal, so keep only scheme and host, and only the type of the exception."""

    URL = re.compile(r"(?P<origin>[a-zA-Z][a-zA-Z0-9+.-]*:(?://[^/?#\s'\"]*)?)[^\s'\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact(arg) for arg in record.args)
        return True

    def _redact(self, value: object) -> object:
        if isinstance(value, BaseException):
            return type(value).__name__
        if isinstance(value, str):
            return self.URL.sub(lambda match: f"{match['origin']}/[redacted]", value)
        return value


logging.getLogger("weasyprint").addFilter(_RedactUrls())


def report_sessions() -> QuerySet[VerificationSession]:
    """Sessions with everything a report or history shows, in a constant number of queries."""
    return VerificationSession.objects.select_related(
        "document", "face", "aml", "ip_analysis", "user"
    ).prefetch_related(
        Prefetch(
            "aml_hits",
            queryset=AmlHit.objects.select_related(
                "disposed_by", "whitelist_entry", "whitelist_entry__created_by"
            ),
        ),
        "warnings",
        "evidence",
        # A pending review is one Didit has not confirmed here yet: not a review of record.
        Prefetch(
            "reviews", queryset=Review.objects.filter(pending=False).select_related("staff_user")
        ),
        Prefetch(
            "pending_decisions",
            queryset=PendingDecision.objects.select_related("requested_by", "second_reviewer"),
        ),
    )


def render_session_report(
    session: VerificationSession,
    *,
    generated_by,
    generated_at: datetime | None = None,
) -> bytes:
    """One session's compliance report. Pass a session from ``report_sessions()``."""
    return render_pdf(
        "verifications/session_report.html",
        {
            "session": session,
            "generated_by": generated_by,
            "generated_at": generated_at or timezone.now(),
        },
    )


def render_user_report(
    didit_user,
    *,
    generated_by,
    generated_at: datetime | None = None,
    sessions: Iterable[VerificationSession] | None = None,
) -> bytes:
    """A person's whole history: every session, oldest first, each as in the session report."""
    if sessions is None:
        sessions = report_sessions().filter(user=didit_user).order_by("created_at", "id")
    sessions = list(sessions)
    synced = [session.synced_at for session in sessions if session.synced_at]
    return render_pdf(
        "users/user_report.html",
        {
            "didit_user": didit_user,
            "sessions": sessions,
            "synced_at": max(synced) if synced else None,
            "generated_by": generated_by,
            "generated_at": generated_at or timezone.now(),
        },
    )


def render_pdf(template_name: str, context: dict, *, fetcher: URLFetcher | None = None) -> bytes:
    """Render a template to PDF bytes; links resolve only through the restricted fetcher."""
    html = render_to_string(template_name, {**context, "static_base": STATIC_BASE})
    return HTML(
        string=html,
        base_url=STATIC_BASE,
        url_fetcher=fetcher or RestrictedFetcher.from_settings(),
    ).write_pdf()
