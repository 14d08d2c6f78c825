"""The services views reach Didit through: one message for Didit's errors, media refresh."""

from __future__ import annotations

import pytest

from tests.factories import SessionFactory
from verifications.didit.errors import (
    DiditAuthError,
    DiditBadResponse,
    DiditForbidden,
    DiditNotFound,
    DiditRateLimited,
    DiditRequestError,
    DiditUnavailable,
)
from verifications.models import VerificationSession
from verifications.services import didit_error_message, refresh_expiring_media


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (DiditUnavailable("down", status=503), "could not be reached to change the status"),
        (DiditBadResponse("junk", status=200), "could not be reached to change the status"),
        (DiditRateLimited("slow down"), "rate-limiting"),
        (DiditNotFound("Not found.", status=404), "no longer has this session"),
        (DiditAuthError("bad key", status=401), "credentials"),
        (
            DiditRequestError("Cannot change the status.", status=400),
            "Didit refused to change the status: Cannot change the status.",
        ),
        (DiditForbidden("Not allowed now.", status=403), "Didit refused to change the status"),
    ],
)
def test_one_message_for_every_didit_error_says_what_happened(error, expected):
    message = didit_error_message(error, doing="change the status")

    assert expected in message
    assert "nothing was changed" in message.lower()


def test_the_message_says_what_was_not_done():
    message = didit_error_message(
        DiditUnavailable("down", status=502),
        doing="create the session",
        unchanged="no session was created",
    )

    assert message.startswith("Didit could not be reached to create the session")
    assert "no session was created" in message


def test_a_refused_pdf_says_when_didit_has_one():
    error = DiditForbidden("only for finished sessions", status=403, operation="pdf")

    message = didit_error_message(error, doing="produce its PDF report")

    assert "only available once the session is Approved, Declined, In Review" in message


def test_no_secret_or_payload_reaches_the_message():
    error = DiditUnavailable("connection to https://key:s3cret@example failed", status=None)

    assert "s3cret" not in didit_error_message(error, doing="refresh")


@pytest.mark.django_db
def test_sessions_without_expiring_media_cost_no_call_to_didit(settings, django_assert_num_queries):
    settings.DIDIT_VERIFICATION_URL = "http://127.0.0.1:9"  # Nothing listens: a call would fail.
    SessionFactory.create_batch(2)
    sessions = list(VerificationSession.objects.select_related("document", "face"))

    with django_assert_num_queries(0):
        outcome = refresh_expiring_media(sessions)

    assert (outcome.refreshed, outcome.failed) == ([], [])
