"""Shared fixtures: the real assistant on the bundled knowledge, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache of the test session's own, so tests never depend on a developer's cache."""
    return tmp_path_factory.mktemp("policy-qa-cache")


@pytest.fixture(scope="session")
def assistant(cache_dir: Path) -> Assistant:
    """The real model and the bundled article."""
    return Assistant.load(cache_dir=cache_dir)


@pytest.fixture(scope="session")
def northwind(cache_dir: Path) -> Assistant:
    """A policy that speaks in its own voice (`speaker:` in its front matter), quotes its founder
    and has a table: tests/data/northwind."""
    return Assistant.load(DATA / "northwind", cache_dir=cache_dir)
