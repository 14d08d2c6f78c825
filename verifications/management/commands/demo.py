"""The newcomer's one command: a populated console on a sandbox Didit, in under a minute.

Migrates, starts the sandbox Didit server on loopback, syncs it, creates demo accounts
(printed), and serves the console beside a task worker (``db_worker``, which re-fetches the
sessions of the sandbox's webhooks). Ctrl-C stops the server, the worker and the sandbox.
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

from verifications.didit.sandbox.process import SandboxProcess

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
        worker = None
        try:
            self._point_at_sandbox(sandbox.base_url, webhook_secret)
            self.stdout.write(f"Sandbox Didit at {sandbox.base_url}; syncing...")
            try:
                call_command("sync_didit", "--full", stdout=self.stdout, stderr=self.stderr)
            except (SystemExit, CommandError):
                self.stderr.write("The demo sync was incomplete; the console shows the rest.")
            self._create_accounts()
            if no_serve:
                return
            worker = self._start_worker()
            self.stdout.write(self.style.SUCCESS(f"Open http://127.0.0.1:{port}/ (Ctrl-C stops)"))
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
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

    def _point_at_sandbox(self, base_url: str, webhook_secret: str) -> None:
        # The sandbox's documented default credentials; both settings and the environment
        # change, so anything reading either (the dev server included) sees the sandbox.
        values = {
            "DIDIT_VERIFICATION_URL": base_url,
            "DIDIT_AUTH_URL": base_url,
            "DIDIT_API_KEY": "sandbox-api-key",
            "DIDIT_WEBHOOK_SECRET": webhook_secret,
            # The local sandbox enforces no limits by default: no need to pace at Didit's.
            "DIDIT_RATE_LIMITS": "",
        }
        for name, value in values.items():
            setattr(settings, name, value)
            os.environ[name] = value

    def _start_worker(self) -> subprocess.Popen:
        """``manage.py db_worker`` in a child process: the environment (set by
        _point_at_sandbox) points it at the sandbox, and its tasks at the database."""
        environment = {**os.environ, "TASKS_BACKEND": "database"}
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
