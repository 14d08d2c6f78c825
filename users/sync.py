"""Didit's User entity kept in step: status (ACTIVE / FLAGGED / BLOCKED), counts, features.

Our own summary on ``DiditUser`` is computed from the sessions we hold; Didit's record is
Didit's verdict, which can differ (Didit blocks a person whose face is on its blocklist).
Both are shown side by side, so the record is stored as sent, beside our columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from verifications.didit.errors import DiditAuthError, DiditError, DiditNotFound
from verifications.sync.parse import MAX_VENDOR_DATA

from .models import DiditUser

BATCH_SIZE = 100
MAX_MESSAGE = 300


@dataclass
class UserSyncResult:
    listed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def summary(self) -> str:
        text = (
            f"users: {self.listed} listed, {self.created} new, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        if self.skipped:
            text += f", {self.skipped} skipped (not found at Didit, or unusable)"
        return f"{text}; stopped: {self.error}" if self.error else text


def sync_users_after_run(client: Any, run: Any) -> UserSyncResult:
    """sync_didit's hook: after a full run every user Didit lists; after any other run the
    people whose sessions that run wrote (one call each)."""
    if run.mode == "full":
        return sync_didit_users(client)
    if run.mode == "vendor_data":
        return sync_didit_users(client, vendor_data=[run.options["vendor_data"]])
    touched = (
        DiditUser.objects.filter(sessions__synced_at__gte=run.started_at)
        .values_list("vendor_data", flat=True)
        .distinct()
    )
    return sync_didit_users(client, vendor_data=list(touched))


def sync_didit_users(client: Any, *, vendor_data: Iterable[str] | None = None) -> UserSyncResult:
    """Fetch Didit's User records (all of them, or those of ``vendor_data``) and store them.

    A Didit failure stops the sync and is reported in the result; what was stored stays.
    """
    result = UserSyncResult()
    records = (
        client.iter_users() if vendor_data is None else _one_by_one(client, vendor_data, result)
    )
    try:
        batch: list[dict] = []
        for record in records:
            batch.append(record)
            if len(batch) >= BATCH_SIZE:
                _store(batch, result)
                batch = []
        _store(batch, result)
    except DiditError as error:
        result.error = str(error)[:MAX_MESSAGE]
    return result


def _one_by_one(client: Any, names: Iterable[str], result: UserSyncResult) -> Iterator[dict]:
    for name in names:
        try:
            yield client.get_user(name)
        except DiditNotFound:
            result.skipped += 1
        except ValueError:
            # A vendor_data with "/" cannot be one path segment: only the listing reaches it.
            result.skipped += 1
        except DiditAuthError:
            raise
        except DiditError:
            result.skipped += 1


def _store(records: list[dict], result: UserSyncResult) -> None:
    # A vendor_data longer than our column is never cut (it would name someone else): the
    # sync refuses such sessions too, so there is no page for it here.
    usable = [
        record
        for record in records
        if isinstance(record, dict)
        and isinstance(record.get("vendor_data"), str)
        and 0 < len(record["vendor_data"]) <= MAX_VENDOR_DATA
    ]
    result.listed += len(records)
    result.skipped += len(records) - len(usable)
    if not usable:
        return
    now = timezone.now()
    with transaction.atomic():
        known = DiditUser.objects.in_bulk(
            [record["vendor_data"] for record in usable], field_name="vendor_data"
        )
        changed, new = [], {}
        for record in usable:
            status = record.get("status")
            status = status if isinstance(status, str) else ""
            user = known.get(record["vendor_data"]) or new.get(record["vendor_data"])
            if user is None:
                name = record.get("full_name")
                new[record["vendor_data"]] = DiditUser(
                    vendor_data=record["vendor_data"],
                    full_name=name[:255] if isinstance(name, str) else "",
                    didit_status=status[:32],
                    didit_record=record,
                    didit_synced_at=now,
                )
            elif user.didit_record != record or user.didit_status != status[:32]:
                user.didit_status, user.didit_record = status[:32], record
                user.didit_synced_at = now
                changed.append(user)
            else:
                result.unchanged += 1
        DiditUser.objects.bulk_update(
            changed, ["didit_status", "didit_record", "didit_synced_at"], batch_size=BATCH_SIZE
        )
        DiditUser.objects.bulk_create(new.values(), ignore_conflicts=True)
    result.updated += len(changed)
    result.created += len(new)
