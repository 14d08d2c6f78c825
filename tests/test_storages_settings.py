"""The storages a server gets from ``didit_console.settings`` itself (tests replace the
evidence storage with a temporary directory, so this loads the settings in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("debug", ["1", "0"])
def test_settings_define_the_evidence_storage_beside_static_files(debug, tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("STATICFILES_BACKEND",)},
        "DEBUG": debug,
        "SECRET_KEY": "x" * 50,
        "MEDIA_ROOT": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "didit_console.settings",
    }
    code = "from django.conf import settings; import json; print(json.dumps(settings.STORAGES))"
    result = subprocess.run(  # noqa: S603 - our own interpreter, a fixed snippet
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    storages = json.loads(result.stdout)
    assert set(storages) == {"default", "staticfiles", "evidence"}
    assert storages["evidence"]["OPTIONS"] == {"location": str(tmp_path / "evidence")}
