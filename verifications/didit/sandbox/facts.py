"""What happened in one session, derived deterministically from its seed and status.

`Facts` is the compact, cacheable core (statuses, document, scores, counts); the larger
parts (AML hits, IP details) are generated from sub-seeds when a decision is rendered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from . import catalog, config
from .people import (
    COUNTRIES,
    DOCUMENT_SUBTYPES,
    DOCUMENT_TYPE_WEIGHTS,
    DOCUMENT_TYPES,
    Person,
    document_number,
    personal_number,
)

ISO3_CODES = [country[0] for country in COUNTRIES]
STATUS_RANK = {
    None: -1,
    "Approved": 0,
    config.NOT_FINISHED: 1,
    "Expired": 2,
    "In Review": 3,
    "Declined": 4,
}


@dataclass(frozen=True, slots=True)
class Document:
    document_type: str
    document_subtype: str
    number: str
    personal_number: str | None
    issuing_state: str
    date_of_issue: date
    expiration_date: date


@dataclass(slots=True)
class Facts:
    statuses: dict[str, str | None]
    documents: list[Document]
    aml_hits: int
    aml_seed: int
    liveness_score: float
    liveness_method: str
    face_score: float
    age_estimation: float
    warnings: dict[str, list[str]]
    ip_seed: int
    ip_country: str
    has_videos: bool
    reviews: list[dict]

    @property
    def document(self) -> Document | None:
        return self.documents[0] if self.documents else None

    def ran(self, feature: str) -> bool:
        return self.statuses.get(feature) is not None


def worst(statuses) -> str | None:
    return max(statuses, key=lambda s: STATUS_RANK.get(s, 2), default=None)


def iso_datetime(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _feature_statuses(rng: random.Random, features: tuple[str, ...], basis: str) -> dict:
    statuses: dict[str, str | None] = dict.fromkeys(features, config.APPROVED)
    if basis in config.NOT_RUN:
        return dict.fromkeys(features)
    if basis in (config.IN_PROGRESS, config.ABANDONED, config.EXPIRED):
        done = rng.randint(0, max(0, len(features) - 1))
        return {f: (config.APPROVED if i < done else None) for i, f in enumerate(features)}
    if basis == config.KYC_EXPIRED and "ID_VERIFICATION" in features:
        statuses["ID_VERIFICATION"] = "Expired"
    elif basis == config.RESUBMITTED:
        statuses["ID_VERIFICATION" if "ID_VERIFICATION" in features else features[0]] = "Declined"
    elif basis == config.IN_REVIEW or (basis == config.APPROVED and rng.random() < 0.2):
        # Approved with a feature still In Review: a reviewer approved it by hand.
        statuses[_pick_feature(rng, features)] = config.IN_REVIEW
    elif basis == config.DECLINED:
        if rng.random() < 0.3:
            statuses[_pick_feature(rng, features)] = config.IN_REVIEW
        else:
            for _ in range(rng.choice((1, 1, 2))):
                statuses[_pick_feature(rng, features)] = config.DECLINED
    return statuses


def _pick_feature(rng: random.Random, features: tuple[str, ...]) -> str:
    if "AML" in features and rng.random() < 0.5:
        return "AML"
    return rng.choice(features)


@lru_cache(maxsize=65536)
def _document(seed: int, person: Person, anchor: date) -> Document:
    """One of a person's documents; people keep their documents across sessions."""
    rng = random.Random(seed)
    kind = rng.choices(DOCUMENT_TYPES, weights=DOCUMENT_TYPE_WEIGHTS)[0]
    state = person.nationality if kind == "Passport" else person.country
    if kind == "Residence Permit":
        state = rng.choice([code for code in ISO3_CODES if code != person.nationality])
    issued = anchor - timedelta(days=rng.randint(400, 3600))
    years = 5 if kind in ("Driver's License", "Residence Permit") else 10
    return Document(
        document_type=kind,
        document_subtype=DOCUMENT_SUBTYPES[kind],
        number=document_number(rng, document_type=kind, issuing_state=state),
        personal_number=personal_number(rng, issuing_state=state),
        issuing_state=state,
        date_of_issue=issued,
        expiration_date=issued.replace(year=issued.year + years, day=min(issued.day, 28)),
    )


def _score(rng: random.Random, status: str | None) -> float:
    if status == config.DECLINED:
        return round(rng.uniform(5, 50), 2)
    if status == config.IN_REVIEW:
        return round(rng.uniform(55, 80), 2)
    return round(rng.uniform(85, 99.9), 2)


def _aml_hits(rng: random.Random, status: str | None) -> int:
    if status is None:
        return 0
    roll = rng.random()
    if status == config.APPROVED:
        return 0 if roll < 0.88 else rng.randint(1, 3) if roll < 0.98 else rng.randint(10, 50)
    return rng.randint(1, 3) if roll < 0.75 else rng.randint(10, 50)


def _warnings(rng: random.Random, statuses: dict, person: Person, ip_country: str) -> dict:
    found: dict[str, list[str]] = {}
    for feature, status in statuses.items():
        if status in (config.DECLINED, config.IN_REVIEW):
            risks = catalog.FEATURE_RISKS[feature]
            if feature == "IP_ANALYSIS" and ip_country != person.country:
                risks = risks[:1]
            found[feature] = [rng.choice(risks)]
        elif status == "Expired":
            found[feature] = ["DOCUMENT_EXPIRED"]
    return found


def _reviews(
    rng: random.Random, *, gen_status: str, statuses: dict, created: float, anchor: float
) -> list[dict]:
    manual = any(s in (config.IN_REVIEW, config.DECLINED) for s in statuses.values())
    wanted = {
        config.APPROVED: manual and config.IN_REVIEW in statuses.values(),
        config.DECLINED: manual and rng.random() < 0.7,
        config.RESUBMITTED: True,
        config.IN_REVIEW: rng.random() < 0.15,
    }.get(gen_status, False)
    if not wanted:
        return []
    at = min(anchor, created + rng.uniform(600, 3 * 86400))
    comment = rng.choice(catalog.REVIEW_COMMENTS[gen_status])
    if comment and rng.random() < 0.02:
        comment = (comment + " ") * 400
    return [
        {
            "user": rng.choice(catalog.REVIEWERS),
            "new_status": gen_status,
            "comment": comment,
            "created_at": iso_datetime(at),
        }
    ]


def build_facts(
    *,
    seed: int,
    person: Person,
    features: tuple[str, ...],
    basis: str,
    gen_status: str,
    created: float,
    anchor: float,
    anchor_day: date,
    second_document: bool,
) -> Facts:
    rng = random.Random(seed)
    statuses = _feature_statuses(random.Random(seed ^ 0x5A17), features, basis)
    documents: list[Document] = []
    if "ID_VERIFICATION" in features and statuses.get("ID_VERIFICATION") is not None:
        other = rng.random() < 0.2
        documents.append(_document(person.document_seed + other, person, anchor_day))
        if basis == config.KYC_EXPIRED:
            lapse = datetime.fromtimestamp(created, UTC).date() + timedelta(rng.randint(1, 120))
            documents[0] = _replace_expiry(documents[0], min(lapse, anchor_day - timedelta(1)))
        if second_document:
            documents.append(_document(person.document_seed + 7, person, anchor_day))
    ip_status = statuses.get("IP_ANALYSIS")
    ip_country = person.country
    if ip_status in (config.DECLINED, config.IN_REVIEW) or rng.random() < 0.08:
        ip_country = rng.choice([code for code in ISO3_CODES if code != person.country])
    age = (anchor_day - person.date_of_birth).days / 365.25
    return Facts(
        statuses=statuses,
        documents=documents,
        aml_hits=_aml_hits(rng, statuses.get("AML")),
        aml_seed=rng.getrandbits(48),
        liveness_score=_score(rng, statuses.get("LIVENESS")),
        liveness_method=rng.choice(("PASSIVE", "ACTIVE_3D", "FLASHING")),
        face_score=_score(rng, statuses.get("FACE_MATCH")),
        age_estimation=round(age + rng.uniform(-5, 5), 2),
        warnings=_warnings(rng, statuses, person, ip_country),
        ip_seed=rng.getrandbits(48),
        ip_country=ip_country,
        has_videos=rng.random() < 0.3,
        reviews=_reviews(
            rng, gen_status=gen_status, statuses=statuses, created=created, anchor=anchor
        ),
    )


def _replace_expiry(document: Document, expiry: date) -> Document:
    return Document(
        document.document_type,
        document.document_subtype,
        document.number,
        document.personal_number,
        document.issuing_state,
        min(document.date_of_issue, expiry - timedelta(days=365)),
        expiry,
    )
