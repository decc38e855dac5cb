"""A real Redis for tests: Debian's redis-server on a free loopback port in a temporary folder, no
persistence; or the one at $POLICY_QA_TEST_REDIS_URL when that is set."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.missing import missing

TEST_URL = "POLICY_QA_TEST_REDIS_URL"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process we own: `start()`, `stop()` (SIGTERM, as an outage looks to the
    workers), `start()` again on the same port."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            missing("redis-server not found", "redis-server")
        self.folder, self.port = folder, port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.binary is not None and self.process is None
        with (self.folder / "redis.log").open("ab") as output:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.folder),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--protected-mode",
                    "yes",
                    "--loglevel",
                    "warning",
                ],  # fmt: skip
                stdout=subprocess.DEVNULL,
                stderr=output,
            )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "redis.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server did not start on {self.port}: {log[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def own_redis() -> Iterator[RedisServer]:
    """A started RedisServer, stopped afterwards (for a test that stops and starts it)."""
    with tempfile.TemporaryDirectory(prefix="policy-qa-redis-") as folder:
        server = RedisServer(Path(folder))
        server.start()
        try:
            yield server
        finally:
            server.stop()


def redis_url() -> Iterator[str]:
    """$POLICY_QA_TEST_REDIS_URL, else the URL of a redis-server started for the session."""
    if os.environ.get(TEST_URL):
        yield os.environ[TEST_URL]
        return
    yield from (server.url for server in own_redis())


def unique_prefix() -> str:
    """Keys of one test apart from every other's, in a Redis that may be shared."""
    return f"policy-qa-test:{uuid.uuid4().hex[:12]}:"
