"""Running the `policy-qa` command in a real subprocess, for the tests of its contract
(tests/test_cli_*.py, tests/test_formats_cli.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """This environment without the developer's POLICY_QA_ settings, with an index cache of its
    own (each test module's `env` fixture makes one)."""
    cache = tmp_path_factory.mktemp("cli-cache")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_QA_")}
    return {**clean, "POLICY_QA_CACHE": str(cache)}


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
