"""Reading many sessions at once: list filters, pagination, and Didit's User entities."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from urllib.parse import urlencode

from . import catalog, config
from .data import Session, SessionStore
from .facts import iso_datetime
from .people import ISO2_TO_ISO3

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
BLOCKLIST_RISKS = {"FACE_IN_BLOCKLIST", "ID_DOCUMENT_IN_BLOCKLIST"}


class QueryError(Exception):
    """A bad query parameter: carries the HTTP status and the DRF-style body."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def _parse_when(name: str, value: str, *, end: bool) -> float:
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise QueryError(400, {name: ["Enter a valid date/time."]}) from None
    return moment.timestamp()


def _searchable(store: SessionStore, session: Session) -> str:
    facts = store.facts(session)
    parts = [session.session_id, session.vendor_data or ""]
    if facts.documents:
        parts.append(store.person(session).full_name)
        parts += [document.number for document in facts.documents]
    return "\n".join(parts).casefold()


def filter_sessions(store: SessionStore, query: dict[str, str]) -> list[Session]:
    """Sessions matching the v3 list filters, newest first."""
    vendor_data = query.get("vendor_data")
    if vendor_data is not None:
        rows = [s for s in reversed(store.by_vendor.get(vendor_data, [])) if not s.deleted]
    else:
        rows = store.newest_first()
    if query.get("status"):
        wanted = {part.strip() for part in query["status"].split(",") if part.strip()}
        rows = [s for s in rows if s.status in wanted]
    if query.get("workflow_id"):
        rows = [s for s in rows if s.workflow_id == query["workflow_id"]]
    if query.get("date_from"):
        start = _parse_when("date_from", query["date_from"], end=False)
        rows = [s for s in rows if s.created >= start]
    if query.get("date_to"):
        stop = _parse_when("date_to", query["date_to"], end=True)
        rows = [s for s in rows if s.created <= stop]
    if query.get("country"):
        code = query["country"].strip().upper()
        code = ISO2_TO_ISO3.get(code, code)
        rows = [s for s in rows if _country(store, s) == code]
    if query.get("search"):
        needle = query["search"].strip().casefold()
        rows = [s for s in rows if needle in _searchable(store, s)]
    return rows


def _country(store: SessionStore, session: Session) -> str | None:
    document = store.facts(session).document
    return document.issuing_state if document else None


def _int(value: str | None, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if number >= 0 else default


def paginate(
    count: int, query: dict[str, str], *, url: str
) -> tuple[int, int, str | None, str | None]:
    """(start, stop, next, previous) for either pagination style the docs mention."""
    if "page" in query or "page_size" in query:
        size = min(
            _int(query.get("page_size"), DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
        )
        try:
            page = int(query.get("page", "1"))
        except ValueError:
            raise QueryError(404, {"detail": "Invalid page."}) from None
        last = max(1, -(-count // size))
        if page < 1 or page > last:
            raise QueryError(404, {"detail": "Invalid page."})
        start = (page - 1) * size
        following = _link(url, query, page=page + 1) if page < last else None
        previous = _link(url, query, page=page - 1) if page > 1 else None
        return start, start + size, following, previous
    limit = min(_int(query.get("limit"), DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    offset = _int(query.get("offset"), 0)
    following = _link(url, query, limit=limit, offset=offset + limit)
    if offset + limit >= count:
        following = None
    previous = None
    if offset > 0:
        previous = _link(url, query, limit=limit, offset=max(0, offset - limit))
    return offset, offset + limit, following, previous


def _link(url: str, query: dict[str, str], **changes) -> str:
    params = dict(query)
    params.update({key: str(value) for key, value in changes.items()})
    return f"{url}?{urlencode(params)}"


# -- Users -----------------------------------------------------------------------------------


def users_newest_first(store: SessionStore) -> list[str]:
    seen: dict[str, None] = {}
    for session in store.newest_first():
        if session.vendor_data is not None and session.vendor_data not in seen:
            seen[session.vendor_data] = None
    return list(seen)


def user_entity(store: SessionStore, vendor_data: str) -> dict | None:
    sessions = [s for s in store.by_vendor.get(vendor_data, []) if not s.deleted]
    if not sessions:
        return None
    sessions.sort(key=lambda s: s.created)
    features: dict[str, str] = {}
    full_name = None
    blocked = False
    for session in sessions:
        facts = store.facts(session)
        for feature, status in facts.statuses.items():
            if status is not None:
                features[catalog.FEATURES[feature][3]] = status.upper().replace(" ", "_")
        if facts.documents:
            full_name = store.person(session).full_name
        blocked = blocked or any(
            risk in BLOCKLIST_RISKS for risks in facts.warnings.values() for risk in risks
        )
    counts = {
        status: sum(1 for s in sessions if s.status == status)
        for status in (config.APPROVED, config.DECLINED, config.IN_REVIEW)
    }
    status = "BLOCKED" if blocked else "FLAGGED" if counts[config.DECLINED] else "ACTIVE"
    return {
        "vendor_data": vendor_data,
        "full_name": full_name,
        "status": status,
        "session_count": len(sessions),
        "approved_count": counts[config.APPROVED],
        "declined_count": counts[config.DECLINED],
        "in_review_count": counts[config.IN_REVIEW],
        "features": features,
        "first_session_at": iso_datetime(sessions[0].created),
        "last_session_at": iso_datetime(sessions[-1].created),
    }
