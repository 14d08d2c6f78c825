"""Template helpers shared by the console's pages: ``{% load console %}``."""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import slugify

from ..media import is_web_url

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


@register.filter
def web_url(url: object) -> str:
    """The URL if it is http(s), else "": Didit's data never becomes a ``javascript:`` link."""
    return url if is_web_url(url) else ""  # type: ignore[return-value]


@register.filter
def pretty_json(value: object) -> str:
    """Indented JSON for the raw-decision view (escaped by the template like any text)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


@register.filter
def score_level(score: object, scale: float = 100) -> str:
    """``high``/``medium``/``low`` for a risk score (AML), as the ``score--*`` modifier."""
    try:
        ratio = float(score) / float(scale)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return "unknown"
    return "high" if ratio >= 0.7 else "medium" if ratio >= 0.3 else "low"


@register.filter
def confidence_level(score: object, scale: float = 100) -> str:
    """The reverse of ``score_level``, for confidences (face match, liveness): high is good."""
    level = score_level(score, scale)
    return {"high": "low", "low": "high"}.get(level, level)


@register.filter
def percent(ratio: object) -> str:
    """0.885 -> "88.5%"."""
    try:
        return f"{float(ratio) * 100:.1f}%"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""


@register.filter
def as_list(value: object) -> list:
    """A value that may be a list, a scalar or missing, as a list (Didit's properties vary)."""
    if value in (None, ""):
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
