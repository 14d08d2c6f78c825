"""History flags on crafted histories, the queue's filter on them, and the attempt diff."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.sandbox import session_row
from users.history import flags_of
from users.models import DiditUser
from verifications.models import DocumentData, IpAnalysis

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def person(vendor_data: str, *attempts: dict) -> DiditUser:
    """A person with one session per attempt: {status, days_ago, number, name, born, ...}."""
    didit_user = DiditUser.objects.create(vendor_data=vendor_data)
    for index, attempt in enumerate(attempts):
        session = session_row(
            f"{vendor_data}-{index}",
            user=didit_user,
            vendor_data=vendor_data,
            status=attempt.get("status", "Approved"),
            created_at=NOW - timedelta(days=attempt.get("days_ago", 0)),
            full_name=attempt.get("name", "Ana López"),
            document_number=attempt.get("number", "X1234567"),
            issuing_state=attempt.get("country", "ESP"),
            document_type="Passport",
        )
        session.save()
        first, last = attempt.get("name", "Ana López").split(" ", 1)
        DocumentData.objects.create(
            session=session,
            document_number=attempt.get("number", "X1234567"),
            document_type="Passport",
            issuing_state=attempt.get("country", "ESP"),
            first_name=first,
            last_name=last,
            full_name=attempt.get("name", "Ana López"),
            date_of_birth=attempt.get("born", date(1990, 1, 2)),
            nationality=attempt.get("nationality", "ESP"),
        )
        IpAnalysis.objects.create(
            session=session, ip_country=attempt.get("ip_country", "Spain"), device_brand="Apple"
        )
    didit_user.recompute()
    didit_user.refresh_from_db()
    return didit_user


def codes(didit_user: DiditUser) -> set[str]:
    with time_machine.travel(NOW, tick=False):
        return {flag.code for flag in flags_of(didit_user)}


def test_a_steady_history_raises_no_flag():
    steady = person("steady", {"days_ago": 200}, {"days_ago": 100, "status": "In Review"})

    assert codes(steady) == set()


def test_two_declines_are_repeat_declines():
    declined = person("declined", {"status": "Declined", "days_ago": 90}, {"status": "Declined"})
    once = person("once", {"status": "Declined", "days_ago": 90}, {"status": "Approved"})

    assert codes(declined) == {"repeat_declines"}
    assert codes(once) == set()


def test_three_sessions_in_thirty_days_is_a_burst_and_the_thresholds_are_settings(settings):
    burst = person("burst", {"days_ago": 29}, {"days_ago": 10}, {"days_ago": 0})
    spread = person("spread", {"days_ago": 31}, {"days_ago": 10}, {"days_ago": 0})

    assert "session_burst" in codes(burst)
    assert "session_burst" not in codes(spread)

    settings.DIDIT_HISTORY_BURST_DAYS = 40
    spread.recompute()
    spread.refresh_from_db()
    assert "session_burst" in codes(spread)


def test_a_changed_document_number_or_country_is_flagged():
    changed = person("doc", {"days_ago": 60, "number": "AAA1111"}, {"number": "BBB2222"})
    written_differently = person(
        "same", {"days_ago": 60, "number": "aaa-1111"}, {"number": "AAA1111"}
    )

    assert "document_changed" in codes(changed)
    assert "document_changed" not in codes(written_differently)


def test_a_changed_name_or_birth_date_is_flagged():
    renamed = person("renamed", {"days_ago": 60, "name": "Ana López"}, {"name": "Ana Lopes"})
    reborn = person(
        "reborn", {"days_ago": 60, "born": date(1990, 1, 2)}, {"born": date(1991, 1, 2)}
    )
    recased = person("recased", {"days_ago": 60, "name": "Ana López"}, {"name": "ANA  LÓPEZ"})

    assert "identity_changed" in codes(renamed)
    assert "identity_changed" in codes(reborn)
    assert "identity_changed" not in codes(recased)


def test_an_approval_older_than_the_rekyc_interval_is_due(settings):
    old = person("old", {"days_ago": 400})
    recent = person("recent", {"days_ago": 400}, {"days_ago": 20})

    assert codes(old) == {"rekyc_due"}
    assert codes(recent) == set()
    settings.DIDIT_REKYC_INTERVAL_DAYS = 500
    assert codes(old) == set()


def test_the_user_page_lists_the_flags(viewer_client):
    person(
        "flagged", {"status": "Declined", "days_ago": 2}, {"status": "Declined", "number": "B99999"}
    )

    with time_machine.travel(NOW, tick=False):
        html = viewer_client.get(reverse("users:user-detail", args=["flagged"])).content.decode()

    panel = html[html.index('id="history-flags"') : html.index('id="linked-identities"')]
    for code in ("repeat_declines", "document_changed"):
        assert f'data-flag="{code}"' in panel
    for code in ("session_burst", "identity_changed", "rekyc_due"):
        assert f'data-flag="{code}"' not in panel


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("repeat_declines", {"declined"}),
        ("document_changed", {"doc"}),
        ("identity_changed", {"renamed"}),
        ("rekyc_due", {"old"}),
        ("session_burst", {"burst"}),
    ],
)
def test_the_queue_filters_on_each_flag(viewer_client, flag, expected):
    person("declined", {"status": "Declined", "days_ago": 90}, {"status": "Declined"})
    person("doc", {"days_ago": 60, "number": "AAA1111"}, {"number": "BBB2222"})
    person("renamed", {"days_ago": 60, "name": "Ana López"}, {"name": "Ana Lopes"})
    person("old", {"days_ago": 400})
    person("burst", {"days_ago": 50}, {"days_ago": 45}, {"days_ago": 41})
    person("steady", {"days_ago": 200}, {"days_ago": 100})

    with time_machine.travel(NOW, tick=False):
        response = viewer_client.get(reverse("verifications:session-list"), {"history": flag})

    shown = {session.vendor_data for session in response.context["sessions"]}
    assert response.status_code == 200
    assert shown == expected


def test_an_unknown_flag_is_a_clear_error(viewer_client):
    response = viewer_client.get(reverse("verifications:session-list"), {"history": "nope"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


# --- Attempt diff ------------------------------------------------------------------------------


def diff_rows(html: str) -> dict[str, bool]:
    """Row label -> highlighted, from the diff table."""
    table = html[html.index('id="attempt-diff-table"') :]
    table = table[: table.index("</table>")]
    rows = {}
    for chunk in table.split("<tr")[2:]:
        label = chunk.split('<th scope="row">', 1)[1].split("<", 1)[0].strip()
        rows[label] = 'class="diff__changed"' in chunk.split(">", 1)[0]
    return rows


def test_the_attempt_diff_compares_the_latest_two_and_highlights_what_changed(viewer_client):
    person(
        "diffed",
        {"days_ago": 300, "number": "OLD0001", "status": "Declined"},
        {"days_ago": 200, "number": "MID0002", "name": "Ana Lopes"},
        {"days_ago": 100, "number": "NEW0003", "name": "Ana Lopes", "ip_country": "France"},
    )

    html = viewer_client.get(reverse("users:user-detail", args=["diffed"])).content.decode()

    rows = diff_rows(html)
    assert rows["Document number"] is True
    assert rows["IP country"] is True
    assert rows["Name"] is False  # the latest two share it
    assert rows["Status"] is False
    assert rows["Date of birth"] is False
    assert "MID0002" in html and "NEW0003" in html


def test_the_attempt_diff_compares_any_two_chosen_sessions(viewer_client):
    person(
        "chosen",
        {"days_ago": 300, "number": "OLD0001", "status": "Declined"},
        {"days_ago": 200, "number": "MID0002"},
        {"days_ago": 100, "number": "MID0002"},
    )

    url = reverse("users:user-detail", args=["chosen"])
    html = viewer_client.get(url, {"left": "chosen-0", "right": "chosen-2"}).content.decode()

    rows = diff_rows(html)
    assert rows["Document number"] is True
    assert rows["Status"] is True
    assert "OLD0001" in html[html.index('id="attempt-diff-table"') :]


def test_one_session_has_nothing_to_compare(viewer_client):
    person("single", {"days_ago": 3})

    html = viewer_client.get(reverse("users:user-detail", args=["single"])).content.decode()

    assert "nothing to compare" in html
    assert 'id="attempt-diff-table"' not in html
