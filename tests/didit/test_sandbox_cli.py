"""`python -m verifications.didit.sandbox`: the command line other tools rely on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_line(stream, timeout: float) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return line[0] if line else ""


def test_the_command_prints_one_ready_line_serves_and_stops_on_sigterm():
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "verifications.didit.sandbox",
        "--port",
        str(port),
        "--sessions",
        "20",
        "--seed",
        "3",
        "--api-key",
        "cli-key",
    ]
    process = subprocess.Popen(  # noqa: S603 - a fixed argv running our own module
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = read_line(process.stdout, timeout=20)
        assert line == f"Didit sandbox ready at http://127.0.0.1:{port}\n"
        response = requests.get(
            f"http://127.0.0.1:{port}/v3/sessions/?limit=5",
            headers={"x-api-key": "cli-key"},
            timeout=5,
        )
        assert response.status_code == 200
        assert response.json()["count"] == 20
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stdout.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_help_documents_the_options_and_defaults():
    result = subprocess.run(
        [sys.executable, "-m", "verifications.didit.sandbox", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    for option in (
        "--port",
        "--sessions",
        "--seed",
        "--api-key",
        "--client-id",
        "--client-secret",
        "--token-ttl",
        "--fault-rate",
        "--faults",
        "--rate-limits",
        "--rate-window",
        "--webhook-url",
        "--webhook-secret",
        "--media-ttl",
        "--decision-shape",
    ):
        assert option in result.stdout
    assert "sandbox-client-secret" in result.stdout
    assert "(default: 200)" in result.stdout
