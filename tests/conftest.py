"""Shared fixtures: the real assistant on the bundled knowledge, loaded once per test session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistant import Assistant
from tests.fake_slack import FakeSlack
from tests.slack_apps import StartApp, app_server

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache of the test session's own, so tests never depend on a developer's cache."""
    return tmp_path_factory.mktemp("policy-qa-cache")


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment the command-line tests run `policy-qa` in (tests/cli_helpers.run): this
    one without the developer's POLICY_QA_ settings, with an index cache they all share."""
    cache = tmp_path_factory.mktemp("cli-cache")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_QA_")}
    return {**clean, "POLICY_QA_CACHE": str(cache)}


@pytest.fixture(scope="session")
def assistant(cache_dir: Path) -> Assistant:
    """The real model and the bundled article."""
    return Assistant.load(cache_dir=cache_dir)


@pytest.fixture(scope="session")
def northwind(cache_dir: Path) -> Assistant:
    """A policy that speaks in its own voice (`speaker:` in its front matter), quotes its founder
    and has a table: tests/data/northwind."""
    return Assistant.load(DATA / "northwind", cache_dir=cache_dir)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack Web API on loopback, for the real Slack app's tests."""
    fake = FakeSlack()
    await fake.start()
    yield fake
    assert fake.runner is not None
    await fake.runner.cleanup()


@pytest.fixture
async def serve_app(slack: FakeSlack) -> AsyncIterator[StartApp]:
    """Starts real Slack apps as `serve` runs them, talking to `slack`; stopped at the end."""
    async with app_server(slack) as start:
        yield start
