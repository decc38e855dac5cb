"""The records in an SQL database through SQLAlchemy 2: a SQLite file (the default) or PostgreSQL.

`SQLStore.open(url)` connects and brings the schema up to date with Alembic (the migrations in
migrations/, version in the `policy_qa_schema_version` table). The same code serves both
databases; what differs is set up here once:

- SQLite: WAL (the Slack and Discord bots can write one file while a report reads it), a 5 s busy
  timeout, foreign keys on (votes and citations go with their answer), and transactions that
  include DDL and take the write lock when they begin (`BEGIN IMMEDIATE`), so a migration is all
  or nothing and two writers wait for each other instead of failing to upgrade a read lock.
  A new file is created readable by its owner alone.
- PostgreSQL (`postgresql://`, `postgres://`, driver psycopg 3): connections are checked before
  use (the server may have restarted), connecting gives up after 5 s, and migrations hold an
  advisory lock, so bots starting together migrate once.

Errors are the database's own (sqlalchemy.exc.*), with statement parameters hidden: a message
never carries a question.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    FunctionElement,
    String,
    case,
    create_engine,
    delete,
    distinct,
    event,
    exists,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from assistant.errors import ConfigurationError
from assistant.records.base import (
    OUTCOMES,
    AnswerRecord,
    CitedCount,
    DocumentVotes,
    Outcome,
    ProblemQuestion,
    Record,
    RecordRejected,
    Tallies,
    VoteRecord,
)
from assistant.records.schema import VERSION_TABLE, answers, citations, question_vectors, votes
from assistant.records.settings import create_private_file

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT = 5  # seconds; PostgreSQL only (SQLite waits BUSY_TIMEOUT_MS for a lock)
BUSY_TIMEOUT_MS = 5000
_MIGRATION_LOCK = 0x706F6C6963790001  # any constant of ours: pg_advisory_xact_lock's key
_IN_CHUNK = 500  # keys per IN (...) list: SQLite allows 32,766 parameters, PostgreSQL 65,535


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


class utc_day(FunctionElement[str]):
    """The UTC day of a timestamp column as "YYYY-MM-DD" text, in either database."""

    type = String()
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


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
        store = cls(_engine(parsed))
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

        with self.engine.begin() as connection:
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
        answer_rows: list[dict[str, Any]] = []
        citation_rows: list[dict[str, Any]] = []
        latest_votes: dict[tuple[str, str], dict[str, Any]] = {}
        for record in records:
            if isinstance(record, AnswerRecord):
                answer_rows.append(_answer_row(record))
                citation_rows += [
                    {
                        "answer_id": record.id,
                        "rank": rank,
                        "path": c.path,
                        "start_offset": c.start,
                        "end_offset": c.end,
                        "score": c.score,
                        "quote_sha256": c.quote_sha256,
                    }
                    for rank, c in enumerate(record.citations, 1)
                ]
            else:
                # The same person voting twice in one batch: the later vote stands, as it would
                # have in two batches (one statement may not update a row twice in PostgreSQL).
                latest_votes[(record.answer_id, record.person)] = _vote_row(record)
        try:
            self._write(answer_rows, citation_rows, list(latest_votes.values()))
        except (IntegrityError, DataError) as e:
            raise RecordRejected(str(e.orig)) from e
        except DBAPIError:
            raise  # the database failed (down, full, locked): the same records may go later
        except (UnicodeError, ValueError, TypeError) as e:
            # Raised before the database saw them: these records could never be written.
            raise RecordRejected(type(e).__name__) from e

    def _write(
        self,
        answer_rows: list[dict[str, Any]],
        citation_rows: list[dict[str, Any]],
        vote_rows: list[dict[str, Any]],
    ) -> None:
        with self._transaction() as connection:
            # A vote on an answer the database never got (its write failed, or it was purged) is
            # refused before anything is written, rather than by the foreign key: psycopg logs a
            # warning of its own for every statement that fails in a batch.
            voted_on = {row["answer_id"] for row in vote_rows} - {row["id"] for row in answer_rows}
            if voted_on:
                known = connection.execute(select(answers.c.id).where(answers.c.id.in_(voted_on)))
                if missing := voted_on - set(known.scalars()):
                    raise RecordRejected(f"votes on answers it does not have: {len(missing)}")
            # Answers first: a vote in the same batch may be on one of them. Writing an answer
            # again (a retry after a commit whose acknowledgement was lost) changes nothing.
            if answer_rows:
                connection.execute(self._insert_new(answers), answer_rows)
            if citation_rows:
                connection.execute(self._insert_new(citations), citation_rows)
            if vote_rows:
                connection.execute(self._upsert_vote(), vote_rows)

    def purge(self, before: datetime) -> int:
        with self._transaction() as connection:
            # Citations and votes go with their answer (ON DELETE CASCADE).
            cutoff = _naive_utc(before)
            result = connection.execute(delete(answers).where(answers.c.asked_at < cutoff))
            connection.execute(
                delete(question_vectors).where(question_vectors.c.stored_at < cutoff)
            )
            return int(result.rowcount or 0)

    def problems(self, since: datetime) -> list[ProblemQuestion]:
        start = _naive_utc(since)
        down = (
            select(func.count())
            .where(votes.c.answer_id == answers.c.id, votes.c.up.is_(False))
            .scalar_subquery()
        )
        problem = (answers.c.outcome.in_(("refused", "unsure"))) | exists().where(
            votes.c.answer_id == answers.c.id, votes.c.up.is_(False)
        )
        query = (
            select(answers.c.id, answers.c.asked_at, answers.c.question, answers.c.outcome, down)
            .where(answers.c.asked_at >= start, problem)
            .order_by(answers.c.asked_at, answers.c.id)
        )
        comments_query = (
            select(votes.c.answer_id, votes.c.comment)
            .join(answers, answers.c.id == votes.c.answer_id)
            .where(answers.c.asked_at >= start, votes.c.comment.is_not(None))
            .order_by(votes.c.voted_at)
        )
        with self._reading() as connection:
            rows = connection.execute(query).all()
            comments: dict[str, list[str]] = {}
            for answer_id, comment in connection.execute(comments_query):
                comments.setdefault(answer_id, []).append(comment)
        return [
            ProblemQuestion(
                answer_id=row[0],
                asked_at=_aware(row[1]),
                question=row[2],
                outcome=_outcome(row[3]),
                down_votes=int(row[4]),
                comments=tuple(comments.get(row[0], ())),
            )
            for row in rows
        ]

    def tallies(self, since: datetime, top: int = 10) -> Tallies:
        start = _naive_utc(since)
        recent = answers.c.asked_at >= start
        day = utc_day(answers.c.asked_at)
        per_day = (
            select(day, answers.c.outcome, func.count())
            .where(recent)
            .group_by(day, answers.c.outcome)
        )
        vote_totals = (
            select(votes.c.up, func.count())
            .join(answers, answers.c.id == votes.c.answer_id)
            .where(recent)
            .group_by(votes.c.up)
        )
        cited_docs = (
            select(citations.c.answer_id, citations.c.path)
            .join(answers, answers.c.id == citations.c.answer_id)
            .where(recent)
            .distinct()
            .subquery()
        )
        up = func.sum(case((votes.c.up.is_(True), 1), else_=0))
        down = func.sum(case((votes.c.up.is_(False), 1), else_=0))
        document_votes = (
            select(cited_docs.c.path, up, down)
            .join(votes, votes.c.answer_id == cited_docs.c.answer_id)
            .group_by(cited_docs.c.path)
            .order_by(down.desc(), up.desc(), cited_docs.c.path)
        )
        documents = (
            select(cited_docs.c.path, func.count())
            .group_by(cited_docs.c.path)
            .order_by(func.count().desc(), cited_docs.c.path)
            .limit(top)
        )
        passage = (citations.c.path, citations.c.start_offset, citations.c.end_offset)
        passages = (
            select(*passage, citations.c.quote_sha256, func.count(distinct(citations.c.answer_id)))
            .join(answers, answers.c.id == citations.c.answer_id)
            .where(recent)
            .group_by(*passage, citations.c.quote_sha256)
            .order_by(func.count(distinct(citations.c.answer_id)).desc(), *passage)
            .limit(top)
        )
        with self._reading() as connection:
            by_day: dict[date, dict[Outcome, int]] = {}
            for day_text, outcome, count in connection.execute(per_day):
                counts = by_day.setdefault(date.fromisoformat(day_text), dict.fromkeys(OUTCOMES, 0))
                counts[_outcome(outcome)] += int(count)
            totals = {bool(is_up): int(n) for is_up, n in connection.execute(vote_totals)}
            return Tallies(
                outcomes_by_day=dict(sorted(by_day.items())),
                votes_up=totals.get(True, 0),
                votes_down=totals.get(False, 0),
                document_votes=[
                    DocumentVotes(path, int(u), int(d))
                    for path, u, d in connection.execute(document_votes)
                ],
                cited_documents=[
                    CitedCount(path, None, None, None, int(n))
                    for path, n in connection.execute(documents)
                ],
                cited_passages=[
                    CitedCount(path, s, e, sha, int(n))
                    for path, s, e, sha, n in connection.execute(passages)
                ],
            )

    def cached_vectors(self, keys: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._reading() as connection:
            for begin in range(0, len(keys), _IN_CHUNK):
                query = select(question_vectors.c.key, question_vectors.c.vector).where(
                    question_vectors.c.key.in_(keys[begin : begin + _IN_CHUNK])
                )
                found.update((key, bytes(vector)) for key, vector in connection.execute(query))
        return found

    def cache_vectors(self, vectors: Mapping[str, bytes]) -> None:
        if not vectors:
            return
        now = _naive_utc(datetime.now(UTC))
        rows = [{"key": k, "vector": v, "stored_at": now} for k, v in vectors.items()]
        with self._transaction() as connection:
            connection.execute(self._insert_new(question_vectors), rows)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        # One snapshot for all of a report's queries; on SQLite without taking the write lock.
        with self.engine.connect().execution_options(policy_qa_read=True) as connection:
            with connection.begin():
                yield connection

    def _insert_new(self, table: Any) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    def _upsert_vote(self) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(votes)
        return statement.on_conflict_do_update(
            index_elements=[votes.c.answer_id, votes.c.person],
            set_={
                "up": statement.excluded.up,
                "comment": statement.excluded.comment,
                "voted_at": statement.excluded.voted_at,
            },
        )


def alembic_config(connection: Connection) -> Any:
    """Alembic's configuration for our migrations, on `connection` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _engine(url: URL) -> Engine:
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


def _answer_row(record: AnswerRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "asked_at": _naive_utc(record.asked_at),
        "platform": record.platform,
        "person": record.person,
        "question": record.question,
        "outcome": record.outcome,
        "caveat": record.caveat,
        "top_score": record.top_score,
    }


def _vote_row(vote: VoteRecord) -> dict[str, Any]:
    return {
        "answer_id": vote.answer_id,
        "person": vote.person,
        "up": vote.up,
        "comment": vote.comment,
        "voted_at": _naive_utc(vote.voted_at),
    }


def _outcome(text: str) -> Outcome:
    return text if text in OUTCOMES else "other"
