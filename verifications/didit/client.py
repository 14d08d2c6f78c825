"""DiditClient: the one place that speaks to Didit, one method per endpoint.

HTTP, auth, pacing, retries and errors live in ``DiditTransport`` (transport.py), which the
client composes (``client.transport``) and builds per purpose (``from_settings``). The client
never imports models: it returns Didit's JSON as dicts (decisions stay raw, so both the v1
and the v2/v3 shapes pass through untouched) and small typed results.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

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
from .pacing import RateLimiter
from .results import CreatedSession, PdfDownload
from .transport import DiditTransport

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

# Statuses Didit accepts in update-status; v3 added Resubmitted (docs/didit-api.md).
UPDATE_STATUSES = {"v1": ("Approved", "Declined"), "v2": ("Approved", "Declined")}
UPDATE_STATUSES["v3"] = ("Approved", "Declined", "Resubmitted")


# What a call may cost, by who waits for it (settings name the numbers, see .env.example).
PURPOSES = ("interactive", "batch")


class DiditClient:
    """Didit's verification API (v1, v2, v3) and its auth server, over a ``DiditTransport``.

    Keyword arguments are the transport's (hosts, credentials, timeouts, retry budget, ...).
    """

    def __init__(self, *, transport: DiditTransport | None = None, **options: Any) -> None:
        self.transport = transport or DiditTransport(**options)

    @classmethod
    def from_settings(cls, *, purpose: str = "interactive", **overrides: Any) -> DiditClient:
        """Build the client from ``DIDIT_*`` settings (see .env.example).

        ``purpose="interactive"`` (the default) is for anything a person or Didit's webhook
        waits on: at most one retry, a short ``Retry-After`` and a short read timeout.
        ``purpose="batch"`` is for ``sync_didit``: patient retries and Didit's full hints.
        """
        from django.conf import settings
        from django.core.cache import caches

        if purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {PURPOSES}, not {purpose!r}")
        if purpose == "interactive":
            budget = {
                "max_retries": settings.DIDIT_INTERACTIVE_RETRIES,
                "max_retry_after": settings.DIDIT_INTERACTIVE_MAX_RETRY_AFTER,
                "max_backoff": settings.DIDIT_INTERACTIVE_MAX_RETRY_AFTER,
                "timeout": (
                    settings.DIDIT_CONNECT_TIMEOUT,
                    settings.DIDIT_INTERACTIVE_READ_TIMEOUT,
                ),
            }
        else:
            budget = {
                "max_retries": settings.DIDIT_BATCH_RETRIES,
                "max_retry_after": settings.DIDIT_BATCH_MAX_RETRY_AFTER,
                "timeout": (settings.DIDIT_CONNECT_TIMEOUT, settings.DIDIT_READ_TIMEOUT),
            }
        options: dict[str, Any] = {
            "verification_url": settings.DIDIT_VERIFICATION_URL,
            "auth_url": settings.DIDIT_AUTH_URL,
            "api_key": settings.DIDIT_API_KEY,
            "client_id": settings.DIDIT_CLIENT_ID,
            "client_secret": settings.DIDIT_CLIENT_SECRET,
            "api_version": settings.DIDIT_API_VERSION,
            "rate_limits": settings.DIDIT_RATE_LIMITS,
            "token_cache": caches[settings.DIDIT_TOKEN_CACHE],
            **budget,
        }
        options.update(overrides)
        return cls(**options)

    @property
    def api_version(self) -> str:
        return self.transport.api_version

    @property
    def auth_mode(self) -> str:
        return self.transport.auth_mode

    @property
    def stats(self) -> Counter[str]:
        """Calls per operation, plus ``attempts``, ``retries``, ``token``, ``rate_limited``."""
        return self.transport.stats

    @property
    def limiter(self) -> RateLimiter:
        return self.transport.limiter

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
        data = self.transport.json(
            "POST", self.transport.path("session/"), operation="create", family="write", body=body
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
        data = self.transport.json(
            "GET",
            self.transport.path(f"session/{_segment(session_id)}/decision/"),
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
        nodes_to_resubmit: list[dict] | None = None,
    ) -> dict:
        """Approve or decline (v3: also resubmit). Returns Didit's confirmation.

        ``nodes_to_resubmit`` (v3, with ``Resubmitted``): the steps to redo, as
        ``[{"node_id": ..., "feature": ...}]``. Never retried: a repeated PATCH would append
        a second review.
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
            "nodes_to_resubmit": nodes_to_resubmit or None,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        data = self.transport.json(
            "PATCH",
            self.transport.path(f"session/{_segment(session_id)}/update-status/"),
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
        response = self.transport.request(
            "GET",
            self.transport.path(f"session/{_segment(session_id)}/generate-pdf/"),
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
        self.transport.request(
            "DELETE",
            self.transport.path(f"session/{_segment(session_id)}/delete/"),
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
        return self.transport.paginate(
            "v3/sessions/", params, operation="list", page_size=page_size
        )

    def count_sessions(self, **filters: Any) -> int:
        """How many sessions match (the list's ``count``), for one cheap call."""
        params = _session_filters(**filters)
        params.update(limit=1, offset=0)
        page = self.transport.json(
            "GET", "v3/sessions/", operation="list", family="read", params=params
        )
        count = page.get("count") if isinstance(page, dict) else None
        if not isinstance(count, int):
            raise DiditBadResponse("session list has no count", operation="list")
        return count

    def iter_reviews(self, session_id: str, *, page_size: int = 100) -> Iterator[dict]:
        """The session's reviews (who, new status, comment, when), oldest pages first."""
        path = f"v3/sessions/{_segment(session_id)}/reviews/"
        return self.transport.paginate(path, {}, operation="reviews", page_size=page_size)

    def add_review(self, session_id: str, *, new_status: str, comment: str = "") -> dict:
        """Add a review note to a session (v3). Not retried."""
        return self.transport.json(
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
        data = self.transport.json(
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
        data = self.transport.json(
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
        return self.transport.json(
            "PATCH",
            f"v3/session/{_segment(session_id)}/update-aml-hit-status/",
            operation="aml_hit",
            family="write",
            body=body,
        )

    def bulk_update_aml_hit_status(
        self,
        session_id: str,
        *,
        hit_ids: list[str],
        review_status: str,
        comment: str | None = None,
    ) -> dict:
        """Set several AML hits' review status at Didit in one call (v3). Not retried.

        The body lists one ``{hit_id, review_status, comment}`` item per hit: the single
        call's documented body, repeated (SPEC.md leaves the bulk body unconfirmed).
        """
        items = []
        for hit_id in hit_ids:
            item = {"hit_id": hit_id, "review_status": review_status}
            if comment is not None:
                item["comment"] = comment
            items.append(item)
        data = self.transport.json(
            "PATCH",
            f"v3/session/{_segment(session_id)}/bulk-update-aml-hit-status/",
            operation="aml_hit_bulk",
            family="write",
            body={"hits": items},
        )
        return data if isinstance(data, dict) else {}

    # --- Users --------------------------------------------------------------------------------

    def iter_users(self, *, page_size: int = 100) -> Iterator[dict]:
        """Didit's User entities (one per vendor_data)."""
        return self.transport.paginate("v3/users/", {}, operation="users", page_size=page_size)

    def get_user(self, vendor_data: str) -> dict:
        """One User entity: counts, features map, first/last session."""
        data = self.transport.json(
            "GET", f"v3/users/{_segment(vendor_data)}/", operation="user", family="read"
        )
        if not isinstance(data, dict):
            raise DiditBadResponse("user is not an object", operation="user")
        return data


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
