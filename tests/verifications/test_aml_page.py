"""The AML section for many hits: a constant number of queries for 1, 10 and 50 hits; the
compliance PDF per hit; the migration of round 1's local dispositions."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from tests.sandbox import session_row
from verifications.models import (
    AmlHit,
    AmlHitReview,
    AmlScreening,
    AmlWhitelistEntry,
    VerificationSession,
)
from verifications.pdf import render_session_report, report_sessions

TOPICS = [["sanction"], ["role.pep"], ["crime.fin"], ["debarment"], []]


def session_with_hits(count: int, *, reviewer) -> VerificationSession:
    session = session_row(f"s-{count}", vendor_data=f"person-{count}", full_name="Ivan Petrov")
    session.save()
    AmlScreening.objects.create(session=session, status="In Review", total_hits=count, score=70)
    entry = AmlWhitelistEntry.objects.create(
        vendor_data=session.vendor_data,
        entity_id=f"NK-{count}-0",
        reason="Other birth date",
        created_by=reviewer,
        review_by=timezone.localdate() + timedelta(days=30),
    )
    AmlHit.objects.bulk_create(
        AmlHit(
            session=session,
            hit_id=f"NK-{count}-{n}",
            caption=f"Hit {n}",
            match_score=50 + n % 50,
            risk_score=n % 90,
            datasets=["us_ofac_sdn"],
            topics=TOPICS[n % len(TOPICS)],
            properties={"birthDate": ["1961-02-03"], "country": ["ru"], "alias": [f"H{n}"]},
            details={"pep_matches": []},
            review_status="False Positive" if n % 3 == 0 else "Unreviewed",
            disposition="False Positive" if n % 3 == 0 else "",
            disposed_by=reviewer if n % 3 == 0 else None,
            disposed_at=timezone.now() if n % 3 == 0 else None,
            whitelist_entry=entry if n % 3 == 0 else None,
            position=n,
        )
        for n in range(count)
    )
    return session


@pytest.mark.django_db
def test_the_session_page_costs_the_same_queries_for_1_10_and_50_hits(
    reviewer, reviewer_client, django_assert_num_queries
):
    sessions = {n: session_with_hits(n, reviewer=reviewer) for n in (1, 10, 50)}
    url = reverse("verifications:session-detail", args=[sessions[1].session_id])
    reviewer_client.get(url)  # Warm caches (content types, permissions).
    with CaptureQueriesContext(connection) as one:
        assert reviewer_client.get(url).status_code == 200
    baseline = len(one.captured_queries)
    for n in (10, 50):
        url = reverse("verifications:session-detail", args=[sessions[n].session_id])
        with django_assert_num_queries(baseline):
            response = reviewer_client.get(url)
        assert response.content.decode().count('class="aml__hit') == n
        assert len(response.context["aml_offered"]) == 0  # The whitelisted hit is reviewed.


@pytest.mark.django_db
def test_the_section_alone_costs_the_same_queries_for_10_and_50_hits(
    reviewer, reviewer_client, django_assert_num_queries
):
    sessions = {n: session_with_hits(n, reviewer=reviewer) for n in (10, 50)}
    counts = []
    for n in (10, 50):
        url = reverse("verifications:aml-hits", args=[sessions[n].session_id])
        reviewer_client.get(url, HTTP_HX_REQUEST="true")
        with CaptureQueriesContext(connection) as captured:
            reviewer_client.get(url, HTTP_HX_REQUEST="true")
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    with django_assert_num_queries(counts[0]):
        reviewer_client.get(url, {"hits": "unreviewed"}, HTTP_HX_REQUEST="true")


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.mark.django_db
def test_the_compliance_report_shows_each_hits_review_and_its_whitelist_entry(reviewer):
    session = session_with_hits(3, reviewer=reviewer)
    AmlHit.objects.filter(hit_id="NK-3-0").update(disposition_note="Born 1961, not 1975")
    AmlHit.objects.filter(hit_id="NK-3-1").update(review_status="Confirmed Match")

    data = render_session_report(report_sessions().get(pk=session.pk), generated_by=reviewer)

    text = pdf_text(data)
    assert "Didit review status" in text
    assert "False Positive by reviewer" in text
    assert "Note: Born 1961, not 1975" in text
    assert "Whitelist entry: by reviewer" in text and "Other birth date" in text
    assert "Confirmed Match" in text  # Set at Didit: the status, without a console author.
    assert "Unreviewed" in text


@pytest.mark.django_db(transaction=True)
def test_the_migration_maps_local_dispositions_and_keeps_their_history(django_user_model):
    executor = MigrationExecutor(connection)
    after = [("verifications", "0012_aml_review_statuses_whitelist")]
    before = [
        parent.key
        for parent in executor.loader.graph.node_map[after[0]].parents
        if parent.key[0] == "verifications"
    ]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = django_user_model.objects.create(username="old-reviewer")
    session = old.get_model("verifications", "VerificationSession").objects.create(
        session_id="old-1",
        status="In Review",
        api_shape="v3",
        decision={},
        decision_hash="x",
        synced_at=timezone.now(),
        created_at=timezone.now(),
    )
    Hit = old.get_model("verifications", "AmlHit")
    changed = Hit.objects.create(
        session=session,
        hit_id="NK-a",
        disposition="false_positive",
        disposition_note="Other person",
        disposed_by_id=user.pk,
        disposed_at=timezone.now(),
    )
    plain = Hit.objects.create(
        session=session,
        hit_id="NK-b",
        disposition="true_match",
        disposition_note="Same passport",
        disposed_by_id=user.pk,
        disposed_at=timezone.now(),
    )
    Hit.objects.create(session=session, hit_id="NK-c")
    Audit = old.get_model("verifications", "AuditEntry")
    for previous, value in (("", "true_match"), ("true_match", "false_positive")):
        Audit.objects.create(
            actor_id=user.pk,
            actor_username="old-reviewer",
            action="aml_disposition",
            object_type="session",
            object_id="old-1",
            detail={"hit_id": "NK-a", "previous": previous, "disposition": value, "note": "n"},
        )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    hits = {hit.hit_id: hit for hit in AmlHit.objects.all()}
    assert hits["NK-a"].disposition == "False Positive"
    assert hits["NK-b"].disposition == "Confirmed Match"
    assert hits["NK-c"].disposition == ""
    history = list(
        AmlHitReview.objects.filter(hit__hit_id="NK-a").values_list(
            "previous_status", "review_status", "source", "staff_user__username"
        )
    )
    assert history == [
        ("", "Confirmed Match", "migrated", "old-reviewer"),
        ("Confirmed Match", "False Positive", "migrated", "old-reviewer"),
    ]
    only = AmlHitReview.objects.get(hit__hit_id="NK-b")
    assert (only.review_status, only.note, only.source) == (
        "Confirmed Match",
        "Same passport",
        "migrated",
    )
    assert changed.pk and plain.pk
