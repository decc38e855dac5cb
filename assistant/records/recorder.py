"""Recording from an answer's path: calls that return at once and never raise, and a thread that
writes to the store.

Bots call `record_answer` and `record_vote` from their event loop: each builds the record (the
asker's salted hash instead of their id), puts it on a bounded queue and returns, in
microseconds. One writer thread opens the store (connecting and migrating), deletes records past
the retention at start and once a day, and writes the queue in batches, one transaction each.

When the database is down, full or locked, the writer keeps the records and tries again, waiting
1 s, then 2, 4, … up to a minute between tries; the failure is logged at most once a minute at
WARNING (what failed, never a question). The queue holds at most `max_queued` records: past that
the oldest is dropped, and how many were is logged at most once a minute. A record the database
refuses (a vote on an answer it never received) is dropped alone; the rest of its batch is written.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.answers import Answer
from assistant.records.base import (
    AnswerRecord,
    CitedPassage,
    Record,
    RecordRejected,
    RecordStore,
    VoteRecord,
    outcome_of,
    person_key,
    quote_digest,
    recorded_question,
    storable,
)

log = logging.getLogger(__name__)

MAX_QUEUED = 10_000  # records waiting for the database: about 10 MB at most
BATCH = 500  # records per transaction: one commit (and fsync) for many records
LOG_EVERY = 60.0  # seconds between two warnings of the same kind
MAX_RETRY_DELAY = 60.0
PURGE_EVERY = 24 * 3600.0
MAX_COMMENT_CHARS = 2000


class Throttled:
    """A warning at most once per `every` seconds; those held back are counted into the next."""

    def __init__(
        self, logger: logging.Logger, every: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.logger, self.every, self.clock = logger, every, clock
        self._last: float | None = None
        self._held = 0

    def warning(self, message: str, *args: object) -> None:
        now = self.clock()
        if self._last is not None and now - self._last < self.every:
            self._held += 1
            return
        if self._held:
            message += " (and %d more since)"
            args = (*args, self._held)
        self.logger.warning(message, *args)
        self._last, self._held = now, 0


def error_summary(error: BaseException) -> str:
    """An error in one line without the data it was about: the driver's first line (SQLAlchemy
    adds the statement, and PostgreSQL's DETAIL can hold a row's values, questions included)."""
    cause = getattr(error, "orig", None) or error
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first[:200]}" if first else type(cause).__name__


class Recorder:
    """Records answers and votes without ever delaying or failing an answer.

    Build it with `open_recorder()` (from the environment), or with a function that opens a
    store (called in the writer thread, again after it fails). `Recorder.disabled()` records
    nothing. Safe to call from any thread and from an event loop: no call waits for the database.
    """

    def __init__(
        self,
        open_store: Callable[[], RecordStore] | None,
        *,
        secret: bytes = b"",
        retention_days: int = 90,
        max_queued: int = MAX_QUEUED,
        clock: Callable[[], float] = time.monotonic,
        where: str = "the records database",
    ) -> None:
        self.enabled = open_store is not None
        self._open_store = open_store
        self._secret = secret
        self._retention = timedelta(days=retention_days)
        self._clock = clock
        self._where = where  # for log lines: the database's URL without its password
        self._queue: deque[tuple[int, Record]] = deque(maxlen=max_queued)
        self._ready = threading.Condition()
        self._sequence = itertools.count()
        self._written = -1  # every record numbered up to this one is written (or given up)
        self._last_queued = -1
        self._dropped = 0
        self._closing = False
        self._failures = Throttled(log, LOG_EVERY, clock)
        self._drops = Throttled(log, LOG_EVERY, clock)
        self._thread: threading.Thread | None = None
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="policy-qa-records", daemon=True)
            self._thread.start()
            atexit.register(self.close, 2.0)

    @classmethod
    def disabled(cls) -> Recorder:
        """A recorder that records nothing (POLICY_QA_RECORD=off): no thread, no file, no hash."""
        return cls(None)

    def record_answer(self, answer: Answer, *, platform: str, user_id: str | None) -> str:
        """Record that someone on `platform` asked `answer.question` and got `answer`; returns
        the answer's id, for `record_vote`, at once. `user_id` is the platform's id of the
        asker (None when there is none, as in a terminal); only its salted hash is kept."""
        answer_id = uuid.uuid4().hex
        if not self.enabled:
            return answer_id
        record = AnswerRecord(
            id=answer_id,
            asked_at=datetime.now(UTC),
            platform=storable(platform),
            person=None if user_id is None else person_key(self._secret, platform, user_id),
            question=recorded_question(answer.question),
            outcome=outcome_of(answer),
            caveat=None if answer.caveat is None else storable(answer.caveat),
            top_score=answer.citations[0].score if answer.citations else None,
            citations=tuple(
                CitedPassage(
                    # Absolute: the report may run from another folder than the bot.
                    path=storable(str(Path(c.path).absolute())),
                    start=c.start,
                    end=c.end,
                    score=c.score,
                    quote_sha256=quote_digest(c.quote),
                )
                for c in answer.citations
            ),
        )
        self._put(record)
        return answer_id

    def record_vote(
        self,
        answer_id: str,
        *,
        platform: str,
        user_id: str,
        up: bool,
        comment: str | None = None,
    ) -> None:
        """Record a vote (up or down, with an optional comment) on the answer `answer_id` from
        `record_answer`; a person's second vote on an answer replaces their first."""
        if not self.enabled:
            return
        text = storable((comment or "").strip()[:MAX_COMMENT_CHARS]) or None
        person = person_key(self._secret, platform, user_id)
        self._put(VoteRecord(answer_id, person, up, text, datetime.now(UTC)))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything recorded so far is written (or given up); False on timeout."""
        if not self.enabled:
            return True
        with self._ready:
            last = self._last_queued
            return self._ready.wait_for(lambda: self._written >= last, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (waiting at most `timeout` seconds, with one last try if the
        database was failing), then stop the writer; what could not be written is counted in one
        log line. Later records are ignored. From async code: `await asyncio.to_thread(close)`."""
        if self._thread is None:
            return
        atexit.unregister(self.close)
        with self._ready:
            self._closing = True
            self._ready.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():  # still waiting for the database; it will stop after
            self._stopped_with(self.queued)
        self._thread = None

    def _stopped_with(self, waiting: int) -> None:
        log.warning("Stopped recording with %d records not yet written to %s", waiting, self._where)

    @property
    def queued(self) -> int:
        """Records waiting for the database."""
        with self._ready:
            return len(self._queue)

    def _put(self, record: Record) -> None:
        with self._ready:
            if self._closing:
                return
            if len(self._queue) == self._queue.maxlen:
                self._dropped += 1  # deque drops the oldest as this one goes in
            sequence = next(self._sequence)
            self._queue.append((sequence, record))
            self._last_queued = sequence
            self._ready.notify_all()

    def _run(self) -> None:
        assert self._open_store is not None
        store: RecordStore | None = None
        delay = 0.0  # after a failure: how long to wait before trying again
        purge_due = 0.0
        failed_closing = False  # the one last try made once close() was called failed too
        try:
            while True:
                with self._ready:
                    if delay and not self._closing:
                        self._ready.wait_for(lambda: self._closing, delay)
                    elif store is not None and not self._closing:
                        # (No store yet: open it now, at start.)
                        self._ready.wait_for(
                            lambda: self._queue or self._closing,
                            max(purge_due - self._clock(), 0.0),
                        )
                    if self._dropped:
                        self._drops.warning(
                            "Recording cannot keep up with %s: dropped the %d oldest records",
                            self._where,
                            self._dropped,
                        )
                        self._dropped = 0
                    if self._closing and (not self._queue or failed_closing):
                        if self._queue:  # the database is still failing: give up what is left
                            self._stopped_with(len(self._queue))
                        break
                    batch = list(itertools.islice(self._queue, BATCH))
                try:
                    if store is None:
                        store = self._open_store()
                    if self._clock() >= purge_due:
                        self._purge(store)
                        purge_due = self._clock() + PURGE_EVERY
                    if batch:
                        self._write(store, batch)
                    delay = 0.0
                except Exception as e:
                    failed_closing = self._closing
                    delay = min(max(delay * 2, 1.0), MAX_RETRY_DELAY)
                    self._failures.warning(
                        "Cannot record in %s (%s); answering goes on, %d records wait, next try "
                        "in %.0f s",
                        self._where,
                        error_summary(e),
                        len(self._queue),
                        delay,
                    )
                    log.debug("Recording failed", exc_info=True)
        finally:
            if store is not None:
                store.close()

    def _purge(self, store: RecordStore) -> None:
        deleted = store.purge(datetime.now(UTC) - self._retention)
        if deleted:
            log.info(
                "Deleted %d recorded answers older than %d days",
                deleted,
                self._retention.days,
            )

    def _write(self, store: RecordStore, batch: list[tuple[int, Record]]) -> None:
        try:
            store.write([record for _, record in batch])
        except RecordRejected:
            # One refused record must not hold back the others: write them one by one.
            for _, record in batch:
                try:
                    store.write([record])
                except RecordRejected as e:
                    self._failures.warning(
                        "%s refused a %s record (%s); dropped it",
                        self._where,
                        "vote" if isinstance(record, VoteRecord) else "answer",
                        error_summary(e.__cause__ or e),
                    )
        with self._ready:
            last = batch[-1][0]
            # Records dropped meanwhile (the queue was full) may have been of this batch: take
            # off the front only what is numbered up to its last.
            while self._queue and self._queue[0][0] <= last:
                self._queue.popleft()
            self._written = last
            self._ready.notify_all()
