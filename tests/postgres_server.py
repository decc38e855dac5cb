"""A real PostgreSQL server for the tests: initdb into a temporary folder, started on a free
loopback port, stopped at the end of the session.

$POLICY_QA_TEST_DATABASE_URL, when set, is used instead (an empty database we may create tables
in). The server binaries come from Debian's `postgresql` package; without them the PostgreSQL
cases are skipped, saying so, except under CI (CI=true), where a skip would hide that they never
ran: there they fail.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.missing import missing as missing_program

SUPERUSER = "policyqa"
DATABASE = "policyqa_test"
START_TIMEOUT = 60  # seconds: a cold initdb'd server on a busy 2-core machine starts in 1-3


def server_binaries() -> Path | None:
    """The folder with initdb and pg_ctl: Debian's newest /usr/lib/postgresql/N/bin, else PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4])
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path and shutil.which("initdb") else None


def missing(reason: str) -> None:
    missing_program(reason, "postgresql")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; Debian's package creates the `postgres` user for it.
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        missing("running as root and there is no `postgres` user to run the server as")
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def running_server() -> Iterator[str]:
    """Start a throwaway server; yield the URL of an empty database on it; stop and remove it."""
    binaries = server_binaries()
    if binaries is None:
        missing("PostgreSQL server binaries (initdb, pg_ctl) not found")
        raise AssertionError("unreachable")
    root = Path(tempfile.mkdtemp(prefix="policy-qa-pg-"))
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(binaries / "initdb"),
                    *("-D", str(data), "-U", SUPERUSER),
                    # Trust on loopback only: a throwaway server in a private folder.
                    *("--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"),
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = (
            f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off "
            "-c shared_buffers=32MB"
        )
        subprocess.run(
            _as_server_user(
                [
                    str(binaries / "pg_ctl"),
                    *("-D", str(data), "-l", str(log), "-o", options),
                    *("-w", "-t", str(START_TIMEOUT), "start"),
                ]
            ),
            check=True,
            capture_output=True,
        )
        try:
            _create_database(port)
            yield f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"
        finally:
            subprocess.run(
                _as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                capture_output=True,
            )
    except subprocess.CalledProcessError as e:
        server_log = log.read_text(errors="replace") if log.exists() else ""
        raise RuntimeError(
            f"Starting PostgreSQL failed: {e.stderr.decode(errors='replace')}\n{server_log}"
        ) from e
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _create_database(port: int) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with psycopg.connect(
                host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", autocommit=True
            ) as connection:
                connection.execute(f"CREATE DATABASE {DATABASE}")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of an empty PostgreSQL database for this session (see the module's docstring)."""
    if given := os.environ.get("POLICY_QA_TEST_DATABASE_URL"):
        yield given
        return
    with running_server() as url:
        yield url
