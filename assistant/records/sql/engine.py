"""The records' database: its URL checked and shown, the engine set up for SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from assistant.errors import ConfigurationError

CONNECT_TIMEOUT = 5  # seconds; PostgreSQL only (SQLite waits BUSY_TIMEOUT_MS for a lock)
BUSY_TIMEOUT_MS = 5000


class DatabaseMissing(LookupError):
    """A SQLite file that does not exist, opened with create=False (nothing recorded yet)."""


def database_url(url: str) -> URL:
    """`url` as SQLAlchemy takes it: postgresql:// and postgres:// (what hosts hand out) use
    psycopg 3. ConfigurationError for any other kind of database, or one we cannot read."""
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigurationError(
            "POLICY_QA_DATABASE_URL is not a database URL (sqlite:///PATH or postgresql://…)."
        ) from None
    # From the URL's text: asking SQLAlchemy for the driver loads it, and "postgres" has none.
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            # A driver named in the URL that we do not install and have not tested.
            raise ConfigurationError(
                f"Use postgresql:// (psycopg 3) in POLICY_QA_DATABASE_URL, not {parsed.drivername}://."
            )
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise ConfigurationError(
                "A PostgreSQL POLICY_QA_DATABASE_URL needs psycopg 3: "
                "pip install 'policy-qa[postgres]'."
            ) from None
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed.set(drivername="sqlite+pysqlite")
    raise ConfigurationError(
        f"POLICY_QA_DATABASE_URL must be sqlite:///PATH or postgresql://…, not {parsed.drivername}://."
    )


def shown(url: URL | str) -> str:
    """A URL to show a person or a log: the password hidden."""
    return (make_url(url) if isinstance(url, str) else url).render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL and for an in-memory database."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def new_engine(url: URL) -> Engine:
    """An engine for `url` (from database_url), set up as the package's docstring says."""
    if url.get_backend_name() == "postgresql":
        return create_engine(
            url,
            hide_parameters=True,
            pool_pre_ping=True,
            pool_size=2,
            max_overflow=2,
            connect_args={"connect_timeout": CONNECT_TIMEOUT},
        )
    engine = create_engine(url, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _connect(connection: Any, _record: Any) -> None:
        # We say when transactions begin (below): the sqlite3 module's own handling commits
        # before DDL and begins lazily, which would make migrations half-done on failure.
        connection.isolation_level = None
        cursor = connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if sqlite_path(url) is not None:
            cursor.execute("PRAGMA journal_mode = WAL")
            # With WAL, NORMAL cannot corrupt the file; a power cut may lose the last records.
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        reading = connection.get_execution_options().get("policy_qa_read", False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    return engine


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction for reading: one snapshot for all of a report's queries; on
    SQLite without taking the write lock."""
    with engine.connect().execution_options(policy_qa_read=True) as connection:
        with connection.begin():
            yield connection
