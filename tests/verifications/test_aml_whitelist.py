"""The AML false-positive whitelist: made with a False Positive, offered on the same person's
next session (still sent to Didit by a person), gone after its review-by date or a revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.sandbox import sync_all
from tests.verifications.test_aml_review import (
    HITS,
    HTMX,
    bulk_url,
    detail_url,
    hits_of,
    page_form,
    screened_session_id,
    the_session,
)
from verifications.models import AmlHit, AmlWhitelistEntry, AuditAction, AuditEntry
from verifications.services_aml import hit_identity, revoke_whitelist_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(didit_sandbox, settings):
    session_id = screened_session_id(didit_sandbox)
    didit_sandbox.set_aml_hit_count(session_id, HITS)
    for hit in didit_sandbox.aml_hits(session_id):
        didit_sandbox.set_hit_review(session_id, hit["id"], "Unreviewed")
    sync_all(didit_sandbox, settings)
    didit_sandbox.screened = session_id
    return didit_sandbox


def whitelist_two(client, session, **extra) -> list[AmlHit]:
    chosen = hits_of(session)[:2]
    data = {
        **page_form(client, session),
        "hit": [hit.pk for hit in chosen],
        "disposition": "False Positive",
        "note": "Different person: born 1961, other nationality",
        "whitelist": "1",
        **extra,
    }
    response = client.post(bulk_url(session), data, **HTMX)
    assert response.status_code == 200, response.content.decode()
    return chosen


def next_session(sandbox, settings):
    """The same person screened again at Didit (same list entities), synced."""
    new_id = sandbox.repeat_session(sandbox.screened)
    for hit in sandbox.aml_hits(new_id):
        sandbox.set_hit_review(new_id, hit["id"], "Unreviewed")
    sync_all(sandbox, settings)
    return the_session(type("S", (), {"screened": new_id}))


def test_a_false_positive_can_whitelist_the_entities_for_the_person(
    sandbox, reviewer_client, reviewer, settings
):
    settings.AML_WHITELIST_DAYS = 30
    session = the_session(sandbox)
    chosen = whitelist_two(reviewer_client, session)

    entries = list(AmlWhitelistEntry.objects.order_by("id"))
    assert [entry.entity_id for entry in entries] == [hit.hit_id for hit in chosen]
    for entry, hit in zip(entries, chosen, strict=True):
        assert entry.vendor_data == session.vendor_data
        assert entry.reason == "Different person: born 1961, other nationality"
        assert entry.created_by == reviewer
        assert entry.review_by == timezone.localdate() + timedelta(days=30)
        assert (entry.source_session_id, entry.source_hit_id) == (session.session_id, hit.hit_id)
        hit.refresh_from_db()
        assert hit.whitelist_entry == entry
    added = AuditEntry.objects.filter(action=AuditAction.AML_WHITELIST_ADD)
    assert added.count() == 2
    assert added.first().object_id == session.vendor_data


def test_whitelist_until_sets_the_review_by_date(sandbox, reviewer_client):
    session = the_session(sandbox)
    until = timezone.localdate() + timedelta(days=90)
    whitelist_two(reviewer_client, session, whitelist_until=until.isoformat())
    assert set(AmlWhitelistEntry.objects.values_list("review_by", flat=True)) == {until}


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"disposition": "Confirmed Match", "note": "Same"}, "Only a False Positive"),
        ({"disposition": "Inconclusive"}, "Only a False Positive"),
        ({"whitelist_until": "2001-01-01"}, "must be in the future"),
        ({"whitelist_until": "not a date"}, "valid date"),
        ({"note": ""}, "reason for whitelisting"),
    ],
)
def test_bad_whitelist_requests_are_refused(sandbox, reviewer_client, extra, error):
    session = the_session(sandbox)
    data = {
        **page_form(reviewer_client, session),
        "hit": [hits_of(session)[0].pk],
        "disposition": "False Positive",
        "note": "Different person",
        "whitelist": "1",
        **extra,
    }
    response = reviewer_client.post(bulk_url(session), data, **HTMX)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert sandbox.aml_hit_requests == []
    assert not AmlWhitelistEntry.objects.exists()


def test_the_next_session_of_the_person_offers_the_whitelisted_hits(
    sandbox, reviewer_client, settings
):
    first = the_session(sandbox)
    chosen = whitelist_two(reviewer_client, first)
    second = next_session(sandbox, settings)
    assert second.vendor_data == first.vendor_data and second.pk != first.pk

    page = reviewer_client.get(detail_url(second))

    offered = {hit.hit_id for hit in page.context["aml_offered"]}
    assert offered == {hit.hit_id for hit in chosen}
    content = page.content.decode()
    today = timezone.localdate()
    until = today + timedelta(days=settings.AML_WHITELIST_DAYS)
    assert (
        f"Whitelisted by reviewer on {today:%Y-%m-%d}, until {until:%Y-%m-%d}: "
        "Different person: born 1961, other nationality"
    ) in content
    # Pre-selected in the table, and a one-click False Positive: nothing sent until clicked.
    new_hits = {hit.hit_id: hit for hit in hits_of(second)}
    for hit_id in offered:
        assert f'name="hit" value="{new_hits[hit_id].pk}" aria-label' in content
    assert page.context["aml_selected"] == {new_hits[hit_id].pk for hit_id in offered}
    assert "False Positive for the 2 whitelisted hits" in content
    assert len(sandbox.aml_hit_requests) == 1
    assert {new_hits[h].review_status for h in offered} == {"Unreviewed"}

    # The click: one bulk call with the whitelist's reason; the entries are linked, not copied.
    data = {
        "form_token": page.context["aml_offer_token"],
        "seen": page.context["aml_seen"],
        "note": page.context["aml_offer_note"],
        "hit": [new_hits[hit_id].pk for hit_id in offered],
        "disposition": "False Positive",
    }
    response = reviewer_client.post(bulk_url(second), data, **HTMX)
    assert response.status_code == 200
    assert len(sandbox.aml_hit_requests) == 2
    for hit_id in offered:
        hit = AmlHit.objects.get(pk=new_hits[hit_id].pk)
        assert hit.review_status == "False Positive"
        assert hit.whitelist_entry.source_session_id == first.session_id
    assert AmlWhitelistEntry.objects.count() == 2


def test_an_expired_entry_is_no_longer_offered_and_is_listed_for_re_review(
    sandbox, reviewer_client, reviewer, settings
):
    settings.AML_WHITELIST_DAYS = 10
    first = the_session(sandbox)
    whitelist_two(reviewer_client, first)
    second = next_session(sandbox, settings)
    with time_machine.travel(timezone.now() + timedelta(days=10), tick=False):
        reviewer_client.force_login(reviewer)  # The login session has long expired.
        assert len(reviewer_client.get(detail_url(second)).context["aml_offered"]) == 2
        assert AmlWhitelistEntry.objects.expired().count() == 0
    with time_machine.travel(timezone.now() + timedelta(days=11), tick=False):
        reviewer_client.force_login(reviewer)
        page = reviewer_client.get(detail_url(second))
        assert page.context["aml_offered"] == []
        assert "Whitelisted by" not in page.content.decode()
        assert AmlWhitelistEntry.objects.expired().count() == 2


def test_another_person_is_not_offered_the_entry(sandbox, reviewer_client, settings):
    first = the_session(sandbox)
    chosen = whitelist_two(reviewer_client, first)
    AmlWhitelistEntry.objects.update(vendor_data="someone-else")
    second = next_session(sandbox, settings)
    assert reviewer_client.get(detail_url(second)).context["aml_offered"] == []
    assert chosen


def test_a_revoked_entry_no_longer_applies_and_the_revoke_is_audited(
    sandbox, reviewer_client, admin_client, settings
):
    first = the_session(sandbox)
    whitelist_two(reviewer_client, first)
    second = next_session(sandbox, settings)
    entry = AmlWhitelistEntry.objects.order_by("id").first()
    changelist = reverse("admin:verifications_amlwhitelistentry_changelist")
    assert admin_client.get(changelist).status_code == 200
    assert admin_client.get(changelist, {"state": "expired"}).status_code == 200

    response = admin_client.post(
        changelist, {"action": "revoke", "_selected_action": [entry.pk]}, follow=True
    )

    assert response.status_code == 200
    entry.refresh_from_db()
    assert entry.revoked_at is not None and entry.revoked_by.username == "admin"
    revoke = AuditEntry.objects.get(action=AuditAction.AML_WHITELIST_REVOKE)
    assert revoke.detail["entry"] == entry.pk
    assert len(reviewer_client.get(detail_url(second)).context["aml_offered"]) == 1
    # Revoking twice changes nothing and is not audited twice.
    assert not revoke_whitelist_entry(entry=entry, actor=entry.revoked_by, request=None)
    assert AuditEntry.objects.filter(action=AuditAction.AML_WHITELIST_REVOKE).count() == 1


def test_a_reviewer_cannot_revoke_in_the_admin(sandbox, reviewer_client):
    whitelist_two(reviewer_client, the_session(sandbox))
    entry = AmlWhitelistEntry.objects.first()
    changelist = reverse("admin:verifications_amlwhitelistentry_changelist")
    reviewer_client.post(changelist, {"action": "revoke", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.revoked_at is None


def test_a_hit_without_an_id_is_known_by_name_birth_date_and_dataset():
    hit = AmlHit(
        hit_id="sha256:abc",
        caption="Ivan  PETROV",
        datasets=["us_ofac_sdn", "eu_fsf"],
        properties={"birthDate": ["1961-02-03"]},
        details={},
    )
    assert hit_identity(hit) == {
        "entity_id": "",
        "name": "ivan petrov",
        "birth_date": "1961-02-03",
        "dataset": "eu_fsf,us_ofac_sdn",
    }
    hit.details = {"target": {"id": "Q123"}}
    assert hit_identity(hit)["entity_id"] == "Q123"
    hit.details = {"entity_id": "NK-1"}
    assert hit_identity(hit)["entity_id"] == "NK-1"
