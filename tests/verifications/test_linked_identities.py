"""Linked identities: who else shares a document number, personal number, face source, IP,
phone or e-mail — indexed at sync, two queries whatever the data size."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.data.samples import load, v3_to_v2
from users.models import DiditUser
from verifications.linking import MAX_LINKED_SESSIONS, linked_identities, reindex_all
from verifications.models import IdentifierKind, SessionIdentifier, VerificationSession
from verifications.sync import apply_decision

pytestmark = pytest.mark.django_db


def decision(
    session_id: str,
    vendor_data: str,
    *,
    document_number: str = "",
    personal_number: str = "",
    ip: str = "",
    face_source: str | None = None,
    email: str = "",
    phone: str = "",
    day: int = 1,
) -> dict:
    """A full v3 decision whose identifying values are only those given."""
    data = load("v3-decision-full.json")
    data.update(session_id=session_id, vendor_data=vendor_data, contact_details=None)
    data["created_at"] = f"2026-03-{day:02d}T10:00:00Z"
    document = data["id_verifications"][0]
    document.update(document_number=document_number, personal_number=personal_number)
    data["ip_analyses"][0]["ip_address"] = ip
    data["face_matches"][0]["source_image_session_id"] = face_source
    if email or phone:
        data["contact_details"] = {"email": email, "phone": phone}
    return data


def sync(*decisions: dict) -> None:
    for item in decisions:
        apply_decision(item)


def shared_with(session_id: str) -> dict[str, set[str]]:
    """vendor_data -> the labels of what that person shares with this session."""
    session = VerificationSession.objects.get(session_id=session_id)
    return {p.vendor_data: set(p.shared) for p in linked_identities(session=session)}


def test_the_panel_finds_a_shared_document_number_face_source_and_ip():
    sync(
        decision("s-alice", "alice", document_number="X123-456", ip="203.0.113.7"),
        # The same number written differently: case, spaces and dashes do not matter.
        decision("s-bob", "bob", document_number="x 123456", ip="198.51.100.1"),
        # Carol's selfie was compared against Alice's session's image.
        decision("s-carol", "carol", document_number="C999999", face_source="s-alice"),
        decision("s-dave", "dave", document_number="D777777", ip="203.0.113.7"),
        decision("s-erin", "erin", document_number="E555555", ip="192.0.2.9"),
    )

    assert shared_with("s-alice") == {
        "bob": {"Document number"},
        "carol": {"Face image source"},
        "dave": {"IP address"},
    }
    assert shared_with("s-carol") == {"alice": {"Face image source"}}
    assert shared_with("s-erin") == {}


def test_phone_email_and_personal_number_link_too_in_the_v2_shape():
    sync(
        decision("s-1", "p1", personal_number="19880412-01234", email="Olena@Example.com"),
        v3_to_v2(decision("s-2", "p2", email="olena@example.com ", phone="+380 44 123 4567")),
        decision("s-3", "p3", personal_number="1988041201234", phone="+380441234567"),
    )

    assert shared_with("s-1") == {"p2": {"E-mail"}, "p3": {"Personal number"}}
    assert shared_with("s-2") == {"p1": {"E-mail"}, "p3": {"Phone"}}


def test_sessions_of_the_same_person_are_not_linked_to_themselves():
    sync(
        decision("s-a1", "same", document_number="AA11111", day=1),
        decision("s-a2", "same", document_number="AA11111", day=2),
    )

    assert shared_with("s-a1") == {}


def test_a_resync_replaces_the_identifiers_that_changed():
    sync(decision("s-x", "x", document_number="OLD12345", ip="192.0.2.1"))
    sync(decision("s-x", "x", document_number="NEW12345", ip="192.0.2.1", day=2))

    values = set(SessionIdentifier.objects.values_list("kind", "value"))
    assert (IdentifierKind.DOCUMENT_NUMBER, "NEW12345") in values
    assert (IdentifierKind.DOCUMENT_NUMBER, "OLD12345") not in values
    assert (IdentifierKind.IP_ADDRESS, "192.0.2.1") in values


def test_the_panel_runs_two_queries_whatever_the_number_of_links(django_assert_num_queries):
    sync(decision("s-main", "main", document_number="MAIN1234", ip="203.0.113.50"))
    main = VerificationSession.objects.get(session_id="s-main")
    didit_user = DiditUser.objects.get(vendor_data="main")
    with django_assert_num_queries(2):
        assert linked_identities(session=main) == []
    with django_assert_num_queries(2):
        assert linked_identities(didit_user=didit_user) == []

    sync(
        *[
            decision(f"s-{n}", f"other-{n}", document_number="MAIN1234", ip="203.0.113.50", day=n)
            for n in range(1, 26)
        ]
    )

    with django_assert_num_queries(2):
        people = linked_identities(session=main)
    assert len(people) == 25
    assert all(set(p.shared) == {"Document number", "IP address"} for p in people)
    with django_assert_num_queries(2):
        assert len(linked_identities(didit_user=didit_user)) == 25


def test_a_value_shared_by_many_shows_a_bounded_list():
    sync(decision("s-office", "office", ip="192.0.2.200"))
    sync(*[decision(f"s-m{n}", f"m{n}", ip="192.0.2.200") for n in range(MAX_LINKED_SESSIONS + 10)])

    people = linked_identities(session=VerificationSession.objects.get(session_id="s-office"))

    assert sum(len(p.sessions) for p in people) == MAX_LINKED_SESSIONS


def test_the_session_page_and_the_user_page_show_the_panel_with_links(viewer_client):
    sync(
        decision("s-alice", "alice", document_number="X123456"),
        decision("s-bob", "team/bob +1", document_number="X123456"),
    )

    session_page = viewer_client.get(reverse("verifications:session-detail", args=["s-alice"]))
    user_page = viewer_client.get(reverse("users:user-detail", args=["alice"]))

    bob_url = reverse("users:user-detail", args=["team/bob +1"])
    for response in (session_page, user_page):
        html = response.content.decode()
        assert response.status_code == 200
        panel = html[html.index('id="linked-identities"') :]
        assert f'href="{bob_url}"' in panel
        assert "Document number" in panel
        assert reverse("verifications:session-detail", args=["s-bob"]) in panel
    assert viewer_client.get(bob_url).status_code == 200


def test_reindex_all_rebuilds_the_index_from_stored_decisions():
    sync(decision("s-1", "one", document_number="ZZ99999"), decision("s-2", "two", ip="192.0.2.3"))
    SessionIdentifier.objects.all().delete()

    assert reindex_all(batch_size=1) == 2
    assert SessionIdentifier.objects.filter(kind="document_number", value="ZZ99999").exists()
