"""The report's queries: problem questions, the tallies, and cached question vectors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, FunctionElement, String, case, distinct, exists, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from assistant.records.base import (
    OUTCOMES,
    CitedCount,
    DocumentVotes,
    Outcome,
    ProblemQuestion,
    Tallies,
)
from assistant.records.schema import answers, citations, naive_utc, question_vectors, votes
from assistant.records.sql.engine import reading

_IN_CHUNK = 500  # keys per IN (...) list: SQLite allows 32,766 parameters, PostgreSQL 65,535


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


def problems(engine: Engine, since: datetime) -> list[ProblemQuestion]:
    """RecordStore.problems: the questions refused, unsure or voted down since `since`."""
    start = naive_utc(since)
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
    with reading(engine) as connection:
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


def tallies(engine: Engine, since: datetime, top: int = 10) -> Tallies:
    """RecordStore.tallies: outcomes by day, votes, and the most cited documents and passages."""
    start = naive_utc(since)
    recent = answers.c.asked_at >= start
    day = utc_day(answers.c.asked_at)
    per_day = (
        select(day, answers.c.outcome, func.count()).where(recent).group_by(day, answers.c.outcome)
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
    with reading(engine) as connection:
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


def cached_vectors(engine: Engine, keys: Sequence[str]) -> dict[str, bytes]:
    """RecordStore.cached_vectors: the vectors kept under any of `keys`."""
    found: dict[str, bytes] = {}
    with reading(engine) as connection:
        for begin in range(0, len(keys), _IN_CHUNK):
            query = select(question_vectors.c.key, question_vectors.c.vector).where(
                question_vectors.c.key.in_(keys[begin : begin + _IN_CHUNK])
            )
            found.update((key, bytes(vector)) for key, vector in connection.execute(query))
    return found


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _outcome(text: str) -> Outcome:
    return text if text in OUTCOMES else "other"
