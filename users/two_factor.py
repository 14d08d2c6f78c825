"""Two-factor sign-in: a TOTP authenticator app, with single-use recovery codes.

django-otp keeps the devices; this module decides what a person has, checks a code and ties
the second step into django-axes, so that login throttling spans both steps: a wrong code
counts as a failed login for that username and IP, a locked-out pair cannot finish the second
step either, and the failure count is reset only once both factors have passed.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

# The TOTP device being enrolled (unconfirmed until its first code is right).
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def is_required() -> bool:
    return settings.REQUIRE_2FA


def is_enrolled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_app_device(user) -> TOTPDevice:
    """The unconfirmed TOTP device shown at enrolment; the same one until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def is_locked_out(request: HttpRequest, user) -> bool:
    return AxesProxyHandler.is_locked(request, credentials=_credentials(user))


def confirm_enrolment(request: HttpRequest, *, code: str) -> list[str] | None:
    """Confirm the pending TOTP device with its first code; returns fresh recovery codes.

    ``None`` when the code is wrong (counted as a failed login).
    """
    user = request.user
    device = pending_app_device(user)
    if not device.verify_token(_digits(code)):
        _count_failure(request, user)
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _issue_recovery_codes(user)
    _signed_in(request, device)
    return codes


def verify(request: HttpRequest, *, code: str) -> bool:
    """Check a TOTP code or a recovery code (used up) and mark the session as verified."""
    user = request.user
    code = code.strip()
    device = None
    app = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if app is not None and _digits(code).isdigit() and app.verify_token(_digits(code)):
        device = app
    else:
        recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
        if recovery is not None and recovery.verify_token(code.lower().replace("-", "")):
            device = recovery
    if device is None:
        _count_failure(request, user)
        return False
    _signed_in(request, device)
    return True


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _issue_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _signed_in(request: HttpRequest, device) -> None:
    otp_login(request, device)
    # Both factors passed: only now forget this username's failed attempts from this IP.
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.reset_attempts(
        username=request.user.get_username(), ip_address=request.axes_ip_address
    )


def _count_failure(request: HttpRequest, user) -> None:
    # django-axes listens to this signal: the wrong code counts like a wrong password, and the
    # AxesMiddleware answers 429 once the username+IP pair is locked out.
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)


def _credentials(user) -> dict[str, str]:
    return {"username": user.get_username()}


def _digits(code: str) -> str:
    return code.replace(" ", "").strip()
