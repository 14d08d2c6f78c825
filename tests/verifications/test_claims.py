"""Claims: one owner per session (a database constraint), expiry, admins, the queue's "mine"
and "unclaimed", "next", decide-and-next, and counts after one's own decision."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.sandbox import session_row, sync_all
from verifications import workflow
from verifications.models import AuditAction, AuditEntry, SessionClaim, VerificationSession

pytestmark = pytest.mark.django_db

NEXT = reverse("verifications:session-next")
QUEUE = reverse("verifications:session-list")
HTMX = {"HTTP_HX_REQUEST": "true"}


def claim_url(session) -> str:
    return reverse("verifications:session-claim", args=[session.session_id])


def release_url(session) -> str:
    return reverse("verifications:session-release", args=[session.session_id])


def status_url(session) -> str:
    return reverse("verifications:session-status", args=[session.session_id])


def detail_url(session) -> str:
    return reverse("verifications:session-detail", args=[session.session_id])


def make(session_id: str, **fields) -> VerificationSession:
    session = session_row(session_id, **fields)
    session.save()
    return session


@pytest.fixture
def other_reviewer(django_user_model, reviewer):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create(username="other")
    user.groups.add(Group.objects.get(name="reviewer"))
    return user


@pytest.fixture
def other_client(other_reviewer, client):
    client.force_login(other_reviewer)
    return client


# --- Claim and release -------------------------------------------------------------------------


def test_claim_and_release_need_login_post_and_the_review_permission(
    client, viewer_client, reviewer_client
):
    session = make("c-1")
    assert client.post(claim_url(session))["Location"].startswith(reverse("login"))
    assert reviewer_client.get(claim_url(session)).status_code == 405
    assert reviewer_client.get(release_url(session)).status_code == 405
    assert viewer_client.post(claim_url(session)).status_code == 403
    assert viewer_client.post(release_url(session)).status_code == 403
    assert not SessionClaim.objects.exists()


def test_a_reviewer_claims_and_releases_and_both_are_audited(reviewer_client, reviewer):
    session = make("c-2")
    response = reviewer_client.post(claim_url(session))
    assert response.status_code == 302
    claim = SessionClaim.objects.get(session=session)
    assert claim.owner == reviewer
    page = reviewer_client.get(detail_url(session)).content.decode()
    assert "You are working on this session" in page

    assert reviewer_client.post(release_url(session)).status_code == 302
    assert not SessionClaim.objects.exists()
    actions = list(
        AuditEntry.objects.filter(object_id="c-2")
        .exclude(action=AuditAction.PII_VIEW)
        .order_by("id")
        .values_list("action", "actor_username")
    )
    assert actions == [(AuditAction.CLAIM, "reviewer"), (AuditAction.RELEASE, "reviewer")]


def test_others_see_who_holds_it_and_cannot_claim_it(reviewer_client, other_client):
    session = make("c-3")
    reviewer_client.post(claim_url(session))
    response = other_client.post(claim_url(session))
    assert response.status_code == 409
    assert "Claimed by reviewer since" in response.content.decode()
    page = other_client.get(detail_url(session)).content.decode()
    assert "Claimed by reviewer" in page
    assert SessionClaim.objects.get(session=session).owner.username == "reviewer"
    # Releasing what one does not hold changes nothing.
    other_client.post(release_url(session))
    assert SessionClaim.objects.filter(session=session).exists()


def test_a_claim_lapses_after_the_ttl_without_activity(settings, reviewer, other_reviewer):
    settings.CLAIM_TTL_MINUTES = 30
    session = make("c-4")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        workflow.claim_session(session=session, user=reviewer, request=None)
        traveller.shift(timedelta(minutes=29))
        with pytest.raises(workflow.ClaimedByAnother):
            workflow.claim_session(session=session, user=other_reviewer, request=None)
        workflow.touch_claim(session=session, user=reviewer)  # Activity renews it.
        traveller.shift(timedelta(minutes=29))
        with pytest.raises(workflow.ClaimedByAnother):
            workflow.check_can_decide(session, other_reviewer)
        traveller.shift(timedelta(minutes=2))
        assert workflow.current_claim(session) is None
        workflow.check_can_decide(session, other_reviewer)
        workflow.claim_session(session=session, user=other_reviewer, request=None)
    assert SessionClaim.objects.get(session=session).owner == other_reviewer


def test_an_admin_reassigns_and_releases_anyones_claim(
    admin_client, reviewer_client, reviewer, other_reviewer
):
    session = make("c-5")
    reviewer_client.post(claim_url(session))
    response = admin_client.post(claim_url(session), {"assign_to": "other"})
    assert response.status_code == 302
    assert SessionClaim.objects.get(session=session).owner == other_reviewer
    entry = AuditEntry.objects.filter(action=AuditAction.CLAIM_REASSIGN).get()
    assert (entry.actor_username, entry.detail["owner"]) == ("admin", "other")
    assert entry.detail["previous_owner"] == "reviewer"

    admin_client.post(release_url(session))
    assert not SessionClaim.objects.exists()
    # A reviewer may not reassign.
    assert reviewer_client.post(claim_url(session), {"assign_to": "other"}).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_racing_claims_have_exactly_one_winner(reviewer, other_reviewer, django_user_model):
    session = make("c-race")
    users = [reviewer, other_reviewer] + [
        django_user_model.objects.create(username=f"racer{i}") for i in range(4)
    ]
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []

    def attempt(user):
        try:
            barrier.wait(5)
            workflow.claim_session(session=session, user=user, request=None)
            outcomes.append("won")
        except workflow.ClaimedByAnother:
            outcomes.append("lost")
        except Exception as error:  # noqa: BLE001 - a locked SQLite counts as a loss, not a win
            outcomes.append(f"error {type(error).__name__}")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert outcomes.count("won") == 1, outcomes
    assert SessionClaim.objects.filter(session=session).count() == 1
    winner = SessionClaim.objects.get(session=session).owner
    assert AuditEntry.objects.filter(action=AuditAction.CLAIM).get().actor == winner


# --- The queue: mine, unclaimed, sort, ages --------------------------------------------------


def test_the_queue_filters_mine_and_unclaimed(reviewer_client, reviewer, other_reviewer):
    mine, theirs = make("q-mine"), make("q-theirs")
    make("q-free")
    workflow.claim_session(session=mine, user=reviewer, request=None)
    workflow.claim_session(session=theirs, user=other_reviewer, request=None)

    def ids(**query):
        response = reviewer_client.get(QUEUE, query)
        assert response.status_code == 200
        return {s.session_id for s in response.context["sessions"]}

    assert ids(claim="mine") == {"q-mine"}
    assert ids(claim="unclaimed") == {"q-free"}
    assert ids() == {"q-mine", "q-theirs", "q-free"}
    content = reviewer_client.get(QUEUE).content.decode()
    assert 'title="Claimed by other"' in content
    assert reviewer_client.get(QUEUE, {"claim": "bogus"}).status_code == 400


def test_in_review_defaults_to_oldest_first_and_the_sort_control_overrides_it(viewer_client):
    now = timezone.now()
    make("old", created_at=now - timedelta(days=3), aml_score=10)
    make("new", created_at=now, aml_score=90)
    make("mid", created_at=now - timedelta(days=1), aml_score=None)

    def order(**query):
        return [s.session_id for s in viewer_client.get(QUEUE, query).context["sessions"]]

    assert order() == ["new", "mid", "old"]
    assert order(status="In Review") == ["old", "mid", "new"]
    assert order(status="In Review", sort="newest") == ["new", "mid", "old"]
    assert order(sort="score") == ["new", "old", "mid"]  # No score last.


def test_ages_are_coloured_against_the_sla_and_breaches_counted(settings, viewer_client):
    settings.REVIEW_SLA_HOURS = 24
    now = timezone.now()
    make("fresh", created_at=now - timedelta(hours=2))
    make("near", created_at=now - timedelta(hours=20))
    make("late", created_at=now - timedelta(hours=30))
    make("done", created_at=now - timedelta(hours=90), status="Approved")
    response = viewer_client.get(QUEUE, {"status": "In Review"})
    content = response.content.decode()
    assert content.count("age--ok") == 1
    assert content.count("age--near") == 1
    assert content.count("age--breached") == 1
    assert response.context["workload"]["breached"] == 1
    assert "In Review past the 24 h SLA" in content


# --- Next, skip, decide-and-next -------------------------------------------------------------


def test_next_claims_the_oldest_unclaimed_session_of_the_queue(reviewer_client, other_reviewer):
    now = timezone.now()
    oldest = make("n-oldest", created_at=now - timedelta(days=3))
    make("n-middle", created_at=now - timedelta(days=2))
    make("n-newest", created_at=now - timedelta(days=1))
    make("n-approved", created_at=now - timedelta(days=9), status="Approved")
    workflow.claim_session(session=oldest, user=other_reviewer, request=None)

    response = reviewer_client.get(NEXT, {"status": "In Review"})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("verifications:session-detail", args=["n-middle"])
    assert parse_qs(location.query) == {"queue": ["status=In+Review"]}
    assert SessionClaim.objects.get(session__session_id="n-middle").owner.username == "reviewer"

    # Skip: the next one, and the skipped one is released.
    skipped = reviewer_client.get(NEXT, {"status": "In Review", "after": "n-middle"})
    assert urlsplit(skipped["Location"]).path.endswith("/n-newest/")
    assert not SessionClaim.objects.filter(session__session_id="n-middle").exists()

    # Nothing left: back to the queue, with a message.
    empty = reviewer_client.get(NEXT, {"status": "In Review", "after": "n-newest"}, follow=True)
    assert empty.redirect_chain[-1][0] == f"{QUEUE}?status=In+Review"
    assert "No unclaimed session is left in this queue." in empty.content.decode()


def test_next_needs_the_review_permission(viewer_client, client):
    assert viewer_client.get(NEXT).status_code == 403
    assert client.get(NEXT)["Location"].startswith(reverse("login"))


@pytest.fixture
def sandbox(didit_sandbox, settings):
    sync_all(didit_sandbox, settings)
    return didit_sandbox


def in_review() -> list[VerificationSession]:
    return list(VerificationSession.objects.filter(status="In Review").order_by("created_at", "id"))


def token_for(client, session) -> str:
    return client.get(detail_url(session)).context["status_form"].initial["form_token"]


def test_deciding_a_session_claimed_by_another_is_409_and_sends_nothing(
    sandbox, reviewer_client, other_reviewer
):
    session = in_review()[0]
    workflow.claim_session(session=session, user=other_reviewer, request=None)
    data = {
        "new_status": "Declined",
        "comment": "not mine",
        "form_token": token_for(reviewer_client, session),
    }
    response = reviewer_client.post(status_url(session), data)
    assert response.status_code == 409
    assert "other" in response.content.decode()
    assert sandbox.calls["update_status"] == 0
    session.refresh_from_db()
    assert session.status == "In Review"
    htmx = reviewer_client.post(status_url(session), data, **HTMX)
    assert (htmx.status_code, htmx["HX-Refresh"]) == (409, "true")
    assert sandbox.calls["update_status"] == 0


@pytest.fixture
def counts_cached(settings):
    """The queue's whole-table counts cached for 5 minutes, forgotten after the test."""
    settings.QUEUE_COUNTS_CACHE_SECONDS = 300
    cache.clear()
    yield
    cache.clear()


def test_a_decision_from_next_lands_on_the_next_session_and_the_counts_follow(
    sandbox, counts_cached, reviewer_client
):
    first, second = in_review()[:2]
    counts_before = dict(
        (status, count) for status, count, _ in reviewer_client.get(QUEUE).context["counts"]
    )
    opened = reviewer_client.get(NEXT, {"status": "In Review"})
    assert urlsplit(opened["Location"]).path == detail_url(first)
    page = reviewer_client.get(opened["Location"])
    assert 'name="queue" value="status=In+Review"' in page.content.decode()
    data = {
        "new_status": "Declined",
        "comment": "Document tampered",
        "form_token": page.context["status_form"].initial["form_token"],
        "queue": "status=In+Review",
    }
    response = reviewer_client.post(status_url(first), data, **HTMX)
    assert response.status_code == 204
    assert sandbox.calls["update_status"] == 1
    onward = reviewer_client.get(response["HX-Redirect"])
    assert urlsplit(onward["Location"]).path == detail_url(second)
    assert SessionClaim.objects.get().session == second

    # The cached counts (5 minutes) show the reviewer's own decision at once.
    counts_after = dict(
        (status, count) for status, count, _ in reviewer_client.get(QUEUE).context["counts"]
    )
    assert counts_after["In Review"] == counts_before["In Review"] - 1
    assert counts_after["Declined"] == counts_before.get("Declined", 0) + 1


def test_without_javascript_the_decision_redirects_to_next(sandbox, reviewer_client):
    first = in_review()[0]
    reviewer_client.get(NEXT, {"status": "In Review"})
    data = {
        "new_status": "Declined",
        "comment": "No JS",
        "form_token": token_for(reviewer_client, first),
        "queue": "status=In+Review",
    }
    response = reviewer_client.post(status_url(first), data)
    assert response.status_code == 302
    assert response["Location"] == f"{NEXT}?status=In+Review&after={first.session_id}"


# --- My work ---------------------------------------------------------------------------------


def test_my_work_lists_my_claims_my_held_decisions_and_todays_decisions(
    reviewer_client, reviewer, other_reviewer, django_assert_max_num_queries
):
    from verifications.models import PendingDecision, Review, ReviewSource

    claimed = make("w-claimed", full_name="Claimed Person")
    held = make("w-held", full_name="Held Person")
    decided = make("w-decided", full_name="Decided Person")
    old = make("w-old", full_name="Yesterday Person")
    theirs = make("w-theirs", full_name="Their Held Person")
    workflow.claim_session(session=claimed, user=reviewer, request=None)
    now = timezone.now()
    PendingDecision.objects.create(
        session=held, new_status="Approved", requested_by=reviewer, requested_at=now
    )
    PendingDecision.objects.create(
        session=theirs, new_status="Approved", requested_by=other_reviewer, requested_at=now
    )
    for session, when in ((decided, now), (old, now - timedelta(days=2))):
        Review.objects.create(
            session=session,
            source=ReviewSource.CONSOLE,
            new_status="Declined",
            staff_user=reviewer,
            created_at=when,
        )
    # Session, user, permissions (2), the four lists (4), session save (3).
    with django_assert_max_num_queries(11):
        response = reviewer_client.get(reverse("verifications:my-work"))
    assert response.status_code == 200
    assert [c.session.session_id for c in response.context["claims"]] == ["w-claimed"]
    assert [p.session.session_id for p in response.context["my_pending"]] == ["w-held"]
    assert [p.session.session_id for p in response.context["awaiting_me"]] == ["w-theirs"]
    assert [r.session.session_id for r in response.context["decided_today"]] == ["w-decided"]
    assert "Yesterday Person" not in response.content.decode()


def test_my_work_needs_login_and_get(client, reviewer_client, outsider_client):
    url = reverse("verifications:my-work")
    assert client.get(url)["Location"].startswith(reverse("login"))
    assert reviewer_client.post(url).status_code == 405
    assert outsider_client.get(url).status_code == 403
