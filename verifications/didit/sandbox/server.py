"""SandboxServer: the sandbox on a real loopback socket (stdlib ThreadingHTTPServer)."""

from __future__ import annotations

import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .app import Sandbox
from .catalog import WORKFLOWS
from .config import FAULT_KINDS, STATUSES, SandboxConfig
from .render import decision as render_decision
from .wire import Request, json_response


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle's algorithm and
    # delayed ACKs add ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server_version = "DiditSandbox/1.0"
    sandbox: Sandbox  # set on the subclass the server builds

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(
            method=self.command,
            path=parts.path,
            raw_query=parts.query,
            headers=self.headers,
            body=body,
        )
        try:
            response = self.sandbox.handle(request)
        except Exception:  # a sandbox bug: answer like a server would, and say so loudly
            traceback.print_exc(file=sys.stderr)
            response = json_response(500, {"detail": "Internal sandbox error."})
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if response.drop:
                self.send_header("Connection", "close")
            self.end_headers()
            if response.drop:
                self.wfile.write(response.body[: len(response.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        if self.sandbox.cfg.log_requests:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


class SandboxServer:
    """A running sandbox: `SandboxServer(cfg).start()`, then `base_url`; `stop()` when done."""

    def __init__(self, cfg: SandboxConfig | None = None, **overrides) -> None:
        cfg = cfg or SandboxConfig()
        self.cfg = cfg.replace(**overrides) if overrides else cfg
        self.sandbox = Sandbox(self.cfg)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        handler = type("Handler", (_Handler,), {"sandbox": self.sandbox})
        httpd = ThreadingHTTPServer((self.cfg.host, self.cfg.port), handler)
        httpd.daemon_threads = True
        host, port = httpd.server_address[:2]
        self.sandbox.bind(f"http://{host}:{port}")
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            name="didit-sandbox",
            kwargs={"poll_interval": 0.1},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None
        self.sandbox.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what tests read --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.sandbox.base_url

    @property
    def calls(self):
        return self.sandbox.calls

    def requests(self, operation: str | None = None) -> list[dict]:
        """The API requests received (``{method, path, operation, body}``), oldest first;
        only those of ``operation`` (e.g. "update_status") when given."""
        with self.sandbox.lock:
            log = list(self.sandbox.request_log)
        return [entry for entry in log if operation is None or entry["operation"] == operation]

    def received(self, operation: str) -> list[dict]:
        """The JSON bodies of one operation's requests ("create", "share", ...), oldest first."""
        return [entry["body"] or {} for entry in self.requests(operation)]

    @property
    def webhook_deliveries(self) -> list:
        return self.sandbox.webhook_deliveries

    @property
    def workflows(self) -> dict[str, str]:
        """Workflow name -> workflow_id, for creating sessions with a known workflow."""
        return {w.name: w.workflow_id for w in WORKFLOWS}

    def session_ids(self) -> list[str]:
        with self.sandbox.lock:
            return [s.session_id for s in self.sandbox.store.newest_first()]

    def decision(self, session_id: str, shape: str = "v3") -> dict:
        """Exactly what GET /{shape}/session/{id}/decision/ serves."""
        with self.sandbox.lock:
            session = self._get(session_id)
            if shape == "v3" and self.cfg.decision_shape == "native":
                shape = session.shape
            return render_decision(self.sandbox.context(session), shape)

    # -- controls ---------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        self.sandbox.auth.expire_all()

    def set_faults(self, rate: float, kinds=None) -> None:
        """Inject faults into `rate` of API requests; `kinds` defaults to the current kinds."""
        if kinds is not None and set(kinds) - set(FAULT_KINDS):
            raise ValueError(f"unknown fault kinds: {sorted(set(kinds) - set(FAULT_KINDS))}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self.sandbox.faults.configure(rate=rate, kinds=tuple(kinds) if kinds is not None else None)

    def set_rate_limits(self, enabled: bool, window: float | None = None) -> None:
        self.sandbox.limiter.configure(enabled=enabled, window=window)

    def change_status(
        self,
        session_id: str,
        new_status: str,
        *,
        comment: str | None = None,
        user: str = "reviewer@didit.sandbox",
    ) -> None:
        """As if someone acted in Didit's console: any status, a review, a webhook."""
        if new_status not in STATUSES:
            raise ValueError(f"unknown status: {new_status!r}")
        with self.sandbox.lock:
            session = self._get(session_id)
            self.sandbox.store.set_status(session, new_status, comment=comment, user=user)
            self.sandbox.notify(session)

    @property
    def aml_hit_requests(self) -> list[tuple[str, dict]]:
        """Each AML-hit review request received, as (path, JSON body), oldest first."""
        return self.sandbox.aml_hit_requests

    def aml_hits(self, session_id: str) -> list[dict]:
        """The session's AML hits as its v3 decision lists them."""
        decision = self.decision(session_id, "v3")
        return [hit for item in decision.get("aml_screenings") or [] for hit in item["hits"]]

    def set_aml_hit_count(self, session_id: str, count: int) -> None:
        """Give a session's AML screening `count` hits (e.g. 30), for tests of many hits."""
        with self.sandbox.lock:
            session = self._get(session_id)
            facts = self.sandbox.store.facts(session)
            facts.aml_hits = count
            self.sandbox.store.version += 1

    def set_hit_review(self, session_id: str, hit_id: str, review_status: str) -> None:
        """As if someone set a hit's review status in Didit's console: a data.updated webhook."""
        with self.sandbox.lock:
            session = self._get(session_id)
            session.hit_reviews = {**(session.hit_reviews or {}), hit_id: review_status}
            self.sandbox.store.touch(session)  # The list row's updated_at moves on.
            self.sandbox.notify(session, webhook_type="data.updated")

    def repeat_session(self, session_id: str) -> str:
        """A new session of the same person that screens the same way (same AML hits)."""
        with self.sandbox.lock:
            source = self._get(session_id)
            session = self.sandbox.store.new_session(
                vendor_data=source.vendor_data,
                shape=source.shape,
                status=source.status,
                workflow=source.workflow,
                v1_features=source.v1_features,
                person_seed=source.person_seed,
                seed=source.seed,
                basis=source.basis,
                gen_status=source.gen_status,
            )
            if source.facts_cache is not None:
                self.sandbox.store.facts(session).aml_hits = source.facts_cache.aml_hits
            self.sandbox.notify(session)
            return session.session_id

    def add_sessions(self, n: int) -> list[str]:
        with self.sandbox.lock:
            added = self.sandbox.store.add_generated(n)
            for session in added:
                self.sandbox.notify(session)
            return [s.session_id for s in reversed(added)]

    def _get(self, session_id: str):
        session = self.sandbox.store.get(session_id)
        if session is None:
            raise KeyError(session_id)
        return session
