"""The store's writes: answers with their citations, votes, cached question vectors, the purge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from assistant.records.base import AnswerRecord, Record, RecordRejected, VoteRecord
from assistant.records.schema import answers, citations, naive_utc, question_vectors, votes


def write(engine: Engine, records: Sequence[Record]) -> None:
    """RecordStore.write: `records` in one transaction, or RecordRejected."""
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
        _write(engine, answer_rows, citation_rows, list(latest_votes.values()))
    except (IntegrityError, DataError) as e:
        raise RecordRejected(str(e.orig)) from e
    except DBAPIError:
        raise  # the database failed (down, full, locked): the same records may go later
    except (UnicodeError, ValueError, TypeError) as e:
        # Raised before the database saw them: these records could never be written.
        raise RecordRejected(type(e).__name__) from e


def _write(
    engine: Engine,
    answer_rows: list[dict[str, Any]],
    citation_rows: list[dict[str, Any]],
    vote_rows: list[dict[str, Any]],
) -> None:
    with engine.begin() as connection:
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
            connection.execute(_insert_new(engine, answers), answer_rows)
        if citation_rows:
            connection.execute(_insert_new(engine, citations), citation_rows)
        if vote_rows:
            connection.execute(_upsert_vote(engine), vote_rows)


def purge(engine: Engine, before: datetime) -> int:
    """RecordStore.purge: answers asked and vectors stored before `before`; how many answers."""
    with engine.begin() as connection:
        # Citations and votes go with their answer (ON DELETE CASCADE).
        cutoff = naive_utc(before)
        result = connection.execute(delete(answers).where(answers.c.asked_at < cutoff))
        connection.execute(delete(question_vectors).where(question_vectors.c.stored_at < cutoff))
        return int(result.rowcount or 0)


def cache_vectors(engine: Engine, vectors: Mapping[str, bytes]) -> None:
    """RecordStore.cache_vectors: the vectors not kept yet, stored now."""
    if not vectors:
        return
    now = naive_utc(datetime.now(UTC))
    rows = [{"key": k, "vector": v, "stored_at": now} for k, v in vectors.items()]
    with engine.begin() as connection:
        connection.execute(_insert_new(engine, question_vectors), rows)


def _insert_new(engine: Engine, table: Any) -> Any:
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def _upsert_vote(engine: Engine) -> Any:
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(votes)
    return statement.on_conflict_do_update(
        index_elements=[votes.c.answer_id, votes.c.person],
        set_={
            "up": statement.excluded.up,
            "comment": statement.excluded.comment,
            "voted_at": statement.excluded.voted_at,
        },
    )


def _answer_row(record: AnswerRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "asked_at": naive_utc(record.asked_at),
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
        "voted_at": naive_utc(vote.voted_at),
    }
