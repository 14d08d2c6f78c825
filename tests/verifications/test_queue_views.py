"""The review queue at /sessions/: filters, search, pages, counts, htmx, junk input, CSV."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from tests.sandbox import session_row
from verifications.models import AuditAction, AuditEntry, VerificationSession
from verifications.views.queue import PAGE_SIZE

pytestmark = pytest.mark.django_db


URL = reverse("verifications:session-list")
EXPORT_URL = reverse("verifications:session-export")
HTMX = {"HTTP_HX_REQUEST": "true"}


def make_sessions(count: int, *, prefix: str = "made", **fields) -> list[VerificationSession]:
    now = timezone.now()
    sessions = [
        session_row(f"{prefix}-{index:05d}", created_at=now - timedelta(minutes=index), **fields)
        for index in range(count)
    ]
    return VerificationSession.objects.bulk_create(sessions)


def listed(response) -> list[str]:
    return [session.session_id for session in response.context["sessions"]]


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_queue_rejects_post(reviewer_client):
    assert reviewer_client.post(URL).status_code == 405


def test_someone_without_a_role_gets_403(outsider_client):
    assert outsider_client.get(URL).status_code == 403
    assert outsider_client.get(EXPORT_URL).status_code == 403


def test_root_redirects_to_the_queue(viewer_client):
    response = viewer_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == URL


def test_queue_lists_sessions_newest_first_with_counts_per_status(sandbox, viewer_client):
    response = viewer_client.get(URL)
    assert response.status_code == 200
    assert b'id="session-rows"' in response.content
    assert b"<html" in response.content
    expected = list(
        VerificationSession.objects.order_by("-created_at", "-id").values_list(
            "session_id", flat=True
        )
    )
    assert listed(response) == expected[:PAGE_SIZE]
    counts = {status: count for status, count, _ in response.context["counts"]}
    assert sum(counts.values()) == VerificationSession.objects.count()
    assert counts["Declined"] == VerificationSession.objects.filter(status="Declined").count()


def test_htmx_request_gets_only_the_rows_fragment(sandbox, viewer_client):
    response = viewer_client.get(URL, {"status": "Declined"}, **HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="session-rows">')
    assert "<html" not in content
    assert "HX-Request" in response["Vary"]


def test_filters_by_status_aml_hits_score_document_country_and_feature(sandbox, viewer_client):
    sessions = VerificationSession.objects.all()
    cases = [
        (
            {"status": ["Declined", "Approved"]},
            sessions.filter(status__in=["Declined", "Approved"]),
        ),
        ({"aml": "yes"}, sessions.filter(aml_total_hits__gt=0)),
        ({"aml_min": "50", "aml_max": "100"}, sessions.filter(aml_score__gte=50)),
        ({"document_type": "Passport"}, sessions.filter(document_type="Passport")),
        ({"country": "fra"}, sessions.filter(issuing_state="FRA")),
        ({"feature": "AML:Declined"}, sessions.filter(feature_statuses__AML="Declined")),
    ]
    for params, expected in cases:
        response = viewer_client.get(URL, params)
        assert response.status_code == 200, params
        assert set(listed(response)) == set(expected.values_list("session_id", flat=True)), params
        assert listed(response), f"the sandbox should have sessions for {params}"


def test_date_range_is_inclusive_of_both_days(viewer_client):
    make_sessions(3)
    today = timezone.localdate()
    response = viewer_client.get(URL, {"date_from": today, "date_to": today})
    older = viewer_client.get(URL, {"date_to": today - timedelta(days=1)})
    assert len(listed(response)) + len(listed(older)) == 3


def test_search_finds_name_document_number_vendor_data_and_session_id(sandbox, viewer_client):
    session = VerificationSession.objects.exclude(document_number="").exclude(vendor_data="")[0]
    surname = session.full_name.split()[-1]
    for text in (
        surname.lower(),
        session.document_number,
        session.vendor_data,
        session.session_id[:8],
    ):
        response = viewer_client.get(URL, {"q": text})
        assert session.session_id in listed(response), text
    assert listed(viewer_client.get(URL, {"q": "no such person anywhere"})) == []


def test_pages_hold_page_size_rows_and_link_to_the_next_without_counting(
    viewer_client, django_assert_max_num_queries
):
    make_sessions(PAGE_SIZE * 2 + 5)
    first = viewer_client.get(URL)
    assert len(listed(first)) == PAGE_SIZE
    assert first.context["next_page"] == 2
    assert b"page=2" in first.content
    last = viewer_client.get(URL, {"page": 3})
    assert len(listed(last)) == 5
    assert last.context["next_page"] is None
    assert set(listed(first)).isdisjoint(listed(viewer_client.get(URL, {"page": 2})))
    assert listed(viewer_client.get(URL, {"page": 40})) == []


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "-1"},
        {"page": "99999999999999999999"},
        {"status": "Bogus"},
        {"aml": "maybe"},
        {"aml_min": "NaN"},
        {"aml_min": "inf"},
        {"aml_min": "80", "aml_max": "10"},
        {"date_from": "2024-13-45"},
        {"date_from": "2025-02-01", "date_to": "2025-01-01"},
        {"feature": "AML"},
        {"feature": "'; DROP TABLE x; --:Approved"},
        {"q": "x" * 5000},
        {"q": "nul\x00byte"},
        {"country": "A" * 50},
    ],
)
def test_junk_filter_values_give_a_clean_400(viewer_client, params):
    response = viewer_client.get(URL, params)
    assert response.status_code == 400
    # A NUL byte is refused before any view runs (RejectNulMiddleware); the rest by the form.
    if not any("\x00" in value for value in params.values()):
        assert b"Some filters could not be used" in response.content
    assert viewer_client.get(EXPORT_URL, params).status_code == 400


def test_the_queue_runs_the_same_queries_whatever_the_number_of_sessions(
    viewer_client, django_assert_max_num_queries
):
    make_sessions(5, prefix="few")
    # Session, user, permissions (2), rows, counts, session save (3: savepoint + update);
    # the rows' claims and review ages (2), the workload figures (3).
    with django_assert_max_num_queries(14) as few:
        viewer_client.get(URL, {"q": "few"})
    make_sessions(300, prefix="many")
    with django_assert_max_num_queries(len(few)):
        viewer_client.get(URL)
    with django_assert_max_num_queries(len(few)):
        viewer_client.get(URL, {"page": 3, "aml": "no"}, **HTMX)


def test_names_from_didit_are_escaped(viewer_client):
    make_sessions(1, full_name="<script>alert(1)</script>")
    content = viewer_client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_each_row_shows_every_column_escaped_and_links_to_the_session(viewer_client, settings):
    settings.TIME_ZONE = "Europe/Madrid"
    created = datetime(2026, 1, 15, 22, 30, tzinfo=UTC)
    odd = VerificationSession.objects.create(
        session_id="id with space&<b>é?x=1%41",
        created_at=created,
        status="Kyc Expired",
        api_shape="v1",
        decision={},
        decision_hash="x",
        synced_at=created,
        full_name='Ana "<i>" López',
        document_type="P<",
        document_number="X&1",
        issuing_state="ES<",
        vendor_data="<vendor>",
        aml_score=72.5,
        aml_total_hits=3,
    )
    plain = make_sessions(1, prefix="plain")[0]

    rows = re.findall(r"<tr>(.*?)</tr>", viewer_client.get(URL).content.decode(), re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows[1:]]
    by_id = {row[-1]: row for row in cells}
    odd_url = escape(reverse("verifications:session-detail", args=[odd.session_id]))
    assert viewer_client.get(html.unescape(odd_url)).status_code == 200
    assert by_id[f'<a href="{odd_url}" title="{escape(odd.session_id)}">id with spac…</a>'] == [
        "2026-01-15 23:30",  # in TIME_ZONE, like the rest of the console
        '<span class="badge badge--kyc-expired">Kyc Expired</span>',
        f'<a href="{odd_url}">Ana &quot;&lt;i&gt;&quot; López</a>',
        'P&lt; <span class="mono">X&amp;1</span>',
        "ES&lt;",
        "73",  # rounded half up, as the floatformat filter does
        "<strong>3</strong>",
        '<a class="mono" href="/users/%3Cvendor%3E/">&lt;vendor&gt;</a>',
        f'<a href="{odd_url}" title="{escape(odd.session_id)}">id with spac…</a>',
    ]
    plain_url = reverse("verifications:session-detail", args=[plain.session_id])
    plain_row = by_id[f'<a href="{plain_url}" title="{plain.session_id}">{plain.session_id}</a>']
    assert plain_row[2] == f'<a href="{plain_url}">(no name)</a>'
    assert plain_row[5:7] == ['<span class="muted">–</span>', '<span class="muted">0</span>']


def test_an_empty_queue_says_so(viewer_client):
    content = viewer_client.get(URL, {"q": "nobody-at-all"}).content.decode()
    assert "No sessions match these filters." in content


def test_csv_export_holds_the_filtered_queue_and_is_audited(sandbox, viewer_client, viewer):
    response = viewer_client.get(EXPORT_URL, {"status": "Declined"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    expected = VerificationSession.objects.filter(status="Declined")
    assert sorted(row["session_id"] for row in rows) == sorted(
        expected.values_list("session_id", flat=True)
    )
    assert {row["status"] for row in rows} == {"Declined"}
    entry = AuditEntry.objects.get(action=AuditAction.CSV_EXPORT)
    assert entry.actor == viewer
    assert entry.detail == {"filters": {"status": ["Declined"]}}


def test_csv_export_defuses_spreadsheet_formulas(viewer_client):
    make_sessions(1, full_name='=HYPERLINK("http://evil")', vendor_data="+1-555", prefix="@x")
    response = viewer_client.get(EXPORT_URL)
    row = next(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert row["full_name"] == '\'=HYPERLINK("http://evil")'
    assert row["vendor_data"] == "'+1-555"
    assert row["session_id"].startswith("'@x-")


def test_csv_export_rejects_post(viewer_client):
    assert viewer_client.post(EXPORT_URL).status_code == 405
