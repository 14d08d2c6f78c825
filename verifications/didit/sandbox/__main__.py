"""Command line: run the sandbox Didit server until Ctrl-C or SIGTERM.

    python -m verifications.didit.sandbox --port 8765 --sessions 200 --seed 1

Prints exactly one line to stdout when ready ("Didit sandbox ready at <base URL>"), then
logs requests to stderr.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .config import FAULT_KINDS, SandboxConfig
from .server import SandboxServer

DEFAULTS = SandboxConfig()


def _faults(value: str) -> tuple[str, ...]:
    kinds = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = set(kinds) - set(FAULT_KINDS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown fault kinds: {', '.join(sorted(unknown))}")
    return kinds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m verifications.didit.sandbox",
        description="A sandbox Didit server on loopback (auth + v1/v2/v3 API + media).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--host", default=DEFAULTS.host, help="interface to listen on")
    add("--port", type=int, default=8765, help="port to listen on (0 picks a free one)")
    add("--sessions", type=int, default=DEFAULTS.sessions, help="sessions to generate")
    add("--seed", type=int, default=DEFAULTS.seed, help="seed of the data generator")
    add("--api-key", default=DEFAULTS.api_key, help="accepted x-api-key")
    add("--client-id", default=DEFAULTS.client_id, help="OAuth client id")
    add("--client-secret", default=DEFAULTS.client_secret, help="OAuth client secret")
    add(
        "--token-ttl",
        type=float,
        default=DEFAULTS.token_ttl,
        help="lifetime of Bearer tokens, seconds",
    )
    add(
        "--fault-rate",
        type=float,
        default=DEFAULTS.fault_rate,
        help="fraction of API requests that get an injected fault (0..1)",
    )
    add(
        "--faults",
        type=_faults,
        default=",".join(DEFAULTS.faults),
        help=f"comma-separated fault kinds to inject, from {','.join(FAULT_KINDS)}",
    )
    add("--slow-seconds", type=float, default=DEFAULTS.slow_seconds, help="delay of a 'slow' fault")
    add("--rate-limits", action="store_true", help="enforce Didit's rate limits")
    add(
        "--rate-window",
        type=float,
        default=DEFAULTS.rate_window,
        help="rate-limit window in seconds (limits are per window)",
    )
    add(
        "--media-ttl",
        type=int,
        default=DEFAULTS.media_ttl,
        help="lifetime of signed media URLs, seconds",
    )
    add("--webhook-url", default=None, help="where to POST status webhooks")
    add("--webhook-secret", default=None, help="HMAC secret for webhook signatures")
    add(
        "--decision-shape",
        choices=("native", "path"),
        default=DEFAULTS.decision_shape,
        help="native: /v3/ serves each session in its origin shape; path: the path decides",
    )
    add("--quiet", action="store_true", help="do not log requests to stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cfg = SandboxConfig(
        host=args.host,
        port=args.port,
        sessions=args.sessions,
        seed=args.seed,
        api_key=args.api_key,
        client_id=args.client_id,
        client_secret=args.client_secret,
        token_ttl=args.token_ttl,
        fault_rate=args.fault_rate,
        faults=args.faults,
        slow_seconds=args.slow_seconds,
        rate_limits=args.rate_limits,
        rate_window=args.rate_window,
        media_ttl=args.media_ttl,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        decision_shape=args.decision_shape,
        log_requests=not args.quiet,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = SandboxServer(cfg).start()
    print(f"Didit sandbox ready at {server.base_url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
