"""Template helpers shared by the console's pages: ``{% load console %}``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote

from django import template
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
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
    return _slug(str(status or ""))


@lru_cache(maxsize=256)
def _slug(status: str) -> str:
    # A handful of distinct statuses, rendered on every row of every page.
    return slugify(status) or UNKNOWN_STATUS_SLUG


@register.simple_tag
def status_badge(status: object) -> SafeString:
    """Render a status as a badge: ``<span class="badge badge--in-review">In Review</span>``."""
    label = str(status or "") or "Unknown"
    return format_html('<span class="badge badge--{}">{}</span>', status_slug(status), label)


# One queue row. Rendered in Python rather than as template nodes: the queue shows 50 rows
# on every view, and the template language's per-node cost was most of the page's time
# (benchmarks/RESULTS.md). format_html escapes every value that is not already safe HTML.
SESSION_ROW = (
    '<tr><td class="nowrap">{created}{age}</td><td>{badge}</td>'
    '<td class="truncate"><a href="{url}">{name}</a>{claim}</td>'
    '<td class="nowrap">{document_type} <span class="mono">{document_number}</span></td>'
    "<td>{country}</td>"
    '<td class="num">{score}</td>'
    '<td class="num">{hits}</td>'
    '<td class="truncate mono">{vendor_data}</td>'
    '<td class="mono nowrap"><a href="{url}" title="{session_id}">{short_id}</a></td></tr>'
)
NO_VALUE = SafeString('<span class="muted">–</span>')
NO_HITS = SafeString('<span class="muted">0</span>')
# What reverse() leaves unquoted in a path argument, so the prefix below builds the same URL.
URL_SAFE = "!$&'()*+,;=~:@"


@register.simple_tag
def session_rows(sessions: Iterable, sla_hours: float | None = None) -> SafeString:
    """The queue's ``<tr>`` rows for ``sessions`` (loaded with the queue's ``LIST_FIELDS``;
    with ``claim_owner`` and ``review_since`` when the queue annotated them)."""
    marker = "session-id-marker"
    head, tail = reverse("verifications:session-detail", args=[marker]).split(marker)
    now = timezone.now()
    return format_html_join(
        "\n", SESSION_ROW, (_row(s, head, tail, now, sla_hours) for s in sessions)
    )


def _age(session, now, sla_hours: float | None) -> str:
    """How long an In Review session has waited, coloured against the SLA."""
    since = getattr(session, "review_since", None)
    if since is None or not sla_hours:
        return ""
    hours = max(0.0, (now - since).total_seconds() / 3600)
    level = "breached" if hours >= sla_hours else "near" if hours >= 0.75 * sla_hours else "ok"
    shown = f"{hours / 24:.0f} d" if hours >= 48 else f"{hours:.0f} h" if hours >= 1 else "<1 h"
    return format_html(
        ' <span class="age age--{}" title="In review for {} h (SLA {} h)">{}</span>',
        level,
        f"{hours:.1f}",
        floatformat(sla_hours),
        shown,
    )


def _claim(session) -> str:
    owner = getattr(session, "claim_owner", None)
    if not owner:
        return ""
    return format_html(' <span class="claim-tag" title="Claimed by {}">{}</span>', owner, owner)


def _shorten(text: str, length: int) -> str:
    """``truncatechars`` for the ids in the queue (ASCII: no combining characters to keep)."""
    return text if len(text) <= length else text[: length - 1] + "…"


def _row(
    session, url_head: str, url_tail: str, now=None, sla_hours: float | None = None
) -> dict[str, object]:
    return {
        "created": timezone.localtime(session.created_at).strftime("%Y-%m-%d %H:%M"),
        "age": _age(session, now, sla_hours),
        "claim": _claim(session),
        "badge": status_badge(session.status),
        "url": url_head + quote(session.session_id, safe=URL_SAFE) + url_tail,
        "name": session.full_name or "(no name)",
        "document_type": session.document_type,
        "document_number": session.document_number,
        "country": session.issuing_state,
        "score": NO_VALUE if session.aml_score is None else floatformat(session.aml_score, 0),
        "hits": (
            format_html("<strong>{}</strong>", session.aml_total_hits)
            if session.aml_total_hits
            else NO_HITS
        ),
        "vendor_data": session.vendor_data,
        "session_id": session.session_id,
        "short_id": _shorten(session.session_id, 13),
    }


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
