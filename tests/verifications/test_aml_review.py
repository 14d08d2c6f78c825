"""AML hit dispositions: Didit's review statuses, sent to Didit (the sandbox, over real HTTP)
first, one hit or several in one bulk call, stored only once Didit has confirmed them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from tests.sandbox import sync_all
from verifications.forms import COMMENT_MAX_LENGTH
from verifications.models import (
    AmlHit,
    AmlHitReview,
    AuditAction,
    AuditEntry,
    VerificationSession,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
HITS = 8


def screened_session_id(server) -> str:
    """A v3 session of a known person whose AML screening is In Review."""
    for session_id in server.session_ids():
        decision = server.decision(session_id, "v3")
        screenings = decision.get("aml_screenings") or []
        if (
            screenings
            and screenings[0].get("status") == "In Review"
            and decision.get("vendor_data")
            and decision.get("status") == "In Review"
        ):
            return session_id
    pytest.fail("no In Review AML session in the sandbox")


@pytest.fixture
def sandbox(didit_sandbox, settings):
    """The default sandbox with one In Review session of HITS hits, all Unreviewed, synced."""
    session_id = screened_session_id(didit_sandbox)
    didit_sandbox.set_aml_hit_count(session_id, HITS)
    for hit in didit_sandbox.aml_hits(session_id):
        if hit["review_status"] != "Unreviewed":
            didit_sandbox.set_hit_review(session_id, hit["id"], "Unreviewed")
    sync_all(didit_sandbox, settings)
    didit_sandbox.screened = session_id
    return didit_sandbox


def the_session(sandbox) -> VerificationSession:
    return VerificationSession.objects.get(session_id=sandbox.screened)


def hits_of(session: VerificationSession) -> list[AmlHit]:
    return list(session.aml_hits.order_by("position"))


def detail_url(session: VerificationSession) -> str:
    return reverse("verifications:session-detail", args=[session.session_id])


def one_url(hit: AmlHit) -> str:
    return reverse("verifications:aml-hit-disposition", args=[hit.session.session_id, hit.pk])


def bulk_url(session: VerificationSession) -> str:
    return reverse("verifications:aml-hits-disposition", args=[session.session_id])


def page_form(client, session: VerificationSession) -> dict:
    """The hidden fields of the section's form as the page renders them."""
    form = client.get(detail_url(session)).context["aml_form"]
    return {"form_token": form.initial["form_token"], "seen": form.initial["seen"]}


def didit_statuses(sandbox, session: VerificationSession) -> dict[str, str]:
    return {hit["id"]: hit["review_status"] for hit in sandbox.aml_hits(session.session_id)}


def nothing_stored(session: VerificationSession) -> bool:
    return (
        not AmlHit.objects.filter(session=session).exclude(disposition="").exists()
        and not AmlHitReview.objects.exists()
        and not AuditEntry.objects.filter(action=AuditAction.AML_DISPOSITION).exists()
        and not AmlHit.objects.filter(session=session, pending_by__isnull=False).exists()
    )


# --- One hit and several -------------------------------------------------------------------------


def test_one_hit_is_sent_with_the_documented_body_and_stored_as_didit_confirmed(
    sandbox, reviewer_client, reviewer
):
    session = the_session(sandbox)
    hit = hits_of(session)[0]
    data = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    data["note"] = "Different date of birth"

    response = reviewer_client.post(one_url(hit), data, **HTMX)

    assert response.status_code == 200
    path, body = sandbox.aml_hit_requests[-1]
    assert path == f"/v3/session/{session.session_id}/update-aml-hit-status/"
    assert body == {
        "hit_id": hit.hit_id,
        "review_status": "False Positive",
        "comment": "Different date of birth",
    }
    assert len(sandbox.aml_hit_requests) == 1
    hit.refresh_from_db()
    assert (hit.review_status, hit.disposition, hit.disposed_by) == (
        "False Positive",
        "False Positive",
        reviewer,
    )
    assert hit.pending_by is None
    assert didit_statuses(sandbox, session)[hit.hit_id] == "False Positive"
    review = AmlHitReview.objects.get()
    assert (review.hit, review.review_status, review.previous_status, review.staff_user) == (
        hit,
        "False Positive",
        "Unreviewed",
        reviewer,
    )
    entry = AuditEntry.objects.get(action=AuditAction.AML_DISPOSITION)
    assert entry.detail["disposition"] == "False Positive"
    assert "marked False Positive at Didit" in response.content.decode()


def test_several_hits_are_one_bulk_call_with_one_item_per_hit(sandbox, reviewer_client):
    session = the_session(sandbox)
    chosen = hits_of(session)[:5]
    data = {
        **page_form(reviewer_client, session),
        "hit": [hit.pk for hit in chosen],
        "disposition": "Inconclusive",
        "note": "Needs the source document",
    }

    response = reviewer_client.post(bulk_url(session), data, **HTMX)

    assert response.status_code == 200
    assert len(sandbox.aml_hit_requests) == 1
    path, body = sandbox.aml_hit_requests[0]
    assert path == f"/v3/session/{session.session_id}/bulk-update-aml-hit-status/"
    assert body == {
        "hits": [
            {
                "hit_id": hit.hit_id,
                "review_status": "Inconclusive",
                "comment": "Needs the source document",
            }
            for hit in chosen
        ]
    }
    at_didit = didit_statuses(sandbox, session)
    for hit in hits_of(session):
        expected = "Inconclusive" if hit.pk in {c.pk for c in chosen} else "Unreviewed"
        assert hit.review_status == expected == at_didit[hit.hit_id]
    assert AmlHitReview.objects.count() == 5
    assert AuditEntry.objects.filter(action=AuditAction.AML_DISPOSITION).count() == 5


def test_without_javascript_a_disposition_redirects_to_the_hits(sandbox, reviewer_client):
    session = the_session(sandbox)
    hit = hits_of(session)[1]
    data = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    response = reviewer_client.post(one_url(hit), data)
    assert response.status_code == 302
    assert response["Location"] == f"{detail_url(session)}#aml-hits"
    hit.refresh_from_db()
    assert hit.review_status == "False Positive"


def test_a_confirmed_match_needs_a_note(sandbox, reviewer_client):
    session = the_session(sandbox)
    hit = hits_of(session)[0]
    data = {**page_form(reviewer_client, session), "disposition": "Confirmed Match"}
    response = reviewer_client.post(one_url(hit), data, **HTMX)
    assert response.status_code == 400
    assert "note is required" in response.content.decode()
    assert sandbox.aml_hit_requests == []
    assert nothing_stored(session)


# --- Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["", "false_positive", "true_match", "Unreviewed", "FALSE POSITIVE", "Approved"]
)
def test_a_disposition_outside_didits_three_is_refused(sandbox, reviewer_client, value):
    session = the_session(sandbox)
    data = {**page_form(reviewer_client, session), "disposition": value, "note": "x"}
    data["hit"] = [hits_of(session)[0].pk]
    response = reviewer_client.post(bulk_url(session), data, **HTMX)
    assert response.status_code == 400
    assert sandbox.aml_hit_requests == []
    assert nothing_stored(session)


def test_a_note_over_ten_thousand_characters_is_refused(sandbox, reviewer_client):
    session = the_session(sandbox)
    data = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    data["note"] = "x" * (COMMENT_MAX_LENGTH + 1)
    response = reviewer_client.post(one_url(hits_of(session)[0]), data)
    assert response.status_code == 400
    assert sandbox.aml_hit_requests == []
    assert nothing_stored(session)


@pytest.mark.parametrize("junk", ["99999999", "abc", "-1"])
def test_unknown_hit_ids_are_refused(sandbox, reviewer_client, junk):
    session = the_session(sandbox)
    data = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    data["hit"] = [hits_of(session)[0].pk, junk]
    response = reviewer_client.post(bulk_url(session), data, **HTMX)
    assert response.status_code == 400
    assert sandbox.aml_hit_requests == []
    assert nothing_stored(session)


def test_no_hit_selected_is_refused(sandbox, reviewer_client):
    session = the_session(sandbox)
    data = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    response = reviewer_client.post(bulk_url(session), data, **HTMX)
    assert response.status_code == 400
    assert "Select at least one hit" in response.content.decode()
    assert sandbox.aml_hit_requests == []


def test_a_hit_of_another_session_is_refused(sandbox, reviewer_client):
    session = the_session(sandbox)
    other = AmlHit.objects.exclude(session=session).select_related("session").first()
    assert other is not None
    data = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    response = reviewer_client.post(bulk_url(session), {**data, "hit": [other.pk]}, **HTMX)
    assert response.status_code == 400
    url = reverse("verifications:aml-hit-disposition", args=[session.session_id, other.pk])
    assert reviewer_client.post(url, data).status_code == 404
    assert sandbox.aml_hit_requests == []
    assert not AmlHit.objects.exclude(disposition="").exists()


def test_a_double_submit_is_sent_once(sandbox, reviewer_client):
    session = the_session(sandbox)
    hit = hits_of(session)[0]
    data = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    assert reviewer_client.post(one_url(hit), data, **HTMX).status_code == 200
    again = reviewer_client.post(one_url(hit), {**data, "disposition": "Inconclusive"}, **HTMX)
    assert again.status_code == 409
    assert "already submitted" in again.content.decode()
    assert len(sandbox.aml_hit_requests) == 1
    hit.refresh_from_db()
    assert hit.review_status == "False Positive"
    assert AmlHitReview.objects.count() == 1


@pytest.fixture
def second_reviewer(django_user_model):
    user = django_user_model.objects.create_user("reviewer2", password="x")
    user.groups.add(Group.objects.get(name="reviewer"))
    return user


def test_two_reviewers_from_the_same_page_state_one_wins(
    sandbox, reviewer_client, client, second_reviewer
):
    session = the_session(sandbox)
    hit = hits_of(session)[0]
    client.force_login(second_reviewer)
    first = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    second = {**page_form(client, session), "disposition": "Confirmed Match", "note": "Same"}
    assert reviewer_client.post(one_url(hit), first, **HTMX).status_code == 200
    response = client.post(one_url(hit), second, **HTMX)
    assert response.status_code == 409
    assert "Another reviewer" in response.content.decode()
    assert len(sandbox.aml_hit_requests) == 1
    hit.refresh_from_db()
    assert (hit.review_status, hit.disposed_by.username) == ("False Positive", "reviewer")


def test_a_hit_being_sent_by_another_reviewer_is_refused(sandbox, reviewer_client, second_reviewer):
    session = the_session(sandbox)
    hit = hits_of(session)[0]
    data = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    AmlHit.objects.filter(pk=hit.pk).update(pending_by=second_reviewer, pending_at=timezone.now())
    response = reviewer_client.post(bulk_url(session), {**data, "hit": [hit.pk]}, **HTMX)
    assert response.status_code == 409
    assert sandbox.aml_hit_requests == []
    hit.refresh_from_db()
    assert hit.disposition == "" and hit.pending_by == second_reviewer


# --- Didit refuses or cannot be reached ----------------------------------------------------------


def test_didits_refusal_stores_nothing_and_keeps_the_note(sandbox, reviewer_client):
    session = the_session(sandbox)
    hit = hits_of(session)[0]
    # A hit Didit does not know (e.g. re-screened away): Didit answers 404.
    AmlHit.objects.filter(pk=hit.pk).update(hit_id="NK-unknown-to-didit")
    data = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    data["note"] = "Checked against the registry"
    response = reviewer_client.post(one_url(hit), data, **HTMX)
    assert response.status_code == 502
    content = response.content.decode()
    assert "Didit refused" in content and "Nothing was stored" in content
    assert "Checked against the registry" in content
    assert len(sandbox.aml_hit_requests) == 1
    assert nothing_stored(session)


@pytest.mark.parametrize("fault", ["500", "503", "slow", "drop"])
def test_an_outage_stores_nothing_and_keeps_the_form(sandbox, reviewer_client, settings, fault):
    settings.DIDIT_READ_TIMEOUT = 0.5
    session = the_session(sandbox)
    chosen = hits_of(session)[:3]
    data = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    data.update(hit=[hit.pk for hit in chosen], note="Namesake, other country")
    sandbox.set_faults(1.0, [fault])
    response = reviewer_client.post(bulk_url(session), data)
    sandbox.set_faults(0.0)
    assert response.status_code == 502
    content = response.content.decode()
    assert "could not be reached" in content
    assert "Namesake, other country" in content
    for hit in chosen:  # Still ticked for the next attempt.
        assert f'name="hit" value="{hit.pk}" aria-label' in content
    assert nothing_stored(session)
    assert set(didit_statuses(sandbox, session).values()) == {"Unreviewed"}


# --- Access --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(sandbox, client):
    session = the_session(sandbox)
    response = client.post(bulk_url(session), {"disposition": "False Positive"})
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_disposition_endpoints_reject_get(sandbox, reviewer_client):
    session = the_session(sandbox)
    assert reviewer_client.get(bulk_url(session)).status_code == 405
    assert reviewer_client.get(one_url(hits_of(session)[0])).status_code == 405


@pytest.mark.parametrize("persona", ["viewer_client", "outsider_client"])
def test_only_reviewers_may_dispose(sandbox, request, persona):
    session = the_session(sandbox)
    client = request.getfixturevalue(persona)
    hit = hits_of(session)[0]
    assert client.post(one_url(hit), {"disposition": "False Positive"}).status_code == 403
    data = {"disposition": "False Positive", "hit": [hit.pk]}
    assert client.post(bulk_url(session), data).status_code == 403
    assert sandbox.aml_hit_requests == []


def test_a_viewer_sees_the_hits_without_the_form(sandbox, viewer_client):
    session = the_session(sandbox)
    page = viewer_client.get(detail_url(session))
    content = page.content.decode()
    assert 'id="aml-hits"' in content
    assert 'name="disposition"' not in content
    assert content.count('class="aml__hit') == HITS


# --- The table: filter and sort ------------------------------------------------------------------


def test_the_unreviewed_filter_shows_only_unreviewed_hits(sandbox, reviewer_client):
    session = the_session(sandbox)
    hits = hits_of(session)
    data = {**page_form(reviewer_client, session), "disposition": "False Positive"}
    reviewer_client.post(bulk_url(session), {**data, "hit": [hits[0].pk, hits[1].pk]}, **HTMX)
    url = reverse("verifications:aml-hits", args=[session.session_id])

    response = reviewer_client.get(url, {"hits": "unreviewed"}, **HTMX)

    content = response.content.decode()
    assert content.lstrip().startswith('<section id="aml-hits"')
    assert f'id="aml-hit-{hits[0].pk}"' not in content
    assert f'id="aml-hit-{hits[2].pk}"' in content
    assert content.count('class="aml__hit') == HITS - 2
    # Without htmx: the session page, at the section, with the same filter.
    plain = reviewer_client.get(url, {"hits": "unreviewed"})
    assert plain["Location"] == f"{detail_url(session)}?hits=unreviewed#aml-hits"
    page = reviewer_client.get(detail_url(session), {"hits": "unreviewed"})
    assert len(page.context["aml_hits"]) == HITS - 2


def test_hits_are_ordered_by_severity_then_score(sandbox, viewer_client):
    session = the_session(sandbox)
    shown = viewer_client.get(detail_url(session)).context["aml_hits"]
    order = ["sanction", "pep", "adverse media", "warning", "other"]
    keys = [(order.index(hit.type), -(hit.match_score or 0)) for hit in shown]
    assert keys == sorted(keys)
    by_name = viewer_client.get(detail_url(session), {"sort": "name"}).context["aml_hits"]
    names = [(hit.caption or hit.hit_id).casefold() for hit in by_name]
    assert names == sorted(names)
