"""apply_decision: both decision shapes onto the models, idempotent, liberal, atomic."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.data.samples import list_row, load, v3_to_v2
from users.models import DiditUser
from verifications.models import (
    AmlHit,
    AmlScreening,
    DocumentData,
    FaceCheck,
    IpAnalysis,
    Review,
    SessionWarning,
    VerificationSession,
)
from verifications.sync import DecisionError, apply_decision, list_fingerprint

pytestmark = pytest.mark.django_db

CHILD_MODELS = (DocumentData, FaceCheck, AmlScreening, AmlHit, IpAnalysis, SessionWarning, Review)


def counts() -> dict[str, int]:
    models = (VerificationSession, DiditUser, *CHILD_MODELS)
    return {model.__name__: model.objects.count() for model in models}


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=UTC)


def test_v1_example_maps_every_field():
    assert apply_decision(load("v1-decision.json")) == "created"

    session = VerificationSession.objects.get()
    assert session.session_id == "11111111-2222-3333-4444-555555555555"
    assert session.session_number == 43762
    assert session.status == "Declined"
    assert session.api_shape == "v1"
    assert session.features == "OCR + FACE"
    assert session.vendor_data == "11111111-1111-1111-1111-111111111111"
    assert session.callback == "https://verify.didit.me/"
    assert session.session_url.endswith("/session/11111111-2222-3333-4444-555555555555")
    assert session.created_at == dt("2024-07-24T08:54:25.443172Z")
    assert session.feature_statuses == {
        "ID_VERIFICATION": "Approved",
        "LIVENESS": "Approved",
        "FACE_MATCH": "Approved",
        "AML": "In Review",
        "IP_ANALYSIS": "Approved",
    }
    assert session.decision == load("v1-decision.json")
    assert (session.full_name, session.document_number) == ("Sergey Kozlov", "BK123456")
    assert (session.document_type, session.issuing_state) == ("Passport", "ESP")
    assert (session.aml_score, session.aml_total_hits, session.has_aml_hits) == (70.35, 1, True)
    assert session.synced_at is not None

    document = session.document
    assert document.status == "Approved" and document.ocr_status == "Approved"
    assert document.epassport_status == "Approved" and document.is_nfc_verified is False
    assert document.personal_number == "999999999"
    assert (document.first_name, document.last_name) == ("Sergey", "Kozlov")
    assert document.date_of_birth == date(1990, 1, 1)
    assert document.date_of_issue == date(2019, 3, 24)
    assert document.expiration_date == date(2026, 3, 24)
    assert document.issuing_state_name == "Spain" and document.nationality == "ESP"
    assert document.gender == "M" and document.marital_status == "SINGLE"
    assert document.place_of_birth == "Madrid, Spain"
    assert document.address == "C Clot 36 P02,Barcelona,Barcelona Esp"
    assert document.formatted_address.startswith("Carrer del Clot, 36")
    assert document.parsed_address is None
    assert document.portrait_image_url == "https://example.com/portrait.jpg"
    assert document.front_image_url == "https://example.com/front.jpg"
    assert document.full_front_image_url == "https://example.com/full_front.jpg"
    assert document.front_video_url == "https://example.com/front.mp4"
    assert document.back_image_url == "" and document.full_back_image_url == ""

    face = session.face
    assert (face.status, face.face_match_status, face.liveness_status) == ("Approved",) * 3
    assert (face.face_match_similarity, face.liveness_confidence) == (97.99, 87.99)
    assert face.age_estimation == 24.3
    assert face.gender_estimation == {"male": 99.23, "female": 0.77}
    assert face.source_image_url == "https://example.com/source.jpg"
    assert face.target_image_url == "https://example.com/target.jpg"
    assert face.video_url == "https://example.com/video.mp4"

    aml = session.aml
    assert (aml.status, aml.score, aml.total_hits) == ("In Review", 70.35, 1)
    hit = session.aml_hits.get()
    assert hit.hit_id == "aaaaaaa-1111-2222-3333-4444-555555555555"
    assert hit.caption == "Kozlov Sergey Alexandrovich"
    assert hit.score == pytest.approx(0.70349, abs=1e-4)
    assert (hit.match, hit.target) == (False, True)
    assert hit.datasets == ["ru_acf_bribetakers"]
    assert hit.features["person_name_jaro_winkler"] == pytest.approx(0.879, abs=1e-3)
    assert hit.topics == ["poi"]
    assert hit.properties["alias"] == ["Козлов Сергей Александрович"]
    assert hit.first_seen == dt("2023-06-23T12:02:51")
    assert hit.last_seen == dt("2024-07-20T17:53:03")
    assert hit.last_change == dt("2024-02-27T17:53:01")
    assert hit.disposition == ""

    ip = session.ip_analysis
    assert (ip.device_brand, ip.device_model, ip.browser_family) == (
        "Apple",
        "iPhone",
        "Mobile Safari",
    )
    assert (ip.os_family, ip.platform, ip.ip_address) == ("iOS", "mobile", "83.50.226.71")
    assert (ip.ip_country, ip.ip_country_code, ip.ip_state, ip.ip_city) == (
        "Spain",
        "ES",
        "Barcelona",
        "Barcelona",
    )
    assert (ip.latitude, ip.longitude) == (41.4022, 2.1407)
    assert (ip.isp, ip.organization) == ("", "")
    assert (ip.is_vpn_or_tor, ip.is_data_center) == (False, False)
    assert (ip.time_zone, ip.time_zone_offset, ip.status) == ("Europe/Madrid", "+0100", "Approved")
    assert (ip.document_distance_km, ip.document_direction) == (8393.68, "NE")

    warning = session.warnings.get()
    assert (warning.feature, warning.risk, warning.log_type) == (
        "AML",
        "POSSIBLE_MATCH_FOUND",
        "warning",
    )
    assert warning.short_description == "Possible match found in AML screening"
    assert warning.long_description.startswith("The Anti-Money Laundering")
    assert warning.additional_data is None and warning.source == "warnings"

    review = session.reviews.get()
    assert (review.source, review.didit_user, review.new_status) == (
        "didit",
        "compliance@example.com",
        "Declined",
    )
    assert review.comment == "Possible match found in AML screening"
    assert review.created_at == review.didit_created_at == dt("2024-07-18T13:29:00.366811Z")
    assert review.staff_user is None and review.reviewer == "compliance@example.com"

    user = session.user
    assert user.vendor_data == session.vendor_data and user.full_name == "Sergey Kozlov"
    assert user.features == session.feature_statuses
    assert (user.session_count, user.declined_count, user.latest_status) == (1, 1, "Declined")
    assert user.first_session_at == user.last_session_at == session.created_at


def test_v3_full_sample_maps_every_field():
    decision = load("v3-decision-full.json")
    assert apply_decision(decision) == "created"

    session = VerificationSession.objects.get()
    assert session.api_shape == "v3" and session.session_kind == "user"
    assert session.workflow_id == "2d4f6a8c-0e1f-4a3b-8c5d-7e9f1a2b3c4d"
    assert session.features[0] == "ID_VERIFICATION"
    assert session.metadata == {"account_id": "ACC-4711", "tier": "gold"}
    assert session.decision["future_field_we_do_not_know"] == {"anything": [1, 2, 3]}
    assert session.feature_statuses == {
        "ID_VERIFICATION": "Approved",
        "NFC": "Approved",
        "LIVENESS": "Approved",
        "FACE_MATCH": "Approved",
        "POA": "Declined",
        "AML": "In Review",
        "IP_ANALYSIS": "In Review",
    }
    assert (session.full_name, session.document_number) == ("Olena Kovalenko", "FX482913")
    assert (session.aml_score, session.aml_total_hits) == (88.5, 3)

    document = session.document
    assert (document.node_id, document.document_subtype) == ("feature_ocr", "PASSPORT_BIOMETRIC")
    assert document.personal_number == "19880412-01234" and document.age == 37
    assert document.parsed_address["city"] == "Kyiv"
    assert (document.nfc_status, document.is_nfc_verified) == ("Approved", True)
    # Presigned URLs are stored whole: they are what the browser must load.
    assert document.portrait_image_url.endswith("X-Amz-Signature=aaa111")

    face = session.face
    assert (face.liveness_method, face.liveness_confidence, face.age_estimation) == (
        "ACTIVE_3D",
        96.4,
        36.8,
    )
    assert face.gender_estimation == {"male": 2.1, "female": 97.9}
    assert face.face_match_similarity == 91.7 and face.status == ""
    assert face.reference_image_url.startswith("https://media.didit.example/p/liveness_ref.jpg")
    assert face.source_image_url.startswith("https://media.didit.example/p/fm_source.jpg")
    assert face.video_url.startswith("https://media.didit.example/p/liveness.mp4")

    aml = session.aml
    assert (aml.node_id, aml.entity_type, aml.is_ongoing_monitoring_enabled) == (
        "feature_aml",
        "person",
        True,
    )
    assert aml.screened_data["document_number"] == "FX482913"
    pep, media, sanction = session.aml_hits.order_by("position")
    assert (pep.hit_id, pep.score, pep.match_score, pep.risk_score) == (
        "hit-ua-pep-0001",
        0.885,
        88.5,
        64,
    )
    assert (pep.match, pep.review_status, pep.url) == (
        True,
        "Unreviewed",
        "https://www.opensanctions.org/entities/Q123/",
    )
    assert pep.topics == ["role.pep"] and pep.properties["position"]
    assert pep.details["risk_view"]["categories"] == ["pep"]
    assert pep.details["pep_matches"] == [{"position": "Deputy head"}]
    assert media.score == 0.61 and media.topics == ["crime.fin"]
    assert media.first_seen == dt("2024-01-10T00:00:00Z")
    assert sanction.score == 0.52 and sanction.topics == ["sanction"]

    ip = session.ip_analysis
    assert (ip.is_vpn_or_tor, ip.is_data_center, ip.isp) == (True, True, "Tor exit relay")
    assert (ip.document_distance_km, ip.document_direction) == (1203.4, "W")

    warnings = list(session.warnings.order_by("position"))
    assert [w.risk for w in warnings] == [
        "DATA_INCONSISTENT",
        "POA_DOCUMENT_TOO_OLD",
        "POSSIBLE_MATCH_FOUND",
        "COUNTRY_FROM_DOCUMENT_DOES_NOT_MATCH_COUNTRY_FROM_IP",
        "VPN_OR_TOR_DETECTED",
        "VPN_OR_TOR_DETECTED",  # Sent twice, kept twice.
    ]
    assert warnings[0].source == "id_verifications[0]"
    assert warnings[0].additional_data == {"field": "personal_number"}

    # Two identical reviews in the decision are two reviews.
    assert session.reviews.count() == 2


def test_v3_abridged_example_maps_without_complaint():
    assert apply_decision(load("v3-decision-abridged.json")) == "created"
    session = VerificationSession.objects.get()
    assert session.api_shape == "v3" and session.status == "In Review"
    hit = session.aml_hits.get()
    assert (hit.hit_id, hit.score, hit.review_status) == ("abc123xyz789", 0.92, "False Positive")
    assert hit.details == {"…": "…"}
    assert session.document.date_of_issue is None


def child_values(session: VerificationSession) -> dict:
    ignore = {"id", "session", "node_id", "source", "fingerprint"}

    def plain(instance):
        return {
            field.name: getattr(instance, field.name)
            for field in instance._meta.concrete_fields
            if field.name not in ignore
        }

    return {
        "document": plain(session.document),
        "face": plain(session.face),
        "aml": plain(session.aml),
        "ip": plain(session.ip_analysis),
        "hits": [plain(hit) for hit in session.aml_hits.order_by("position")],
        "warnings": sorted(w.risk for w in session.warnings.all()),
        "reviews": [(r.new_status, r.comment) for r in session.reviews.all()],
    }


def test_a_v2_decision_maps_like_the_v3_it_was_built_from():
    v3 = load("v3-decision-full.json")
    v2 = v3_to_v2(v3)
    v2["session_id"] = "v2-" + v3["session_id"][3:]
    apply_decision(v3)
    assert apply_decision(v2) == "created"

    from_v3 = VerificationSession.objects.get(session_id=v3["session_id"])
    from_v2 = VerificationSession.objects.get(session_id=v2["session_id"])
    assert from_v2.api_shape == "v2"
    assert from_v2.feature_statuses == from_v3.feature_statuses
    assert child_values(from_v2) == child_values(from_v3)


def test_reapplying_a_decision_reports_unchanged_and_writes_nothing():
    decision = load("v3-decision-full.json")
    apply_decision(decision)
    before = counts()
    synced_at = VerificationSession.objects.get().synced_at

    with CaptureQueriesContext(connection) as queries:
        assert apply_decision(copy.deepcopy(decision)) == "unchanged"
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert counts() == before
    assert VerificationSession.objects.get().synced_at == synced_at


def test_fresh_presigned_urls_alone_do_not_count_as_a_change():
    decision = load("v3-decision-full.json")
    apply_decision(decision)
    resigned = copy.deepcopy(decision)
    item = resigned["id_verifications"][0]
    item["portrait_image"] = item["portrait_image"].replace("aaa111", "zzz999")

    assert apply_decision(resigned) == "unchanged"
    assert VerificationSession.objects.get().document.portrait_image_url.endswith("aaa111")


def test_refresh_media_stores_fresh_urls_and_still_reports_unchanged():
    decision = load("v3-decision-full.json")
    apply_decision(decision)
    resigned = copy.deepcopy(decision)
    item = resigned["id_verifications"][0]
    item["portrait_image"] = item["portrait_image"].replace("aaa111", "zzz999")

    assert apply_decision(resigned, refresh_media=True) == "unchanged"
    session = VerificationSession.objects.get()
    assert session.document.portrait_image_url.endswith("zzz999")
    assert session.decision["id_verifications"][0]["portrait_image"].endswith("zzz999")


def test_a_status_change_updates_the_session_and_its_user():
    decision = load("v1-decision.json")
    apply_decision(decision)
    decision["status"] = "Approved"
    decision["aml"]["status"] = "Approved"

    assert apply_decision(decision) == "updated"
    session = VerificationSession.objects.get()
    assert session.status == "Approved"
    assert session.user.features["AML"] == "Approved"
    assert (session.user.approved_count, session.user.declined_count) == (1, 0)
    assert counts()["AmlHit"] == 1


def test_a_changed_list_row_is_remembered_even_when_the_decision_is_unchanged():
    decision = load("v3-decision-full.json")
    row = list_row(decision)
    apply_decision(decision, list_row=row)
    assert VerificationSession.objects.get().list_fingerprint == list_fingerprint(row)

    moved = list_row(decision, status="Approved")
    assert apply_decision(decision, list_row=moved) == "unchanged"
    assert VerificationSession.objects.get().list_fingerprint == list_fingerprint(moved)


def test_hits_are_upserted_by_id_and_local_dispositions_survive_a_resync():
    decision = load("v3-decision-full.json")
    apply_decision(decision)
    reviewer = get_user_model().objects.create_user("rita")
    pep = AmlHit.objects.get(hit_id="hit-ua-pep-0001")
    pep.disposition, pep.disposition_note = "true_match", "Same person, same birth date."
    pep.disposed_by, pep.disposed_at = reviewer, datetime(2025, 10, 3, tzinfo=UTC)
    pep.save()
    ids = dict(AmlHit.objects.values_list("hit_id", "pk"))

    hits = decision["aml_screenings"][0]["hits"]
    hits[0]["review_status"] = "Confirmed Match"
    hits[1]["caption"] = "Oksana Kovalenko"
    assert apply_decision(decision) == "updated"

    assert dict(AmlHit.objects.values_list("hit_id", "pk")) == ids
    pep.refresh_from_db()
    assert pep.review_status == "Confirmed Match"
    assert (pep.disposition, pep.disposed_by, pep.disposition_note) == (
        "true_match",
        reviewer,
        "Same person, same birth date.",
    )
    assert AmlHit.objects.get(hit_id="hit-ua-am-0002").caption == "Oksana Kovalenko"


def test_hits_gone_from_the_decision_are_removed_unless_a_reviewer_disposed_of_them():
    decision = load("v3-decision-full.json")
    apply_decision(decision)
    AmlHit.objects.filter(hit_id="hit-ua-pep-0001").update(disposition="false_positive")

    decision["aml_screenings"][0]["hits"] = decision["aml_screenings"][0]["hits"][2:]
    assert apply_decision(decision) == "updated"

    kept = {hit.hit_id: hit.removed_at for hit in AmlHit.objects.all()}
    assert set(kept) == {"hit-ua-pep-0001", "hit-eu-san-0003"}
    assert kept["hit-ua-pep-0001"] is not None and kept["hit-eu-san-0003"] is None

    decision["aml_screenings"][0]["hits"] = load("v3-decision-full.json")["aml_screenings"][0][
        "hits"
    ]
    apply_decision(decision)
    assert AmlHit.objects.filter(removed_at__isnull=False).count() == 0
    assert AmlHit.objects.count() == 3


def test_warnings_are_idempotent_and_follow_the_decision():
    decision = load("v3-decision-full.json")
    apply_decision(decision)
    ids = set(SessionWarning.objects.values_list("pk", flat=True))

    decision["status"] = "Declined"
    apply_decision(decision)
    assert set(SessionWarning.objects.values_list("pk", flat=True)) == ids

    decision["ip_analyses"][0]["warnings"].pop()  # One of the two identical warnings goes.
    apply_decision(decision)
    assert SessionWarning.objects.filter(risk="VPN_OR_TOR_DETECTED").count() == 1
    assert SessionWarning.objects.count() == 5


def test_didit_reviews_are_idempotent_and_follow_the_decision():
    decision = load("v1-decision.json")
    apply_decision(decision)
    first = Review.objects.get().pk
    decision["reviews"].append(
        {
            "user": "lead@example.com",
            "new_status": "Approved",
            "comment": "Cleared after call.",
            "created_at": "2024-07-19T10:00:00Z",
        }
    )
    decision["status"] = "Approved"
    apply_decision(decision)
    assert Review.objects.count() == 2 and Review.objects.filter(pk=first).exists()

    decision["reviews"] = decision["reviews"][1:]
    apply_decision(decision)
    assert list(Review.objects.values_list("didit_user", flat=True)) == ["lead@example.com"]


def console_review(session, *, at, comment="Sanctions hit confirmed.", status="Declined"):
    reviewer = get_user_model().objects.get_or_create(username="rita")[0]
    return Review.objects.create(
        session=session,
        source="console",
        new_status=status,
        comment=comment,
        created_at=at,
        staff_user=reviewer,
    )


def with_didit_review(decision, *, at, comment="Sanctions hit confirmed.", status="Declined"):
    decision["reviews"].append(
        {"user": "api-key:console", "new_status": status, "comment": comment, "created_at": at}
    )
    decision["status"] = status
    return decision


def test_a_console_review_coming_back_from_didit_is_linked_not_duplicated():
    decision = load("v1-decision.json")
    apply_decision(decision)
    session = VerificationSession.objects.get()
    ours = console_review(session, at=datetime(2024, 7, 25, 10, 0, 0, tzinfo=UTC))

    apply_decision(with_didit_review(decision, at="2024-07-25T10:00:02.500000Z"))
    assert Review.objects.count() == 2
    ours.refresh_from_db()
    assert (ours.source, ours.didit_user) == ("console", "api-key:console")
    assert ours.didit_created_at == dt("2024-07-25T10:00:02.500000Z")
    assert ours.created_at == datetime(2024, 7, 25, 10, 0, 0, tzinfo=UTC)
    assert ours.reviewer == "rita"

    decision["aml"]["status"] = "Declined"  # Another write: the link holds, no copy appears.
    apply_decision(decision)
    assert Review.objects.count() == 2

    decision["reviews"] = []  # Didit forgetting it never deletes our record.
    apply_decision(decision)
    assert list(Review.objects.values_list("source", flat=True)) == ["console"]


def test_a_console_review_is_not_linked_to_a_different_or_distant_didit_review():
    decision = load("v1-decision.json")
    apply_decision(decision)
    session = VerificationSession.objects.get()
    console_review(session, at=datetime(2024, 7, 25, 10, 0, tzinfo=UTC))

    with_didit_review(decision, at="2024-07-25T10:30:00Z")  # Half an hour later.
    with_didit_review(decision, at="2024-07-25T10:00:01Z", comment="Something else.")
    apply_decision(decision)
    assert Review.objects.filter(source="console", didit_fingerprint="").count() == 1
    assert Review.objects.filter(source="didit").count() == 3


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_the_users_features_map_is_right_whatever_order_sessions_arrive_in(order):
    base = load("v3-decision-full.json")
    sessions = []
    for index, (day, aml, poa, name) in enumerate(
        [
            ("2025-01-01", "Declined", "Declined", "Olena Kovalenko"),
            ("2025-02-01", "In Review", None, "Olena Kovalenko-Shevchenko"),
            ("2025-03-01", "Approved", None, ""),
        ]
    ):
        decision = copy.deepcopy(base)
        decision["session_id"] = f"session-{index}"
        decision["created_at"] = f"{day}T12:00:00Z"
        decision["status"] = ["Declined", "In Review", "Approved"][index]
        decision["aml_screenings"][0]["status"] = aml
        document = decision["id_verifications"][0]
        document["full_name"] = name
        if not name:  # Nothing read: no name at all.
            document["first_name"] = document["last_name"] = None
        if poa is None:
            decision["poa_verifications"] = None
        sessions.append(decision)

    for index in order:
        apply_decision(sessions[index])

    user = DiditUser.objects.get()
    assert user.features["AML"] == "Approved"
    assert user.features["POA"] == "Declined"  # Only the first session ran POA.
    assert user.full_name == "Olena Kovalenko-Shevchenko"  # The latest name Didit read.
    assert (user.session_count, user.approved_count, user.declined_count) == (3, 1, 1)
    assert (user.in_review_count, user.latest_status) == (1, "Approved")
    assert user.first_session_at == dt("2025-01-01T12:00:00Z")
    assert user.last_session_at == dt("2025-03-01T12:00:00Z")


def test_moving_a_session_to_another_vendor_data_recomputes_both_users():
    decision = load("v1-decision.json")
    apply_decision(decision)
    decision["vendor_data"] = "someone-else"
    apply_decision(decision)
    old = DiditUser.objects.get(vendor_data="11111111-1111-1111-1111-111111111111")
    assert (old.session_count, old.features) == (0, {})
    assert DiditUser.objects.get(vendor_data="someone-else").session_count == 1


def test_a_session_without_vendor_data_has_no_user():
    decision = load("v1-decision.json")
    decision["vendor_data"] = None
    apply_decision(decision)
    assert VerificationSession.objects.get().user is None
    assert DiditUser.objects.count() == 0


@pytest.mark.parametrize(
    "decision",
    [
        None,
        [],
        "not json",
        {},
        {"session_id": None, "status": "Approved"},
        {"session_id": {"nested": 1}},
        {"session_id": True},
        {"session_id": "   "},
        {"session_id": "x" * 65},
    ],
    ids=["none", "list", "string", "empty", "null-id", "dict-id", "bool-id", "blank-id", "long-id"],
)
def test_a_decision_that_cannot_be_mapped_raises_and_writes_nothing(decision):
    with pytest.raises(DecisionError):
        apply_decision(decision)
    assert set(counts().values()) == {0}


def test_wrong_types_and_nulls_in_optional_fields_are_tolerated():
    decision = load("v1-decision.json")
    decision.update(
        session_number="not a number",
        created_at="yesterday",
        features={"weird": True},
        metadata="plain string",
        warnings={"not": "a list"},
        reviews=[1, "two", None, {"new_status": 3}],
        face="not an object",
        location=None,
    )
    decision["kyc"].update(
        date_of_birth=19900101,
        expiration_date="2026-02-30",
        document_number=123456,
        is_nfc_verified="yes",
        age=-4,
        parsed_address=["not", "a", "dict"],
    )
    decision["aml"].update(score="high", total_hits="3", hits=[None, "x", {"caption": "No id"}])

    assert apply_decision(decision) == "created"
    session = VerificationSession.objects.get()
    assert session.session_number is None and session.features is None
    assert session.created_at is not None  # Unknown: the time we first saw it.
    assert session.document.date_of_birth is None and session.document.expiration_date is None
    assert session.document.document_number == "123456"
    assert session.document.is_nfc_verified is None and session.document.age is None
    assert (session.aml.score, session.aml.total_hits) == (None, 3)
    assert session.aml_hits.get().hit_id.startswith("sha256:")
    assert session.reviews.count() == 1 and session.warnings.count() == 0
    assert not FaceCheck.objects.exists() and not IpAnalysis.objects.exists()
    assert apply_decision(decision) == "unchanged"


def test_text_longer_than_a_column_is_cut_and_nul_characters_dropped():
    decision = load("v1-decision.json")
    decision["kyc"]["document_number"] = "9" * 500
    decision["kyc"]["full_name"] = "Sergey\x00 Kozlov"
    decision["status"] = "Declined" + "!" * 100
    apply_decision(decision)
    session = VerificationSession.objects.get()
    assert len(session.document_number) == 100 and len(session.status) == 32
    assert session.full_name == "Sergey Kozlov"
    assert session.decision["kyc"]["full_name"] == "Sergey Kozlov"


def test_feature_data_that_disappears_removes_its_rows():
    decision = load("v3-decision-full.json")
    apply_decision(decision)
    decision["ip_analyses"] = None
    decision["liveness_checks"] = []
    decision["face_matches"] = None
    apply_decision(decision)
    assert not IpAnalysis.objects.exists() and not FaceCheck.objects.exists()
    assert SessionWarning.objects.filter(feature="IP_ANALYSIS").count() == 0


def big_decision(session_id: str, *, hits: int, warnings: int, reviews: int) -> dict:
    decision = load("v3-decision-full.json")
    decision["session_id"] = decision["vendor_data"] = session_id
    screening = decision["aml_screenings"][0]
    template = screening["hits"][0]
    screening["hits"] = [{**template, "id": f"hit-{n}"} for n in range(hits)]
    warning = decision["ip_analyses"][0]["warnings"][0]
    decision["ip_analyses"][0]["warnings"] = [
        {**warning, "short_description": f"w{n}"} for n in range(warnings)
    ]
    review = decision["reviews"][0]
    decision["reviews"] = [{**review, "comment": f"r{n}"} for n in range(reviews)]
    return decision


def query_count(decision: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        apply_decision(decision)
    return len(queries)


def test_a_session_costs_the_same_number_of_queries_however_big_its_decision(
    django_assert_max_num_queries,
):
    # Up to ~35 hits (28 columns a hit): SQLite takes 999 parameters per statement, so bulk
    # inserts of more rows are split in batches (still a bounded number of queries, one per
    # batch).
    small = query_count(big_decision("small", hits=1, warnings=1, reviews=1))
    large = query_count(big_decision("large", hits=35, warnings=25, reviews=20))
    assert small == large

    for name in ("small", "large"):  # An update with every kind of child changed.
        decision = big_decision(name, hits=30, warnings=10, reviews=5)
        decision["status"] = "Approved"
        with django_assert_max_num_queries(30):
            assert apply_decision(decision) == "updated"
        with django_assert_max_num_queries(3):  # Savepoint, one SELECT, release.
            assert apply_decision(decision) == "unchanged"


def test_a_session_missing_created_at_keeps_the_time_it_was_first_seen():
    decision = load("v1-decision.json")
    del decision["created_at"]
    apply_decision(decision)
    first = VerificationSession.objects.get().created_at
    decision["status"] = "Approved"
    apply_decision(decision)
    assert VerificationSession.objects.get().created_at == first
    assert abs(first - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_session_created_meanwhile_by_another_process_is_applied_on_a_second_try(monkeypatch):
    from verifications.sync import apply as apply_module

    decision = load("v1-decision.json")
    write = apply_module._write
    raced = []

    def racing_write(session, parsed, *args):
        if not raced:  # Another process inserts the same session just before us.
            raced.append(True)
            VerificationSession.objects.create(
                session_id=parsed.session_id,
                status="In Review",
                api_shape="v1",
                decision={},
                decision_hash="other",
                synced_at=datetime.now(UTC),
                created_at=datetime.now(UTC),
            )
        return write(session, parsed, *args)

    monkeypatch.setattr(apply_module, "_write", racing_write)
    assert apply_decision(decision) in ("created", "updated")
    assert VerificationSession.objects.get().status == "Declined"
    assert counts()["AmlHit"] == 1
