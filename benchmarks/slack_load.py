"""Load test of the Slack adapter in HTTP mode, on loopback only.

The real Bolt app (`adapters.slack_app.create_app` + `create_web_app`) runs in a subprocess on a
warm 1,000-passage corpus. This process plays Slack: it sends correctly signed `/ask` slash
commands (v0 HMAC-SHA256 with a test secret) and serves a fake Web API and the `response_url`s,
recording every answer. Phases: a burst of 50 at once, then a steady stream (2,000 over a minute).
Run alone: `python -m benchmarks.slack_load [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

from benchmarks.corpora import questions
from benchmarks.report import Row, Section, percentiles

SECRET = "benchmark-signing-secret"  # a test secret for loopback only, not a real app's
NOTICES = ("Sorry, something went wrong", "You're asking faster than I can answer")


def sign(body: str, timestamp: int, secret: str = SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class FakeSlack:
    """The Web API and the response_url endpoint; records when each request's answers arrive."""

    answers: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    api_calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    async def respond(self, request: web.Request) -> web.Response:
        self.answers[request.match_info["rid"]].append((time.perf_counter(), await request.text()))
        return web.Response(text="ok")

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.api_calls[method] += 1
        found = {"user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0", "user": "policy-qa"}
        return web.json_response({"ok": True, **(found if method == "auth.test" else {})})

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.add_routes(
            [web.post("/respond/{rid}", self.respond), web.post("/api/{method}", self.api)]
        )
        return app


@dataclass
class Sent:
    at: float
    ack_ms: float | None = None
    status: int | None = None
    error: str | None = None


async def _ask(session: ClientSession, url: str, fake_url: str, rid: str, question: str) -> Sent:
    body = urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T0",
            "team_domain": "bench",
            "channel_id": "C0",
            "channel_name": "general",
            "user_id": f"U{rid}",
            "user_name": "bench",
            "command": "/ask",
            "text": question,
            "api_app_id": "A0",
            "trigger_id": f"trigger.{rid}",
            "response_url": f"{fake_url}/respond/{rid}",
        }
    )
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(body, timestamp),
    }
    sent = Sent(time.perf_counter())
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            sent.status = response.status
    except Exception as e:  # a refused or timed-out ack is a result, not a crash of the test
        sent.error = type(e).__name__
    sent.ack_ms = (time.perf_counter() - sent.at) * 1000
    return sent


async def _phase(
    name: str, count: int, seconds: float, url: str, fake: FakeSlack, fake_url: str
) -> dict[str, Any]:
    """Send `count` questions spread over `seconds` (0: all at once), wait for the answers."""
    asked = questions()
    timeout = ClientTimeout(total=30)
    async with ClientSession(connector=TCPConnector(limit=0), timeout=timeout) as session:
        start = time.perf_counter()

        async def one(i: int) -> tuple[str, Sent]:
            await asyncio.sleep(max(0.0, start + i * seconds / count - time.perf_counter()))
            rid = f"{name}{i:05d}"
            return rid, await _ask(session, url, fake_url, rid, asked[i % len(asked)])

        sent = dict(await asyncio.gather(*(one(i) for i in range(count))))
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline and any(r not in fake.answers for r in sent):
        await asyncio.sleep(0.2)
    acks = [s.ack_ms for s in sent.values() if s.ack_ms is not None]
    answer_ms, errors, duplicates, notices = [], 0, 0, 0
    for rid, s in sent.items():
        errors += s.error is not None or s.status != 200
        posts = fake.answers.get(rid, [])
        bodies = [b for _, b in posts]
        duplicates += len(bodies) - len(set(bodies))
        notices += any(n in b for b in bodies for n in NOTICES)
        if posts:
            answer_ms.append((posts[0][0] - s.at) * 1000)
    return {
        "count": count,
        "seconds": seconds,
        "ack_ms": acks,
        "answer_ms": answer_ms,
        "errors": errors,
        "unanswered": count - len(answer_ms),
        "duplicates": duplicates,
        "notices": notices,
        "error_kinds": sorted({s.error for s in sent.values() if s.error}),
    }


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(quick: bool) -> dict[str, Any]:
    from benchmarks.prepare import prepare

    prepared = prepare(1000)
    fake = FakeSlack()
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    fake_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.slack_load",
        "--serve",
        fake_url,
        str(prepared.corpus),
        str(prepared.cache),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        ready = (await asyncio.wait_for(server.stdout.readline(), 120)).decode().split()
        if not ready or ready[0] != "READY":
            raise RuntimeError("the Slack app did not start")
        url = f"http://127.0.0.1:{ready[1]}/slack/events"
        burst = await _phase("b", 50, 0.0, url, fake, fake_url)
        steady = await _phase(
            "s", 200 if quick else 2000, 10.0 if quick else 60.0, url, fake, fake_url
        )
        peak = _peak_mb(server.pid)
    finally:
        server.terminate()
        await server.wait()
        await runner.cleanup()
    return {
        "burst": burst,
        "steady": steady,
        "server_peak_rss_mb": peak,
        "api_calls": fake.api_calls,
    }


def _rows(title: str, label: str, phase: dict[str, Any], answer_goal: float | None) -> list[Row]:
    ack50, ack99 = percentiles(phase["ack_ms"], 50, 99) if phase["ack_ms"] else (0.0, 0.0)
    ack_max = max(phase["ack_ms"], default=float("nan"))
    a50, a95, a99 = percentiles(phase["answer_ms"], 50, 95, 99) if phase["answer_ms"] else [0.0] * 3
    clean = phase["errors"] + phase["unanswered"] + phase["duplicates"] + phase["notices"]
    goal = f"p95 <= {answer_goal:.0f} ms" if answer_goal else ""
    return [
        Row(title, f"{label}: ack p50", ack50, None, "ms"),
        Row(
            title,
            f"{label}: ack p99",
            ack99,
            None,
            "ms",
            "every ack < 1 s",
            ack_max < 1000,
            f"(max {ack_max:,.0f} ms)",
        ),
        Row(title, f"{label}: answer p50", a50, None, "ms"),
        Row(
            title,
            f"{label}: answer p95",
            a95,
            None,
            "ms",
            goal,
            a95 <= answer_goal if answer_goal else None,
        ),
        Row(title, f"{label}: answer p99", a99, None, "ms"),
        Row(
            title,
            f"{label}: errors+unanswered+duplicates+notices",
            clean,
            None,
            "",
            "0",
            clean == 0,
            f"({phase['errors']}/{phase['unanswered']}/{phase['duplicates']}/{phase['notices']})",
        ),
    ]


def measure(quick: bool) -> Section:
    result = asyncio.run(run(quick))
    steady = result["steady"]
    section = Section(
        "Slack /ask load test, HTTP mode on loopback, 1,000-passage corpus",
        "no alternative: Slack's limits and the team's targets",
    )
    section.rows += _rows(section.title, "50 at once", result["burst"], 1500.0)
    section.rows += _rows(
        section.title, f"{steady['count']:,} over {steady['seconds']:.0f} s", steady, None
    )
    section.rows.append(
        Row(section.title, "Bolt app process peak RSS", result["server_peak_rss_mb"], None, "MB")
    )
    section.raw = result
    return section


async def _serve(api_url: str, knowledge: Path, cache: Path) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack_app import create_app, create_web_app
    from assistant import Assistant

    assistant = Assistant.load(knowledge, cache_dir=cache)
    client = AsyncWebClient(token="xoxb-benchmark", base_url=f"{api_url}/api/")
    app = create_app(assistant, client, signing_secret=SECRET)
    runner = web.AppRunner(create_web_app(app, assistant, SECRET), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(f"READY {runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()  # until the parent terminates us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", nargs=3, metavar=("API_URL", "KNOWLEDGE", "CACHE"))
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve[0], Path(args.serve[1]), Path(args.serve[2])))
        return
    from benchmarks.report import render

    section = measure(args.quick)
    print(render([section]))
    print(json.dumps({k: v for k, v in section.raw.items() if k == "api_calls"}))


if __name__ == "__main__":
    main()
