"""The HTTP underneath DiditClient: auth, pacing, retries, pages, and errors.

Every call passes through ``DiditTransport.request()``: pacing per endpoint family, a
timeout, the auth header (``x-api-key`` or a Bearer token from the OAuth client-credentials
flow), retries for idempotent calls, and translation of every failure into our own
``DiditError`` types. ``DiditClient`` (client.py) composes one and adds Didit's endpoints.

There is exactly one retry loop, in ``request()``: a failed connection, a retryable status
and a garbled JSON body each spend one attempt of the same budget (``max_retries``), so one
call makes at most ``max_retries + 1`` HTTP attempts (plus one after a token refresh).
A ``Retry-After`` longer than ``max_retry_after`` ends the call at once: waiting less than
Didit asked would only earn another 429, and a person should not wait longer.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
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

# The client's logger name, as before the split: log configuration and filters keep working.
logger = logging.getLogger("verifications.didit.client")

USER_AGENT = "DiditConsole/0.1 (+https://github.com/didit-console)"
API_VERSIONS = ("v1", "v2", "v3")
# Retried for idempotent calls only. 500 is included because Didit's 500s on reads are
# transient in practice, and a read repeated is harmless.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Methods whose repetition is harmless: only these are retried.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
MAX_DETAIL = 500


class DiditTransport:
    """Didit's hosts, credentials, pacing and retries; one ``requests`` session, thread-safe
    token renewal, and ``stats`` of what was sent."""

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
        token_cache: Any = None,
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
        # A Django cache (get/set/delete), shared by processes, keeps the OAuth token; without
        # one the token lives as long as this transport.
        self._token_cache = token_cache
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()
        self.stats: Counter[str] = Counter()

    @property
    def auth_mode(self) -> str:
        if self._api_key:
            return "api_key"
        if self._client_id and self._client_secret:
            return "oauth"
        return "none"

    def path(self, tail: str) -> str:
        return f"{self.api_version}/{tail}"

    def paginate(
        self, path: str, params: dict[str, Any], *, operation: str, page_size: int
    ) -> Iterator[dict]:
        url: str | None = path
        query: dict[str, Any] | None = {**params, "limit": page_size, "offset": 0}
        while url:
            page = self.json("GET", url, operation=operation, family="read", params=query)
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

    def json(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        family: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """One API call whose answer is JSON; a garbled body is retried like a 503 (reads)."""
        return self.request(
            method, path, operation=operation, family=family, params=params, body=body, parse=True
        )

    def request(
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
        parse: bool = False,
    ) -> Any:
        """Send one API call with pacing, auth, timeout, retries and error translation.

        Returns the response, or its JSON when ``parse``. The only retry loop of the client.
        """
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = urljoin(self.verification_url, path)
        refreshed = False
        attempt = 0
        self.stats[operation] += 1
        while True:
            headers = self._auth_headers()
            retry_after: float | None = None
            self.stats["attempts"] += 1
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
                failure: DiditError = DiditUnavailable(_network_failure(exc), operation=operation)
            else:
                status = response.status_code
                logger.debug("%s %s -> %s", method, urlsplit(url).path, status)
                if status < 300 and not parse:
                    return response
                if status < 300:
                    try:
                        return response.json()
                    except (ValueError, RecursionError):
                        # A truncated or garbled body: for a read, asking again is safe.
                        self.stats["malformed"] += 1
                        failure = DiditBadResponse(
                            "malformed JSON in the response", status=status, operation=operation
                        )
                elif status == 401 and self.auth_mode == "oauth" and not refreshed:
                    # The token expired or was revoked early: fetch a new one, try once more.
                    response.close()
                    refreshed = True
                    self._invalidate_token(headers)
                    continue
                elif status in RETRY_STATUSES:
                    if status == 429:
                        self.stats["rate_limited"] += 1
                    retry_after = _retry_after(response)
                    failure = self._error(response, operation)
                else:
                    raise self._error(response, operation)
            if not idempotent or attempt >= self.max_retries:
                raise failure
            if retry_after is not None and retry_after > self.max_retry_after:
                # Didit asks for a longer wait than this budget allows: fail now, not later.
                raise failure
            attempt += 1
            self._backoff(attempt, retry_after, operation)

    def _backoff(self, attempt: int, retry_after: float | None, operation: str) -> None:
        self.stats["retries"] += 1
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        delay = random.uniform(delay / 2, delay)  # noqa: S311 - jitter, not security
        if retry_after is not None:
            # Didit's hint wins over our backoff (request() refused hints beyond the budget).
            delay = max(delay, retry_after)
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
            expired = self._token is None or self._clock() >= self._token_expires
            if expired and not self._cached_token():
                self._fetch_token()
            assert self._token is not None
            return self._token

    @property
    def _token_key(self) -> str:
        """The cache key: per auth server and client id, never containing the secret."""
        who = f"{self.auth_url}|{self._client_id}".encode()
        return "didit-token:" + hashlib.sha256(who).hexdigest()[:32]

    def _cached_token(self) -> bool:
        """Adopt a token another request or process fetched, if it is still good."""
        if self._token_cache is None:
            return False
        try:
            cached = self._token_cache.get(self._token_key)
        except Exception:  # noqa: BLE001 - a cache outage costs a token fetch, nothing more
            logger.warning("Didit token cache unavailable; fetching a token")
            return False
        if not isinstance(cached, dict) or not isinstance(cached.get("token"), str):
            return False
        remaining = float(cached.get("renew_at", 0)) - time.time()
        if remaining <= 0:
            return False
        self._token = cached["token"]
        self._token_expires = self._clock() + remaining
        return True

    def _invalidate_token(self, used: Mapping[str, str]) -> None:
        with self._token_lock:
            # Another thread may already have refreshed it; only drop the one that failed.
            if used.get("Authorization") == f"Bearer {self._token}":
                self._token = None
                if self._token_cache is not None:
                    try:
                        self._token_cache.delete(self._token_key)
                    except Exception:  # noqa: BLE001 - see _cached_token
                        logger.warning("Didit token cache unavailable; token not dropped")

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
        lifetime = max(0.0, expires_in - min(60.0, expires_in / 10))
        self._token = token
        self._token_expires = self._clock() + lifetime
        if self._token_cache is not None and lifetime >= 1:
            try:
                self._token_cache.set(
                    self._token_key,
                    {"token": token, "renew_at": time.time() + lifetime},
                    timeout=int(lifetime),
                )
            except Exception:  # noqa: BLE001 - see _cached_token
                logger.warning("Didit token cache unavailable; token kept in this process")


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
