"""Template helpers shared by the console's pages: ``{% load console %}``."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import slugify

register = template.Library()

UNKNOWN_STATUS_SLUG = "unknown"


@register.filter
def status_slug(status: object) -> str:
    """Turn a Didit status into the CSS modifier of its badge: ``"Kyc Expired"`` -> ``kyc-expired``.

    Works for session, feature, AML-hit and user statuses alike. A status Didit adds later
    still gets a valid class name, styled as a neutral badge until the CSS knows it.
    """
    return slugify(str(status or "")) or UNKNOWN_STATUS_SLUG


@register.simple_tag
def status_badge(status: object) -> SafeString:
    """Render a status as a badge: ``<span class="badge badge--in-review">In Review</span>``."""
    label = str(status or "") or "Unknown"
    return format_html('<span class="badge badge--{}">{}</span>', status_slug(status), label)
