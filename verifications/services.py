"""Reviewer writes and every Didit call a person waits for (AML hits: services_aml.py).

AML-hit dispositions, one-time form tokens (a decision's own path is ``decisions.py``);
fresh media URLs and Didit's PDF for the pages; the one message a person is told when Didit
refuses or fails. Each write is atomic and audited. Views reach Didit through this module
and ``decisions.py`` only (an import-linter contract in pyproject.toml).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from . import audit
from .didit.client import DiditClient, PdfDownload
from .didit.errors import (
    DiditAuthError,
    DiditError,
    DiditForbidden,
    DiditNotFound,
    DiditRateLimited,
    DiditRequestError,
)
from .media import media_expiring
from .models import (
    AuditAction,
    UsedFormToken,
    VerificationSession,
)
from .sync import DecisionError, resync_session

logger = logging.getLogger(__name__)

FORM_TOKEN_SALT = "verifications.form-token"  # noqa: S105 - a signing namespace
# Long enough for a reviewer who leaves a page open over lunch.
FORM_TOKEN_MAX_AGE = 12 * 60 * 60


class FormTokenError(Exception):
    """The form's one-time token is invalid, expired or already used; ``str()`` says which."""


class FormAlreadySubmitted(FormTokenError):
    pass


def issue_form_token(*, user: Any, purpose: str, state: dict | None = None) -> str:
    """A signed one-time token for one form, bound to the user and what the form does;
    ``state`` is what the page showed (see ``page_state``), read back by ``read_form_token``."""
    payload = {"u": user.pk, "p": purpose, "n": secrets.token_urlsafe(12)}
    if state is not None:
        payload["s"] = state
    return signing.dumps(payload, salt=FORM_TOKEN_SALT)


def read_form_token(token: str, *, user: Any, purpose: str) -> dict | None:
    """Check a token without using it; the page state it carries (or ``None``)."""
    try:
        data = signing.loads(token, salt=FORM_TOKEN_SALT, max_age=FORM_TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise FormTokenError("This form has expired. Reload the page and try again.") from None
    if not isinstance(data, dict) or data.get("u") != user.pk or data.get("p") != purpose:
        raise FormTokenError("This form does not belong here. Reload the page and try again.")
    if UsedFormToken.objects.filter(token=_digest(token)).exists():
        raise FormAlreadySubmitted("This form was already submitted; it was not sent again.")
    state = data.get("s")
    return state if isinstance(state, dict) else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def consume_form_token(token: str, *, user: Any, purpose: str) -> dict | None:
    """Use a token once: raises ``FormAlreadySubmitted`` the second time, whatever the timing.
    Returns the page state the token carries.

    The insert commits on its own, before the caller talks to Didit, so a concurrent second
    submission waits on (PostgreSQL) or fails at (SQLite) the unique constraint.
    """
    state = read_form_token(token, user=user, purpose=purpose)
    digest = _digest(token)
    try:
        with transaction.atomic():
            UsedFormToken.objects.create(token=digest)
    except IntegrityError:
        raise FormAlreadySubmitted(
            "This form was already submitted; it was not sent again."
        ) from None
    purge_used_form_tokens()
    return state


def purge_used_form_tokens() -> int:
    """Forget tokens used longer ago than a token lives: their signature has expired, so
    they can no longer be submitted, once or twice. An index range; usually deletes 0 rows."""
    cutoff = timezone.now() - timedelta(seconds=FORM_TOKEN_MAX_AGE)
    deleted, _ = UsedFormToken.objects.filter(used_at__lt=cutoff).delete()
    return deleted


# --- Didit calls a person waits for ---------------------------------------------------------


def didit_client() -> DiditClient:
    """The client for a Didit call someone is waiting on (a page, an admin action): the
    interactive budget, one retry at most and no long Retry-After waits. A seam for tests,
    which replace it with one on a sandbox or a dead port."""
    return DiditClient.from_settings(purpose="interactive")


@dataclass
class MediaRefresh:
    """Which sessions got fresh media URLs, and which Didit could not refresh."""

    refreshed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def refresh_expiring_media(
    sessions: Iterable[VerificationSession], *, client: DiditClient | None = None
) -> MediaRefresh:
    """Re-sync the sessions whose presigned image URLs have expired (or are about to), so a
    page or a report can show their images. Didit being unreachable is not an error here: the
    caller shows what we have, and ``failed`` says which could not be refreshed. Without a
    ``client``, a person is waiting: ``didit_client()``."""
    outcome = MediaRefresh()
    for session in sessions:
        if not media_expiring(session):
            continue
        try:
            client = client or didit_client()
            resync_session(client, session.session_id, refresh_media=True)
        except (DiditError, DecisionError) as error:
            logger.warning("Could not refresh a session's media: %s", type(error).__name__)
            outcome.failed.append(session.session_id)
        else:
            outcome.refreshed.append(session.session_id)
    return outcome


def open_didit_pdf(
    *, session_id: str, request: HttpRequest | None, client: DiditClient | None = None
) -> PdfDownload:
    """Start streaming Didit's own PDF report of a session, audited once Didit has answered.

    Raises ``DiditError`` (nothing recorded) when Didit refuses or cannot be reached;
    ``didit_error_message`` says why to the person who asked.
    """
    download = (client or didit_client()).download_pdf(session_id)
    audit.record(
        request,
        action=AuditAction.DIDIT_PDF,
        object_type="session",
        object_id=session_id,
        detail={"filename": download.filename},
    )
    return download


# Didit's 403 on generate-pdf means the session is not finished (docs/didit-api.md, "PDF").
PDF_NOT_AVAILABLE = (
    "Didit has no PDF report for this session: it is only available once the session "
    "is Approved, Declined, In Review or Kyc Expired."
)


def didit_error_message(
    error: DiditError, *, doing: str, unchanged: str = "nothing was changed"
) -> str:
    """What a person is told when Didit refused or failed to ``doing`` ("change the status"):
    whether to try again, and that ``unchanged`` ("no session was created")."""
    if isinstance(error, DiditForbidden) and error.operation == "pdf":
        return PDF_NOT_AVAILABLE
    if isinstance(error, DiditRateLimited):
        return (
            f"Didit is rate-limiting requests, so it could not {doing}; {unchanged}. "
            "Try again in a minute."
        )
    if isinstance(error, DiditNotFound):
        return f"Didit no longer has this session, so it could not {doing}; {unchanged}."
    if isinstance(error, DiditAuthError) and not isinstance(error, DiditForbidden):
        return (
            f"Didit did not accept the console's credentials, so it could not {doing}; {unchanged}."
        )
    if isinstance(error, (DiditRequestError, DiditForbidden)) and error.detail:
        return f"Didit refused to {doing}: {error.detail} {unchanged[:1].upper()}{unchanged[1:]}."
    return f"Didit could not be reached to {doing}; {unchanged}. Try again in a moment."
