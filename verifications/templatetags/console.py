"""Template helpers shared by the console's pages: ``{% load console %}``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import quote

from django import template
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import slugify
from django.utils.timesince import timesince, timeuntil

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
        "name": session.full_name or session.vendor_data or "(no name)",
        "document_type": session.document_type,
        "document_number": session.document_number,
        "country": session.issuing_state,
        "score": NO_VALUE if session.aml_score is None else floatformat(session.aml_score, 0),
        "hits": (
            format_html("<strong>{}</strong>", session.aml_total_hits)
            if session.aml_total_hits
            else NO_HITS
        ),
        "vendor_data": vendor_link(session.vendor_data),
        "session_id": session.session_id,
        "short_id": _shorten(session.session_id, 13),
    }


@register.filter
def user_url(vendor_data: object) -> str:
    """The person's page for a vendor_data (any characters, "/" included), or ""."""
    return _user_url(str(vendor_data)) if vendor_data else ""


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


@register.filter
def vendor_link(vendor_data: object) -> SafeString:
    """Vendor data as a link to its user's page (nothing for blank)."""
    if not vendor_data:
        return SafeString("")
    return format_html('<a class="mono" href="{}">{}</a>', _user_url(str(vendor_data)), vendor_data)


def _user_url(vendor_data: str) -> str:
    marker = "vendor-data-marker"
    head, tail = reverse("users:user-detail", args=[marker]).split(marker)
    return head + quote(vendor_data, safe=URL_SAFE + "/") + tail


@register.filter
def moment(value: object) -> SafeString:
    """A time in the console's time zone, named, with its age: "2026-12-01 14:02 UTC (3 h ago)"."""
    if not isinstance(value, datetime):
        if not isinstance(value, str) or parse_datetime(value) is None:
            return SafeString("") if value in (None, "") else format_html("{}", value)
        raw, value = value, parse_datetime(value)
    else:
        raw = value.isoformat()
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    local = timezone.localtime(value)
    age = timesince(value) if value <= timezone.now() else "in " + timeuntil(value)
    age = age.split(",")[0]
    return format_html(
        '<time datetime="{}">{} {}</time> <span class="muted">({}{})</span>',
        raw,
        local.strftime("%Y-%m-%d %H:%M"),
        local.tzname(),
        age,
        "" if age.startswith("in ") else " ago",
    )


@register.filter
def yes_no(value: object) -> str:
    """Booleans as words: Yes, No, or "unknown"."""
    if value is None:
        return "unknown"
    return "Yes" if value else "No"


@register.filter
def feature_level(status: object) -> str:
    """The ``score--*`` modifier from Didit's own verdict on the feature, never a threshold:
    Approved reads as good, In Review as doubtful, Declined as bad."""
    return {"Approved": "low", "In Review": "medium", "Declined": "high"}.get(
        str(status or ""), "unknown"
    )


@register.simple_tag(takes_context=True)
def decision_rows(context, rows: list) -> SafeString:
    """Key/value rows of one part of a decision (``casefile.Row``), nested groups included.
    Rendered in Python: a decision has hundreds of leaves, and an include per value was
    most of the page's time. Images and videos come from the evidence archive when archived
    (``evidence_url``), else from Didit's URL."""
    session = context.get("session")
    return _rows_html(rows, lambda url: _media_url(session, url))


def _rows_html(rows: list, media) -> SafeString:
    if not rows:
        return SafeString(
            '<dl class="details details--rows"><dt class="muted">No data</dt><dd></dd></dl>'
        )
    parts = (_row_parts(row, media) for row in rows)
    items = format_html_join("", "<dt>{}</dt><dd{}>{}{}</dd>", parts)
    return format_html('<dl class="details details--rows">{}</dl>', items)


HIGHLIGHTS = {
    "bad": (' class="highlight highlight--bad"', ' <span class="flag">expired</span>'),
    "warn": (
        ' class="highlight highlight--warn"',
        ' <span class="score--medium">expires soon</span>',
    ),
}


def _row_parts(row, media) -> tuple:
    attrs, note = HIGHLIGHTS.get(row.highlight, ("", ""))
    if row.kind == "group":
        value = _rows_html(row.children, media)
    elif row.kind == "list":
        value = (
            format_html_join(", ", "{}", ((_value(item, media),) for item in row.value))
            if row.value
            else SafeString('<span class="muted">none</span>')
        )
    else:
        value = _value(row, media)
    return row.label, SafeString(attrs), value, SafeString(note)


def _value(row, media) -> SafeString:
    kind, value = row.kind, row.value
    if kind == "empty":
        return SafeString('<span class="muted">–</span>')
    if kind == "bool":
        return format_html("{}", yes_no(value))
    if kind == "time":
        return moment(value)
    if kind in ("image", "video", "url"):
        href = media(value) if kind in ("image", "video") else web_url(value)
        if kind == "image":
            return format_html(
                '<a href="{}" target="_blank" rel="noopener noreferrer">'
                '<img class="row-image" src="{}" alt="{}" loading="lazy"></a>',
                href,
                href,
                row.label,
            )
        text = "Open the video" if kind == "video" else value
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer" class="mono">{}</a>', href, text
        )
    if kind == "session":
        url = reverse("verifications:session-detail", args=[value])
        return format_html('<a href="{}">compared with session {}</a>', url, value)
    return format_html("{}", value)


def _media_url(session, url: object) -> str:
    """Our archived copy's URL, else Didit's (if a web URL), else ""."""
    from ..evidence import archived_sha256

    digest = archived_sha256(session, url)
    if digest is None:
        return url if is_web_url(url) else ""
    return reverse("evidence-file", args=[digest])


@register.simple_tag(takes_context=True)
def evidence_url(context, url: object) -> str:
    """Where a page (or PDF) shows a Didit media file: our archived copy when there is one
    (``/evidence/<sha256>/``, or the PDF fetcher's internal URL in a report), else Didit's
    URL if it is a web URL, else "". Use ``{% evidence_url url as src %}``. The session in
    the context (``session``) lets every image of a page share one query."""
    from ..evidence import archived_sha256
    from ..pdf import EVIDENCE_BASE

    digest = archived_sha256(context.get("session"), url)
    if digest is None:
        return url if is_web_url(url) else ""
    if context.get("static_base"):  # Rendering a PDF: the restricted fetcher reads it.
        return f"{EVIDENCE_BASE}{digest}/"
    return reverse("evidence-file", args=[digest])


@register.simple_tag(takes_context=True)
def evidence_progress(context, session=None) -> str:
    """ "3 of 5 files archived" for the session (or the context's ``session``); "" if none."""
    from ..evidence import archive_progress

    session = session or context.get("session")
    if session is None:
        return ""
    progress = archive_progress(session)
    return str(progress) if progress.total else ""
