"""The sandbox's state and request dispatch: routing, auth, rate limits, faults, webhooks."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import Counter
from urllib.parse import unquote

from . import config, handlers, media, render
from .auth import Authenticator, AuthError, jwt
from .config import SandboxConfig
from .data import Session, SessionStore
from .items import Context
from .limits import FaultInjector, RateLimiter, family
from .media import MediaSigner
from .webhooks import WebhookSender
from .wire import HttpError, Request, Response, json_response, not_found

_ID = r"(?P<sid>[^/]+)"
_V = r"/v(?P<v>[123])"
ROUTES = [
    (r"/auth/v2/token/", {"POST": "token"}),
    (rf"{_V}/session/", {"POST": "create"}),
    (r"/v3/session/import-shared/", {"POST": "import_shared"}),
    (rf"{_V}/session/{_ID}/decision/", {"GET": "decision"}),
    (rf"{_V}/session/{_ID}/update-status/", {"PATCH": "update_status"}),
    (rf"{_V}/session/{_ID}/generate-pdf/", {"GET": "pdf"}),
    (rf"{_V}/session/{_ID}/delete/", {"DELETE": "delete"}),
    (r"/v3/sessions/", {"GET": "list"}),
    (rf"/v3/sessions/{_ID}/reviews/", {"GET": "reviews", "POST": "add_review"}),
    (r"/v3/users/", {"GET": "users"}),
    (r"/v3/users/(?P<vendor_data>[^/]+)/", {"GET": "user"}),
    (rf"/v3/session/{_ID}/share/", {"POST": "share"}),
    (rf"/v3/session/{_ID}/update-aml-hit-status/", {"PATCH": "aml_hit"}),
    (rf"/v3/session/{_ID}/bulk-update-aml-hit-status/", {"PATCH": "aml_hit"}),
]
COMPILED = [(re.compile(f"^{pattern}$"), methods) for pattern, methods in ROUTES]
HANDLERS = {
    "token": handlers.token, "create": handlers.create, "decision": handlers.decision,
    "update_status": handlers.update_status, "pdf": handlers.pdf, "list": handlers.sessions,
    "reviews": handlers.reviews, "add_review": handlers.add_review, "users": handlers.users,
    "user": handlers.user, "share": handlers.share, "import_shared": handlers.import_shared,
    "delete": handlers.delete, "aml_hit": handlers.aml_hit,
}  # fmt: skip
UNAVAILABLE_PAGE = (
    b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n"
)


def resolve(path: str) -> tuple[dict[str, str], dict[str, str]] | None:
    for pattern, methods in COMPILED:
        match = pattern.match(path)
        if match:
            return methods, {k: unquote(v) for k, v in match.groupdict().items() if v}
    return None


class Sandbox:
    """Didit, as far as the docs describe it: state plus `handle(request) -> response`."""

    def __init__(self, cfg: SandboxConfig) -> None:
        self.cfg = cfg
        self.lock = threading.RLock()
        self.secret = secrets.token_bytes(32)
        self.store = SessionStore(cfg, self.lock)
        self.auth = Authenticator(cfg, self.secret)
        self.limiter = RateLimiter(enabled=cfg.rate_limits, window=cfg.rate_window)
        self.faults = FaultInjector(seed=cfg.seed, rate=cfg.fault_rate, kinds=cfg.faults)
        self.calls: Counter[str] = Counter()
        # Every routed API request, in arrival order: what tests assert was sent.
        self.request_log: list[dict] = []
        self._calls_lock = threading.Lock()
        self.used_share_jtis: set[str] = set()
        # Every AML-hit review request, as (path, body): the bulk body is undocumented.
        self.aml_hit_requests: list[tuple[str, dict]] = []
        self.webhook_deliveries: list = []
        self.webhooks = None
        if cfg.webhook_url and cfg.webhook_secret:
            self.webhooks = WebhookSender(
                url=cfg.webhook_url,
                secret=cfg.webhook_secret,
                retry_delays=cfg.webhook_retry_delays,
                deliveries=self.webhook_deliveries,
            )
        self.bind(f"http://{cfg.host}:{cfg.port}")

    def bind(self, base_url: str) -> None:
        self.base_url = base_url
        secret = self.cfg.media_secret or self.secret
        self.signer = MediaSigner(base_url=base_url, ttl=self.cfg.media_ttl, secret=secret)

    def close(self) -> None:
        if self.webhooks is not None:
            self.webhooks.stop()

    # -- helpers used by handlers -----------------------------------------------------------

    def context(self, session: Session) -> Context:
        return Context(
            session=session,
            person=self.store.person(session),
            facts=self.store.facts(session),
            media=self.signer,
            reviews=self.store.reviews(session),
        )

    def share_token(self, payload: dict) -> str:
        return jwt(payload, self.secret)

    def notify(self, session: Session, *, webhook_type: str = "status.updated") -> None:
        """Queue the webhook for a change; the caller holds the lock."""
        if self.webhooks is None:
            return
        ctx = self.context(session)
        extras = render.extras(ctx)
        payload = {
            "session_id": session.session_id,
            "status": session.status,
            "webhook_type": webhook_type,
            "vendor_data": session.vendor_data,
            "workflow_id": session.workflow_id,
            "metadata": extras["metadata"],
            "workflow_version": session.workflow.version if session.workflow else None,
            "created_at": int(session.created),
            "timestamp": int(time.time()),
        }
        if session.status in config.WEBHOOK_WITH_DECISION:
            payload["decision"] = render.v3_decision(ctx)
        self.webhooks.send(payload)

    def record_aml_hit_request(self, path: str, body: dict) -> None:
        with self._calls_lock:
            self.aml_hit_requests.append((path, body))

    def count(self, operation: str) -> None:
        with self._calls_lock:
            self.calls[operation] += 1

    def log(self, operation: str, request: Request) -> None:
        try:
            body = json.loads(request.body) if request.body.strip() else None
        except ValueError:
            body = request.body.decode("utf-8", "replace")
        entry = {
            "method": request.method,
            "path": request.path,
            "operation": operation,
            "body": body,
        }
        with self._calls_lock:
            self.request_log.append(entry)

    # -- dispatch ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/media/"):
            self.count("media")
            return media.serve(self, request)
        route = resolve(request.path)
        if route is None:
            if not request.path.endswith("/") and resolve(request.path + "/"):
                query = f"?{request.raw_query}" if request.raw_query else ""
                return Response(301, b"", {"Location": f"{request.path}/{query}"})
            return not_found()
        methods, params = route
        operation = methods.get(request.method)
        if operation is None:
            return json_response(
                405,
                {"detail": f'Method "{request.method}" not allowed.'},
                {"Allow": ", ".join(sorted(methods))},
            )
        self.count(operation)
        self.log(operation, request)
        request.params = params
        request.version = f"v{params.get('v', '3')}"
        try:
            if operation == "token":
                return self._run(operation, request)
            request.credential = self.auth.check(request.headers, version=request.version)
            allowed, limit_headers = self.limiter.hit(
                request.credential.key, family(operation, request.method)
            )
            if not allowed:
                wait = limit_headers["Retry-After"]
                return json_response(
                    429,
                    {"detail": f"Request was throttled. Expected available in {wait} seconds."},
                    limit_headers,
                )
            fault = self.faults.choose()
            if fault is not None:
                response = self._fault(fault, operation, request)
            else:
                response = self._run(operation, request)
            response.headers.update(limit_headers)
            return response
        except AuthError as error:
            headers = {"WWW-Authenticate": 'Bearer realm="api"'} if error.status == 401 else {}
            return json_response(error.status, {"detail": error.detail}, headers)

    def _run(self, operation: str, request: Request) -> Response:
        try:
            return HANDLERS[operation](self, request)
        except HttpError as error:
            return json_response(error.status, error.body)

    def _fault(self, kind: str, operation: str, request: Request) -> Response:
        """An injected failure. It never changes state: a faulted write is not applied."""
        if kind == "429":
            wait = str(self.cfg.fault_retry_after)
            return json_response(
                429,
                {"detail": f"Request was throttled. Expected available in {wait} seconds."},
                {
                    "Retry-After": wait,
                    "X-RateLimit-Limit": "100",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int(time.time()) + int(wait)),
                },
            )
        if kind == "500":
            return json_response(500, {"detail": "A server error occurred."})
        if kind == "503":
            return Response(503, UNAVAILABLE_PAGE, {"Content-Type": "text/html"})
        safe = request.method == "GET"
        if kind == "slow":
            time.sleep(self.cfg.slow_seconds)
            if safe:
                return self._run(operation, request)
            return json_response(504, {"detail": "Gateway timeout."})
        if safe:
            response = self._run(operation, request)
        else:
            response = json_response(
                200,
                {"session_id": request.params.get("sid"), "status": "processing", "detail": "ok"},
            )
        if kind == "malformed":
            cut = response.body[: max(1, len(response.body) // 2)]
            content_type = response.headers.get("Content-Type", "application/json")
            if content_type != "application/pdf":
                content_type = "application/json"
            return Response(200, cut, {"Content-Type": content_type})
        response.drop = True
        return response
