"""The sandbox's command line in a child process, ready once it prints its base URL.

For the demo and the sync benchmark, which want Didit in a process of its own (as the real
one is). The options are the command line's (``python -m verifications.didit.sandbox
--help``).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time


class SandboxProcess:
    def __init__(self, process: subprocess.Popen, base_url: str) -> None:
        self.process = process
        self.base_url = base_url

    @classmethod
    def start(cls, *options: str, timeout: float = 60.0) -> SandboxProcess:
        """Start ``python -m verifications.didit.sandbox *options``; RuntimeError if it
        does not say it is ready within ``timeout`` seconds."""
        command = [sys.executable, "-m", "verifications.didit.sandbox", *options]
        process = subprocess.Popen(  # noqa: S603 - our own module, arguments as a list
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline and process.poll() is None:
            line = process.stdout.readline()
            if "http://" in line:
                base_url = line[line.index("http://") :].split()[0]
                # Keep reading its output so a chatty sandbox never blocks on a full pipe.
                threading.Thread(target=process.stdout.read, daemon=True).start()
                return cls(process, base_url)
        process.kill()
        raise RuntimeError(f"The sandbox Didit server did not start: {line.strip()!r}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
