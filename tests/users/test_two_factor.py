"""Two-factor sign-in (REQUIRE_2FA): enrolment on first login, a code, throttling, recovery."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from users import two_factor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.REQUIRE_2FA = True
    settings.AXES_RESET_ON_SUCCESS = False


def password_step(client, user, password):
    response = client.post("/accounts/login/", {"username": user.username, "password": password})
    assert response.status_code == 302, response.content
    return response


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def test_a_password_alone_opens_nothing_but_the_second_step(client, reviewer, persona_password):
    enrolled(reviewer)
    password_step(client, reviewer, persona_password)
    for path in ("/sessions/", "/users/someone/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/2fa/?next=")
    page = client.get("/accounts/2fa/?next=/sessions/")
    assert page.status_code == 200
    assert b'autocomplete="one-time-code"' in page.content


def test_first_login_enrols_with_a_qr_code_then_shows_recovery_codes(
    client, reviewer, persona_password
):
    password_step(client, reviewer, persona_password)
    response = client.get("/accounts/2fa/?next=/sessions/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/setup/?next=%2Fsessions%2F"
    setup = client.get(response["Location"])
    assert setup.status_code == 200
    # The QR is an SVG drawn on the server, shown as an image: no script, no inline style.
    assert b'src="data:image/svg+xml' in setup.content
    assert b"<script>" not in setup.content
    device = TOTPDevice.objects.get(user=reviewer)
    assert device.confirmed is False

    done = client.post("/accounts/2fa/setup/", {"code": current_code(device), "next": "/sessions/"})
    assert done.status_code == 200
    codes = done.context["recovery_codes"]
    assert len(codes) == 10
    assert all(code.encode() in done.content for code in codes)
    device.refresh_from_db()
    assert device.confirmed is True
    assert two_factor.recovery_codes_left(reviewer) == 10
    assert client.get("/sessions/").status_code == 200


def test_enrolment_cannot_replace_an_enrolled_app(client, reviewer, persona_password):
    device = enrolled(reviewer)
    password_step(client, reviewer, persona_password)
    response = client.get("/accounts/2fa/setup/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/?")
    assert list(TOTPDevice.objects.filter(user=reviewer)) == [device]


def test_login_with_a_code_from_the_app(client, admin, persona_password):
    device = enrolled(admin)
    password_step(client, admin, persona_password)
    response = client.post("/accounts/2fa/", {"code": current_code(device), "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/sessions/").status_code == 200


def test_wrong_codes_are_throttled_like_wrong_passwords(
    client, reviewer, persona_password, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    device = enrolled(reviewer)
    password_step(client, reviewer, persona_password)
    for _ in range(2):
        response = client.post("/accounts/2fa/", {"code": "000000"})
        assert response.status_code == 200
        assert response.context["form"].errors["code"]
    locked = client.post("/accounts/2fa/", {"code": "000000"})
    assert locked.status_code == 429
    # Locked out: signed out, the right code is refused, and so is the right password.
    assert client.get("/sessions/").status_code == 302
    assert client.post("/accounts/2fa/", {"code": current_code(device)}).status_code == 302
    again = client.post(
        "/accounts/login/", {"username": reviewer.username, "password": persona_password}
    )
    assert again.status_code == 429


def test_a_right_password_does_not_wipe_the_count_of_wrong_codes(
    client, reviewer, persona_password, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    enrolled(reviewer)
    password_step(client, reviewer, persona_password)
    client.post("/accounts/2fa/", {"code": "000000"})
    client.post("/accounts/2fa/", {"code": "111111"})
    client.post("/accounts/logout/")
    password_step(client, reviewer, persona_password)
    assert client.post("/accounts/2fa/", {"code": "222222"}).status_code == 429


def test_a_recovery_code_signs_in_once(client, reviewer, persona_password):
    device = enrolled(reviewer)
    codes = two_factor._issue_recovery_codes(reviewer)
    password_step(client, reviewer, persona_password)
    response = client.post("/accounts/2fa/", {"code": codes[0].upper(), "next": "/sessions/"})
    assert response.status_code == 302
    assert response["Location"] == "/sessions/"
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    assert two_factor.recovery_codes_left(reviewer) == 9

    client.post("/accounts/logout/")
    password_step(client, reviewer, persona_password)
    reused = client.post("/accounts/2fa/", {"code": codes[0]})
    assert reused.status_code == 200
    assert reused.context["form"].errors["code"]
    assert client.get("/sessions/").status_code == 302
    assert device.user == reviewer


def test_htmx_requests_are_sent_to_the_second_step_as_a_whole_page(
    client, reviewer, persona_password
):
    enrolled(reviewer)
    password_step(client, reviewer, persona_password)
    response = client.get("/sessions/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/2fa/?next=%2Fsessions%2F"


def test_with_two_factor_off_a_password_is_enough(client, reviewer, persona_password, settings):
    settings.REQUIRE_2FA = False
    password_step(client, reviewer, persona_password)
    assert client.get("/sessions/").status_code == 200


def test_the_second_step_needs_the_first(client):
    response = client.get("/accounts/2fa/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
