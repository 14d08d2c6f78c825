"""The queue's per-status counts: the whole table's are reused for a while, filtered exact."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devtools.seeding import seed_sessions
from verifications.models import VerificationSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached_counts(settings):
    settings.QUEUE_COUNTS_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def counts(response) -> dict[str, int]:
    return {status: count for status, count, _ in response.context["counts"]}


def test_whole_table_counts_are_reused_and_filtered_counts_stay_exact(cached_counts, viewer_client):
    seed_sessions(sessions=30, seed=4)
    first = counts(viewer_client.get("/sessions/", secure=True))
    VerificationSession.objects.filter(status="Approved").update(status="Declined")

    with CaptureQueriesContext(connection) as captured:
        again = counts(viewer_client.get("/sessions/?status=Approved", secure=True))
    grouped = [q["sql"] for q in captured if "GROUP BY" in q["sql"]]
    filtered = counts(viewer_client.get("/sessions/?aml=no", secure=True))

    assert again == first and not grouped
    assert sum(first.values()) == 30
    assert "Approved" not in filtered


def test_counts_are_computed_each_time_when_the_cache_is_off(settings, viewer_client):
    settings.QUEUE_COUNTS_CACHE_SECONDS = 0
    seed_sessions(sessions=10, seed=4)
    viewer_client.get("/sessions/", secure=True)
    VerificationSession.objects.update(status="Declined")

    assert counts(viewer_client.get("/sessions/", secure=True)) == {"Declined": 10}
