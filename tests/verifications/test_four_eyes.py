"""Four-eyes: each rule fires or not; a held decision is not sent; a second, different
reviewer confirms it (exactly one update-status naming both) or rejects it (none)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from tests.sandbox import sync_all
from verifications.models import (
    AmlHit,
    AuditAction,
    AuditEntry,
    PendingDecision,
    SecondReviewState,
    VerificationSession,
)

pytestmark = pytest.mark.django_db

ALL_RULES = ["approve_confirmed_match", "approve_pep", "approve_declined", "aml_score"]
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def sandbox(didit_sandbox, settings):
    sync_all(didit_sandbox, settings)
    settings.FOUR_EYES_RULES = ALL_RULES
    settings.FOUR_EYES_AML_SCORE = 80
    return didit_sandbox


@pytest.fixture
def second_client(django_user_model, reviewer) -> Client:
    user = django_user_model.objects.create(username="second")
    user.groups.add(Group.objects.get(name="reviewer"))
    client = Client()
    client.force_login(user)
    return client


def clean_session() -> VerificationSession:
    """An In Review session no rule concerns: no hits, a low AML score."""
    session = VerificationSession.objects.filter(status="In Review").order_by("id").first()
    assert session is not None
    session.aml_hits.all().delete()
    VerificationSession.objects.filter(pk=session.pk).update(aml_score=10, aml_total_hits=0)
    session.refresh_from_db()
    return session


def with_hit(session: VerificationSession, **fields) -> AmlHit:
    return AmlHit.objects.create(session=session, hit_id="h-1", caption="Someone", **fields)


def decide(client, session, new_status: str, comment: str = "Because"):
    page = client.get(reverse("verifications:session-detail", args=[session.session_id]))
    data = {
        "new_status": new_status,
        "comment": comment,
        "form_token": page.context["status_form"].initial["form_token"],
        # Approving needs every warning acknowledged.
        "ack": [warning.risk for warning in session.warnings.all() if warning.risk],
    }
    return client.post(reverse("verifications:session-status", args=[session.session_id]), data)


def second_review(client, session, decision: str, comment: str = ""):
    url = reverse("verifications:session-second-review", args=[session.session_id])
    return client.post(url, {"decision": decision, "comment": comment})


def arrange(rule: str, session: VerificationSession) -> None:
    if rule == "approve_confirmed_match":
        with_hit(session, review_status="Confirmed Match")
    elif rule == "approve_pep":
        with_hit(session, topics=["role.pep"])
    elif rule == "approve_declined":
        VerificationSession.objects.filter(pk=session.pk).update(status="Declined")
    elif rule == "aml_score":
        VerificationSession.objects.filter(pk=session.pk).update(aml_score=80)
    session.refresh_from_db()


@pytest.mark.parametrize("rule", ALL_RULES)
def test_each_rule_holds_an_approval_and_nothing_is_sent(sandbox, reviewer_client, rule):
    session = clean_session()
    arrange(rule, session)
    response = decide(reviewer_client, session, "Approved")
    assert response.status_code == 302
    assert sandbox.calls["update_status"] == 0
    pending = PendingDecision.objects.get(session=session)
    assert (pending.new_status, pending.state, pending.rules) == (
        "Approved",
        SecondReviewState.PENDING,
        [rule],
    )
    session.refresh_from_db()
    assert session.status in ("In Review", "Declined")  # Unchanged.
    assert AuditEntry.objects.filter(action=AuditAction.SECOND_REVIEW_REQUEST).count() == 1
    page = reviewer_client.get(response["Location"]).content.decode()
    assert "Pending second review" in page
    assert "Another reviewer must confirm or reject it." in page


@pytest.mark.parametrize("rule", ALL_RULES)
def test_each_rule_is_off_when_not_configured(sandbox, settings, reviewer_client, rule):
    settings.FOUR_EYES_RULES = [other for other in ALL_RULES if other != rule]
    session = clean_session()
    arrange(rule, session)
    decide(reviewer_client, session, "Approved")
    assert sandbox.calls["update_status"] == 1
    assert not PendingDecision.objects.exists()


@pytest.mark.parametrize(
    ("rule", "new_status"),
    [
        ("approve_confirmed_match", "Declined"),  # Declining a match needs no second look.
        ("approve_pep", "Declined"),
        ("aml_score", "Approved"),  # 79 < 80
    ],
)
def test_rules_do_not_fire_outside_their_case(sandbox, reviewer_client, rule, new_status):
    session = clean_session()
    if rule == "aml_score":
        VerificationSession.objects.filter(pk=session.pk).update(aml_score=79)
        session.refresh_from_db()
    else:
        arrange(rule, session)
    decide(reviewer_client, session, new_status)
    assert sandbox.calls["update_status"] == 1
    assert not PendingDecision.objects.exists()


def test_false_positive_pep_hits_do_not_hold_an_approval(sandbox, reviewer_client):
    session = clean_session()
    with_hit(session, topics=["role.pep"], review_status="False Positive")
    decide(reviewer_client, session, "Approved")
    assert sandbox.calls["update_status"] == 1


def test_the_score_rule_holds_a_decline_too(sandbox, reviewer_client):
    session = clean_session()
    arrange("aml_score", session)
    decide(reviewer_client, session, "Declined", "Sanctioned")
    assert sandbox.calls["update_status"] == 0
    assert PendingDecision.objects.get().new_status == "Declined"


def test_a_second_reviewer_confirms_with_exactly_one_update_naming_both(
    sandbox, reviewer_client, second_client
):
    session = clean_session()
    arrange("approve_confirmed_match", session)
    decide(reviewer_client, session, "Approved", "Match is a namesake")
    assert sandbox.calls["update_status"] == 0
    page = second_client.get(reverse("verifications:session-detail", args=[session.session_id]))
    assert "Confirm and send to Didit" in page.content.decode()

    response = second_review(second_client, session, "confirm", "Agreed")
    assert response.status_code == 302
    assert sandbox.calls["update_status"] == 1
    didit = sandbox.decision(session.session_id)
    assert didit["status"] == "Approved"
    sent = didit["reviews"][-1]["comment"]
    assert "Match is a namesake" in sent
    assert "decided by reviewer" in sent and "confirmed by second" in sent
    pending = PendingDecision.objects.get()
    assert (pending.state, pending.second_reviewer.username) == (
        SecondReviewState.CONFIRMED,
        "second",
    )
    session.refresh_from_db()
    assert session.status == "Approved"
    assert AuditEntry.objects.filter(action=AuditAction.SECOND_REVIEW_CONFIRM).count() == 1

    # Once confirmed, a second confirmation sends nothing more.
    second_review(second_client, session, "confirm")
    assert sandbox.calls["update_status"] == 1


def test_a_second_reviewer_rejects_and_nothing_is_sent(sandbox, reviewer_client, second_client):
    session = clean_session()
    arrange("aml_score", session)
    decide(reviewer_client, session, "Approved")

    second_review(second_client, session, "reject", "")  # The note is required.
    assert PendingDecision.objects.get().state == SecondReviewState.PENDING

    response = second_review(second_client, session, "reject", "Score too high to approve")
    assert response.status_code == 302
    pending = PendingDecision.objects.get()
    assert (pending.state, pending.second_comment) == (
        SecondReviewState.REJECTED,
        "Score too high to approve",
    )
    assert sandbox.calls["update_status"] == 0
    session.refresh_from_db()
    assert session.status == "In Review"
    assert AuditEntry.objects.filter(action=AuditAction.SECOND_REVIEW_REJECT).count() == 1


def test_the_first_reviewer_can_never_be_the_second(sandbox, reviewer_client):
    session = clean_session()
    arrange("approve_declined", session)
    decide(reviewer_client, session, "Approved")
    for decision in ("confirm", "reject"):
        response = second_review(reviewer_client, session, decision, "me again")
        assert response.status_code == 403
    assert sandbox.calls["update_status"] == 0
    assert PendingDecision.objects.get().state == SecondReviewState.PENDING


def test_second_review_needs_login_post_and_the_review_permission(
    sandbox, client, viewer_client, reviewer_client
):
    session = clean_session()
    url = reverse("verifications:session-second-review", args=[session.session_id])
    assert client.post(url)["Location"].startswith(reverse("login"))
    assert reviewer_client.get(url).status_code == 405
    assert viewer_client.post(url, {"decision": "confirm"}).status_code == 403


def test_pending_decisions_have_their_own_queue_filter_and_count(
    sandbox, reviewer_client, viewer_client
):
    session = clean_session()
    arrange("aml_score", session)
    decide(reviewer_client, session, "Approved")
    response = viewer_client.get(
        reverse("verifications:session-list"), {"second_review": "pending"}
    )
    assert [s.session_id for s in response.context["sessions"]] == [session.session_id]
    assert response.context["workload"]["pending"] == 1


def test_the_compliance_report_prints_every_second_review_step(
    sandbox, reviewer_client, second_client
):
    session = clean_session()
    arrange("aml_score", session)
    decide(reviewer_client, session, "Approved", "Looks fine")
    second_review(second_client, session, "reject", "Score too high")
    response = reviewer_client.get(
        reverse("verifications:session-report", args=[session.session_id])
    )
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(b"".join(response)))
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    assert "Second reviews (four-eyes)" in text
    assert "Rejected by second" in text
    assert "Score too high" in text
