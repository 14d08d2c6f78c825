"""Template helpers of the people pages: ``{% load people %}``."""

from __future__ import annotations

import segno
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def qr_svg(url: object) -> SafeString:
    """A QR code of ``url`` as inline SVG, drawn on the server (no script; CSP stays strict).

    segno writes only path data and fixed attributes: nothing of the URL appears as text.
    """
    text = str(url or "")
    if not text:
        return SafeString("")
    svg = segno.make(text, error="m").svg_inline(scale=4, border=2, omitsize=False)
    return mark_safe(svg)  # noqa: S308 - segno's markup, no user text in it
