"""The records in an SQL database through SQLAlchemy 2: a SQLite file (the default) or PostgreSQL.

`SQLStore.open(url)` connects and brings the schema up to date with Alembic (the migrations in
assistant/records/migrations/, version in the `policy_qa_schema_version` table). The same code
serves both databases; what differs is set up once, in engine.py (the migration lock: below):

- SQLite: WAL (two bot processes can write one file while a report reads it), a 5 s busy
  timeout, foreign keys on (votes and citations go with their answer), and transactions that
  include DDL and take the write lock when they begin (`BEGIN IMMEDIATE`), so a migration is all
  or nothing and two writers wait for each other instead of failing to upgrade a read lock.
  A new file is created readable by its owner alone.
- PostgreSQL (`postgresql://`, `postgres://`, driver psycopg 3): connections are checked before
  use (the server may have restarted), connecting gives up after 5 s, and migrations hold an
  advisory lock, so bots starting together migrate once.

Errors are the database's own (sqlalchemy.exc.*), with statement parameters hidden: a message
never carries a question.

Here: SQLStore, which opens the database and migrates it; engine.py checks the URL and sets the
engine up, writes.py writes records and purges them, queries.py runs the report's queries.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.engine import URL

from assistant.records.base import ProblemQuestion, Record, Tallies
from assistant.records.schema import VERSION_TABLE
from assistant.records.settings import create_private_file
from assistant.records.sql import queries, writes
from assistant.records.sql.engine import (
    BUSY_TIMEOUT_MS,
    CONNECT_TIMEOUT,
    DatabaseMissing,
    database_url,
    new_engine,
    shown,
    sqlite_path,
)
from assistant.records.sql.queries import utc_day

__all__ = [
    "BUSY_TIMEOUT_MS",
    "CONNECT_TIMEOUT",
    "MIGRATIONS",
    "DatabaseMissing",
    "SQLStore",
    "alembic_config",
    "database_url",
    "shown",
    "sqlite_path",
    "utc_day",
]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_LOCK = 0x706F6C6963790001  # any constant of ours: pg_advisory_xact_lock's key
# Alembic runs env.py through module-wide proxies (alembic.context, alembic.op): two migrations
# at once in one process (two recorders opening) ran each other's steps, or failed half-way with
# the version stamped. One at a time, taken before the database's own lock.
_ALEMBIC = threading.Lock()


class SQLStore:
    """A RecordStore on SQLite or PostgreSQL. Thread-safe: each call takes its own connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url

    @classmethod
    def open(cls, url: str | URL, *, create: bool = True, migrate: bool = True) -> SQLStore:
        """Connect to `url` and apply any pending migrations. A SQLite file is created (0600, in
        folders created 0700) unless `create` is False, when a missing one is DatabaseMissing."""
        parsed = database_url(url) if isinstance(url, str) else url
        path = sqlite_path(parsed)
        if path is not None:
            if create:
                create_private_file(path)
            elif not path.is_file():
                raise DatabaseMissing(str(path))
        store = cls(new_engine(parsed))
        if migrate:
            try:
                store.migrate()
            except BaseException:
                store.close()
                raise
        return store

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to `revision` (default: the newest), in one transaction."""
        from alembic import command

        with _ALEMBIC, self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            command.upgrade(alembic_config(connection), revision)

    def schema_revision(self) -> str | None:
        """The revision the database is at (None: no schema yet)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()

    def write(self, records: Sequence[Record]) -> None:
        writes.write(self.engine, records)

    def purge(self, before: datetime) -> int:
        return writes.purge(self.engine, before)

    def problems(self, since: datetime) -> list[ProblemQuestion]:
        return queries.problems(self.engine, since)

    def tallies(self, since: datetime, top: int = 10) -> Tallies:
        return queries.tallies(self.engine, since, top)

    def cached_vectors(self, keys: Sequence[str]) -> dict[str, bytes]:
        return queries.cached_vectors(self.engine, keys)

    def cache_vectors(self, vectors: Mapping[str, bytes]) -> None:
        writes.cache_vectors(self.engine, vectors)

    def close(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection) -> Any:
    """Alembic's configuration for our migrations, on `connection` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config
