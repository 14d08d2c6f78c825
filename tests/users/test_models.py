"""DiditUser's summary: the latest status per feature, whatever order sessions came in."""

from __future__ import annotations

from datetime import UTC, datetime

from users.models import DiditUser, summarise_sessions


def at(day: int) -> datetime:
    return datetime(2025, 1, day, tzinfo=UTC)


def test_later_sessions_override_earlier_ones_feature_by_feature():
    summary = summarise_sessions(
        [
            (at(1), "Declined", {"ID_VERIFICATION": "Declined", "AML": "Declined"}, "Ann Lee"),
            (at(2), "In Review", {"AML": "In Review", "POA": ""}, ""),
            (at(3), "Approved", {"ID_VERIFICATION": "Approved"}, "Ann Lee-Park"),
        ]
    )
    assert summary["features"] == {"ID_VERIFICATION": "Approved", "AML": "In Review"}
    assert summary["full_name"] == "Ann Lee-Park"
    assert summary["latest_status"] == "Approved"
    assert (summary["session_count"], summary["approved_count"]) == (3, 1)
    assert (summary["declined_count"], summary["in_review_count"]) == (1, 1)
    assert (summary["first_session_at"], summary["last_session_at"]) == (at(1), at(3))


def test_a_user_without_sessions_summarises_to_nothing():
    summary = summarise_sessions([])
    assert summary["features"] == {} and summary["session_count"] == 0
    assert summary["first_session_at"] is None


def test_a_didit_user_reads_as_its_name_or_vendor_data():
    assert str(DiditUser(vendor_data="u-1")) == "u-1"
    assert str(DiditUser(vendor_data="u-1", full_name="Ann Lee")) == "Ann Lee"
