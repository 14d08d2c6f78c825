"""Approve/Decline through Didit (the sandbox, over HTTP). AML hits: test_aml_review.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from verifications.forms import COMMENT_MAX_LENGTH
from verifications.models import (
    AuditAction,
    AuditEntry,
    Review,
    ReviewSource,
    UsedFormToken,
    VerificationSession,
)
from verifications.services import FORM_TOKEN_MAX_AGE

pytestmark = pytest.mark.django_db


HTMX = {"HTTP_HX_REQUEST": "true"}


def reviewable() -> VerificationSession:
    session = (
        VerificationSession.objects.filter(status="In Review", aml_total_hits__gt=0).first()
        or VerificationSession.objects.filter(status__in=["In Review", "Declined"]).first()
    )
    assert session is not None
    return session


def status_url(session: VerificationSession) -> str:
    return reverse("verifications:session-status", args=[session.session_id])


def detail_url(session: VerificationSession) -> str:
    return reverse("verifications:session-detail", args=[session.session_id])


def status_token(client, session: VerificationSession) -> str:
    return client.get(detail_url(session)).context["status_form"].initial["form_token"]


def acks(session: VerificationSession) -> list[str]:
    """Every warning of the session acknowledged, as an Approve requires."""
    return sorted({w.risk for w in session.warnings.all() if w.risk})


def local_state(session: VerificationSession) -> tuple:
    # The reviewer's intent and Didit's refusal are audited, as is a refused attempt
    # (ACCESS_DENIED); nothing else may change.
    session.refresh_from_db()
    intent = [
        AuditAction.PII_VIEW,
        AuditAction.STATUS_REQUEST,
        AuditAction.STATUS_REFUSED,
        AuditAction.ACCESS_DENIED,
    ]
    return (
        session.status,
        Review.objects.filter(session=session).count(),
        AuditEntry.objects.exclude(action__in=intent).count(),
    )


# -- Approve / Decline ------------------------------------------------------------------------


def test_anonymous_status_post_is_sent_to_login(sandbox, client):
    response = client.post(status_url(reviewable()), {"new_status": "Approved"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_status_endpoint_rejects_get(sandbox, reviewer_client):
    assert reviewer_client.get(status_url(reviewable())).status_code == 405


@pytest.mark.parametrize("persona", ["viewer_client", "outsider_client"])
def test_only_reviewers_may_change_a_status(sandbox, request, persona):
    session = reviewable()
    before = local_state(session)
    client = request.getfixturevalue(persona)
    response = client.post(status_url(session), {"new_status": "Approved", "comment": "x"})
    assert response.status_code == 403
    assert sandbox.calls["update_status"] == 0
    assert local_state(session) == before


def test_approve_without_javascript_goes_through_didit_then_redirects(
    sandbox, reviewer_client, reviewer
):
    session = reviewable()
    token = status_token(reviewer_client, session)
    response = reviewer_client.post(
        status_url(session),
        {
            "new_status": "Approved",
            "comment": "Checked by hand",
            "form_token": token,
            "ack": acks(session),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(session) + "#decision-panel"

    assert sandbox.calls["update_status"] == 1
    decision = sandbox.decision(session.session_id)
    assert decision["status"] == "Approved"
    assert decision["reviews"][-1]["new_status"] == "Approved"
    assert decision["reviews"][-1]["comment"] == "Checked by hand"

    session.refresh_from_db()
    assert session.status == "Approved"
    review = Review.objects.filter(session=session).last()
    assert (review.source, review.staff_user, review.comment) == (
        ReviewSource.CONSOLE,
        reviewer,
        "Checked by hand",
    )
    entry = AuditEntry.objects.get(action=AuditAction.STATUS_UPDATE)
    assert entry.actor == reviewer
    assert entry.detail["new_status"] == "Approved"

    page = reviewer_client.get(response["Location"]).content.decode()
    assert "Session approved at Didit." in page
    assert "Checked by hand" in page


def test_decline_with_htmx_answers_the_panel_with_its_outcome_badge_and_timeline(
    sandbox, reviewer_client, django_assert_max_num_queries
):
    session = reviewable()
    token = status_token(reviewer_client, session)
    # The claim, the intent, Didit's decision fetched back and applied, the completion.
    with django_assert_max_num_queries(60):
        response = reviewer_client.post(
            status_url(session),
            {"new_status": "Declined", "comment": "Sanctions match", "form_token": token},
            **HTMX,
        )
    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="decision-panel"')
    assert "<html" not in content
    assert "Sanctions match" in content
    assert 'id="session-status" class="page-header__meta" hx-swap-oob="true"' in content
    assert 'id="timeline" class="timeline" aria-label="Review timeline" hx-swap-oob="true"' in (
        content
    )
    assert "badge--declined" in content
    assert "Session declined at Didit." in content
    assert token not in content  # A fresh token for the next decision.
    assert sandbox.decision(session.session_id)["status"] == "Declined"


def test_a_second_post_of_the_same_form_is_not_sent_again(sandbox, reviewer_client):
    session = reviewable()
    data = {
        "new_status": "Declined",
        "comment": "Once",
        "form_token": status_token(reviewer_client, session),
    }
    reviewer_client.post(status_url(session), data)
    after_first = local_state(session)
    second = reviewer_client.post(status_url(session), data, **HTMX)
    assert second.status_code == 400
    assert "already submitted" in second.content.decode()
    assert sandbox.calls["update_status"] == 1
    assert local_state(session) == after_first
    assert Review.objects.filter(session=session, comment="Once").count() == 1


def test_used_tokens_are_forgotten_once_they_have_expired(sandbox, reviewer_client):
    now = timezone.now()
    stale = UsedFormToken.objects.create(token="a" * 64)
    recent = UsedFormToken.objects.create(token="b" * 64)
    UsedFormToken.objects.filter(pk=stale.pk).update(
        used_at=now - timedelta(seconds=FORM_TOKEN_MAX_AGE + 60)
    )
    UsedFormToken.objects.filter(pk=recent.pk).update(
        used_at=now - timedelta(seconds=FORM_TOKEN_MAX_AGE - 60)
    )
    session = reviewable()
    token = status_token(reviewer_client, session)
    data = {"new_status": "Approved", "comment": "ok", "form_token": token, "ack": acks(session)}

    reviewer_client.post(status_url(session), data, **HTMX)

    assert sandbox.calls["update_status"] == 1
    kept = set(UsedFormToken.objects.values_list("pk", flat=True))
    assert stale.pk not in kept and recent.pk in kept and len(kept) == 2
    # The token just used is one of them: submitting it again is still refused.
    again = reviewer_client.post(status_url(session), data, **HTMX)
    assert "already submitted" in again.content.decode()
    assert sandbox.calls["update_status"] == 1


def test_a_token_from_another_session_is_refused(sandbox, reviewer_client):
    session, other = VerificationSession.objects.filter(status="Declined")[:2]
    token = status_token(reviewer_client, other)
    reviewer_client.post(status_url(session), {"new_status": "Approved", "form_token": token})
    assert sandbox.calls["update_status"] == 0


def test_didit_down_changes_nothing_here(sandbox, reviewer_client):
    session = reviewable()
    before = local_state(session)
    token = status_token(reviewer_client, session)
    sandbox.set_faults(1.0, kinds=("503",))
    data = {"new_status": "Declined", "comment": "Keep this text", "form_token": token}
    response = reviewer_client.post(status_url(session), data)
    assert response.status_code == 502
    content = response.content.decode()
    assert "could not be reached" in content
    assert "Keep this text" in content  # What the reviewer typed is kept.
    assert local_state(session) == before

    fresh = response.context["status_form"]["form_token"].value()
    response = reviewer_client.post(status_url(session), {**data, "form_token": fresh}, **HTMX)
    assert response.status_code == 502
    assert "could not be reached" in response.content.decode()
    assert local_state(session) == before


def test_didit_refusing_changes_nothing_here(sandbox, reviewer_client):
    session = reviewable()
    before = local_state(session)
    token = status_token(reviewer_client, session)
    # Didit moved on (the user restarted) and no webhook told us: Didit refuses.
    sandbox.change_status(session.session_id, "In Progress")
    response = reviewer_client.post(
        status_url(session),
        {"new_status": "Declined", "comment": "no", "form_token": token},
        **HTMX,
    )
    assert response.status_code == 502
    assert "Didit refused" in response.content.decode()
    assert local_state(session) == before


@pytest.mark.parametrize(
    "data",
    [
        {"new_status": "Declined", "comment": ""},
        {"new_status": "Declined", "comment": "   "},
        {"new_status": "Approved", "comment": "x" * (COMMENT_MAX_LENGTH + 1)},
        {"new_status": "Resubmitted"},
        {"new_status": ""},
        {"comment": "no status"},
        {"new_status": "Approved", "comment": "nul\x00"},
    ],
)
def test_invalid_status_forms_are_a_clean_400_and_send_nothing(sandbox, reviewer_client, data):
    session = reviewable()
    before = local_state(session)
    data = {**data, "form_token": status_token(reviewer_client, session)}
    response = reviewer_client.post(status_url(session), data)
    assert response.status_code == 400
    assert sandbox.calls["update_status"] == 0
    assert local_state(session) == before


def test_a_missing_or_forged_token_sends_nothing(sandbox, reviewer_client):
    session = reviewable()
    reviewer_client.post(status_url(session), {"new_status": "Approved"})
    reviewer_client.post(status_url(session), {"new_status": "Approved", "form_token": "forged"})
    assert sandbox.calls["update_status"] == 0
