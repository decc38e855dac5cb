"""What is recorded (answers, their citations, votes) and the interface every store implements.

A store is synchronous and may raise (the database is down, full, locked): callers on an answer's
path never use one directly but through `Recorder`, which writes from a thread of its own and
never raises. The report reads a store directly.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol, TypeAlias

from assistant.answers import MAX_QUESTION_CHARS, Answer, normalize_question
from assistant.errors import QuestionError
from assistant.reading import small_talk_reply

# answered: with quotes and no caveat; unsure: with quotes and a caveat; refused: "the documents
# don't cover this"; other: not a question about the documents (a greeting, an empty or too long
# message), recorded so that the shares add up but never counted as a problem.
Outcome: TypeAlias = Literal["answered", "unsure", "refused", "other"]
OUTCOMES: tuple[Outcome, ...] = ("answered", "unsure", "refused", "other")


@dataclass(frozen=True)
class CitedPassage:
    """Where a quote of an answer came from. The quote itself is not kept: its SHA-256 lets the
    report show it only while the file still holds those very characters."""

    path: str  # absolute: the report may run from another directory than the bot
    start: int
    end: int
    score: float
    quote_sha256: str


@dataclass(frozen=True)
class AnswerRecord:
    id: str  # chosen by the caller (a UUID), so a vote can name the answer before it is written
    asked_at: datetime  # UTC, timezone-aware
    platform: str  # which adapter asked: a name of its choosing
    person: str | None  # person_key() of who asked; never a platform's own id
    question: str
    outcome: Outcome
    caveat: str | None
    top_score: float | None  # the first quote's score; None when nothing was quoted
    citations: tuple[CitedPassage, ...]


@dataclass(frozen=True)
class VoteRecord:
    """One person's verdict on one answer; a later vote of theirs on it replaces this one."""

    answer_id: str
    person: str  # person_key() of who voted
    up: bool
    comment: str | None
    voted_at: datetime  # UTC, timezone-aware


Record: TypeAlias = AnswerRecord | VoteRecord


class RecordRejected(ValueError):
    """Raised by a store's `write` when the database refuses the records themselves (a vote on an
    answer it does not have), as opposed to failing to write anything at all."""


@dataclass(frozen=True)
class ProblemQuestion:
    """A question refused, answered with a caveat, or voted down at least once."""

    answer_id: str
    asked_at: datetime
    question: str
    outcome: Outcome
    down_votes: int
    comments: tuple[str, ...]  # every comment left on its answer, up or down


@dataclass(frozen=True)
class DocumentVotes:
    path: str
    up: int
    down: int


@dataclass(frozen=True)
class CitedCount:
    """How many answers cited a document (start, end and quote_sha256 None) or one passage."""

    path: str
    start: int | None
    end: int | None
    quote_sha256: str | None
    answers: int


@dataclass(frozen=True)
class Tallies:
    """The counts the report needs, over questions asked since a moment (votes included by the
    time of the question they are on)."""

    outcomes_by_day: dict[date, dict[Outcome, int]]  # UTC days, every outcome present
    votes_up: int
    votes_down: int
    document_votes: list[DocumentVotes]  # a vote counts once for each document its answer cites
    cited_documents: list[CitedCount]  # most cited first
    cited_passages: list[CitedCount]  # most cited first


class RecordStore(Protocol):
    """Keeps records. SQLStore (SQLite, PostgreSQL) and DisabledStore implement it.

    Every method may raise the database's own errors; `write` writes all of `records` or none,
    and raises RecordRejected when it is the records that the database refuses."""

    def write(self, records: Sequence[Record]) -> None:
        """Answers (with their citations) and votes, in order, in one transaction; a vote
        replaces the same person's earlier vote on the same answer."""
        ...

    def purge(self, before: datetime) -> int:
        """Deletes answers asked before `before`, with their citations and votes, and cached
        question vectors stored before it; returns how many answers."""
        ...

    def problems(self, since: datetime) -> list[ProblemQuestion]:
        """Problem questions asked since `since`, oldest first."""
        ...

    def tallies(self, since: datetime, top: int = 10) -> Tallies:
        """The counts over questions asked since `since`; `top` of each "most cited" list."""
        ...

    def cached_vectors(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The report's cached question vectors that the store has, of those keyed `keys`."""
        ...

    def cache_vectors(self, vectors: Mapping[str, bytes]) -> None:
        """Keep question vectors for later reports (purged with the records, by age)."""
        ...

    def close(self) -> None: ...


def outcome_of(answer: Answer) -> Outcome:
    """How the assistant answered: see Outcome."""
    if answer.answered:
        return "answered" if answer.caveat is None else "unsure"
    try:
        asked = normalize_question(answer.question)
    except QuestionError:
        return "other"
    return "other" if small_talk_reply(asked) is not None else "refused"


def storable(text: str) -> str:
    """`text` as every database keeps it: valid UTF-8 (a lone surrogate, as in a file name that
    is not UTF-8, shown as its escape) and no NUL, which PostgreSQL's text refuses."""
    if text.isascii() and "\x00" not in text:
        return text
    return text.replace("\x00", "\ufffd").encode("utf-8", "backslashreplace").decode("utf-8")


def recorded_question(question: str) -> str:
    """The question as kept: storable, and a message too long to be a question cut at the length
    a question may have (it was not answered anyway)."""
    if len(question) > MAX_QUESTION_CHARS:
        question = question[:MAX_QUESTION_CHARS] + "…"
    return storable(question)


def person_key(secret: bytes, platform: str, user_id: str) -> str:
    """Who someone is, without their platform id: HMAC-SHA256 of "platform:user_id" keyed with
    the store's secret. The same person on the same platform gets the same key (one vote per
    answer); without the secret the key cannot be tested against a list of known ids."""
    return hmac.new(secret, f"{platform}:{user_id}".encode(), hashlib.sha256).hexdigest()


def quote_digest(quote: str) -> str:
    return hashlib.sha256(quote.encode()).hexdigest()
