"""The ``console`` template library: status badges for every status Didit sends."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template

from verifications.models import SessionStatus
from verifications.templatetags.console import status_badge, status_slug

SESSION_STATUS_SLUGS = {
    "Not Started": "not-started",
    "In Progress": "in-progress",
    "In Review": "in-review",
    "Approved": "approved",
    "Declined": "declined",
    "Resubmitted": "resubmitted",
    "Expired": "expired",
    "Abandoned": "abandoned",
    "Kyc Expired": "kyc-expired",
    "Awaiting User": "awaiting-user",
}


def render(source: str, **context) -> str:
    return Template("{% load console %}" + source).render(Context(context))


@pytest.mark.parametrize(("status", "slug"), SESSION_STATUS_SLUGS.items())
def test_status_slug_turns_each_session_status_into_its_badge_modifier(status, slug):
    assert status_slug(status) == slug


@pytest.mark.parametrize(
    ("status", "slug"),
    [
        ("Not Finished", "not-finished"),
        ("Confirmed Match", "confirmed-match"),
        ("False Positive", "false-positive"),
        ("FLAGGED", "flagged"),
    ],
)
def test_status_slug_covers_feature_aml_hit_and_user_statuses(status, slug):
    assert status_slug(status) == slug


@pytest.mark.parametrize("status", [None, "", "   ", "!!!"])
def test_status_slug_of_a_missing_or_unusable_status_is_unknown(status):
    assert status_slug(status) == "unknown"


def test_status_slug_of_hostile_text_is_still_a_safe_class_name():
    assert status_slug('In Review" onmouseover="x') == "in-review-onmouseoverx"


def test_status_slug_filter_renders_in_a_template():
    assert render('<span class="badge badge--{{ s|status_slug }}">', s="Kyc Expired") == (
        '<span class="badge badge--kyc-expired">'
    )


def test_status_badge_tag_renders_the_label_in_a_badge():
    assert render("{% status_badge s %}", s="In Review") == (
        '<span class="badge badge--in-review">In Review</span>'
    )


def test_status_badge_escapes_the_status_text():
    html = status_badge("<script>alert(1)</script>")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_status_badge_of_a_missing_status_says_unknown():
    assert status_badge(None) == '<span class="badge badge--unknown">Unknown</span>'


def test_the_expected_slugs_cover_every_session_status_the_models_know():
    assert set(SESSION_STATUS_SLUGS) == set(SessionStatus.values)


def test_every_session_status_has_a_badge_style_in_the_stylesheet(settings):
    css = (settings.BASE_DIR / "static" / "css" / "console.css").read_text()
    missing = [
        status
        for status in SessionStatus.values
        if not re.search(rf"\.badge--{status_slug(status)}(?![\w-])", css)
    ]
    assert missing == []
