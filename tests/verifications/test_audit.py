"""The audit log is append-only."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from verifications.audit import record
from verifications.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db


def test_record_takes_actor_and_ip_from_the_request(reviewer):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    request.user = reviewer
    entry = record(request, action=AuditAction.PII_VIEW, object_type="session", object_id="s-1")
    assert entry.actor == reviewer
    assert entry.actor_username == reviewer.username
    assert entry.ip_address == "203.0.113.9"


def test_an_entry_cannot_be_changed_or_deleted(reviewer):
    entry = record(None, actor=reviewer, action="pii_view", object_type="user", object_id="u-1")
    entry.object_id = "someone-else"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(object_id="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).object_id == "u-1"
