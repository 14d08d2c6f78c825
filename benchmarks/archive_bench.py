"""Evidence archive: archiving throughput, and the webhook's answer time with the archive
enqueued rather than done inline (issue 16, "Done when").

Against an in-process sandbox Didit on loopback (real HTTP; it shares the process and the
GIL with the worker, so this understates a real deployment):

- **Throughput**: sessions synced with the database task backend (the sync only enqueues),
  then ``manage.py db_worker --batch`` (one worker) archives every media file: files/s and
  MB/s, and the time per session.
- **Webhook**: ``POST /webhooks/didit/`` for a session whose status changed at Didit, its
  evidence not yet archived, three ways: everything inline (immediate backend: re-fetch,
  apply and archive inside the request), re-fetch inline but archive enqueued (the archive
  task on the database backend), and production's database backend (the request stores
  the delivery and enqueues; the worker does the rest). Median and p95 of the answer time.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import time

from .scratch import machine, ms, print_table, scratch_database

FULL = {"sessions": 60, "webhooks": 15}
QUICK = {"sessions": 12, "webhooks": 5}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks archive", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    import os
    import tempfile

    media = tempfile.TemporaryDirectory(prefix="didit-bench-media-")
    os.environ["MEDIA_ROOT"] = media.name
    os.environ["TASKS_BACKEND"] = "database"
    os.environ["DIDIT_WEBHOOK_SECRET"] = "bench-webhook-secret"
    with scratch_database() as db, media:
        from verifications.didit.sandbox.server import SandboxServer

        with SandboxServer(sessions=plan["sessions"], seed=3) as server:
            _point_at(server)
            rows = throughput(server)
            rows += webhooks(server, count=plan["webhooks"])
        print_table(f"Evidence archive benchmark, {machine(db.vendor)}", ["figure", "value"], rows)
    return 0


def _point_at(server) -> None:
    from django.conf import settings

    settings.DIDIT_VERIFICATION_URL = server.base_url
    settings.DIDIT_AUTH_URL = server.base_url
    settings.DIDIT_API_KEY = "sandbox-api-key"
    settings.DIDIT_RATE_LIMITS = ""
    settings.DIDIT_MEDIA_HOSTS = []


def throughput(server) -> list[list[str]]:
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Sum
    from django_tasks_db.models import DBTaskResult

    from verifications.didit.client import DiditClient
    from verifications.models import Evidence, EvidenceStatus
    from verifications.sync import sync_sessions

    started = time.perf_counter()
    sync_sessions(DiditClient.from_settings(), full=True)
    synced = time.perf_counter() - started
    queued = DBTaskResult.objects.filter(task_path__endswith="archive_evidence").count()
    started = time.perf_counter()
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0, stdout=io.StringIO())
    elapsed = time.perf_counter() - started
    archived = Evidence.objects.filter(status=EvidenceStatus.ARCHIVED)
    files = archived.count()
    size = archived.aggregate(total=Sum("size"))["total"] or 0
    failed = Evidence.objects.exclude(status=EvidenceStatus.ARCHIVED).count()
    # Again, with the sandbox's images already drawn (it renders each with Pillow on first
    # request): closer to our own cost per file. Storage emptied, rows forgotten.
    shutil.rmtree(settings.STORAGES["evidence"]["OPTIONS"]["location"], ignore_errors=True)
    Evidence.objects.all().delete()
    call_command("archive_evidence", stdout=io.StringIO())
    started = time.perf_counter()
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0, stdout=io.StringIO())
    again = time.perf_counter() - started
    return [
        ["sync of the sessions (archive only enqueued)", f"{synced:.1f}s, {queued} tasks queued"],
        ["archived by one db_worker", f"{files} files, {size / 1e6:.2f} MB in {elapsed:.1f}s"],
        ["  files per second", f"{files / elapsed:.1f}"],
        ["  MB per second", f"{size / 1e6 / elapsed:.2f}"],
        ["  per session", ms(elapsed / max(queued, 1))],
        ["  not archived", str(failed)],
        [
            "second pass, sandbox images cached",
            f"{files / again:.1f} files/s, {size / 1e6 / again:.2f} MB/s",
        ],
    ]


def webhooks(server, *, count: int) -> list[list[str]]:
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings

    from verifications import tasks
    from verifications.models import Evidence, VerificationSession
    from verifications.signals import decision_stored

    client = Client()
    session_ids = list(VerificationSession.objects.values_list("session_id", flat=True))
    statuses = iter(["Declined", "Approved"] * count * 3)
    immediate = {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    database = {"BACKEND": "django_tasks_db.DatabaseBackend"}
    picked = iter(session_ids * 3)

    def one_webhook():
        session_id = next(picked)
        status = next(statuses)
        server.change_status(session_id, status)
        Evidence.objects.filter(session__session_id=session_id).delete()  # archive all again
        body, headers = _delivery(session_id, status, settings.DIDIT_WEBHOOK_SECRET)
        started = time.perf_counter()
        response = client.post(
            "/webhooks/didit/",
            data=body,
            content_type="application/json",
            headers=headers,
            secure=True,
        )
        took = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}")
        return took

    def timed(label: str) -> list[str]:
        times = sorted(one_webhook() for _ in range(count))
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        return [label, f"median {ms(times[len(times) // 2])}, p95 {ms(p95)}"]

    rows = []
    with override_settings(TASKS={"default": immediate}):
        rows.append(timed("webhook, re-fetch and archive inline"))
    # The archive alone on the database backend: a receiver that enqueues it there.
    decision_stored.disconnect(dispatch_uid="verifications.tasks.archive_on_decision")

    def enqueue_on_database(sender, *, session_pk: int, **kwargs) -> None:
        tasks.archive_evidence.using(backend="queued").enqueue(session_pk)

    decision_stored.connect(enqueue_on_database, dispatch_uid="bench.archive_queued")
    with override_settings(TASKS={"default": immediate, "queued": database}):
        rows.append(timed("webhook, re-fetch inline, archive enqueued"))
    decision_stored.disconnect(dispatch_uid="bench.archive_queued")
    decision_stored.connect(
        tasks._archive_on_decision, dispatch_uid="verifications.tasks.archive_on_decision"
    )
    with override_settings(TASKS={"default": database}):
        rows.append(timed("webhook, all enqueued (production)"))
    return rows


def _delivery(session_id: str, status: str, secret: str) -> tuple[bytes, dict]:
    from verifications.webhooks import canonical_json, sign

    timestamp = int(time.time())
    payload = {
        "session_id": session_id,
        "status": status,
        "webhook_type": "status.updated",
        "created_at": timestamp - 60,
        "timestamp": timestamp,
    }
    body = json.dumps(payload).encode()
    key = secret.encode()
    simple = f"{timestamp}:{session_id}:{status}:status.updated".encode()
    return body, {
        "X-Timestamp": str(timestamp),
        "X-Signature": sign(key, body),
        "X-Signature-V2": sign(key, canonical_json(payload)),
        "X-Signature-Simple": sign(key, simple),
    }
