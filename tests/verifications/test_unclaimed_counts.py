"""The queue's per-status counts under the "unclaimed" filter: the whole table's counts minus
the live claims (an anti-join over every row would be the page's costliest query)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from tests.sandbox import session_row
from verifications import workflow

QUEUE = reverse("verifications:session-list")


def make(session_id: str, status: str):
    session = session_row(session_id, status=status)
    session.save()
    return session


def counts(client, **query) -> dict[str, int]:
    response = client.get(QUEUE, query)
    assert response.status_code == 200
    return {status: count for status, count, _ in response.context["counts"]}


@pytest.mark.parametrize("cache_seconds", [0, 300])
def test_unclaimed_counts_equal_the_sessions_nobody_holds(
    settings, cache_seconds, reviewer_client, reviewer
):
    settings.QUEUE_COUNTS_CACHE_SECONDS = cache_seconds
    cache.clear()
    held = [make("u-r1", "In Review"), make("u-a1", "Approved")]
    make("u-r2", "In Review")
    make("u-r3", "In Review")
    make("u-d1", "Declined")
    for session in held:
        workflow.claim_session(session=session, user=reviewer, request=None)

    assert counts(reviewer_client) == {"In Review": 3, "Approved": 1, "Declined": 1}
    # The claimed Approved session leaves no Approved count behind, not a zero.
    assert counts(reviewer_client, claim="unclaimed") == {"In Review": 2, "Declined": 1}
    # With the status selected too, the counts are the same (they ignore the status filter).
    assert counts(reviewer_client, claim="unclaimed", status="In Review") == {
        "In Review": 2,
        "Declined": 1,
    }

    # A lapsed claim no longer hides its session.
    later = timezone.now() + timedelta(minutes=settings.CLAIM_TTL_MINUTES + 1)
    with time_machine.travel(later):
        assert counts(reviewer_client, claim="unclaimed") == {
            "In Review": 3,
            "Approved": 1,
            "Declined": 1,
        }
    cache.clear()
