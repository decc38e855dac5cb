"""Running the `policy-qa` command in a real subprocess, for the tests of its contract
(tests/test_cli_*.py, tests/test_formats_cli.py), in the environment of conftest's `env`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def run(
    env: dict[str, str], *args: str, stdin: bytes | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        input=stdin,
        capture_output=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        timeout=120,
    )
