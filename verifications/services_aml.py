"""AML hit review: dispositions sent to Didit, the false-positive whitelist, and the reads
the session page needs for them.

A disposition is one of Didit's review statuses. It goes to Didit first (one hit:
update-aml-hit-status; several: bulk-update-aml-hit-status) and is stored here only once
Didit has confirmed it. Before the call the hits are claimed (the intent, with the
reviewer's name), so a second reviewer cannot send another disposition for them meanwhile,
and a form made from a page older than the hits' last disposition is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from . import audit
from .didit.client import DiditBadResponse, DiditClient, DiditError
from .models import (
    AmlHit,
    AmlHitReview,
    AmlWhitelistEntry,
    AuditAction,
    Disposition,
    VerificationSession,
)

__all__ = [
    "AmlReviewConflict",
    "AmlReviewRefused",
    "DiditError",
    "dispose_aml_hits",
    "hit_identity",
    "revoke_whitelist_entry",
    "whitelist_matches",
]

# A claim older than this belongs to a request that died: the hits are free again.
CLAIM_TIMEOUT = timedelta(minutes=2)
# Severity order of the hit table: sanctions, then PEP, then adverse media, then the rest.
HIT_TYPES = ("sanction", "pep", "adverse media", "warning", "other")


class AmlReviewRefused(Exception):
    """The request cannot be carried out as asked (bad combination); ``str()`` says why."""


class AmlReviewConflict(Exception):
    """Another reviewer is disposing these hits, or the page was older than their state."""


def dispose_aml_hits(
    *,
    session: VerificationSession,
    hits: Sequence[AmlHit],
    disposition: str,
    note: str,
    actor: Any,
    request: HttpRequest | None,
    seen: dict[int, int] | None = None,
    whitelist: bool = False,
    whitelist_until: date | None = None,
    client: DiditClient | None = None,
) -> list[AmlHit]:
    """Send one review status for ``hits`` to Didit, then record it here.

    ``seen`` maps hit pk -> the ``review_version`` the reviewer's page showed; a hit that has
    changed since is refused (``AmlReviewConflict``), as is a hit another reviewer is
    disposing right now. Didit's refusal or an outage raises ``DiditError``: nothing stored.
    """
    if disposition not in Disposition.values:
        raise AmlReviewRefused(f"“{disposition}” is not one of Didit's review statuses.")
    if not hits:
        raise AmlReviewRefused("Select at least one hit.")
    if any(hit.session_id != session.pk for hit in hits):
        raise AmlReviewRefused("A hit of another session was selected.")
    if whitelist:
        _check_whitelist_request(session, disposition, whitelist_until)
    # A PATCH is never retried whatever the client's budget: a repeat could apply twice.
    client = client or DiditClient.from_settings()
    pks = [hit.pk for hit in hits]
    _claim(pks, actor=actor, seen=seen)
    try:
        confirmed = _send(client, session, hits, disposition, note)
    except BaseException:
        AmlHit.objects.filter(pk__in=pks, pending_by=actor).update(pending_by=None, pending_at=None)
        raise
    return _record(
        session=session,
        pks=pks,
        confirmed=confirmed,
        note=note,
        actor=actor,
        request=request,
        whitelist=whitelist,
        whitelist_until=whitelist_until,
    )


def _check_whitelist_request(
    session: VerificationSession, disposition: str, until: date | None
) -> None:
    if disposition != Disposition.FALSE_POSITIVE:
        raise AmlReviewRefused("Only a False Positive can be whitelisted.")
    if not session.vendor_data:
        raise AmlReviewRefused(
            "This session has no vendor data: there is no person to whitelist for."
        )
    if until is not None and until <= timezone.localdate():
        raise AmlReviewRefused("The whitelist's review-by date must be in the future.")


def _claim(pks: list[int], *, actor: Any, seen: dict[int, int] | None) -> None:
    """Mark the hits as being disposed by ``actor``: all of them, or none (a conflict)."""
    now = timezone.now()
    free = Q(pending_at__isnull=True) | Q(pending_at__lt=now - CLAIM_TIMEOUT)
    matching = Q(pk__in=pks)
    if seen:
        versions = Q()
        for pk in pks:
            versions |= Q(pk=pk, review_version=seen.get(pk, -1)) if pk in seen else Q(pk=pk)
        matching &= versions
    with transaction.atomic():
        claimed = AmlHit.objects.filter(matching & free).update(pending_by=actor, pending_at=now)
        if claimed != len(pks):
            transaction.set_rollback(True)
            raise AmlReviewConflict(
                "Another reviewer has changed or is changing some of these hits. "
                "Reload the section to see their current review status; nothing was sent."
            )


def _send(
    client: DiditClient,
    session: VerificationSession,
    hits: Sequence[AmlHit],
    disposition: str,
    note: str,
) -> dict[str, str]:
    """Ask Didit; return hit_id -> the review status Didit confirmed for it."""
    comment = note or None
    hit_ids = [hit.hit_id for hit in hits]
    if len(hits) == 1:
        answer = client.update_aml_hit_status(
            session.session_id, hit_id=hit_ids[0], review_status=disposition, comment=comment
        )
    else:
        answer = client.bulk_update_aml_hit_status(
            session.session_id, hit_ids=hit_ids, review_status=disposition, comment=comment
        )
    return confirmed_statuses(answer, hit_ids=hit_ids, review_status=disposition)


def confirmed_statuses(answer: Any, *, hit_ids: list[str], review_status: str) -> dict[str, str]:
    """What Didit's 2xx answer confirms, per hit. Didit's answer is not documented: a list
    of hits (``hits``/``results``) or a single ``hit_id`` is read as stated; a bare
    acknowledgement (``{session_id}``, ``{updated: n}``, empty) confirms the request as
    sent, unless it counts fewer hits than were sent or names another hit or status."""
    answer = answer if isinstance(answer, dict) else {}
    listed = answer.get("hits") if isinstance(answer.get("hits"), list) else answer.get("results")
    if isinstance(listed, list) and listed and all(isinstance(item, dict) for item in listed):
        statuses = {
            str(item.get("hit_id") or item.get("id")): str(item.get("review_status") or "")
            for item in listed
        }
    elif answer.get("hit_id") is not None:
        statuses = {str(answer["hit_id"]): str(answer.get("review_status") or review_status)}
    else:
        updated = answer.get("updated")
        if isinstance(updated, int) and not isinstance(updated, bool) and updated < len(hit_ids):
            raise DiditBadResponse(
                f"Didit confirmed {updated} of {len(hit_ids)} hits", operation="aml_hit_bulk"
            )
        statuses = dict.fromkeys(hit_ids, review_status)
    if set(statuses) != set(hit_ids) or set(statuses.values()) != {review_status}:
        raise DiditBadResponse(
            "Didit's answer does not confirm the review status sent", operation="aml_hit"
        )
    return statuses


def _record(
    *,
    session: VerificationSession,
    pks: list[int],
    confirmed: dict[str, str],
    note: str,
    actor: Any,
    request: HttpRequest | None,
    whitelist: bool,
    whitelist_until: date | None,
) -> list[AmlHit]:
    now = timezone.now()
    with transaction.atomic():
        hits = list(
            AmlHit.objects.select_for_update().filter(pk__in=pks).order_by("position", "id")
        )
        offered = whitelist_matches(session, hits)
        for hit in hits:
            previous = hit.review_status
            status = confirmed[hit.hit_id]
            entry = offered.get(hit.pk) if status == Disposition.FALSE_POSITIVE else None
            if whitelist and entry is None:
                entry = _add_whitelist_entry(
                    session=session,
                    hit=hit,
                    reason=note,
                    until=whitelist_until,
                    actor=actor,
                    request=request,
                )
            hit.review_status = status
            hit.disposition = status
            hit.disposition_note = note
            hit.disposed_by = actor
            hit.disposed_at = now
            hit.review_version += 1
            hit.pending_by = None
            hit.pending_at = None
            if entry is not None:
                hit.whitelist_entry = entry
            hit.save()
            AmlHitReview.objects.create(
                hit=hit,
                review_status=status,
                previous_status=previous,
                note=note,
                staff_user=actor,
                created_at=now,
                whitelist_entry=entry,
            )
            audit.record(
                request,
                actor=actor,
                action=AuditAction.AML_DISPOSITION,
                object_type="session",
                object_id=session.session_id,
                detail={
                    "hit_id": hit.hit_id,
                    "previous": previous,
                    "disposition": status,
                    "note": note,
                    "bulk": len(pks) > 1,
                    "whitelist_entry": entry.pk if entry is not None else None,
                },
            )
    return hits


# --- The whitelist -----------------------------------------------------------------------------


def hit_identity(hit: AmlHit) -> dict[str, str]:
    """Which list entity a hit is: its entity id (a ``target``/``entity_id`` Didit gives as
    an id, else Didit's hit id, which names the list entity); and name + date of birth +
    dataset, for hits whose id we had to make up."""
    details = hit.details if isinstance(hit.details, dict) else {}
    target = details.get("target")
    if isinstance(target, dict):
        target = target.get("id")
    entity_id = details.get("entity_id") or (target if isinstance(target, str) else "")
    if not entity_id and not hit.hit_id.startswith("sha256:"):
        entity_id = hit.hit_id
    properties = hit.properties if isinstance(hit.properties, dict) else {}
    names = properties.get("name")
    births = properties.get("birthDate")
    name = hit.caption or (names[0] if isinstance(names, list) and names else "")
    birth = births[0] if isinstance(births, list) and births else ""
    datasets = hit.datasets if isinstance(hit.datasets, list) else []
    return {
        "entity_id": str(entity_id)[:255],
        "name": " ".join(str(name).split()).casefold()[:500],
        "birth_date": str(birth)[:32],
        "dataset": ",".join(sorted(str(item) for item in datasets))[:500],
    }


def whitelist_matches(
    session: VerificationSession, hits: Sequence[AmlHit]
) -> dict[int, AmlWhitelistEntry]:
    """hit pk -> the active whitelist entry of this session's person for that entity.

    One query for any number of hits.
    """
    if not session.vendor_data or not hits:
        return {}
    entries = list(
        AmlWhitelistEntry.objects.active()
        .filter(vendor_data=session.vendor_data)
        .select_related("created_by")
    )
    found: dict[int, AmlWhitelistEntry] = {}
    for hit in hits:
        identity = hit_identity(hit)
        entry = next((entry for entry in entries if entry.matches(identity)), None)
        if entry is not None:
            found[hit.pk] = entry
    return found


def _add_whitelist_entry(
    *,
    session: VerificationSession,
    hit: AmlHit,
    reason: str,
    until: date | None,
    actor: Any,
    request: HttpRequest | None,
) -> AmlWhitelistEntry:
    identity = hit_identity(hit)
    entry = AmlWhitelistEntry.objects.create(
        vendor_data=session.vendor_data,
        entity_id=identity["entity_id"],
        entity_name="" if identity["entity_id"] else identity["name"],
        entity_birth_date="" if identity["entity_id"] else identity["birth_date"],
        entity_dataset="" if identity["entity_id"] else identity["dataset"],
        caption=hit.caption,
        reason=reason,
        created_by=actor,
        review_by=until or timezone.localdate() + timedelta(days=settings.AML_WHITELIST_DAYS),
        source_session_id=session.session_id,
        source_hit_id=hit.hit_id,
    )
    audit.record(
        request,
        actor=actor,
        action=AuditAction.AML_WHITELIST_ADD,
        object_type="user",
        object_id=session.vendor_data,
        detail={
            "entry": entry.pk,
            "session_id": session.session_id,
            "hit_id": hit.hit_id,
            "entity_id": entry.entity_id,
            "review_by": entry.review_by.isoformat(),
            "reason": reason,
        },
    )
    return entry


def revoke_whitelist_entry(
    *, entry: AmlWhitelistEntry, actor: Any, request: HttpRequest | None
) -> bool:
    """Stop an entry applying; audited. False when it was already revoked."""
    with transaction.atomic():
        revoked = AmlWhitelistEntry.objects.filter(pk=entry.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor
        )
        if revoked:
            audit.record(
                request,
                actor=actor,
                action=AuditAction.AML_WHITELIST_REVOKE,
                object_type="user",
                object_id=entry.vendor_data,
                detail={"entry": entry.pk, "entity_id": entry.entity_id},
            )
    return bool(revoked)


# --- Reads for the page --------------------------------------------------------------------------


def hit_type(hit: AmlHit) -> str:
    """sanction, pep, adverse media, warning or other: from the hit's topics and matches."""
    details = hit.details if isinstance(hit.details, dict) else {}
    topics = hit.topics if isinstance(hit.topics, list) and hit.topics else []
    if not topics and isinstance(hit.properties, dict):
        listed = hit.properties.get("topics")
        topics = listed if isinstance(listed, list) else []
    topics = [str(topic).lower() for topic in topics]
    if details.get("sanction_matches") or any(t.startswith("sanction") for t in topics):
        return "sanction"
    if details.get("pep_matches") or any(t.startswith("role.pep") or t == "pep" for t in topics):
        return "pep"
    if details.get("adverse_media_matches") or any(
        t.startswith(("crime", "adverse", "media")) for t in topics
    ):
        return "adverse media"
    if any(t.startswith(("debarment", "reg.", "warning", "export")) for t in topics):
        return "warning"
    return "other"


def hit_sort_key(hit: AmlHit) -> tuple:
    score = hit.match_score if hit.match_score is not None else (hit.score or 0) * 100
    return (HIT_TYPES.index(hit_type(hit)), -(score or 0), -(hit.risk_score or 0), hit.position)


def session_hits(session: VerificationSession) -> list[AmlHit]:
    """The session's hits, severity first, with whoever disposed them and their whitelist
    entry joined: a fixed number of queries whatever the number of hits."""
    hits = list(
        session.aml_hits.select_related(
            "disposed_by", "whitelist_entry", "whitelist_entry__created_by"
        )
    )
    offered = whitelist_matches(session, hits)
    for hit in hits:
        hit.type = hit_type(hit)
        hit.offered_entry = offered.get(hit.pk)
    hits.sort(key=hit_sort_key)
    return hits
