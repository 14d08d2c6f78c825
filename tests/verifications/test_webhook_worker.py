"""With the database task backend, a webhook's re-fetch waits for ``manage.py db_worker``."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import TestCase

from tests.sandbox import fast_client, point_settings_at
from tests.verifications.test_webhook_endpoint import URL, delivery
from verifications.models import VerificationSession, WebhookDelivery
from verifications.sync import sync_sessions


@pytest.mark.django_db(transaction=True)
def test_a_delivery_is_queued_in_the_database_and_the_worker_applies_it(
    client, didit_sandbox, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    point_settings_at(didit_sandbox, settings)
    sync_sessions(fast_client(didit_sandbox), full=True)
    session_id = next(
        s for s in didit_sandbox.session_ids() if didit_sandbox.decision(s)["status"] == "In Review"
    )
    didit_sandbox.change_status(session_id, "Declined", comment="by the worker")
    before = didit_sandbox.calls["decision"]
    body, headers = delivery(session_id, "Declined")

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.json()["outcome"] == "accepted"
    # Acknowledged without calling Didit: the re-fetch waits in the task table.
    assert didit_sandbox.calls["decision"] == before
    assert WebhookDelivery.objects.get().pending

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO())

    stored = WebhookDelivery.objects.get()
    assert (stored.pending, stored.outcome) == (False, "updated")
    assert didit_sandbox.calls["decision"] == before + 1
    assert VerificationSession.objects.get(session_id=session_id).status == "Declined"


@pytest.mark.django_db(transaction=True)
def test_when_didit_is_down_the_worker_queues_the_re_fetch_again_for_later(
    client, didit_sandbox, settings, monkeypatch
):
    from django_tasks_db.models import DBTaskResult

    from verifications import tasks

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    point_settings_at(didit_sandbox, settings)
    session_id = didit_sandbox.session_ids()[0]
    monkeypatch.setattr(
        tasks, "didit_client", lambda: fast_client(didit_sandbox, max_retries=0, api_key="bad")
    )
    body, headers = delivery(session_id, "Declined")
    client.post(URL, data=body, content_type="application/json", headers=headers)

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO())

    stored = WebhookDelivery.objects.get()
    assert (stored.pending, stored.attempts, stored.outcome) == (True, 1, "processing")
    later = DBTaskResult.objects.get(status="READY")
    assert later.args_kwargs["args"] == [stored.pk]
    assert later.run_after > stored.claimed_at
