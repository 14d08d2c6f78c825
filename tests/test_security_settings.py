"""Production settings: deploy checks, security headers, cookies, login throttling, idle expiry.

The subprocess tests load ``didit_console.settings`` the way a server does, from the
environment alone, so they see the production defaults that the test run overrides.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from .trust import world_of

ROOT = Path(__file__).resolve().parent.parent
LOGIN_URL = "/accounts/login/"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py *args`` in a fresh interpreter, with only ``env`` beyond PATH/HOME."""
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "console.example.com",
    "DIDIT_API_KEY": secrets.token_urlsafe(24),
    "DIDIT_WEBHOOK_SECRET": secrets.token_urlsafe(24),
}


# --- Deploy checks and start-up ---------------------------------------------------------------


@pytest.mark.slow
def test_deploy_check_is_clean_with_production_environment():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
def test_app_refuses_to_start_without_secret_key_when_not_in_debug():
    # Empty rather than absent: a SECRET_KEY in a local .env (./dev serve writes one) must not
    # stand in for it; the environment wins over .env.
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}

    result = manage("check", **env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.slow
def test_debug_without_secret_key_starts_with_the_development_key():
    result = manage("check", DEBUG="True")

    assert result.returncode == 0, result.stderr


# --- Headers and cookies ------------------------------------------------------------------------


@pytest.fixture
def login_page(client, db):
    return client.get(LOGIN_URL, secure=True)


def test_https_responses_carry_hsts_for_a_year_with_subdomains(login_page):
    hsts = login_page["Strict-Transport-Security"]

    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts


def test_pages_refuse_framing_sniffing_and_cross_site_referrers(login_page):
    assert login_page["X-Frame-Options"] == "DENY"
    assert login_page["X-Content-Type-Options"] == "nosniff"
    assert login_page["Referrer-Policy"] == "same-origin"


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_content_security_policy_allows_only_our_own_scripts(login_page):
    directives = csp_directives(login_page)

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["base-uri"] == ["'self'"]
    for values in directives.values():
        assert "'unsafe-inline'" not in values
        assert "'unsafe-eval'" not in values


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
SCRIPT_SRC = re.compile(r"<script[^>]*\bsrc=\"([^\"]+)\"", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def assert_no_inline_script(html: str) -> None:
    assert not INLINE_SCRIPT.search(html), "inline <script> would need 'unsafe-inline'"
    assert not EVENT_HANDLER.search(html), "inline event handlers would need 'unsafe-inline'"
    for src in SCRIPT_SRC.findall(html):
        assert src.startswith("/static/"), f"script from elsewhere: {src}"


def test_login_page_has_no_inline_script_and_serves_htmx_from_us(login_page):
    html = login_page.content.decode()

    assert_no_inline_script(html)
    assert re.search(r'<script[^>]*src="/static/django_htmx/htmx[^"]*\.js"', html)


@pytest.mark.slow
def test_console_pages_have_no_inline_script(admin_client, synced_sandbox):
    world = world_of(synced_sandbox)
    pages = [
        "/sessions/",
        f"/sessions/{world.session_id}/",
        f"/users/{world.vendor_data}/",
        "/accounts/password_change/",
        "/admin/",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert "Content-Security-Policy" in response, url
        assert_no_inline_script(response.content.decode())


def test_login_sets_secure_http_only_session_and_secure_csrf_cookies(
    client, reviewer, persona_password
):
    client.get(LOGIN_URL)
    response = client.post(LOGIN_URL, {"username": "reviewer", "password": persona_password})

    session_cookie = response.cookies["sessionid"]
    assert session_cookie["secure"]
    assert session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"
    assert client.cookies["csrftoken"]["secure"]


# --- Login throttling (django-axes) -------------------------------------------------------------


@pytest.fixture(autouse=True)
def fewer_attempts(settings):
    # Each wrong password costs a full hash; three failures prove the same as five.
    settings.AXES_FAILURE_LIMIT = 3


def attempt(client: Client, password: str, *, username: str = "reviewer", **extra):
    return client.post(LOGIN_URL, {"username": username, "password": password}, **extra)


def test_login_is_locked_after_repeated_failures_even_with_the_right_password(
    client, reviewer, persona_password, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "wrong").status_code == 200

    assert attempt(client, "wrong").status_code == 429
    locked = attempt(client, persona_password)

    assert locked.status_code == 429
    assert "too many login attempts" in locked.content.decode()
    assert SESSION_KEY not in client.session


def test_lockout_is_per_username_and_ip(client, reviewer, viewer, persona_password, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong")

    other_user = attempt(Client(), persona_password, username="viewer")
    other_ip = attempt(Client(REMOTE_ADDR="10.0.0.9"), persona_password)

    assert other_user.status_code == 302
    assert other_ip.status_code == 302


def test_a_forwarded_for_header_does_not_escape_the_lockout(client, reviewer, settings):
    # The IP is the peer's; a client-chosen X-Forwarded-For must not reset the count.
    for number in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong", headers={"X-Forwarded-For": f"198.51.100.{number}"})

    response = attempt(client, "wrong", headers={"X-Forwarded-For": "203.0.113.7"})

    assert response.status_code == 429


def test_lockout_ends_after_the_cool_off(client, reviewer, persona_password, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong")

    later = timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    with time_machine.travel(later):
        response = attempt(client, persona_password)

    assert response.status_code == 302


def test_a_successful_login_resets_the_failure_count(client, reviewer, persona_password, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "wrong")

    assert attempt(client, persona_password).status_code == 302
    assert not AccessAttempt.objects.exists()


def test_admin_login_is_throttled_too(client, admin, persona_password, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "admin", "password": "wrong"})

    response = client.post("/admin/login/", {"username": "admin", "password": persona_password})

    assert response.status_code == 429


# --- Idle sessions ------------------------------------------------------------------------------


def test_session_expires_after_the_configured_inactivity(reviewer_client, settings):
    settings.SESSION_COOKIE_AGE = 600
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert reviewer_client.get("/sessions/").status_code == 200

    with time_machine.travel(start + timedelta(seconds=601), tick=False):
        response = reviewer_client.get("/sessions/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_activity_keeps_a_session_alive_past_its_age(reviewer_client, settings):
    settings.SESSION_COOKIE_AGE = 600
    start = timezone.now()
    for minutes in (0, 8, 16, 24):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert reviewer_client.get("/sessions/").status_code == 200
