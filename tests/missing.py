"""What a test does when a program it starts for real is not installed: skip, saying which Debian
package to install, or, under CI (`CI` set, as `.ci/run` sets it after installing them all), fail,
since a skip there would hide that the test never ran."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(what: str, package: str) -> NoReturn:
    """Skip (or fail under CI) because `what` is missing; `package` is Debian's."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must install it: apt-get install -y {package})")
    pytest.skip(f"{what}: apt-get install {package} to run this test")
