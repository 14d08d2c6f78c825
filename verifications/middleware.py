"""Request hygiene that no single view should have to remember."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.cache import patch_cache_control

from . import audit
from .models import AuditAction

# Admin pages of these models show personal data ("<app_label>_<model_name>").
PERSONAL_DATA_ADMIN_MODELS = frozenset(
    {
        "verifications_verificationsession",
        "verifications_documentdata",
        "verifications_facecheck",
        "verifications_amlscreening",
        "verifications_amlhit",
        "verifications_ipanalysis",
        "verifications_sessionwarning",
        "verifications_review",
        "users_didituser",
    }
)


class RejectNulMiddleware:
    """Answer 400 to a NUL byte in the path or query string.

    URL parameters (session_id, vendor_data) go straight into queries, and PostgreSQL refuses
    NUL in text with an error that would otherwise surface as a 500. Forms already refuse
    NUL (Django's ProhibitNullCharactersValidator); this covers the URL itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return HttpResponseBadRequest("Bad request.", content_type="text/plain")
        return self.get_response(request)


class PrivateResponseMiddleware:
    """Keep personal data out of caches, and audit refused attempts on it.

    Every page and file Django answers a signed-in person with (queue, session, user pages,
    PDFs, CSV, admin) may hold names and document numbers: ``Cache-Control: private,
    no-store`` keeps it out of shared proxies and off the browser's disk. Static files never
    reach this point (WhiteNoise answers them first, cacheable for ever).

    A 403 on a console or admin page of personal data is written to the audit log as
    ``access_denied``: who tried to see what, from where.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        patch_cache_control(response, private=True, no_store=True)
        if response.status_code == 403:
            target = _personal_data_target(request)
            if target is not None:
                object_type, object_id = target
                audit.record(
                    request,
                    action=AuditAction.ACCESS_DENIED,
                    object_type=object_type,
                    object_id=object_id,
                    detail={"method": request.method, "path": request.path},
                )
        return response


def _personal_data_target(request: HttpRequest) -> tuple[str, str] | None:
    """What a refused request was after, or ``None`` when it was not personal data."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    if "session_id" in match.kwargs:
        return "session", match.kwargs["session_id"]
    if "vendor_data" in match.kwargs:
        return "user", match.kwargs["vendor_data"]
    if match.namespace in ("verifications", "users"):
        return "page", match.url_name or ""
    if match.namespace == "admin":
        # The admin names model URLs "<app_label>_<model_name>_<view>".
        model = (match.url_name or "").rsplit("_", 1)[0]
        if model in PERSONAL_DATA_ADMIN_MODELS:
            return "admin", match.kwargs.get("object_id") or match.url_name
    return None
