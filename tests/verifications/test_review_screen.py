"""The session page as a reviewer reads it: everything in the decision shown in sections
(a test walks every leaf), honest signals, the name's fallbacks, vendor data linked, the
decision panel, and a query count that does not grow with the decision."""

from __future__ import annotations

import html
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.sandbox import session_row, sync_all
from verifications.models import VerificationSession

pytestmark = pytest.mark.django_db

# Leaves shown elsewhere than in the sections, by path pattern ("*" = any list index):
# the AML hits have their own block (issue 13 rebuilds it), reviews are the timeline,
# warnings the warnings panel; the top-level status is the header's badge.
SKIP = (
    "reviews.",
    "warnings.",
    "aml.hits.",
    "aml_screenings.*.hits.",
    "aml_screening.hits.",
    "*.warnings.",
    "status",
)


@pytest.fixture
def sandbox(didit_sandbox_factory, settings):
    server = didit_sandbox_factory(sessions=60, seed=4)
    sync_all(server, settings)
    return server


def detail(session: VerificationSession) -> str:
    return reverse("verifications:session-detail", args=[session.session_id])


def leaves(value, path=""):
    """(path with list indexes as "*", scalar) for every scalar leaf of a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}{key}.")
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item, f"{path}*.")
    else:
        yield path.rstrip("."), value


def skipped(path: str) -> bool:
    for pattern in SKIP:
        if pattern.endswith("."):
            head = pattern.rstrip(".")
            if _match(path.split("."), head.split("."), prefix=True):
                return True
        elif _match(path.split("."), pattern.split("."), prefix=False):
            return True
    return False


def _match(parts, pattern, *, prefix):
    if len(parts) < len(pattern) or (not prefix and len(parts) != len(pattern)):
        return False
    return all(p == "*" or p == q for p, q in zip(pattern, parts, strict=False))


def shown(value, page: str) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return True  # Yes/No words; checked by their own test.
    text = value if isinstance(value, str) else json.dumps(value)
    return html.escape(str(text), quote=True) in page or html.escape(str(value)) in page


@pytest.mark.parametrize("shape", ["v1", "v2", "v3"])
def test_every_leaf_of_each_decision_shape_is_on_the_page(sandbox, reviewer_client, shape):
    sessions = list(
        VerificationSession.objects.filter(api_shape=shape).exclude(
            status__in=["Not Started", "In Progress"]
        )[:25]
    )
    assert sessions, f"the sandbox serves no {shape} decision"
    for session in sessions:
        page = reviewer_client.get(detail(session)).content.decode()
        # The raw JSON is a fallback for the curious, not where data is read.
        page = page.split('<pre class="raw-json">')[0]
        missing = [
            (path, value)
            for path, value in leaves(session.decision)
            if not skipped(path) and not shown(value, page)
        ]
        assert missing == [], (session.session_id, missing[:10])


def test_the_sandbox_decisions_include_the_parts_worth_walking(sandbox):
    keys = set()
    for session in VerificationSession.objects.filter(api_shape="v3"):
        keys |= {key for key, value in session.decision.items() if value}
        if len(session.decision.get("id_verifications") or []) > 1:
            keys.add("two documents")
    assert {"id_verifications", "liveness_checks", "face_matches", "ip_analyses"} <= keys
    assert {"metadata", "expected_details", "contact_details"} & keys


def make(session_id="s-1", **fields) -> VerificationSession:
    session = session_row(session_id, **fields)
    session.save()
    return session


def page_of(client, session) -> str:
    return client.get(detail(session)).content.decode()


def test_aml_not_run_is_not_screened_clean(viewer_client):
    not_run = make("no-aml", decision={"status": "In Review"})
    content = page_of(viewer_client, not_run)
    assert "AML not run in this session." in content
    assert "No AML hits." not in content and "Screened, no hits." not in content


def test_aml_screened_without_hits_says_so(viewer_client):
    from verifications.models import AmlScreening

    session = make("clean")
    AmlScreening.objects.create(session=session, status="Approved", total_hits=0, score=0)
    assert "Screened, no hits." in page_of(viewer_client, session)


def test_a_face_score_takes_didits_verdict_not_a_threshold(viewer_client):
    from verifications.models import FaceCheck

    session = make("face")
    FaceCheck.objects.create(
        session=session, face_match_similarity=78.8, face_match_status="In Review"
    )
    content = page_of(viewer_client, session)
    assert '<span class="score score--medium">78.8%</span>' in content
    FaceCheck.objects.filter(session=session).update(face_match_status="Approved")
    assert '<span class="score score--low">78.8%</span>' in page_of(viewer_client, session)


def test_an_expired_document_is_highlighted_and_is_a_reason(viewer_client):
    from verifications.models import DocumentData

    session = make("expired")
    DocumentData.objects.create(
        session=session, expiration_date=timezone.localdate() - timedelta(days=3)
    )
    content = page_of(viewer_client, session)
    assert "— expired</span>" in content
    assert 'href="#document-title">Document expired on' in content


def test_who_decided_is_told_apart(viewer_client, reviewer):
    from verifications.models import Review, ReviewSource

    automatic = make("auto", status="Approved")
    assert "decided by Didit automatically" in page_of(viewer_client, automatic)
    waiting = make("wait", status="In Review")
    assert "awaiting review" in page_of(viewer_client, waiting)
    Review.objects.create(
        session=waiting,
        source=ReviewSource.CONSOLE,
        new_status="In Review",
        created_at=timezone.now(),
        staff_user=reviewer,
    )
    content = page_of(viewer_client, waiting)
    assert "last reviewed by <strong>reviewer</strong>" in content
    assert "decided by Didit automatically" not in content


def test_booleans_are_words_and_times_carry_their_zone(viewer_client, settings):
    settings.TIME_ZONE = "Europe/Madrid"
    session = make(
        "words",
        decision={
            "nfc_verifications": [
                {"node_id": "feature_nfc", "status": "Approved", "chip_read": False}
            ],
            "created_at": "2026-01-05T10:00:00Z",
        },
        created_at=timezone.now() - timedelta(hours=3),
    )
    content = page_of(viewer_client, session)
    assert "<dt>Chip read</dt>" in content
    assert "False" not in content.split('<pre class="raw-json">')[0]
    assert "No" in content
    assert "CET" in content or "CEST" in content
    assert "3\xa0hours ago" in content


def test_the_name_falls_back_to_expected_details_then_vendor_data(viewer_client):
    expected = make(
        "exp",
        decision={"expected_details": {"first_name": "Ana", "last_name": "Ruiz"}},
        vendor_data="user-9",
    )
    assert "<h1>Ana Ruiz</h1>" in page_of(viewer_client, expected)
    bare = make("bare", vendor_data="user-10")
    assert "<h1>user-10</h1>" in page_of(viewer_client, bare)


def test_expected_details_are_compared_with_the_document(viewer_client):
    session = make(
        "cmp",
        decision={
            "expected_details": {"first_name": "Ana", "last_name": "Ruiz"},
            "id_verifications": [
                {
                    "node_id": "feature_ocr",
                    "status": "Approved",
                    "first_name": "ANA",
                    "last_name": "Ruiz Gil",
                }
            ],
        },
    )
    content = page_of(viewer_client, session)
    assert 'id="part-expected_details"' in content
    assert content.count('class="mismatch"') == 1
    assert 'href="#part-expected_details">Expected details differ: Last name' in content


def test_a_face_match_against_another_session_links_it(viewer_client):
    session = make(
        "fm",
        decision={
            "face_matches": [
                {
                    "node_id": "feature_face_match",
                    "status": "Approved",
                    "source_image_session_id": "older-1",
                }
            ]
        },
    )
    content = page_of(viewer_client, session)
    href = reverse("verifications:session-detail", args=["older-1"])
    assert f'<a href="{href}">compared with session older-1</a>' in content


def test_vendor_data_links_to_the_user_page_on_the_queue_and_the_session(viewer_client):
    session = make("vd", vendor_data="acme/42")
    href = reverse("users:user-detail", args=["acme/42"])
    assert f'href="{href}"' in page_of(viewer_client, session)
    queue = viewer_client.get(reverse("verifications:session-list")).content.decode()
    assert f'href="{href}"' in queue


def test_the_decision_panel_comes_first_and_says_why_it_needs_you(reviewer_client):
    session = make(
        "why",
        decision={"liveness_checks": [{"node_id": "feature_liveness", "status": "Declined"}]},
    )
    content = page_of(reviewer_client, session)
    panel = content.index('id="decision-panel"')
    assert panel < content.index('id="document-title"')
    assert 'href="#part-liveness_checks-0">Liveness: Declined' in content
    assert 'name="new_status" value="Approved"' in content


@pytest.mark.parametrize("hits", [0, 30])
def test_the_session_page_has_a_constant_query_count(
    reviewer_client, django_assert_num_queries, hits
):
    from verifications.models import AmlHit, AmlScreening, SessionWarning

    session = make(f"q{hits}", decision={"status": "In Review"})
    AmlScreening.objects.create(session=session, status="In Review", total_hits=hits)
    AmlHit.objects.bulk_create(
        AmlHit(session=session, hit_id=f"h{i}", caption=f"Hit {i}", position=i) for i in range(hits)
    )
    SessionWarning.objects.bulk_create(
        SessionWarning(session=session, risk=f"R{i}", fingerprint=f"f{i}")
        for i in range(hits // 10)
    )
    reviewer_client.get(detail(session))  # The session and permissions caches warm up.
    with django_assert_num_queries(QUERIES):
        assert reviewer_client.get(detail(session)).status_code == 200


# Login session and user, user and group permissions, the session with its one-to-one
# parts, the PII-view audit entry, hits, reviews, warnings, the session's archived evidence,
# and the login session saved (SESSION_SAVE_EVERY_REQUEST, in a savepoint), the
# linked-identities panel (two indexed queries), the claim bar's three (the claim's activity,
# its owner, a decision pending a second review): the same for 0 hits or 30.
QUERIES = 18


def test_the_compliance_report_prints_acknowledgements_and_links_vendor_data(reviewer):
    from django.template.loader import render_to_string

    from verifications.models import Review, ReviewSource
    from verifications.pdf import report_sessions

    session = make("rep", vendor_data="v-1")
    common = {"session": session, "source": ReviewSource.CONSOLE, "staff_user": reviewer}
    Review.objects.create(
        **common, new_status="Approved", acknowledged_warnings=["DOCUMENT_EXPIRED"]
    )
    Review.objects.create(**common, new_status="Declined", comment="never confirmed", pending=True)
    html_out = render_to_string(
        "verifications/_report_session.html", {"session": report_sessions().get(pk=session.pk)}
    )
    assert "Warnings acknowledged: DOCUMENT_EXPIRED" in html_out
    assert "never confirmed" not in html_out
    assert f'href="{reverse("users:user-detail", args=["v-1"])}"' in html_out


def test_the_list_rows_name_is_kept_when_the_decision_has_none():
    from verifications.sync import apply_decision

    decision = {
        "session_id": "no-name-1",
        "status": "In Progress",
        "created_at": "2026-01-05T10:00:00Z",
        "vendor_data": "user-77",
    }
    apply_decision(decision, list_row={"session_id": "no-name-1", "full_name": "Lea Moreau"})
    assert VerificationSession.objects.get(session_id="no-name-1").full_name == "Lea Moreau"
