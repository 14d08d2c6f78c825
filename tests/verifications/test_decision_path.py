"""The reviewer's decision path, through the sandbox over real HTTP: a stale page is refused
(409, nothing sent), two decisions at once reach Didit once, a Resubmit sends exactly the
chosen steps, warnings must be acknowledged, and a database failure after Didit accepted
still names the reviewer and says so plainly."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection
from django.test import Client
from django.urls import reverse

from tests.sandbox import sync_all
from verifications import decisions
from verifications.casefile import decision_nodes
from verifications.models import (
    AuditAction,
    AuditEntry,
    Review,
    UsedFormToken,
    VerificationSession,
)
from verifications.sync import sync_sessions

from ..trust import fast_client

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def sandbox(didit_sandbox, settings):
    sync_all(didit_sandbox, settings)
    return didit_sandbox


def url(session: VerificationSession, name: str = "session-status") -> str:
    return reverse(f"verifications:{name}", args=[session.session_id])


def token_of(client: Client, session: VerificationSession) -> str:
    page = client.get(url(session, "session-detail"))
    return page.context["status_form"].initial["form_token"]


def acks(session: VerificationSession) -> list[str]:
    return sorted({w.risk for w in session.warnings.all() if w.risk})


def everything(session: VerificationSession) -> tuple:
    """All a decision could write here."""
    session.refresh_from_db()
    return (
        session.status,
        session.decision_hash,
        Review.objects.filter(session=session).count(),
        AuditEntry.objects.exclude(action=AuditAction.PII_VIEW).count(),
        UsedFormToken.objects.count(),
    )


def in_review(**filters) -> VerificationSession:
    session = VerificationSession.objects.filter(status="In Review", **filters).first()
    assert session is not None
    return session


@pytest.mark.django_db
def test_a_stale_page_is_a_409_that_says_what_changed_and_sends_nothing(
    sandbox, reviewer_client, settings
):
    session = in_review()
    token = token_of(reviewer_client, session)
    # Colleague B declines it at Didit; the webhook (here: a sync) brings it in.
    sandbox.change_status(session.session_id, "Declined", comment="no", user="b@example.com")
    sync_sessions(fast_client(sandbox), full=True)
    before = everything(session)
    sent_before = len(sandbox.requests("update_status"))

    response = reviewer_client.post(
        url(session),
        {"new_status": "Approved", "comment": "", "form_token": token, "ack": acks(session)},
    )

    assert response.status_code == 409
    content = response.content.decode()
    assert "Declined by b@example.com at" in content
    assert "reload to review again" in content
    assert len(sandbox.requests("update_status")) == sent_before == 0
    assert everything(session) == before
    assert sandbox.decision(session.session_id)["status"] == "Declined"


@pytest.mark.django_db
def test_a_stale_htmx_post_answers_the_panel_with_the_409(sandbox, reviewer_client):
    session = in_review()
    token = token_of(reviewer_client, session)
    sandbox.change_status(session.session_id, "Approved", comment="fine", user="b@example.com")
    sync_sessions(fast_client(sandbox), full=True)
    response = reviewer_client.post(
        url(session), {"new_status": "Declined", "comment": "x", "form_token": token}, **HTMX
    )
    assert response.status_code == 409
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="decision-panel"')
    assert 'id="decision-outcome"' in content and "autofocus" in content
    assert "Approved by b@example.com" in content
    assert sandbox.requests("update_status") == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_approve_and_decline_over_50_trials_end_equal_to_didit(
    didit_sandbox_factory, settings, reviewer, django_user_model
):
    server = didit_sandbox_factory(sessions=12, seed=3)  # no webhook URL: webhooks off
    sync_all(server, settings)
    other = django_user_model.objects.create(username="colleague")
    other.groups.add(*reviewer.groups.all())
    alice, bob = Client(), Client()
    alice.force_login(reviewer)
    bob.force_login(other)
    session = in_review()

    for trial in range(50):
        sent_before = len(server.requests("update_status"))
        codes = race(
            session,
            ("a", alice, "Approved", f"ok {trial}"),
            ("b", bob, "Declined", f"no {trial}"),
        )
        assert sorted(codes.values()) == [302, 409], (trial, codes)
        assert len(server.requests("update_status")) == sent_before + 1, trial
        session.refresh_from_db()
        assert session.status == server.decision(session.session_id)["status"], trial
        assert session.decision_claimed_at is None


def race(session: VerificationSession, *deciders) -> dict[str, int]:
    """Each (name, client, status, comment) loads the page, then all post at once."""
    acked = acks(session)
    tokens = {name: token_of(client, session) for name, client, _s, _c in deciders}
    barrier = threading.Barrier(len(deciders))
    codes: dict[str, int] = {}

    def decide(name, client, status, comment):
        try:
            barrier.wait(5)
            data = {"new_status": status, "comment": comment, "form_token": tokens[name]}
            codes[name] = client.post(url(session), {**data, "ack": acked}).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=decider) for decider in deciders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return codes


@pytest.mark.django_db
def test_resubmit_sends_exactly_the_chosen_steps(sandbox, reviewer_client):
    session = next(
        s
        for s in VerificationSession.objects.filter(
            status__in=["In Review", "Declined"], api_shape="v3"
        )
        if len(decision_nodes(s.decision)) >= 2
    )
    nodes = decision_nodes(session.decision)
    chosen = list(nodes)[:2]
    response = reviewer_client.post(
        url(session),
        {
            "new_status": "Resubmitted",
            "comment": "Photo blurry",
            "nodes_to_resubmit": chosen,
            "send_email": "on",
            "form_token": token_of(reviewer_client, session),
        },
    )
    assert response.status_code == 302
    [sent] = sandbox.requests("update_status")
    assert sent["method"] == "PATCH"
    assert sent["body"] == {
        "new_status": "Resubmitted",
        "comment": "Photo blurry",
        "send_email": True,
        "nodes_to_resubmit": [{"node_id": node, "feature": nodes[node]} for node in chosen],
    }
    session.refresh_from_db()
    assert session.status == "Resubmitted" == sandbox.decision(session.session_id)["status"]
    review = Review.objects.get(session=session, comment="Photo blurry")
    assert [node["node_id"] for node in review.resubmit_nodes] == chosen


@pytest.mark.django_db
def test_a_node_not_in_the_decision_is_a_400_and_nothing_is_sent(sandbox, reviewer_client):
    session = in_review(api_shape="v3")
    before = everything(session)
    response = reviewer_client.post(
        url(session),
        {
            "new_status": "Resubmitted",
            "nodes_to_resubmit": ["feature_not_here"],
            "form_token": token_of(reviewer_client, session),
        },
    )
    assert response.status_code == 400
    assert "“feature_not_here” is not a step of this session" in response.content.decode()
    assert sandbox.requests("update_status") == []
    assert everything(session)[:4] == before[:4]


@pytest.mark.django_db
def test_approve_requires_each_warning_acknowledged(sandbox, reviewer_client, reviewer):
    session = next(s for s in VerificationSession.objects.filter(status="In Review") if acks(s))
    risks = acks(session)
    token = token_of(reviewer_client, session)
    before = everything(session)

    response = reviewer_client.post(
        url(session),
        {"new_status": "Approved", "form_token": token, "ack": risks[:-1]},
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "Acknowledge each warning before approving" in content
    assert risks[-1] in content
    assert sandbox.requests("update_status") == []
    assert everything(session)[:4] == before[:4]

    response = reviewer_client.post(
        url(session), {"new_status": "Approved", "form_token": token, "ack": risks}
    )
    assert response.status_code == 302
    review = Review.objects.get(session=session, staff_user=reviewer)
    assert review.acknowledged_warnings == risks
    done = AuditEntry.objects.get(action=AuditAction.STATUS_UPDATE)
    assert done.detail["acknowledged_warnings"] == risks
    report = reviewer_client.get(url(session, "session-report"))
    assert report.status_code == 200


@pytest.mark.django_db
def test_a_database_failure_after_didit_accepted_names_the_reviewer_and_says_so(
    sandbox, reviewer_client, reviewer, monkeypatch
):
    session = in_review()
    token = token_of(reviewer_client, session)

    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    # The last write of the confirmation fails (whether Didit's decision was read back or
    # not): everything saved after Didit's 200 rolls back.
    monkeypatch.setattr(decisions, "_release", broken)
    response = reviewer_client.post(
        url(session), {"new_status": "Declined", "comment": "Fake ID", "form_token": token}
    )

    assert response.status_code == 202
    content = response.content.decode()
    assert "Didit accepted the decision; saving it here failed — it will be reconciled" in content
    assert "Server Error" not in content
    assert sandbox.decision(session.session_id)["status"] == "Declined"
    intent = AuditEntry.objects.get(action=AuditAction.STATUS_REQUEST)
    assert intent.actor == reviewer and intent.actor_username == "reviewer"
    assert intent.detail["new_status"] == "Declined"
    pending = Review.objects.get(session=session, comment="Fake ID")
    assert pending.pending and pending.staff_user == reviewer

    # The next sync (or webhook) brings Didit's review and links it to the reviewer's.
    monkeypatch.undo()
    sync_sessions(fast_client(sandbox), full=True)
    session.refresh_from_db()
    assert session.status == "Declined"
    linked = Review.objects.get(pk=pending.pk)
    assert not linked.pending and linked.didit_fingerprint and linked.staff_user == reviewer
    assert Review.objects.filter(session=session, comment="Fake ID").count() == 1


@pytest.mark.django_db
def test_didit_refusing_removes_the_intent_and_audits_the_refusal(sandbox, reviewer_client):
    session = in_review()
    token = token_of(reviewer_client, session)
    sandbox.change_status(session.session_id, "In Progress")  # Didit will refuse
    response = reviewer_client.post(
        url(session), {"new_status": "Declined", "comment": "x", "form_token": token}
    )
    assert response.status_code == 502
    assert "Didit refused" in response.content.decode()
    assert "x" in response.context["status_form"]["comment"].value()
    assert not Review.objects.filter(session=session, comment="x").exists()
    refused = AuditEntry.objects.get(action=AuditAction.STATUS_REFUSED)
    assert refused.detail["didit_status_code"] == 400
    session.refresh_from_db()
    assert session.decision_claimed_at is None


@pytest.mark.django_db
def test_no_form_where_didit_accepts_no_decision(sandbox, reviewer_client):
    session = VerificationSession.objects.filter(status__in=["Not Started", "In Progress"]).first()
    page = reviewer_client.get(url(session, "session-detail"))
    content = page.content.decode()
    assert page.context["status_form"] is None
    assert 'name="new_status"' not in content
    assert "accepts no decision until they finish" in content
    response = reviewer_client.post(url(session), {"new_status": "Approved", "form_token": "x"})
    assert response.status_code == 400
    assert sandbox.requests("update_status") == []
