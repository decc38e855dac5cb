"""`policy-qa serve slack` in one process: its settings, the port and backlog it listens with,
Slack unreachable or rejecting the token, and the knowledge sets file and records it opens."""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters import slack_app
from adapters.workers import BACKLOG
from assistant import Assistant
from tests.fake_slack import SECRET, FakeSlack, Running, mention
from tests.missing import missing
from tests.slack_apps import TOKEN
from tests.slack_cluster import TOKEN as WORKER_TOKEN
from tests.slack_cluster import Worker, worker_env
from tests.test_knowledge_sets import HR_QUESTION, write_sets
from tests.test_slack_render import texts

QUESTION = "Why was Kaspersky banned?"
session_loop = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def slack_env(
    monkeypatch: pytest.MonkeyPatch, slack: FakeSlack, tmp_path: Path
) -> pytest.MonkeyPatch:
    """`serve()`'s environment, its Web API client pointed at the fake Slack."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("PORT", "0")
    # serve opens the records database: in the test's folder, never the user's own
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("POLICY_QA_DATABASE_URL", raising=False)
    monkeypatch.setattr(
        slack_app, "AsyncWebClient", partial(AsyncWebClient, base_url=f"{slack.url}/api/")
    )
    return monkeypatch


@session_loop
@pytest.mark.parametrize("missing", ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"])
async def test_serve_without_a_setting_says_so_in_one_line(slack_env, assistant, capsys, missing):
    slack_env.delenv(missing)
    assert slack_app.serve(lambda: assistant) == 4
    err = capsys.readouterr().err
    assert missing in err and err.count("\n") == 1


@session_loop
@pytest.mark.parametrize("port", ["eighty", "99999", "²³"])
async def test_serve_with_a_bad_port_says_so_in_one_line(slack_env, assistant, capsys, port):
    slack_env.setenv("PORT", port)
    assert slack_app.serve(lambda: assistant) == 4
    err = capsys.readouterr().err
    assert "PORT must be a port number" in err and err.count("\n") == 1


@session_loop
async def test_serve_with_a_rejected_token_exits_with_one_line(slack_env, slack, assistant, capsys):
    slack.auth_error = "invalid_auth"
    assert await asyncio.to_thread(slack_app.serve, lambda: assistant) == 4
    err = capsys.readouterr().err
    assert "rejected the token (invalid_auth)" in err and err.count("\n") == 1 and TOKEN not in err


@session_loop
async def test_serve_exits_when_the_documents_cannot_be_loaded(slack_env, tmp_path, capsys):
    def load() -> Assistant:
        return Assistant.load(tmp_path / "nowhere")

    assert await asyncio.to_thread(slack_app.serve, load) == 3
    assert "nowhere" in capsys.readouterr().err


async def serving(load: Callable[[], Assistant], capsys: pytest.CaptureFixture[str]) -> Any:
    """`serve()` started in a thread: (its task, the IPv4 port it says it listens on)."""
    task = asyncio.ensure_future(asyncio.to_thread(slack_app.serve, load))
    said, deadline = "", time.monotonic() + 30
    while not (found := re.search(r"running on .*http://0\.0\.0\.0:(\d+)", said)):
        assert time.monotonic() < deadline and not task.done(), said
        await asyncio.sleep(0.05)
        said += capsys.readouterr().err
    return task, int(found.group(1))


def somaxconn() -> int:
    """The kernel's cap on a listening socket's backlog."""
    return int(Path("/proc/sys/net/core/somaxconn").read_text())


def listen_backlogs(port: int) -> list[int]:
    """The backlog of each IPv4 socket listening on `port`: `ss` shows it as a listening
    socket's Send-Q."""
    ss = shutil.which("ss") or shutil.which("ss", path="/usr/sbin:/sbin:/usr/bin")
    if ss is None:
        missing("ss not found", "iproute2")
    listing = subprocess.run(
        [ss, "-H", "-l", "-t", "-n", "-4", f"sport = :{port}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [int(line.split()[2]) for line in listing.splitlines()]


@session_loop
async def test_serve_says_the_port_it_listens_on_with_a_backlog_of_1024(
    slack_env, slack, tmp_path, capsys
):
    loading = threading.Event()

    def load() -> Assistant:
        loading.wait(30)
        return Assistant.load(tmp_path / "nowhere")  # ends the test: serve exits

    task, port = await serving(load, capsys)  # $PORT is 0: any free port
    try:
        async with aiohttp.ClientSession() as session:
            app = Running(f"http://127.0.0.1:{port}", session)
            assert port != 0 and await app.health() == {"model_loaded": False}
            status, _ = await app.command(QUESTION, f"{slack.url}/response/1")
            assert status == 200
        # as the workers do: aiohttp's default of 128 refused connections in a burst (README)
        assert await asyncio.to_thread(listen_backlogs, port) == [min(BACKLOG, somaxconn())]
    finally:
        loading.set()
    assert await task == 3


@session_loop
async def test_serve_with_slack_down_keeps_acking_and_looks_up_the_bot_with_backoff(
    slack_env, slack, tmp_path, capsys
):
    slack.down = True
    loading = threading.Event()

    def load() -> Assistant:
        loading.wait(30)
        return Assistant.load(tmp_path / "nowhere")

    task, port = await serving(load, capsys)
    app = Running(f"http://127.0.0.1:{port}", aiohttp.ClientSession())
    started = time.monotonic()
    while time.monotonic() - started < 3.5:
        status, latency = await app.command(QUESTION, f"{slack.url}/response/1")
        assert status == 200 and latency < 3.0
        await asyncio.sleep(0.25)
    await app.session.close()
    lookups = [t for name, _, t in slack.calls if name == "auth.test"]
    # at start, then in the background 1 s and 3 s later, whatever the requests
    assert len(lookups) == 3, lookups
    assert [round(b - a) for a, b in zip(lookups, lookups[1:], strict=False)] == [1, 2]
    loading.set()
    assert await task == 3


# --- knowledge sets and records ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["[sets.hr\n", "[sets.hr]\nfolder = 'nowhere'\n", "[channels]\nC1 = 'hr'\n"]
)
def test_serve_with_a_bad_sets_file_exits_4_in_one_line(
    monkeypatch, tmp_path, capsys, assistant, text
):
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    config = tmp_path / "sets.toml"
    config.write_text(text)
    assert slack_app.serve(lambda: pytest.fail("loaded"), config=config) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sets.toml" in err


def test_serve_finds_policy_qa_toml_in_the_working_directory(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.delenv("POLICY_QA_CONFIG", raising=False)
    write_sets(tmp_path, {"C0123": "nope"})  # read, and refused, without being named
    monkeypatch.chdir(tmp_path)
    assert slack_app.serve(lambda: pytest.fail("loaded")) == 4
    assert "channel C0123 names no set: 'nope'" in capsys.readouterr().err


@session_loop
async def test_serve_config_answers_each_channel_from_its_set_and_records_with_votes(
    assistant: Assistant,  # fills the index cache the process reads
    cache_dir: Path,
    slack: FakeSlack,
    tmp_path: Path,
) -> None:
    """`policy-qa serve slack --config FILE` as deployed, in a process of its own (stopped with
    SIGTERM), recording by default into the user's data folder (here the test's)."""
    env = worker_env(slack.url, cache_dir, None, None)
    del env["POLICY_QA_RECORD"]  # on, as by default
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    config = write_sets(tmp_path, {"C0HR": "hr"})
    worker = Worker(env, tmp_path / "serve.log", "--config", str(config))
    try:
        async with aiohttp.ClientSession() as session:
            await worker.ready(session)
            app = Running(worker.url, session)
            assert (await app.event(mention(HR_QUESTION, channel="C0HR"), event_id="Ev1"))[0] == 200
            [post] = await slack.wait_for("chat.postMessage")
    finally:
        # off the loop: the fake Slack it runs must answer the process while it stops
        code = await asyncio.to_thread(worker.stop, signal.SIGTERM)
    assert code == 0, worker.output()[-3000:]
    assert "Knowledge set: hr" in texts(post) and "25 days" in texts(post)
    buttons = {e["action_id"]: e["value"] for b in post["blocks"] if b["type"] == "actions"
               for e in b["elements"]}  # fmt: skip
    with sqlite3.connect(tmp_path / "data" / "policy-qa" / "records.sqlite3") as records:
        rows = records.execute("SELECT id, question, outcome FROM policy_qa_answers").fetchall()
    assert rows == [(buttons["vote_up"], HR_QUESTION, "answered")] and buttons["vote_down"]
    said = worker.output()
    assert "Traceback" not in said and HR_QUESTION not in said and WORKER_TOKEN not in said
