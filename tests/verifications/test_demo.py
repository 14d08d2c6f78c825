"""`manage.py demo`: the newcomer's one command, minus the long-running server."""

from __future__ import annotations

import io
import os

import pytest
from django.conf import settings
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
def test_demo_starts_a_sandbox_syncs_it_and_prints_working_credentials():
    before = {name: (getattr(settings, name), os.environ.get(name)) for name in DEMO_SETTINGS}
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
    # The sandbox reaches the console's server through its environment, never by changing
    # this process's settings or environment.
    assert {name: (getattr(settings, name), os.environ.get(name)) for name in DEMO_SETTINGS} == (
        before
    )


def test_the_demo_server_is_told_the_sandbox_through_its_environment():
    from devtools.management.commands.demo import sandbox_environment

    environment = sandbox_environment("http://127.0.0.1:9999", "s3cret")

    assert environment["DIDIT_VERIFICATION_URL"] == "http://127.0.0.1:9999"
    assert environment["DIDIT_AUTH_URL"] == "http://127.0.0.1:9999"
    assert environment["DIDIT_API_KEY"] == "sandbox-api-key"
    assert environment["DIDIT_WEBHOOK_SECRET"] == "s3cret"
    assert set(DEMO_SETTINGS) <= set(environment)
