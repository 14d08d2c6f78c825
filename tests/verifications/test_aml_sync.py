"""A hit's review status changed at Didit (someone in Didit's console) reaches the console:
by the ``data.updated`` webhook, and with webhooks off by ``sync_didit --full``."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command

from tests.sandbox import WEBHOOK_SECRET, point_settings_at, sync_all
from tests.verifications.test_aml_review import screened_session_id
from verifications.didit.client import DiditClient
from verifications.models import AmlHit, WebhookDelivery
from verifications.sync import sync_sessions

WEBHOOK_PATH = "/webhooks/didit/"


def first_hit_id(server, session_id: str) -> str:
    return server.aml_hits(session_id)[0]["id"]


def our_status(session_id: str, hit_id: str) -> str:
    return AmlHit.objects.get(session__session_id=session_id, hit_id=hit_id).review_status


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_hit_reviewed_at_didit_arrives_by_the_data_updated_webhook(
    live_server, didit_sandbox_factory, settings
):
    server = didit_sandbox_factory(
        sessions=30,
        seed=1,
        webhook_url=live_server.url + WEBHOOK_PATH,
        webhook_secret=WEBHOOK_SECRET,
    )
    point_settings_at(server, settings)
    session_id = screened_session_id(server)
    hit_id = first_hit_id(server, session_id)
    server.set_hit_review(session_id, hit_id, "Unreviewed")
    sync_sessions(DiditClient.from_settings(), full=True)
    assert our_status(session_id, hit_id) == "Unreviewed"
    delivered = len(server.webhook_deliveries)

    server.set_hit_review(session_id, hit_id, "Confirmed Match")

    deadline = time.monotonic() + 15
    while our_status(session_id, hit_id) != "Confirmed Match":
        assert time.monotonic() < deadline, f"never applied: {server.webhook_deliveries}"
        time.sleep(0.05)
    # The sandbox records the delivery once it has read our answer, just after we commit;
    # wait for it, and for our record of it, before the test's tables are emptied.
    while len(server.webhook_deliveries) == delivered and time.monotonic() < deadline:
        time.sleep(0.05)
    while WebhookDelivery.objects.filter(pending=True).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.webhook_deliveries[-1] == (live_server.url + WEBHOOK_PATH, 200)
    assert WebhookDelivery.objects.filter(session_id=session_id, outcome="updated").exists()


@pytest.mark.django_db
def test_a_hit_reviewed_at_didit_arrives_by_a_full_sync_without_webhooks(didit_sandbox, settings):
    session_id = screened_session_id(didit_sandbox)
    hit_id = first_hit_id(didit_sandbox, session_id)
    didit_sandbox.set_hit_review(session_id, hit_id, "Unreviewed")
    sync_all(didit_sandbox, settings)
    assert our_status(session_id, hit_id) == "Unreviewed"

    didit_sandbox.set_hit_review(session_id, hit_id, "False Positive")  # No webhook configured.
    call_command("sync_didit", "--full", stdout=io.StringIO(), stderr=io.StringIO())

    assert our_status(session_id, hit_id) == "False Positive"


@pytest.mark.django_db
def test_a_full_sync_after_a_decision_change_maps_every_hit_review_status(didit_sandbox, settings):
    """When the decision is fetched again, each hit's Didit review status is mapped, and a
    form made before the change is stale (its version moved)."""
    session_id = screened_session_id(didit_sandbox)
    didit_sandbox.set_aml_hit_count(session_id, 4)
    hit_ids = [hit["id"] for hit in didit_sandbox.aml_hits(session_id)]
    for hit_id in hit_ids:
        didit_sandbox.set_hit_review(session_id, hit_id, "Unreviewed")
    sync_all(didit_sandbox, settings)
    before = {hit.hit_id: hit.review_version for hit in AmlHit.objects.all()}

    didit_sandbox.set_hit_review(session_id, hit_ids[1], "Inconclusive")
    didit_sandbox.change_status(session_id, "Declined", comment="Match confirmed at Didit")
    sync_all(didit_sandbox, settings)

    statuses = {h: our_status(session_id, h) for h in hit_ids}
    assert statuses[hit_ids[1]] == "Inconclusive"
    assert [statuses[h] for h in hit_ids if h != hit_ids[1]] == ["Unreviewed"] * 3
    changed = AmlHit.objects.get(hit_id=hit_ids[1])
    assert changed.review_version == before[hit_ids[1]] + 1
