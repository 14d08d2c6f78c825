"""Our own exception types for everything that can go wrong talking to Didit.

Callers catch these, never ``requests.*``. Messages carry the operation, the HTTP status and
the API's ``detail`` — never a credential, a token or a request payload.
"""

from __future__ import annotations


class DiditError(Exception):
    """Base class: Didit refused, failed or could not be reached."""

    def __init__(self, detail: str, *, status: int | None = None, operation: str = "") -> None:
        self.detail = detail
        self.status = status
        self.operation = operation
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        status = f"HTTP {self.status}: " if self.status else ""
        return f"{where}{status}{self.detail}"


class DiditConfigError(DiditError):
    """The client is not configured: no API key and no client credentials."""


class DiditAuthError(DiditError):
    """401 or 403: credentials missing, wrong or expired (v3 answers 403 where v2 says 401)."""


class DiditForbidden(DiditAuthError):
    """403: Didit refuses this call; ``detail`` tells a bad key from a refused action."""


class DiditNotFound(DiditError):
    """404: no such session or user."""


class DiditRequestError(DiditError):
    """400/402/409/422: Didit refused the request as made; ``errors`` holds field errors."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        operation: str = "",
        errors: dict | None = None,
    ) -> None:
        self.errors = errors or {}
        super().__init__(detail, status=status, operation=operation)


class DiditRateLimited(DiditError):
    """429 after the retries allowed for this call; ``retry_after`` is Didit's hint (seconds)."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = 429,
        operation: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(detail, status=status, operation=operation)


class DiditUnavailable(DiditError):
    """5xx, a timeout or a broken connection: Didit is down or the network is."""


class DiditBadResponse(DiditError):
    """Didit answered, but not with what the API documents (malformed JSON, wrong type)."""
