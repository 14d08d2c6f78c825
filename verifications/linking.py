"""Linked identities: other people and sessions sharing an identifier with this one.

At each sync a session's identifying values (document and personal numbers, face image
source, IP address, device fingerprint, phone, e-mail) are written, normalised, as
``SessionIdentifier`` rows. The panel then costs two indexed queries whatever the data size:
this session's (or person's) values, and the other sessions holding one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from .models import IdentifierKind, SessionIdentifier, VerificationSession

# Other sessions shown at most; a value shared by thousands (an office's IP) stays readable.
MAX_LINKED_SESSIONS = 50
MIN_NUMBER_LENGTH = 4
MAX_VALUE_LENGTH = 255


def identifiers_from(
    *, session_id: str, decision: dict, document: dict | None, ip_analysis: dict | None
) -> set[tuple[str, str]]:
    """(kind, normalised value) pairs of one decision, of any shape (v1, v2 objects, v3 arrays).

    ``document`` and ``ip_analysis`` are the sync's mapped values; the face source, phone,
    e-mail and device come from the raw decision.
    """
    found: set[tuple[str, str]] = set()
    document, ip_analysis = document or {}, ip_analysis or {}
    _add(found, IdentifierKind.DOCUMENT_NUMBER, _number(document.get("document_number")))
    _add(found, IdentifierKind.PERSONAL_NUMBER, _number(document.get("personal_number")))
    _add(found, IdentifierKind.IP_ADDRESS, _text(ip_analysis.get("ip_address")))
    face_items = list(_items(decision, "face_matches", "face_match"))
    if face_items or isinstance(decision.get("face"), dict):
        _add(found, IdentifierKind.FACE_SOURCE, session_id)
    for item in [*face_items, decision.get("face") or {}]:
        if isinstance(item, dict):
            _add(found, IdentifierKind.FACE_SOURCE, _text(item.get("source_image_session_id")))
    for item in _items(decision, "ip_analyses", "ip_analysis", "location"):
        _add(found, IdentifierKind.DEVICE, _text(item.get("device_fingerprint")))
    _add(found, IdentifierKind.DEVICE, _text(decision.get("device_fingerprint")))
    for phone in _phones(decision):
        _add(found, IdentifierKind.PHONE, phone)
    for email in _emails(decision):
        _add(found, IdentifierKind.EMAIL, email)
    return found


def index_decision(session: VerificationSession, parsed: Any) -> None:
    """The sync's hook for a stored session: index its newly applied decision (a
    ``sync.parse.ParsedDecision``)."""
    index_identifiers(session, _pairs(session, parsed))


def new_identifiers(session: VerificationSession, parsed: Any) -> list[SessionIdentifier]:
    """The unsaved rows of a session inserted for the first time (bulk inserts)."""
    return [
        SessionIdentifier(session=session, kind=kind, value=value)
        for kind, value in sorted(_pairs(session, parsed))
    ]


def _pairs(session: VerificationSession, parsed: Any) -> set[tuple[str, str]]:
    return identifiers_from(
        session_id=session.session_id,
        decision=parsed.raw,
        document=parsed.document,
        ip_analysis=parsed.ip_analysis,
    )


def reindex_all(*, batch_size: int = 500) -> int:
    """Index every synced session again (after this feature's migration, or a rule change).
    Reads the stored decisions in id order, one batch in memory at a time."""
    from .sync.parse import DecisionError, parse_decision

    done, last_pk = 0, 0
    while True:
        batch = list(
            VerificationSession.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "session_id", "decision")[:batch_size]
        )
        if not batch:
            return done
        for session in batch:
            try:
                parsed = parse_decision(session.decision)
            except DecisionError:
                continue
            index_decision(session, parsed)
            done += 1
        last_pk = batch[-1].pk


def index_identifiers(session: VerificationSession, pairs: set[tuple[str, str]]) -> None:
    """Replace the session's identifier rows with ``pairs`` (two queries; none if equal)."""
    stored = set(session.identifiers.values_list("kind", "value"))
    if stored == pairs:
        return
    stale = stored - pairs
    if stale:
        query = Q()
        for kind, value in stale:
            query |= Q(kind=kind, value=value)
        session.identifiers.filter(query).delete()
    SessionIdentifier.objects.bulk_create(
        [
            SessionIdentifier(session=session, kind=kind, value=value)
            for kind, value in pairs - stored
        ]
    )


@dataclass
class LinkedPerson:
    """Another person (or a session without vendor data) sharing something with ours."""

    vendor_data: str
    name: str
    latest_status: str
    didit_status: str
    shared: dict[str, set[str]] = field(default_factory=dict)  # kind label -> values
    sessions: list[VerificationSession] = field(default_factory=list)

    @property
    def shared_labels(self) -> list[str]:
        return sorted(self.shared)


def linked_identities(
    *, session: VerificationSession | None = None, didit_user: Any = None
) -> list[LinkedPerson]:
    """Who else shares an identifier with this session, or with any session of this person.

    Two queries whatever the number of sessions: this side's identifiers, then the other
    sessions holding one (with their person), newest first, at most ``MAX_LINKED_SESSIONS``.
    """
    if session is not None:
        mine = SessionIdentifier.objects.filter(session=session)
        others = SessionIdentifier.objects.exclude(session=session)
        if session.user_id is not None:
            others = others.exclude(session__user_id=session.user_id)
    elif didit_user is not None:
        mine = SessionIdentifier.objects.filter(session__user=didit_user)
        others = SessionIdentifier.objects.exclude(session__user=didit_user)
    else:
        raise TypeError("linked_identities() needs a session or a didit_user")
    pairs = set(mine.values_list("kind", "value"))
    # No identifiers still runs the (empty, indexed) second query: the count stays constant.
    query = Q(kind="", value="")
    for kind, values in _by_kind(pairs).items():
        query |= Q(kind=kind, value__in=sorted(values))
    rows = (
        others.filter(query)
        .select_related("session__user")
        .only(
            "kind",
            "value",
            "session__session_id",
            "session__session_number",
            "session__status",
            "session__created_at",
            "session__full_name",
            "session__vendor_data",
            "session__user__vendor_data",
            "session__user__full_name",
            "session__user__latest_status",
            "session__user__didit_status",
        )
        .order_by("-session__created_at", "-session_id")[: MAX_LINKED_SESSIONS * 3]
    )
    return _group(rows)


def _group(rows: Iterable[SessionIdentifier]) -> list[LinkedPerson]:
    people: dict[str, LinkedPerson] = {}
    seen_sessions: set[int] = set()
    labels = dict(IdentifierKind.choices)
    for row in rows:
        other = row.session
        user = other.user
        key = f"user:{user.pk}" if user is not None else f"session:{other.pk}"
        person = people.get(key)
        if person is None:
            person = people[key] = LinkedPerson(
                vendor_data=user.vendor_data if user is not None else "",
                name=(user.full_name if user is not None else "") or other.full_name,
                latest_status=(user.latest_status if user is not None else "") or other.status,
                didit_status=user.didit_status if user is not None else "",
            )
        person.shared.setdefault(labels.get(row.kind, row.kind), set()).add(row.value)
        if other.pk not in seen_sessions and len(seen_sessions) < MAX_LINKED_SESSIONS:
            seen_sessions.add(other.pk)
            person.sessions.append(other)
    return list(people.values())


def _by_kind(pairs: set[tuple[str, str]]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for kind, value in pairs:
        grouped.setdefault(kind, set()).add(value)
    return grouped


def _add(found: set[tuple[str, str]], kind: str, value: str) -> None:
    if value and len(value) <= MAX_VALUE_LENGTH:
        found.add((str(kind), value))


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value: Any) -> str:
    """Document numbers compare without case, spaces or punctuation; short ones are noise."""
    text = "".join(ch for ch in _text(value).upper() if ch.isalnum())
    return text if len(text) >= MIN_NUMBER_LENGTH else ""


def _phone(value: Any) -> str:
    text = _text(value)
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < 6:
        return ""
    return ("+" if text.startswith(("+", "00")) else "") + digits.removeprefix(
        "00" if text.startswith("00") else ""
    )


def _email(value: Any) -> str:
    text = _text(value).lower()
    return text if "@" in text else ""


def _items(decision: dict, *keys: str) -> Iterator[dict]:
    """The items of a feature: a v3 array, or a v2/v1 object."""
    for key in keys:
        value = decision.get(key)
        if isinstance(value, dict):
            yield value
        elif isinstance(value, list):
            yield from (item for item in value if isinstance(item, dict))


def _phones(decision: dict) -> Iterator[str]:
    top = decision.get("phone_number")
    if isinstance(top, dict):
        yield _phone(top.get("number") or top.get("full_number"))
    elif isinstance(top, str):
        yield _phone(top)
    for item in _items(decision, "phone_verifications", "phone"):
        yield _phone(item.get("full_number") or item.get("phone_number"))
    contact = decision.get("contact_details")
    if isinstance(contact, dict):
        yield _phone(contact.get("phone"))


def _emails(decision: dict) -> Iterator[str]:
    top = decision.get("email_address")
    if isinstance(top, dict):
        yield _email(top.get("email"))
    elif isinstance(top, str):
        yield _email(top)
    for item in _items(decision, "email_verifications", "email"):
        yield _email(item.get("email"))
    contact = decision.get("contact_details")
    if isinstance(contact, dict):
        yield _email(contact.get("email"))
