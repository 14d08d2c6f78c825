"""Bad input, property-based: whatever Didit, a forger or a reviewer sends, nothing breaks.

- Mutated decision JSON through ``apply_decision`` either maps or raises ``DecisionError``,
  and a refused decision writes nothing (not half a session).
- Random webhook bodies and headers are refused unless signed with our secret.
- Junk in the console's form fields gives a 400 or a clean message, never a 500.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    WebhookDelivery,
)
from verifications.sync import DecisionError, apply_decision
from verifications.webhooks import canonical_json, sign

DATA = Path(__file__).parent / "data"
SAMPLES = {
    name: json.loads((DATA / name).read_text())
    for name in ("v1-decision.json", "v3-decision-abridged.json", "v3-decision-full.json")
}
TABLES = (
    VerificationSession,
    DocumentData,
    FaceCheck,
    AmlScreening,
    AmlHit,
    IpAnalysis,
    SessionWarning,
    Review,
    DiditUser,
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- Mutated decisions ----------------------------------------------------------------------

HUGE = "Ω" * 100_000
junk_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.just(HUGE),
    st.just("\x00\ud7ff\ufeff<script>alert(1)</script>"),
    st.sampled_from(["", "null", "2025-13-45", "1e309", "-1", "NaN", "Approved"]),
)


def nested(depth: int):
    value: object = "deep"
    for _ in range(depth):
        value = {"a": [value]}
    return value


junk = st.one_of(
    junk_scalar,
    st.lists(junk_scalar, max_size=4),
    st.dictionaries(st.text(max_size=8), junk_scalar, max_size=4),
    st.integers(min_value=50, max_value=400).map(nested),
)


def paths(value, prefix=()):
    """Every (container path, key) in a JSON value: the places a mutation can hit."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield prefix, key
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield prefix, index
            yield from paths(inner, (*prefix, index))


def at(value, path):
    for key in path:
        value = value[key]
    return value


@st.composite
def mutated_decisions(draw):
    decision = copy.deepcopy(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))])
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        places = list(paths(decision))
        if not places:
            break
        path, key = draw(st.sampled_from(places))
        container = at(decision, path)
        if draw(st.booleans()) and isinstance(container, dict):
            del container[key]
        else:
            container[key] = draw(junk)
    return decision


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def apply_or_refuse(decision) -> None:
    before = row_counts()
    try:
        apply_decision(decision)
    except DecisionError:
        assert row_counts() == before, "a refused decision wrote rows"


@pytest.mark.slow
@pytest.mark.django_db
@FUZZ
@given(decision=mutated_decisions())
def test_mutated_decisions_map_or_raise_decision_error_and_never_write_half(decision):
    apply_or_refuse(decision)


@pytest.mark.django_db
@FUZZ
@given(decision=st.one_of(junk, st.dictionaries(st.text(max_size=12), junk, max_size=6)))
def test_random_json_maps_or_raises_decision_error(decision):
    apply_or_refuse(decision)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_decision_failing_midway_leaves_no_half_session(name, monkeypatch):
    """The transaction is the guarantee: fail after the session row, and it is gone too."""
    from verifications.sync import apply as apply_module

    fit = apply_module._fit

    def explode_after_the_session_row(model, values):
        # The session row is fitted, then inserted; its first child row fails.
        if model is not VerificationSession:
            raise DecisionError("simulated failure after the session row was written")
        return fit(model, values)

    monkeypatch.setattr(apply_module, "_fit", explode_after_the_session_row)
    before = row_counts()

    with pytest.raises(DecisionError):
        apply_decision(copy.deepcopy(SAMPLES[name]))

    assert row_counts() == before


# --- Webhooks ------------------------------------------------------------------------------

WEBHOOK_URL = "/webhooks/didit/"
SECRET = "test-webhook-secret"
header_names = st.sampled_from(
    ["X-Signature", "X-Signature-V2", "X-Signature-Simple", "X-Timestamp", "Content-Type"]
)
header_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
    st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
    st.integers(min_value=0, max_value=2**40).map(str),
)


@pytest.mark.django_db
@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.dictionaries(st.text(max_size=10), junk_scalar, max_size=6).map(
            lambda value: json.dumps(value, allow_nan=True).encode()
        ),
    ),
    headers=st.dictionaries(header_names, header_values, max_size=5),
)
def test_random_webhook_requests_are_refused_and_change_nothing(client, body, headers):
    before = (WebhookDelivery.objects.count(), row_counts())

    response = client.post(WEBHOOK_URL, data=body, content_type="application/json", headers=headers)

    assert 400 <= response.status_code < 500
    assert (WebhookDelivery.objects.count(), row_counts()) == before


@pytest.mark.django_db
@FUZZ
@given(
    payload=st.fixed_dictionaries(
        {
            "session_id": st.one_of(st.uuids().map(str), junk_scalar),
            "status": st.one_of(st.sampled_from(["Approved", "Declined"]), junk_scalar),
            "webhook_type": st.one_of(st.just("status.updated"), junk_scalar),
        }
    ),
    wrong_secret=st.text(min_size=1, max_size=30).filter(lambda secret: secret != SECRET),
)
def test_webhooks_signed_with_another_secret_are_refused(client, payload, wrong_secret):
    timestamp = int(time.time())
    payload = {**payload, "timestamp": timestamp, "created_at": timestamp}
    body = json.dumps(payload).encode()
    key = wrong_secret.encode()
    headers = {
        "X-Timestamp": str(timestamp),
        "X-Signature": sign(key, body),
        "X-Signature-V2": sign(key, canonical_json(payload)),
        "X-Signature-Simple": sign(
            key,
            f"{timestamp}:{payload['session_id']}:{payload['status']}:"
            f"{payload['webhook_type']}".encode(),
        ),
    }
    before = WebhookDelivery.objects.count()

    response = client.post(WEBHOOK_URL, data=body, content_type="application/json", headers=headers)

    assert response.status_code in (400, 401, 403, 413)
    assert WebhookDelivery.objects.count() == before


# --- Console forms -------------------------------------------------------------------------

QUEUE_FIELDS = (
    "q",
    "status",
    "aml",
    "aml_min",
    "aml_max",
    "document_type",
    "country",
    "date_from",
    "date_to",
    "feature",
    "page",
)
junk_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["-1", "0", "99999999999999999999", "1e400", "NaN", "inf", "2025-02-30", "'; DROP", "%"]
    ),
    st.just("x" * 5000),
)


@pytest.mark.django_db
@FUZZ
@given(query=st.dictionaries(st.sampled_from(QUEUE_FIELDS), junk_text, max_size=5))
def test_queue_filters_with_junk_answer_200_or_400(viewer_client, query):
    query = {name: value.replace("\x00", "") for name, value in query.items()}
    for url in ("/sessions/", "/sessions/export.csv"):
        response = viewer_client.get(url, query)
        assert response.status_code in (200, 400), (url, query)
        if response.streaming:
            b"".join(response.streaming_content)


@pytest.fixture
def one_session(db):
    apply_decision(copy.deepcopy(SAMPLES["v3-decision-full.json"]))
    return VerificationSession.objects.get()


@pytest.mark.django_db
@FUZZ
@given(
    form=st.dictionaries(
        st.sampled_from(["new_status", "comment", "form_token"]), junk_text, max_size=3
    )
)
def test_status_form_with_junk_refuses_cleanly_and_changes_nothing(
    reviewer_client, one_session, form
):
    before = (one_session.reviews.count(), VerificationSession.objects.get().status)

    response = reviewer_client.post(f"/sessions/{one_session.session_id}/status/", form)

    assert response.status_code in (200, 302, 400)
    assert (one_session.reviews.count(), VerificationSession.objects.get().status) == before


@pytest.mark.django_db
@FUZZ
@given(
    form=st.dictionaries(
        st.sampled_from(["disposition", "note", "form_token"]), junk_text, max_size=3
    )
)
def test_disposition_form_with_junk_refuses_cleanly_and_changes_nothing(
    reviewer_client, one_session, form
):
    hit = one_session.aml_hits.first()
    if hit is None:
        pytest.skip("the sample has no AML hit")

    response = reviewer_client.post(
        f"/sessions/{one_session.session_id}/aml-hits/{hit.pk}/disposition/", form
    )

    assert response.status_code in (200, 302, 400)
    hit.refresh_from_db()
    assert hit.disposition == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/sessions/<script>/",
        "/sessions/%00/",
        "/sessions/" + "a" * 5000 + "/",
        "/sessions/x/aml-hits/99999999999999999999999/disposition/",
        "/users/%E2%80%AE/",
        "/users/" + "b" * 5000 + "/report.pdf",
    ],
)
def test_junk_in_url_parameters_is_a_clean_404(viewer_client, path):
    method = viewer_client.post if "disposition" in path else viewer_client.get

    assert method(path).status_code in (400, 403, 404)
