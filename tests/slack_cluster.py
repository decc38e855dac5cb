"""Real parts for the several-workers tests: `policy-qa serve slack` processes and nginx running
deploy/nginx.conf in front of them, on loopback, with the Web API pointed at tests/fake_slack.py."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.conftest import ROOT
from tests.fake_slack import SECRET
from tests.missing import missing
from tests.redis_server import free_port

TOKEN = "xoxb-SENTINEL-SCALE-0000"


def worker_env(
    api_url: str, cache: Path, redis_url: str | None, prefix: str | None
) -> dict[str, str]:
    """The environment a deployed worker has, with Slack's Web API at the fake's address."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICY_QA_", "SLACK_"))}
    env |= {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"{api_url}/api/",
        "POLICY_QA_CACHE": str(cache),
        # records would go to the user's own data folder: these tests measure answering
        "POLICY_QA_RECORD": "off",
        "PYTHONPATH": str(ROOT),  # this checkout, whatever the venv was installed from
    }
    if redis_url:
        env |= {"POLICY_QA_REDIS_URL": redis_url, "POLICY_QA_REDIS_PREFIX": prefix or ""}
    return env


class Worker:
    """`policy-qa serve slack` as deployed (`-v`, so its INFO lines can be checked too)."""

    def __init__(self, env: dict[str, str], log: Path, *args: str, port: int | None = None):
        self.port = port or free_port()
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "adapters.cli",
                    "-v",
                    "serve",
                    "slack",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    *args,
                ],  # fmt: skip
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def ready(self, session: aiohttp.ClientSession, timeout: float = 120) -> None:
        """Until /healthz says the documents are loaded."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"worker exited: {self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"not ready: {self.output()[-3000:]}"
            try:
                async with session.get(f"{self.url}/healthz") as resp:
                    if resp.status == 200 and (await resp.json())["model_loaded"]:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            stuck = subprocess.run(["ps", "-o", "pid,stat,etime,wchan:20,cmd", "--ppid",
                                    str(self.process.pid)], capture_output=True, text=True)  # fmt: skip
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"still running {timeout} s after signal {sig}:\n{stuck.stdout}\n"
                f"{self.output()[-4000:]}"
            ) from None


class Nginx:
    """Debian's nginx running deploy/nginx.conf, listening on a free loopback port, its upstream
    the given worker ports; logs each request's upstream in access.log."""

    def __init__(self, folder: Path, upstreams: list[int]) -> None:
        binary = shutil.which("nginx") or next(
            (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None
        )
        if binary is None:
            missing("nginx not found", "nginx")
        self.folder, self.port = folder, free_port()
        site = (ROOT / "deploy" / "nginx.conf").read_text()
        servers = "".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in upstreams
        )
        site, upstream_lines = re.subn(r"(?m)^    server 127\.0\.0\.1:\d+ [^\n]*\n", "", site)
        assert upstream_lines, "deploy/nginx.conf no longer has the upstream this test rewrites"
        site = site.replace("upstream policy_qa {\n", "upstream policy_qa {\n" + servers, 1)
        site, listens = re.subn(r"(?m)^    listen 80;", f"    listen 127.0.0.1:{self.port};", site)
        assert listens == 1, "deploy/nginx.conf no longer listens on port 80"
        (folder / "site.conf").write_text(site)
        (folder / "nginx.conf").write_text(
            f"worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
            "events { worker_connections 4096; }\n"
            "http {\n"
            "  log_format upstreamed '$status|$request_uri|$upstream_addr|$upstream_status';\n"
            f"  access_log {folder}/access.log upstreamed;\n"
            f"  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;\n"
            f"  fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi;\n"
            f"  scgi_temp_path {folder}/scgi;\n"
            f"  include {folder}/site.conf;\n"
            "}\n"
        )
        test = subprocess.run(
            [binary, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
            capture_output=True,
            text=True,
        )
        assert test.returncode == 0, test.stderr
        self.process = subprocess.Popen(
            [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def started(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                await writer.wait_closed()
                return
            except OSError:
                assert self.process.poll() is None, (self.folder / "error.log").read_text()
                assert time.monotonic() < deadline, "nginx did not start"
                await asyncio.sleep(0.05)

    def requests(self) -> list[tuple[int, str, str]]:
        """(status, path, upstream address) of each request so far."""
        path = self.folder / "access.log"
        lines = path.read_text().splitlines() if path.exists() else []
        return [(int(s), uri, upstream) for s, uri, upstream, _ in (ln.split("|") for ln in lines)]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
