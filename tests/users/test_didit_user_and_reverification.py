"""Through the sandbox over real HTTP: Didit's user record kept by sync_didit, and a
re-verification sent whole (callback, expected and contact details), once, with a QR code."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.sandbox import fast_client, point_settings_at, sync_all
from tests.users.browser_form import reverification_post
from users.models import DiditUser
from verifications.models import AuditAction, AuditEntry, VerificationSession

pytestmark = pytest.mark.django_db

CALLBACK = "https://console.example.com/didit/done"
UNFINISHED = ["Not Started", "In Progress", "Awaiting User", "Resubmitted"]


@pytest.fixture
def sandbox(didit_sandbox, settings):
    sync_all(didit_sandbox, settings)
    settings.DIDIT_CALLBACK_URL = CALLBACK
    return didit_sandbox


def approved_person() -> DiditUser:
    """Someone with an approved session with a document, and no unfinished session (Didit
    would hand that one back instead of creating a new one)."""
    return (
        DiditUser.objects.filter(sessions__status="Approved", sessions__document__isnull=False)
        .filter(sessions__workflow_id__gt="")
        .exclude(sessions__status__in=UNFINISHED)
        .order_by("id")
        .first()
    )


def detail_url(vendor_data: str) -> str:
    return reverse("users:user-detail", args=[vendor_data])


def reverify_url(vendor_data: str) -> str:
    return reverse("users:user-reverify", args=[vendor_data])


# --- Didit's user record ---------------------------------------------------------------------


def test_sync_didit_keeps_didits_user_records(didit_sandbox, settings):
    point_settings_at(didit_sandbox, settings)
    out = io.StringIO()

    call_command("sync_didit", "--full", stdout=out)

    records = {user["vendor_data"]: user for user in fast_client(didit_sandbox).iter_users()}
    stored = {user.vendor_data: user for user in DiditUser.objects.all()}
    assert set(records) <= set(stored)
    for vendor_data, record in records.items():
        assert stored[vendor_data].didit_status == record["status"]
        assert stored[vendor_data].didit_record == record
    assert {record["status"] for record in records.values()} >= {"ACTIVE", "BLOCKED"}
    assert f"users: {len(records)} listed, 0 new, {len(records)} updated" in out.getvalue()

    again = io.StringIO()
    call_command("sync_didit", "--full", stdout=again)
    assert f"{len(records)} unchanged" in again.getvalue().split("users:")[1]


def test_an_incremental_run_refreshes_the_people_it_touched(didit_sandbox, settings):
    point_settings_at(didit_sandbox, settings)
    call_command("sync_didit", "--full", stdout=io.StringIO())
    session_id = didit_sandbox.session_ids()[0]
    didit_sandbox.change_status(session_id, "Declined", comment="fraud")
    before = didit_sandbox.calls["user"]

    out = io.StringIO()
    call_command("sync_didit", "--session", session_id, stdout=out)
    call_command("sync_didit", stdout=out)

    assert didit_sandbox.calls["user"] >= before + 1
    vendor_data = VerificationSession.objects.get(session_id=session_id).vendor_data
    record = fast_client(didit_sandbox).get_user(vendor_data)
    assert DiditUser.objects.get(vendor_data=vendor_data).didit_record == record


def test_didit_failing_on_users_fails_the_command_but_keeps_the_sessions(didit_sandbox, settings):
    point_settings_at(didit_sandbox, settings)
    original = didit_sandbox.sandbox.handle

    def users_down(request):
        if request.path.startswith("/v3/users/"):
            from verifications.didit.sandbox.wire import json_response

            return json_response(500, {"detail": "A server error occurred."})
        return original(request)

    didit_sandbox.sandbox.handle = users_down
    out = io.StringIO()
    with pytest.raises(Exception, match="user records were not synced"):
        call_command("sync_didit", "--full", stdout=out)

    assert VerificationSession.objects.count() == len(didit_sandbox.session_ids())
    assert "users: 0 listed" in out.getvalue()
    assert "stopped:" in out.getvalue()


def test_the_user_page_shows_didits_blocked_status_in_red_beside_our_summary(
    didit_sandbox, settings, viewer_client
):
    point_settings_at(didit_sandbox, settings)
    call_command("sync_didit", "--full", stdout=io.StringIO())
    blocked = DiditUser.objects.filter(didit_status="BLOCKED").first()
    active = DiditUser.objects.filter(didit_status="ACTIVE").first()

    html = viewer_client.get(detail_url(blocked.vendor_data)).content.decode()

    header = html[html.index('<div class="page-header">') : html.index('<div class="grid">')]
    assert 'class="didit-status didit-status--blocked"' in header
    assert "Didit: BLOCKED" in header
    assert 'id="didit-record"' in html and "Summary (computed here" in html
    other = viewer_client.get(detail_url(active.vendor_data)).content.decode()
    assert "didit-status--active" in other and "didit-status--blocked" not in other


# --- Re-verification -------------------------------------------------------------------------


def test_the_form_is_prefilled_from_the_latest_approved_session(sandbox, reviewer_client):
    didit_user = approved_person()
    latest = (
        VerificationSession.objects.filter(user=didit_user, status="Approved")
        .select_related("document")
        .exclude(document=None)
        .order_by("-created_at", "-id")
        .first()
    )

    form = reviewer_client.get(detail_url(didit_user.vendor_data)).context["form"]

    document = latest.document
    assert form.initial["first_name"] == document.first_name
    assert form.initial["last_name"] == document.last_name
    assert form.initial["date_of_birth"] == document.date_of_birth
    assert form.initial["identification_number"] == document.document_number
    assert form.initial["nationality"] == document.nationality
    assert form.initial["id_country"] == document.issuing_state
    assert form.initial["workflow_id"]


def test_didit_receives_the_callback_and_the_details_as_the_form_sent_them(
    sandbox, reviewer_client
):
    didit_user = approved_person()
    data = reverification_post(
        reviewer_client,
        didit_user,
        email="person@example.com",
        phone="+34 600 11 22 33",
        send_notification_emails=True,
        last_name="Edited-By-Reviewer",
    )

    response = reviewer_client.post(reverify_url(didit_user.vendor_data), data)

    assert response.status_code == 302
    [body] = sandbox.received("create")
    expected_details = {
        name: data[name]
        for name in (
            "first_name",
            "last_name",
            "date_of_birth",
            "identification_number",
            "nationality",
            "id_country",
        )
        if data.get(name)
    }
    assert body == {
        "workflow_id": data["workflow_id"],
        "vendor_data": didit_user.vendor_data,
        "callback": CALLBACK,
        "expected_details": expected_details,
        "contact_details": {
            "email": "person@example.com",
            "send_notification_emails": True,
            "phone": "+34600112233",
        },
    }
    assert body["expected_details"]["last_name"] == "Edited-By-Reviewer"
    entry = AuditEntry.objects.get(action=AuditAction.REVERIFICATION)
    assert entry.detail["callback"] == CALLBACK


def test_cleared_fields_are_not_sent(sandbox, reviewer_client, settings):
    settings.DIDIT_CALLBACK_URL = ""
    didit_user = approved_person()
    data = reverification_post(reviewer_client, didit_user)
    for name in ("first_name", "last_name", "date_of_birth", "identification_number"):
        data[name] = ""
    data["nationality"] = data["id_country"] = ""
    data.pop("email", None), data.pop("phone", None)

    reviewer_client.post(reverify_url(didit_user.vendor_data), data)

    [body] = sandbox.received("create")
    assert body == {"workflow_id": data["workflow_id"], "vendor_data": didit_user.vendor_data}


def test_submitting_twice_creates_one_didit_session(sandbox, reviewer_client):
    didit_user = approved_person()
    data = reverification_post(reviewer_client, didit_user)

    first = reviewer_client.post(reverify_url(didit_user.vendor_data), data)
    second = reviewer_client.post(reverify_url(didit_user.vendor_data), data, follow=True)

    assert first.status_code == 302
    assert first["Location"] == detail_url(didit_user.vendor_data) + "#reverification"
    assert sandbox.calls["create"] == 1
    assert AuditEntry.objects.filter(action=AuditAction.REVERIFICATION).count() == 1
    html = second.content.decode()
    assert "already submitted" in html
    # The page the browser lands on still shows the one session created.
    created = AuditEntry.objects.get(action=AuditAction.REVERIFICATION).detail["session_id"]
    assert created in html


def test_the_result_shows_the_link_a_qr_code_and_a_copy_button_without_inline_script(
    sandbox, reviewer_client
):
    didit_user = approved_person()
    data = reverification_post(reviewer_client, didit_user)

    response = reviewer_client.post(reverify_url(didit_user.vendor_data), data, follow=True)

    html = response.content.decode()
    result = html[html.index('class="message message--success reverification-result"') :]
    assert 'id="verification-url"' in result
    qr = result[result.index('id="verification-qr"') :]
    assert qr.index("<svg") < qr.index("</figure>")
    assert 'data-copy="verification-url"' in result
    assert "/static/js/copy.js" in html
    assert "<script>" not in html and "onclick" not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_form_refused_by_validation_sends_nothing(sandbox, reviewer_client):
    didit_user = approved_person()
    data = reverification_post(reviewer_client, didit_user, phone="not a phone", nationality="1")

    response = reviewer_client.post(reverify_url(didit_user.vendor_data), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Write a phone number" in html and "Write a country code" in html
    assert sandbox.calls["create"] == 0


# --- Odd vendor data ---------------------------------------------------------------------------

ODD_VENDOR_DATA = [
    "team/alice",
    "customer+kyc@example.com",
    "with a space",
    "Ünïcødé 名前 Иван",
    "y" * 255,
]


@pytest.mark.parametrize(
    "vendor_data", ODD_VENDOR_DATA, ids=["slash", "plus", "space", "utf8", "longest"]
)
def test_odd_vendor_data_links_work_and_reach_didit_whole(
    didit_sandbox, settings, reviewer_client, vendor_data
):
    point_settings_at(didit_sandbox, settings)
    workflow = next(iter(didit_sandbox.workflows.values()))
    created = fast_client(didit_sandbox).create_session(
        vendor_data=vendor_data, workflow_id=workflow
    )
    call_command("sync_didit", "--session", created.session_id, stdout=io.StringIO())
    session = VerificationSession.objects.get(session_id=created.session_id)
    assert session.user.vendor_data == vendor_data

    queue = reviewer_client.get(reverse("verifications:session-list")).content.decode()
    page = reviewer_client.get(detail_url(vendor_data))
    session_page = reviewer_client.get(
        reverse("verifications:session-detail", args=[session.session_id])
    ).content.decode()

    assert page.status_code == 200
    assert page.context["didit_user"].vendor_data == vendor_data
    assert f'href="{detail_url(vendor_data)}"' in queue
    assert detail_url(vendor_data) in session_page
    # A re-verification sends the vendor_data whole.
    didit_sandbox.change_status(created.session_id, "Approved")
    data = reverification_post(reviewer_client, session.user, workflow_id=workflow)
    reviewer_client.post(reverify_url(vendor_data), data)
    assert didit_sandbox.received("create")[-1]["vendor_data"] == vendor_data


def test_a_vendor_data_longer_than_the_columns_is_refused_never_cut(
    didit_sandbox, settings, reviewer_client
):
    point_settings_at(didit_sandbox, settings)
    workflow = next(iter(didit_sandbox.workflows.values()))
    long_vendor = "z" * 300
    fast_client(didit_sandbox).create_session(vendor_data=long_vendor, workflow_id=workflow)

    with pytest.raises(CommandError):
        call_command("sync_didit", "--full", stdout=io.StringIO(), stderr=io.StringIO())

    assert not DiditUser.objects.filter(vendor_data__startswith="zzz").exists()
    assert reviewer_client.get(detail_url(long_vendor)).status_code == 404
    assert reviewer_client.get(detail_url(long_vendor[:255])).status_code == 404
