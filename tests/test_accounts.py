"""Logging in and out with Django's auth views, and the redirect from the console's root."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
LOGOUT_URL = "/accounts/logout/"


def test_login_page_renders_the_username_and_password_fields(client):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    assert response.templates[0].name == "registration/login.html"
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert 'type="password"' in html


def test_login_with_username_and_password_starts_a_session(client, reviewer, persona_password):
    response = client.post(LOGIN_URL, {"username": "reviewer", "password": persona_password})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session[SESSION_KEY] == str(reviewer.pk)


def test_login_follows_a_local_next_url(client, reviewer, persona_password):
    response = client.post(
        LOGIN_URL,
        {
            "username": "reviewer",
            "password": persona_password,
            "next": "/sessions/?status=Declined",
        },
    )

    assert response["Location"] == "/sessions/?status=Declined"


def test_login_ignores_a_next_url_on_another_site(client, reviewer, persona_password):
    response = client.post(
        LOGIN_URL,
        {"username": "reviewer", "password": persona_password, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/"


def test_wrong_password_shows_an_error_and_starts_no_session(client, reviewer):
    response = client.post(LOGIN_URL, {"username": "reviewer", "password": "not-the-password"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "Please enter a correct username and password" in html
    assert SESSION_KEY not in client.session


def test_unknown_user_gets_the_same_error_as_a_wrong_password(client, db):
    response = client.post(LOGIN_URL, {"username": "nobody", "password": "whatever"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_anonymous_root_redirects_to_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_logged_in_root_redirects_to_the_queue(reviewer_client):
    response = reviewer_client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/sessions/"


def test_root_rejects_post(reviewer_client):
    assert reviewer_client.post("/").status_code == 405


def test_logout_is_post_only(reviewer_client, reviewer):
    response = reviewer_client.get(LOGOUT_URL)

    assert response.status_code == 405
    assert reviewer_client.session[SESSION_KEY] == str(reviewer.pk)


def test_logout_by_post_ends_the_session_and_redirects_to_login(reviewer_client):
    response = reviewer_client.post(LOGOUT_URL)

    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    assert SESSION_KEY not in reviewer_client.session
    assert reviewer_client.get("/")["Location"] == "/accounts/login/?next=/"


def test_logout_without_the_csrf_token_is_refused(reviewer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)

    assert client.post(LOGOUT_URL).status_code == 403
    assert client.session[SESSION_KEY] == str(reviewer.pk)


def test_password_change_requires_login(client):
    response = client.get("/accounts/password_change/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_password_change_page_renders_in_the_console_layout(reviewer_client):
    response = reviewer_client.get("/accounts/password_change/")

    assert response.status_code == 200
    assert [t.name for t in response.templates][:2] == [
        "registration/password_change_form.html",
        "base.html",
    ]


def test_password_change_with_the_old_password_keeps_the_reviewer_logged_in(
    reviewer_client, reviewer, persona_password
):
    new_password = "a-new-and-longer-passphrase-42"
    response = reviewer_client.post(
        "/accounts/password_change/",
        {
            "old_password": persona_password,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_change/done/"
    reviewer.refresh_from_db()
    assert reviewer.check_password(new_password)
    assert reviewer_client.get("/accounts/password_change/done/").status_code == 200
