"""The sending side of Didit's webhooks: signed POSTs from a background thread, with retries.

Signatures as docs/didit-api.md "Webhooks" describes: `X-Signature` over the raw body,
`X-Signature-V2` over the canonical re-serialisation, `X-Signature-Simple` over
"timestamp:session_id:status:webhook_type"; all HMAC-SHA256 hex with the shared secret.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import queue
import threading
from urllib.parse import urlsplit

USER_AGENT = "DiditWebhook/2.0"
RETRY_STATUSES = {404}


def _whole_floats_as_ints(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_floats_as_ints(item) for item in value]
    return value


def canonical(payload: dict) -> bytes:
    return json.dumps(
        _whole_floats_as_ints(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def _hmac(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def signed_request(payload: dict, secret: str) -> tuple[bytes, dict[str, str]]:
    """The body bytes and headers Didit would send for `payload`."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    simple = (
        f"{payload['timestamp']}:{payload['session_id']}:{payload['status']}:"
        f"{payload['webhook_type']}"
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Timestamp": str(payload["timestamp"]),
        "X-Signature": _hmac(secret, body),
        "X-Signature-V2": _hmac(secret, canonical(payload)),
        "X-Signature-Simple": _hmac(secret, simple.encode("utf-8")),
    }
    return body, headers


class WebhookSender:
    """Delivers in order from one worker thread; retries are scheduled, never blocking."""

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        retry_delays: tuple[float, ...],
        deliveries: list,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.secret = secret
        self.retry_delays = tuple(retry_delays)
        self.deliveries = deliveries
        self.timeout = timeout
        self._queue: queue.Queue = queue.Queue()
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._worker = threading.Thread(
            target=self._run, name="didit-sandbox-webhooks", daemon=True
        )
        self._worker.start()

    def send(self, payload: dict) -> None:
        body, headers = signed_request(payload, self.secret)
        self._queue.put((body, headers, 0))

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
        self._queue.put(None)
        self._worker.join(timeout=5)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            body, headers, attempt = job
            outcome = self._post(body, headers)
            self.deliveries.append((self.url, outcome))
            failed = not isinstance(outcome, int) or outcome >= 500 or outcome in RETRY_STATUSES
            if failed and attempt < len(self.retry_delays):
                self._schedule(self.retry_delays[attempt], (body, headers, attempt + 1))

    def _schedule(self, delay: float, job: tuple) -> None:
        with self._lock:
            if self._stopped:
                return
            timer = threading.Timer(delay, self._requeue, args=(job,))
            timer.daemon = True
            self._timers.add(timer)
            timer.start()

    def _requeue(self, job: tuple) -> None:
        with self._lock:
            self._timers = {t for t in self._timers if t.is_alive()}
            if self._stopped:
                return
        self._queue.put(job)

    def _post(self, body: bytes, headers: dict[str, str]) -> int | str:
        parts = urlsplit(self.url)
        factory = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection = factory(parts.hostname, parts.port, timeout=self.timeout)
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                return response.status
            finally:
                connection.close()
        except (OSError, http.client.HTTPException) as error:
            return f"{type(error).__name__}: {error}"
