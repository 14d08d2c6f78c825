"""Request hygiene that no single view should have to remember."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest


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
