"""DiditClient: the one place that speaks HTTP to Didit.

Every call passes through ``_request()``: pacing per endpoint family, a timeout, the auth
header (``x-api-key`` or a Bearer token from the OAuth client-credentials flow), retries for
idempotent calls, and translation of every failure into our own ``DiditError`` types.
The client never imports models: it returns Didit's JSON as dicts (decisions stay raw, so
both the v1 and the v2/v3 shapes pass through untouched) and small typed results.
"""

from __future__ import annotations

import base64
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from .errors import (
    DiditAuthError,
    DiditBadResponse,
    DiditConfigError,
    DiditError,
    DiditForbidden,
    DiditNotFound,
    DiditRateLimited,
    DiditRequestError,
    DiditUnavailable,
)
from .pacing import DIDIT_LIMITS, Limit, RateLimiter, parse_limits

__all__ = [
    "CreatedSession",
    "DiditAuthError",
    "DiditBadResponse",
    "DiditClient",
    "DiditConfigError",
    "DiditError",
    "DiditForbidden",
    "DiditNotFound",
    "DiditRateLimited",
    "DiditRequestError",
    "DiditUnavailable",
    "PdfDownload",
]

logger = logging.getLogger(__name__)

USER_AGENT = "DiditConsole/0.1 (+https://github.com/didit-console)"
API_VERSIONS = ("v1", "v2", "v3")
# Retried for idempotent calls only. 500 is included because Didit's 500s on reads are
# transient in practice, and a read repeated is harmless.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses Didit accepts in update-status; v3 added Resubmitted (SPEC.md).
UPDATE_STATUSES = {"v1": ("Approved", "Declined"), "v2": ("Approved", "Declined")}
UPDATE_STATUSES["v3"] = ("Approved", "Declined", "Resubmitted")
MAX_DETAIL = 500
PDF_CHUNK = 64 * 1024


@dataclass(frozen=True)
class CreatedSession:
    """What Didit answers to a create-session call."""

    session_id: str
    url: str
    status: str
    session_number: int | None = None
    vendor_data: str | None = None
    workflow_id: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


class PdfDownload:
    """A streamed PDF from generate-pdf; use as a context manager and iterate its chunks."""

    def __init__(self, response: requests.Response, *, session_id: str, operation: str) -> None:
        self._response = response
        self.operation = operation
        self.content_type = response.headers.get("Content-Type", "application/pdf")
        length = response.headers.get("Content-Length")
        self.content_length = int(length) if length and length.isdigit() else None
        self.filename = _filename(response.headers.get("Content-Disposition", "")) or (
            f"session_{session_id}.pdf"
        )

    def iter_bytes(self, chunk_size: int = PDF_CHUNK) -> Iterator[bytes]:
        """Yield the body in chunks; never holds the whole report in memory."""
        try:
            yield from self._response.iter_content(chunk_size=chunk_size)
        except requests.RequestException as exc:
            raise DiditUnavailable(
                f"connection lost while downloading the report ({type(exc).__name__})",
                operation=self.operation,
            ) from None
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> PdfDownload:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class DiditClient:
    """Didit's verification API (v1, v2, v3), its auth server, and our pacing and retries."""

    def __init__(
        self,
        *,
        verification_url: str = "https://verification.didit.me",
        auth_url: str = "https://apx.didit.me",
        api_key: str = "",
        client_id: str = "",
        client_secret: str = "",
        api_version: str = "v3",
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        rate_limits: Mapping[str, Limit] | str | None = DIDIT_LIMITS,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if api_version not in API_VERSIONS:
            raise ValueError(f"api_version must be one of {API_VERSIONS}, not {api_version!r}")
        self.verification_url = verification_url.rstrip("/") + "/"
        self.auth_url = auth_url.rstrip("/") + "/"
        self.api_version = api_version
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._api_key = api_key
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = session or requests.Session()
        self._http.headers["User-Agent"] = USER_AGENT
        self._sleep = sleep
        self._clock = clock
        if isinstance(rate_limits, str):
            rate_limits = parse_limits(rate_limits)
        self.limiter = RateLimiter(rate_limits or {}, clock=clock, sleep=sleep)
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()
        self.stats: Counter[str] = Counter()

    @classmethod
    def from_settings(cls, **overrides: Any) -> DiditClient:
        """Build the client from ``DIDIT_*`` settings (see .env.example)."""
        from django.conf import settings

        options: dict[str, Any] = {
            "verification_url": settings.DIDIT_VERIFICATION_URL,
            "auth_url": settings.DIDIT_AUTH_URL,
            "api_key": settings.DIDIT_API_KEY,
            "client_id": settings.DIDIT_CLIENT_ID,
            "client_secret": settings.DIDIT_CLIENT_SECRET,
            "api_version": settings.DIDIT_API_VERSION,
            "timeout": (settings.DIDIT_CONNECT_TIMEOUT, settings.DIDIT_READ_TIMEOUT),
            "rate_limits": settings.DIDIT_RATE_LIMITS,
        }
        options.update(overrides)
        return cls(**options)

    @property
    def auth_mode(self) -> str:
        if self._api_key:
            return "api_key"
        if self._client_id and self._client_secret:
            return "oauth"
        return "none"

    # --- Sessions -----------------------------------------------------------------------------

    def create_session(
        self,
        *,
        vendor_data: str | None = None,
        workflow_id: str | None = None,
        callback: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        contact_details: Mapping[str, Any] | None = None,
        expected_details: Mapping[str, Any] | None = None,
        language: str | None = None,
        features: str | None = None,
    ) -> CreatedSession:
        """Create a verification session; v1 takes ``features``, v2/v3 a ``workflow_id``."""
        if self.api_version == "v1":
            body = {"vendor_data": vendor_data, "callback": callback, "features": features}
        else:
            if not workflow_id:
                raise ValueError(f"{self.api_version} sessions need a workflow_id")
            body = {
                "workflow_id": workflow_id,
                "vendor_data": vendor_data,
                "callback": callback,
                "metadata": dict(metadata) if metadata is not None else None,
                "contact_details": dict(contact_details) if contact_details else None,
                "expected_details": dict(expected_details) if expected_details else None,
                "language": language,
            }
        body = {key: value for key, value in body.items() if value is not None}
        data = self._json(
            "POST", self._path("session/"), operation="create", family="write", body=body
        )
        try:
            return CreatedSession(
                session_id=str(data["session_id"]),
                url=str(data.get("url") or data.get("session_url") or ""),
                status=str(data.get("status") or "Not Started"),
                session_number=data.get("session_number"),
                vendor_data=data.get("vendor_data"),
                workflow_id=data.get("workflow_id"),
                raw=data,
            )
        except (KeyError, TypeError):
            raise DiditBadResponse(
                "create answered without a session_id", operation="create"
            ) from None

    def get_decision(self, session_id: str) -> dict:
        """The session's decision, raw: v1 (``kyc``/``face``/...) or v2/v3 shape."""
        data = self._json(
            "GET",
            self._path(f"session/{_segment(session_id)}/decision/"),
            operation="decision",
            family="decision",
        )
        if not isinstance(data, dict) or not data.get("session_id"):
            raise DiditBadResponse("decision has no session_id", operation="decision")
        return data

    def update_status(
        self,
        session_id: str,
        *,
        new_status: str,
        comment: str | None = None,
        send_email: bool | None = None,
        email_address: str | None = None,
        email_language: str | None = None,
    ) -> dict:
        """Approve or decline (v3: also resubmit). Returns Didit's confirmation.

        Never retried: a repeated PATCH would append a second review.
        """
        allowed = UPDATE_STATUSES[self.api_version]
        if new_status not in allowed:
            raise ValueError(f"new_status must be one of {allowed}, not {new_status!r}")
        body: dict[str, Any] = {"new_status": new_status}
        optional = {
            "comment": comment,
            "send_email": send_email,
            "email_address": email_address,
            "email_language": email_language,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        data = self._json(
            "PATCH",
            self._path(f"session/{_segment(session_id)}/update-status/"),
            operation="update_status",
            family="write",
            body=body,
        )
        confirmed = data.get("session_id") if isinstance(data, dict) else None
        if confirmed is not None and str(confirmed) != str(session_id):
            raise DiditBadResponse(
                "update-status confirmed a different session", operation="update_status"
            )
        return data if isinstance(data, dict) else {}

    def download_pdf(self, session_id: str) -> PdfDownload:
        """Start streaming Didit's PDF report of a session (use as a context manager)."""
        response = self._request(
            "GET",
            self._path(f"session/{_segment(session_id)}/generate-pdf/"),
            operation="pdf",
            family="pdf",
            stream=True,
        )
        content_type = response.headers.get("Content-Type", "")
        if "pdf" not in content_type and "octet-stream" not in content_type:
            response.close()
            raise DiditBadResponse(
                f"expected a PDF, got {content_type or 'no content type'}", operation="pdf"
            )
        return PdfDownload(response, session_id=session_id, operation="pdf")

    def delete_session(self, session_id: str) -> None:
        """Delete a session at Didit (irreversible). A repeat after success answers 404."""
        self._request(
            "DELETE",
            self._path(f"session/{_segment(session_id)}/delete/"),
            operation="delete",
            family="write",
            idempotent=True,
        )

    def iter_sessions(
        self,
        *,
        vendor_data: str | None = None,
        status: str | list[str] | tuple[str, ...] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        search: str | None = None,
        workflow_id: str | None = None,
        country: str | None = None,
        page_size: int = 100,
    ) -> Iterator[dict]:
        """Every session matching the filters, newest first, one page in memory at a time."""
        params = _session_filters(
            vendor_data=vendor_data,
            status=status,
            date_from=date_from,
            date_to=date_to,
            search=search,
            workflow_id=workflow_id,
            country=country,
        )
        return self._paginate("v3/sessions/", params, operation="list", page_size=page_size)

    def count_sessions(self, **filters: Any) -> int:
        """How many sessions match (the list's ``count``), for one cheap call."""
        params = _session_filters(**filters)
        params.update(limit=1, offset=0)
        page = self._json("GET", "v3/sessions/", operation="list", family="read", params=params)
        count = page.get("count") if isinstance(page, dict) else None
        if not isinstance(count, int):
            raise DiditBadResponse("session list has no count", operation="list")
        return count

    def iter_reviews(self, session_id: str, *, page_size: int = 100) -> Iterator[dict]:
        """The session's reviews (who, new status, comment, when), oldest pages first."""
        path = f"v3/sessions/{_segment(session_id)}/reviews/"
        return self._paginate(path, {}, operation="reviews", page_size=page_size)

    def add_review(self, session_id: str, *, new_status: str, comment: str = "") -> dict:
        """Add a review note to a session (v3). Not retried."""
        return self._json(
            "POST",
            f"v3/sessions/{_segment(session_id)}/reviews/",
            operation="add_review",
            family="write",
            body={"new_status": new_status, "comment": comment},
        )

    def share_session(
        self,
        session_id: str,
        *,
        ttl_in_seconds: int | None = None,
        for_application_id: str | None = None,
    ) -> str:
        """A share token for a finished session, for a partner to import."""
        body = {"ttl_in_seconds": ttl_in_seconds, "for_application_id": for_application_id}
        data = self._json(
            "POST",
            f"v3/session/{_segment(session_id)}/share/",
            operation="share",
            family="write",
            body={key: value for key, value in body.items() if value is not None},
        )
        token = data.get("share_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise DiditBadResponse("share answered without a share_token", operation="share")
        return token

    def import_shared_session(
        self,
        *,
        share_token: str,
        trust_review: bool = False,
        workflow_id: str | None = None,
        vendor_data: str | None = None,
    ) -> dict:
        """Import a session another application shared (a token imports once)."""
        body = {
            "share_token": share_token,
            "trust_review": trust_review,
            "workflow_id": workflow_id,
            "vendor_data": vendor_data,
        }
        data = self._json(
            "POST",
            "v3/session/import-shared/",
            operation="import_shared",
            family="write",
            body={key: value for key, value in body.items() if value is not None},
        )
        if not isinstance(data, dict) or not data.get("session_id"):
            raise DiditBadResponse("import answered without a session_id", operation="import")
        return data

    def update_aml_hit_status(
        self, session_id: str, *, hit_id: str, review_status: str, comment: str | None = None
    ) -> dict:
        """Set one AML hit's review status at Didit (v3). Not retried."""
        body = {"hit_id": hit_id, "review_status": review_status}
        if comment is not None:
            body["comment"] = comment
        return self._json(
            "PATCH",
            f"v3/session/{_segment(session_id)}/update-aml-hit-status/",
            operation="aml_hit",
            family="write",
            body=body,
        )

    # --- Users --------------------------------------------------------------------------------

    def iter_users(self, *, page_size: int = 100) -> Iterator[dict]:
        """Didit's User entities (one per vendor_data)."""
        return self._paginate("v3/users/", {}, operation="users", page_size=page_size)

    def get_user(self, vendor_data: str) -> dict:
        """One User entity: counts, features map, first/last session."""
        data = self._json(
            "GET", f"v3/users/{_segment(vendor_data)}/", operation="user", family="read"
        )
        if not isinstance(data, dict):
            raise DiditBadResponse("user is not an object", operation="user")
        return data

    # --- Plumbing -----------------------------------------------------------------------------

    def _path(self, tail: str) -> str:
        return f"{self.api_version}/{tail}"

    def _paginate(
        self, path: str, params: dict[str, Any], *, operation: str, page_size: int
    ) -> Iterator[dict]:
        url: str | None = path
        query: dict[str, Any] | None = {**params, "limit": page_size, "offset": 0}
        while url:
            page = self._json("GET", url, operation=operation, family="read", params=query)
            if isinstance(page, list):  # A bare list is a single, final page.
                results, next_url = page, None
            elif isinstance(page, dict) and isinstance(page.get("results"), list):
                results, next_url = page["results"], page.get("next")
            else:
                raise DiditBadResponse("page has no results list", operation=operation)
            yield from (row for row in results if isinstance(row, dict))
            if next_url is not None and not isinstance(next_url, str):
                raise DiditBadResponse("page has a malformed next link", operation=operation)
            # `next` carries the query itself; stop if Didit returns an empty page with a link.
            url = self._same_origin(next_url) if next_url and results else None
            query = None

    def _same_origin(self, url: str) -> str:
        """Follow ``next`` links only on our API host: the auth header must go nowhere else."""
        base = urlsplit(self.verification_url)
        target = urlsplit(urljoin(self.verification_url, url))
        return urlunsplit((base.scheme, base.netloc, target.path, target.query, ""))

    def _json(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        family: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        idempotent = method in ("GET", "HEAD", "OPTIONS", "DELETE")
        attempt = 0
        while True:
            response = self._request(
                method,
                path,
                operation=operation,
                family=family,
                params=params,
                body=body,
                idempotent=idempotent,
            )
            try:
                return response.json()
            except (ValueError, RecursionError):
                # A truncated or garbled body: for a read, asking again is safe.
                self.stats["malformed"] += 1
                if idempotent and attempt < self.max_retries:
                    attempt += 1
                    self._backoff(attempt, None, operation)
                    continue
                raise DiditBadResponse(
                    "malformed JSON in the response",
                    status=response.status_code,
                    operation=operation,
                ) from None

    def _request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        family: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        stream: bool = False,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send one API call with pacing, auth, timeout, retries and error translation."""
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "OPTIONS", "DELETE")
        url = urljoin(self.verification_url, path)
        refreshed = False
        attempt = 0
        self.stats[operation] += 1
        while True:
            headers = self._auth_headers()
            try:
                with self.limiter.slot(family):
                    response = self._http.request(
                        method,
                        url,
                        params=params,
                        json=body,
                        headers=headers,
                        timeout=self.timeout,
                        stream=stream,
                        allow_redirects=False,
                    )
                    if not stream:
                        response.content  # noqa: B018 - read the body inside the timed slot
            except requests.RequestException as exc:
                # Timeouts, refused connections and bodies cut short alike: the network failed.
                self.stats["connection_errors"] += 1
                if idempotent and attempt < self.max_retries:
                    attempt += 1
                    self._backoff(attempt, None, operation)
                    continue
                raise DiditUnavailable(_network_failure(exc), operation=operation) from None

            status = response.status_code
            logger.debug("%s %s -> %s", method, urlsplit(url).path, status)
            if status < 300:
                return response
            if status == 401 and self.auth_mode == "oauth" and not refreshed:
                # The token expired or was revoked early: fetch a new one and try once more.
                response.close()
                refreshed = True
                self._invalidate_token(headers)
                continue
            if status in RETRY_STATUSES:
                if status == 429:
                    self.stats["rate_limited"] += 1
                if idempotent and attempt < self.max_retries:
                    attempt += 1
                    response.close()
                    self._backoff(attempt, _retry_after(response), operation)
                    continue
            raise self._error(response, operation)

    def _backoff(self, attempt: int, retry_after: float | None, operation: str) -> None:
        self.stats["retries"] += 1
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        delay = random.uniform(delay / 2, delay)  # noqa: S311 - jitter, not security
        if retry_after is not None:
            # Didit's hint wins over our backoff, within reason.
            delay = max(delay, min(retry_after, self.max_retry_after))
        logger.info("Didit %s: retry %d in %.1fs", operation, attempt, delay)
        self._sleep(delay)

    def _error(self, response: requests.Response, operation: str) -> DiditError:
        status = response.status_code
        detail, errors = self._detail(response)
        response.close()
        if status == 401:
            return DiditAuthError(detail, status=status, operation=operation)
        if status == 403:
            return DiditForbidden(detail, status=status, operation=operation)
        if status == 404:
            return DiditNotFound(detail, status=status, operation=operation)
        if status == 429:
            return DiditRateLimited(detail, operation=operation, retry_after=_retry_after(response))
        if 300 <= status < 400:
            return DiditBadResponse(
                "unexpected redirect (is the URL missing its trailing slash?)",
                status=status,
                operation=operation,
            )
        if status >= 500:
            return DiditUnavailable(detail, status=status, operation=operation)
        return DiditRequestError(detail, status=status, operation=operation, errors=errors)

    def _detail(self, response: requests.Response) -> tuple[str, dict]:
        """The API's own words (``detail``, ``error`` or field errors), without our secrets."""
        try:
            data = response.json()
        except ValueError:
            return response.reason or "no detail", {}
        errors: dict = {}
        if isinstance(data, dict):
            detail = data.get("detail") or data.get("error") or data.get("message")
            if not detail:
                errors = {str(k): v for k, v in data.items()}
                detail = "; ".join(f"{key}: {_flatten(value)}" for key, value in errors.items())
        else:
            detail = _flatten(data)
        return self._scrub(str(detail or response.reason or "no detail"))[:MAX_DETAIL], errors

    def _scrub(self, text: str) -> str:
        for secret in (self._api_key, self._client_secret, self._token):
            if secret:
                text = text.replace(secret, "***")
        return text

    # --- Auth ---------------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        if self._api_key:
            return {"x-api-key": self._api_key}
        if self.auth_mode == "oauth":
            return {"Authorization": f"Bearer {self._bearer_token()}"}
        raise DiditConfigError(
            "no Didit credentials: set DIDIT_API_KEY, or DIDIT_CLIENT_ID and DIDIT_CLIENT_SECRET"
        )

    def _bearer_token(self) -> str:
        with self._token_lock:
            if self._token is None or self._clock() >= self._token_expires:
                self._fetch_token()
            assert self._token is not None
            return self._token

    def _invalidate_token(self, used: Mapping[str, str]) -> None:
        with self._token_lock:
            # Another thread may already have refreshed it; only drop the one that failed.
            if used.get("Authorization") == f"Bearer {self._token}":
                self._token = None

    def _fetch_token(self) -> None:
        credentials = f"{self._client_id}:{self._client_secret}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(credentials).decode("ascii")}
        self.stats["token"] += 1
        try:
            response = self._http.post(
                urljoin(self.auth_url, "auth/v2/token/"),
                data={"grant_type": "client_credentials"},
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException:
            raise DiditUnavailable("auth server unreachable", operation="token") from None
        if response.status_code in (400, 401, 403):
            detail, _ = self._detail(response)
            raise DiditAuthError(detail, status=response.status_code, operation="token")
        if response.status_code != 200:
            raise self._error(response, "token")
        try:
            data = response.json()
            token = data["access_token"]
            expires_in = float(data.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise DiditBadResponse(
                "token response without access_token", operation="token"
            ) from None
        if not isinstance(token, str) or not token:
            raise DiditBadResponse("token response without access_token", operation="token")
        # Renew a little before Didit's expiry: a tenth of the lifetime, at most a minute.
        self._token = token
        self._token_expires = self._clock() + expires_in - min(60.0, expires_in / 10)


def _session_filters(
    *,
    vendor_data: str | None = None,
    status: str | list[str] | tuple[str, ...] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    search: str | None = None,
    workflow_id: str | None = None,
    country: str | None = None,
) -> dict[str, Any]:
    if isinstance(status, (list, tuple)):
        status = ",".join(status)
    params = {
        "vendor_data": vendor_data,
        "status": status,
        "date_from": date_from,
        "date_to": date_to,
        "search": search,
        "workflow_id": workflow_id,
        "country": country,
    }
    return {key: value for key, value in params.items() if value not in (None, "")}


def _segment(value: str) -> str:
    """A path segment from an id; refuses anything that could change the path."""
    text = str(value)
    if not text or "/" in text or "?" in text or "#" in text or text in (".", ".."):
        raise ValueError("not a valid Didit identifier")
    return requests.utils.quote(text, safe="@:+-._~")


def _network_failure(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "Didit timed out"
    if isinstance(exc, requests.ConnectionError):
        return "Didit connection failed"
    # ChunkedEncodingError and the like: the connection broke mid-body.
    return f"Didit's response was cut short ({type(exc).__name__})"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _flatten(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(_flatten(item) for item in value)
    return str(value)


_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


def _filename(disposition: str) -> str | None:
    match = _FILENAME.search(disposition)
    if not match:
        return None
    # Only the last path component, and only characters safe in a download header.
    name = re.sub(r"[^A-Za-z0-9._-]", "_", match.group(1).strip().split("/")[-1])
    return name or None
