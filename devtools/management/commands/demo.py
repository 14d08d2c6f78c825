"""The newcomer's one command: a populated console on a sandbox Didit, in under a minute.

Migrates, starts the sandbox Didit server on loopback, syncs it, creates demo accounts
(printed), and serves the console beside a task worker (``db_worker``, which re-fetches the
sessions of the sandbox's webhooks). Ctrl-C stops the server, the worker and the sandbox.

Settings are never changed at run time: this process syncs through a client built for the
sandbox, and the console's server is a child process told the sandbox's address and
credentials through its environment.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from verifications.didit.client import DiditClient
from verifications.didit.sandbox.process import SandboxProcess
from verifications.models import SyncRunStatus
from verifications.sync import SyncLocked, sync_sessions

DEMO_ACCOUNTS = (
    # username, group, superuser
    ("reviewer", "reviewer", False),
    ("viewer", "viewer", False),
    ("admin", "admin", True),
)


class Command(BaseCommand):
    help = "Start a demo: sandbox Didit on loopback, synced, and the console on 127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="console port (8000)")
        parser.add_argument("--sandbox-port", type=int, default=0, help="sandbox port (free)")
        parser.add_argument("--sessions", type=int, default=200, help="sandbox sessions (200)")
        parser.add_argument("--seed", type=int, default=1, help="sandbox data seed (1)")
        parser.add_argument(
            "--no-serve", action="store_true", help="prepare everything, then stop (for tests)"
        )

    def handle(self, *args, port, sandbox_port, sessions, seed, no_serve, **options):
        # Ctrl-C and a plain `kill` both end the demo through the same clean path, even when
        # the process was started with SIGINT ignored (as background jobs are).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        webhook_secret = settings.DIDIT_WEBHOOK_SECRET or secrets.token_urlsafe(24)
        sandbox = self._start_sandbox(
            port=sandbox_port or _free_port(),
            sessions=sessions,
            seed=seed,
            webhook_url=f"http://127.0.0.1:{port}/webhooks/didit/",
            webhook_secret=webhook_secret,
        )
        environment = sandbox_environment(sandbox.base_url, webhook_secret)
        server = worker = None
        try:
            self.stdout.write(f"Sandbox Didit at {sandbox.base_url}; syncing...")
            self._sync(environment)
            self._create_accounts()
            if no_serve:
                return
            worker = self._start_worker(environment)
            self.stdout.write(self.style.SUCCESS(f"Open http://127.0.0.1:{port}/ (Ctrl-C stops)"))
            manage = str(settings.BASE_DIR / "manage.py")
            server = subprocess.Popen(  # noqa: S603 - our own manage.py, no shell
                [sys.executable, manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
                env={**os.environ, **environment},
            )
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            if server is not None and server.poll() is None:
                server.terminate()
                server.wait(timeout=10)
            if worker is not None and worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
            sandbox.stop()
            self.stdout.write("Demo stopped.")

    def _start_sandbox(
        self, *, port: int, sessions: int, seed: int, webhook_url: str, webhook_secret: str
    ) -> SandboxProcess:
        try:
            return SandboxProcess.start(
                *("--port", str(port), "--sessions", str(sessions), "--seed", str(seed)),
                *("--webhook-url", webhook_url, "--webhook-secret", webhook_secret),
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None

    def _sync(self, environment: dict[str, str]) -> None:
        client = DiditClient.from_settings(
            purpose="batch",
            verification_url=environment["DIDIT_VERIFICATION_URL"],
            auth_url=environment["DIDIT_AUTH_URL"],
            api_key=environment["DIDIT_API_KEY"],
            client_id="",
            client_secret="",
            rate_limits=environment["DIDIT_RATE_LIMITS"],
        )
        try:
            run = sync_sessions(client, full=True, stdout=self.stderr)
        except SyncLocked as exc:
            raise CommandError(f"sync_didit: {exc}") from None
        self.stdout.write(f"sync_didit: {run.summary()}")
        if run.status != SyncRunStatus.SUCCEEDED:
            self.stderr.write("The demo sync was incomplete; the console shows the rest.")

    def _start_worker(self, environment: dict[str, str]) -> subprocess.Popen:
        """``manage.py db_worker`` in a child process, pointed at the sandbox through its
        environment like the console's server."""
        environment = {**os.environ, **environment}
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "db_worker"]
        command += ["--no-reload", "--interval", "0.5"]
        self.stdout.write("Task worker started (webhook re-fetches).")
        return subprocess.Popen(command, env=environment)  # noqa: S603 - our own command

    def _create_accounts(self) -> None:
        user_model = get_user_model()
        self.stdout.write("Demo accounts (username / password):")
        for username, group_name, superuser in DEMO_ACCOUNTS:
            password = f"{username}-demo-{secrets.token_hex(3)}"
            user, _ = user_model.objects.get_or_create(username=username)
            user.is_staff = superuser
            user.is_superuser = superuser
            user.set_password(password)
            user.save()
            group, _ = Group.objects.get_or_create(name=group_name)
            user.groups.add(group)
            self.stdout.write(f"  {username:<9} {password}   ({group_name})")


def sandbox_environment(base_url: str, webhook_secret: str) -> dict[str, str]:
    """The console's settings for the sandbox, as environment variables for a child process:
    the sandbox's documented default credentials, and no pacing (it enforces no limits)."""
    return {
        "DIDIT_VERIFICATION_URL": base_url,
        "DIDIT_AUTH_URL": base_url,
        "DIDIT_API_KEY": "sandbox-api-key",
        "DIDIT_CLIENT_ID": "",
        "DIDIT_CLIENT_SECRET": "",
        "DIDIT_WEBHOOK_SECRET": webhook_secret,
        "DIDIT_RATE_LIMITS": "",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
