"""The second step of signing in, and enrolment in it on the first login.

Reached after the password step (``RequireTwoFactorMiddleware`` sends every other page here
until the session is verified). The enrolment QR is an SVG rendered on the server and shown
as a ``data:`` image: no script, so the CSP stays strict.
"""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods

from . import two_factor
from .forms import TwoFactorCodeForm


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not two_factor.is_enrolled(request.user):
        return redirect(_with_next("two-factor-setup", request))
    if locked := _locked_out(request):
        return locked
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify(request, code=form.cleaned_data["code"]):
            return redirect(_next_url(request))
        if locked := _locked_out(request):
            return locked
        form.add_error("code", "That code is not right. Try the current code from your app.")
    context = {"form": form, "next": _next_url(request)}
    return render(request, "registration/two_factor_verify.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    # Enrolment replaces nothing: once enrolled, a password alone never reaches this page again.
    if two_factor.is_enrolled(request.user):
        return redirect(_with_next("two-factor", request))
    if locked := _locked_out(request):
        return locked
    device = two_factor.pending_app_device(request.user)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_enrolment(request, code=form.cleaned_data["code"])
        if codes is not None:
            context = {"recovery_codes": codes, "next": _next_url(request)}
            return render(request, "registration/two_factor_recovery_codes.html", context)
        if locked := _locked_out(request):
            return locked
        form.add_error("code", "That code is not right. Check the app's clock and try again.")
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "qr_data_uri": qr.svg_data_uri(scale=5, border=2),
        "secret": _grouped(b32encode(device.bin_key).decode()),
        "next": _next_url(request),
    }
    return render(request, "registration/two_factor_setup.html", context)


def _locked_out(request: HttpRequest) -> HttpResponse | None:
    """Log a locked-out username+IP out; django-axes' middleware then answers 429."""
    if not two_factor.is_locked_out(request, request.user):
        return None
    credentials = {"username": request.user.get_username()}
    logout(request)
    request.axes_locked_out = True
    request.axes_credentials = credentials
    return HttpResponse("Too many failed sign-in attempts.", status=429)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _with_next(url_name: str, request: HttpRequest) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': _next_url(request)})}"


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
