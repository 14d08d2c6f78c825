"""`manage.py demo`: the newcomer's one command, minus the long-running server."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from users.models import DiditUser
from verifications.models import VerificationSession

DEMO_SETTINGS = (
    "DIDIT_VERIFICATION_URL",
    "DIDIT_AUTH_URL",
    "DIDIT_API_KEY",
    "DIDIT_WEBHOOK_SECRET",
    "DIDIT_RATE_LIMITS",
)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_demo_starts_a_sandbox_syncs_it_and_prints_working_credentials(settings, monkeypatch):
    # The demo points settings and the environment at its sandbox; restore both afterwards.
    for name in DEMO_SETTINGS:
        setattr(settings, name, getattr(settings, name))
        monkeypatch.setenv(name, "")
    out = io.StringIO()
    call_command("demo", "--no-serve", "--sessions", "25", stdout=out)
    text = out.getvalue()
    assert "sync_didit: 25 listed, 25 fetched, 25 created" in text
    assert VerificationSession.objects.count() == 25
    assert DiditUser.objects.exists()
    credentials = {
        line.split()[0]: line.split()[1] for line in text.splitlines() if "-demo-" in line
    }
    assert set(credentials) == {"reviewer", "viewer", "admin"}
    reviewer = get_user_model().objects.get(username="reviewer")
    assert reviewer.check_password(credentials["reviewer"])
    assert list(reviewer.groups.values_list("name", flat=True)) == ["reviewer"]
    assert get_user_model().objects.get(username="admin").is_superuser
