"""Template helpers of the review workflow: ``{% load workflow %}``."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from .. import four_eyes, workflow

register = template.Library()


@register.simple_tag(takes_context=True)
def claim_info(context, session) -> workflow.ClaimInfo:
    """The session's live claim and open second review, for the claim bar (two queries)."""
    return workflow.claim_info(session, context["request"].user)


@register.simple_tag(takes_context=True)
def queue_field(context) -> str:
    """The queue a page was opened from ("next"), carried by a form as a hidden field."""
    request = context["request"]
    queue = request.GET.get("queue", request.POST.get("queue"))
    if queue is None:
        return ""
    return format_html('<input type="hidden" name="queue" value="{}">', queue)


@register.filter
def rule_labels(rules: object) -> str:
    """The four-eyes rules that fired, in words."""
    names = rules if isinstance(rules, list) else []
    return "; ".join(four_eyes.RULE_LABELS.get(str(name), str(name)) for name in names)
