"""Two-factor sign-in enforced for every page, the console's and the admin's alike."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

# The pages a signed-in person without a second factor may still reach.
EXEMPT_URL_NAMES = frozenset({"two-factor", "two-factor-setup", "login", "logout"})


class RequireTwoFactorMiddleware:
    """With ``REQUIRE_2FA``, a password alone opens nothing but the second-factor step.

    Runs after django-otp's ``OTPMiddleware`` (``request.user.is_verified()``). Anonymous
    requests are left to ``LoginRequiredMiddleware``; webhooks carry no user.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not settings.REQUIRE_2FA:
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if request.resolver_match.url_name in EXEMPT_URL_NAMES:
            return None
        target = f"{reverse('two-factor')}?{urlencode({'next': request.get_full_path()})}"
        if request.htmx:
            # htmx would swap the step into a fragment: send the whole page there instead.
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return redirect(target)
