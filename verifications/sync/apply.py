"""Write one parsed decision to the database: one transaction, a constant number of queries."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from users.models import DiditUser
from verifications.linking import index_decision, new_identifiers
from verifications.models import (
    AmlHit,
    AmlScreening,
    DocumentData,
    FaceCheck,
    IpAnalysis,
    Review,
    ReviewSource,
    SessionIdentifier,
    SessionWarning,
    VerificationSession,
)
from verifications.signals import decision_stored

from .coerce import as_datetime
from .parse import DecisionError, ParsedDecision, list_fingerprint, parse_decision

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
# A console review and Didit's record of it are the same review when this close in time.
REVIEW_MATCH_WINDOW = timedelta(minutes=5)
ONE_TO_ONE = {
    "document": DocumentData,
    "face": FaceCheck,
    "aml": AmlScreening,
    "ip_analysis": IpAnalysis,
}
HIT_FIELDS = [
    "caption",
    "score",
    "match_score",
    "risk_score",
    "match",
    "target",
    "review_status",
    "url",
    "datasets",
    "features",
    "topics",
    "properties",
    "details",
    "first_seen",
    "last_seen",
    "last_change",
    "position",
    "removed_at",
]
# A console review left pending (Didit accepted it, saving it here failed) is confirmed by
# Didit's record of it: linking clears the flag.
REVIEW_LINK_FIELDS = ["didit_fingerprint", "didit_user", "didit_created_at", "pending"]
# Rows per INSERT when writing sessions in bulk (``insert_sessions``).
BULK_BATCH = 1000


def apply_decision(
    decision: dict,
    *,
    list_row: dict | None = None,
    refresh_media: bool = False,
    fetched_between: tuple[datetime, datetime] | None = None,
) -> str:
    """Map one decision (v1, v2 or v3 shape) onto the models, in one transaction.

    Returns "created", "updated" or "unchanged". A decision whose content (presigned URL
    signatures aside) equals the stored one writes nothing — except the list fingerprint
    when ``list_row`` says something new, and, with ``refresh_media``, fresh media URLs for
    a page whose stored ones expired (still "unchanged"). Raises ``DecisionError`` before
    writing anything if the decision cannot be mapped.

    ``fetched_between`` is (before the request for this decision, after its answer). If
    the answer came before the stored copy was even asked for (a webhook's re-fetch, or a
    reviewer's status change Didit confirmed, overtook this copy on its way), this copy is
    older: it writes nothing and is "unchanged". When it cannot be told, the copy is applied
    (the next run corrects an older one; refusing a newer one would lose it).
    """
    # Python's json accepts NaN and Infinity, which no JSON column can store: they become null.
    try:
        decision = _finite(decision)
    except RecursionError:
        raise DecisionError("decision is nested too deeply") from None
    parsed = parse_decision(decision)
    fingerprint = list_fingerprint(list_row) if list_row is not None else None
    if fetched_between is None:
        now = timezone.now()
        fetched_between = (now, now)
    try:
        return _apply(parsed, fingerprint, list_row, refresh_media, fetched_between)
    except IntegrityError:
        # Another process (a webhook during a sync) created the same session or hit a
        # moment ago; our transaction rolled back whole. Once more finds its rows.
        return _apply(parsed, fingerprint, list_row, refresh_media, fetched_between)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _apply(
    parsed: ParsedDecision,
    fingerprint: str | None,
    list_row: dict | None,
    refresh_media: bool,
    fetched_between: tuple[datetime, datetime],
) -> str:
    requested_at, answered_at = fetched_between
    with transaction.atomic():
        session = (
            VerificationSession.objects.select_for_update(of=("self",))
            .select_related(*ONE_TO_ONE)
            .filter(session_id=parsed.session_id)
            .first()
        )
        if session is not None and session.purged_at is not None:
            return UNCHANGED  # Purged under our retention period: never filled in again.
        stored_at = session.decision_requested_at if session is not None else None
        if stored_at is not None and answered_at < stored_at:
            return UNCHANGED  # Ours is newer than this copy.
        if session is not None and session.decision_hash == parsed.content_hash:
            if refresh_media and session.decision != parsed.raw:
                _write(session, parsed, fingerprint, list_row, requested_at)
            elif fingerprint is not None and session.list_fingerprint != fingerprint:
                session.list_fingerprint = fingerprint
                session.save(update_fields=["list_fingerprint"])
            return UNCHANGED
        result = CREATED if session is None else UPDATED
        _write(session, parsed, fingerprint, list_row, requested_at)
    return result


def _write(
    session: VerificationSession | None,
    parsed: ParsedDecision,
    fingerprint: str | None,
    list_row: dict | None,
    requested_at: datetime,
) -> None:
    values = _fit(VerificationSession, parsed.session)
    if values["created_at"] is None:
        # Didit always sends created_at; if not, keep what we had, or the list's, or now.
        fallback = as_datetime((list_row or {}).get("created_at"))
        values["created_at"] = (session and session.created_at) or fallback or timezone.now()
    if not values.get("full_name"):
        # No name extracted (yet): the list row's, else the one we had.
        listed = (list_row or {}).get("full_name")
        values["full_name"] = (
            str(listed)[:255] if listed else (session.full_name if session is not None else "")
        )
    values["decision"] = parsed.raw
    values["decision_hash"] = parsed.content_hash
    values["synced_at"] = timezone.now()
    values["decision_requested_at"] = requested_at
    if fingerprint is not None:
        values["list_fingerprint"] = fingerprint
    vendor_data = values["vendor_data"]
    values["user"] = (
        DiditUser.objects.get_or_create(vendor_data=vendor_data)[0] if vendor_data else None
    )

    previous_user_id = session.user_id if session is not None else None
    if session is None:
        session = VerificationSession(session_id=parsed.session_id, **values)
        insert_sessions([(session, parsed)])
    else:
        for name, value in values.items():
            setattr(session, name, value)
        session.save()
        for relation, model in ONE_TO_ONE.items():
            _upsert_one(model, session, _cached_child(session, relation), getattr(parsed, relation))
        _sync_hits(session, parsed.hits)
        _sync_warnings(session, parsed.warnings)
        _sync_reviews(session, parsed.reviews)
        index_decision(session, parsed)  # Linked identities (issue 15).

    # The archive copies the decision's media in the background, once this is committed.
    stored = partial(decision_stored.send, sender=VerificationSession, session_pk=session.pk)
    transaction.on_commit(stored)

    if session.user is not None:
        session.user.recompute()
    if previous_user_id and previous_user_id != session.user_id:
        old_user = DiditUser.objects.filter(pk=previous_user_id).first()
        if old_user is not None:
            old_user.recompute()


def session_row(parsed: ParsedDecision, **values: Any) -> VerificationSession:
    """An unsaved row for a session never stored before; ``values`` set the bookkeeping
    columns (``synced_at``, ``user``, ...). Save it with ``insert_sessions``."""
    columns = _fit(VerificationSession, parsed.session)
    columns.update(decision=parsed.raw, decision_hash=parsed.content_hash, **values)
    return VerificationSession(session_id=parsed.session_id, **columns)


def insert_sessions(rows: list[tuple[VerificationSession, ParsedDecision]]) -> Counter[str]:
    """Insert sessions never stored before, each with every row of its decision: one INSERT
    per table whatever the number of sessions. Used by ``apply_decision`` for a new session
    and by bulk loaders (``devtools.seeding``). Returns the rows written per model name.

    ``rows`` pairs an unsaved session (``session_row``) with its parsed decision. Linking
    sessions to their ``DiditUser`` and summarising it is the caller's.
    """
    sessions = [session for session, _ in rows]
    VerificationSession.objects.bulk_create(sessions, batch_size=BULK_BATCH)
    children: dict[type[models.Model], list[models.Model]] = defaultdict(list)
    for session, parsed in rows:
        for model, objects in session_children(session, parsed).items():
            children[model].extend(objects)
    written = Counter({VerificationSession.__name__: len(sessions)})
    for model, objects in children.items():
        model.objects.bulk_create(objects, batch_size=BULK_BATCH)
        written[model.__name__] = len(objects)
    return written


def session_children(
    session: VerificationSession, parsed: ParsedDecision
) -> dict[type[models.Model], list[models.Model]]:
    """The unsaved rows of a new session's decision (document, face, AML screening, IP
    analysis, AML hits, warnings, Didit's reviews), per model, linked to ``session`` (give it
    its primary key first). What ``insert_sessions`` writes; bulk loaders write them too."""
    children: dict[type[models.Model], list[models.Model]] = defaultdict(list)
    for relation, model in ONE_TO_ONE.items():
        values = getattr(parsed, relation)
        if values is not None:
            children[model].append(model(session=session, **_fit(model, values)))
    for values in parsed.hits:
        values = _fit(AmlHit, {**values, "removed_at": None})
        children[AmlHit].append(AmlHit(session=session, **values))
    for values in parsed.warnings:
        children[SessionWarning].append(
            SessionWarning(session=session, **_fit(SessionWarning, values))
        )
    for values in parsed.reviews:
        children[Review].append(_didit_review(session, _fit(Review, values)))
    children[SessionIdentifier] += new_identifiers(session, parsed)  # Linked identities.
    return children


def _didit_review(session: VerificationSession, values: dict) -> Review:
    return Review(
        session=session, source=ReviewSource.DIDIT, created_at=values["didit_created_at"], **values
    )


def _cached_child(session: VerificationSession, relation: str) -> models.Model | None:
    try:
        return getattr(session, relation)
    except ObjectDoesNotExist:
        return None


def _upsert_one(
    model: type[models.Model],
    session: VerificationSession,
    existing: models.Model | None,
    values: dict[str, Any] | None,
) -> None:
    if values is None:
        if existing is not None:
            model.objects.filter(pk=existing.pk).delete()
        return
    values = _fit(model, values)
    if existing is None:
        model.objects.create(session=session, **values)
        return
    changed = [name for name, value in values.items() if getattr(existing, name) != value]
    if changed:
        for name in changed:
            setattr(existing, name, values[name])
        existing.save(update_fields=changed)


def _sync_hits(session: VerificationSession, hits: list[dict]) -> None:
    """Upsert by Didit's hit id; keep local dispositions; keep disposed hits Didit dropped."""
    existing = {hit.hit_id: hit for hit in session.aml_hits.all()}
    new, changed = [], []
    for values in hits:
        values = _fit(AmlHit, {**values, "removed_at": None})
        hit = existing.pop(values["hit_id"], None)
        if hit is None:
            new.append(AmlHit(session=session, **values))
            continue
        seen_status = hit.review_status
        if _assign(hit, values, HIT_FIELDS):
            if hit.review_status != seen_status:
                # Reviewed at Didit meanwhile: a console form made before this is stale.
                hit.review_version += 1
            changed.append(hit)
    now = timezone.now()
    for hit in existing.values():  # Gone from the decision.
        if hit.disposition and hit.removed_at is None:
            hit.removed_at = now
            changed.append(hit)
    AmlHit.objects.bulk_create(new)
    if changed:
        AmlHit.objects.bulk_update(changed, [*HIT_FIELDS, "review_version"])
    gone = [hit.pk for hit in existing.values() if not hit.disposition]
    if gone:
        AmlHit.objects.filter(pk__in=gone).delete()


def _sync_warnings(session: VerificationSession, warnings: list[dict]) -> None:
    existing = {item.fingerprint: item for item in session.warnings.all()}
    new, moved = [], []
    for values in warnings:
        values = _fit(SessionWarning, values)
        warning = existing.pop(values["fingerprint"], None)
        if warning is None:
            new.append(SessionWarning(session=session, **values))
        elif warning.position != values["position"]:
            warning.position = values["position"]
            moved.append(warning)
    SessionWarning.objects.bulk_create(new)
    if moved:
        SessionWarning.objects.bulk_update(moved, ["position"])
    if existing:
        SessionWarning.objects.filter(pk__in=[item.pk for item in existing.values()]).delete()


def _sync_reviews(session: VerificationSession, reviews: list[dict]) -> None:
    """Didit's reviews by fingerprint; ours linked to Didit's record of them, never copied."""
    existing = list(session.reviews.all())
    linked = {review.didit_fingerprint: review for review in existing if review.didit_fingerprint}
    unlinked = [r for r in existing if r.source == ReviewSource.CONSOLE and not r.didit_fingerprint]
    new, changed = [], []
    for values in reviews:
        values = {**_fit(Review, values), "pending": False}
        review = linked.pop(values["didit_fingerprint"], None) or _console_match(unlinked, values)
        if review is None:
            new.append(_didit_review(session, values))
        elif _assign(review, values, REVIEW_LINK_FIELDS):
            changed.append(review)
    Review.objects.bulk_create(new)
    if changed:
        Review.objects.bulk_update(changed, REVIEW_LINK_FIELDS)
    gone = [review.pk for review in linked.values() if review.source == ReviewSource.DIDIT]
    if gone:
        Review.objects.filter(pk__in=gone).delete()


def _console_match(candidates: list[Review], values: dict) -> Review | None:
    """Our review that Didit is reporting back: same status and comment, close in time."""
    didit_at = values["didit_created_at"]
    best, best_gap = None, REVIEW_MATCH_WINDOW
    for review in candidates:
        if review.new_status != values["new_status"]:
            continue
        if review.comment.strip() != values["comment"].strip():
            continue
        if didit_at is None or review.created_at is None:
            continue
        gap = abs(review.created_at - didit_at)
        if gap <= best_gap:
            best, best_gap = review, gap
    if best is not None:
        candidates.remove(best)
    return best


def _assign(instance: models.Model, values: dict, names: list[str]) -> bool:
    changed = False
    for name in names:
        if name in values and getattr(instance, name) != values[name]:
            setattr(instance, name, values[name])
            changed = True
    return changed


def _fit(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """Blank instead of None for text columns, and text cut to the column's length."""
    limits = _text_limits(model)
    fitted = dict(values)
    for name, limit in limits.items():
        if name in fitted:
            text = fitted[name] or ""
            fitted[name] = text[:limit] if limit else text
    return fitted


@cache
def _text_limits(model: type[models.Model]) -> dict[str, int | None]:
    return {
        field.name: getattr(field, "max_length", None)
        for field in model._meta.get_fields()
        if isinstance(field, (models.CharField, models.TextField)) and not field.null
    }
