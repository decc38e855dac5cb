"""The records store: the same cases on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from assistant.records.base import (
    AnswerRecord,
    CitedPassage,
    Outcome,
    RecordRejected,
    VoteRecord,
)
from assistant.records.schema import VERSION_TABLE, metadata
from assistant.records.sql import SQLStore, database_url

pytest_plugins = ["tests.postgres_server"]

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TABLES = (
    *("policy_qa_votes", "policy_qa_citations", "policy_qa_answers", "policy_qa_question_vectors"),
    VERSION_TABLE,
)


def empty_postgres(url: str) -> str:
    """`url`'s database without our tables: each case starts from nothing."""
    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        for table in TABLES:
            connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/records.sqlite3"
    return empty_postgres(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(url: str) -> Iterator[SQLStore]:
    opened = SQLStore.open(url)
    yield opened
    opened.close()


def answer(
    question: str,
    outcome: Outcome = "answered",
    at: datetime = NOW,
    cited: tuple[tuple[str, int, int], ...] = (),
    person: str | None = "p-asker",
) -> AnswerRecord:
    return AnswerRecord(
        id=uuid.uuid4().hex,
        asked_at=at,
        platform="slack",
        person=person,
        question=question,
        outcome=outcome,
        caveat="I'm not sure the documents answer this." if outcome == "unsure" else None,
        top_score=0.8 if cited else None,
        citations=tuple(
            CitedPassage(path, start, end, 0.8 - 0.1 * i, f"{path}:{start}".ljust(64, "0"))
            for i, (path, start, end) in enumerate(cited)
        ),
    )


def vote(on: AnswerRecord, person: str, up: bool, comment: str | None = None) -> VoteRecord:
    return VoteRecord(on.id, person, up, comment, on.asked_at + timedelta(minutes=1))


def test_a_fresh_database_gets_the_newest_schema_and_it_matches_the_tables(store: SQLStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from assistant.records.sql import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert store.schema_revision() == head is not None
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        # What the migrations made is what schema.py describes (names, types, keys, indexes).
        assert compare_metadata(context, metadata) == []


def test_stores_opened_at_once_in_one_process_each_get_the_whole_schema(tmp_path: Path) -> None:
    # Alembic's proxies are module-wide: unserialized, these ran each other's steps.
    errors: list[Exception] = []
    opened: dict[int, tuple[str | None, set[str]]] = {}

    def open_one(n: int) -> None:
        try:
            store = SQLStore.open(f"sqlite:///{tmp_path}/records-{n}.sqlite3")
        except Exception as e:
            errors.append(e)
            return
        opened[n] = (store.schema_revision(), set(inspect(store.engine).get_table_names()))
        store.close()

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    from alembic.script import ScriptDirectory

    from assistant.records.sql import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert errors == []
    assert list(opened.values()) == [(head, set(TABLES))] * 8


def test_every_revision_upgrades_to_the_newest_keeping_what_it_holds(url: str) -> None:
    from alembic.script import ScriptDirectory

    from assistant.records.sql import MIGRATIONS

    revisions = [r.revision for r in ScriptDirectory(str(MIGRATIONS)).walk_revisions()]
    assert revisions[-1] == "0001" and len(revisions) >= 2  # newest first
    for n, revision in enumerate(reversed(revisions)):
        fresh = f"{url}.{n}" if url.startswith("sqlite") else empty_postgres(url)
        store = SQLStore.open(fresh, migrate=False)
        try:
            store.migrate(revision)
            assert store.schema_revision() == revision
            # Rows as the first revision's tables take them, written without the store.
            asked = uuid.uuid4().hex
            with store.engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO policy_qa_answers (id, asked_at, platform, person, question,"
                        " outcome, caveat, top_score) VALUES (:id, :at, 'discord', 'p', :q,"
                        " 'refused', NULL, NULL)"
                    ),
                    {"id": asked, "at": NOW.replace(tzinfo=None), "q": f"Before {revision}?"},
                )
            store.migrate()
            assert f"Before {revision}?" in {p.question for p in store.problems(NOW - DAY)}
            store.write([VoteRecord(asked, "p", False, "old answer", NOW)])
            (problem,) = store.problems(NOW - DAY)
            assert problem.down_votes == 1 and problem.comments == ("old answer",)
            store.cache_vectors({"k" * 64: b"\x00" * 1536})  # the table 0002 adds
            assert store.cached_vectors(["k" * 64]) == {"k" * 64: b"\x00" * 1536}
        finally:
            store.close()


def test_problems_are_refused_unsure_or_voted_down_questions(store: SQLStore) -> None:
    refused = answer("Can I bring my dog?", "refused")
    unsure = answer("When was it founded?", "unsure", cited=(("/k/a.md", 0, 10),))
    plain = answer("Why was it banned?", "answered", cited=(("/k/a.md", 20, 40),))
    disliked = answer("What is the budget?", "answered", cited=(("/k/b.md", 5, 9),))
    liked = answer("Who wrote it?", "answered", cited=(("/k/b.md", 50, 90),))
    greeting = answer("hello", "other")
    store.write(
        [
            refused,
            unsure,
            plain,
            disliked,
            liked,
            greeting,
            vote(disliked, "p1", False, "wrong figure"),
            vote(disliked, "p2", True),
            vote(liked, "p1", True, "spot on"),
        ]
    )
    problems = {p.question: p for p in store.problems(NOW - DAY)}
    assert set(problems) == {refused.question, unsure.question, disliked.question}
    assert problems[refused.question].outcome == "refused"
    assert problems[unsure.question].outcome == "unsure"
    assert problems[disliked.question].down_votes == 1
    assert problems[disliked.question].comments == ("wrong figure",)
    assert problems[refused.question].asked_at == NOW


def test_a_second_vote_replaces_the_first(store: SQLStore) -> None:
    asked = answer("What is the budget?", cited=(("/k/b.md", 5, 9),))
    store.write([asked, vote(asked, "p1", False, "wrong")])
    assert [p.down_votes for p in store.problems(NOW - DAY)] == [1]
    store.write([vote(asked, "p1", True)])  # p1 changes their mind: no longer voted down
    assert store.problems(NOW - DAY) == []
    tallies = store.tallies(NOW - DAY)
    assert (tallies.votes_up, tallies.votes_down) == (1, 0)
    # Twice in one batch, then another person: the later vote stands, each person counts once.
    store.write([vote(asked, "p2", True), vote(asked, "p2", False, "no"), vote(asked, "p3", False)])
    (problem,) = store.problems(NOW - DAY)
    assert problem.down_votes == 2 and problem.comments == ("no",)
    tallies = store.tallies(NOW - DAY)
    assert (tallies.votes_up, tallies.votes_down) == (1, 2)


def test_purge_deletes_old_answers_with_their_citations_and_votes(store: SQLStore) -> None:
    old = answer("Old?", "refused", at=NOW - 100 * DAY, cited=())
    old_cited = answer("Old cited?", at=NOW - 91 * DAY, cited=(("/k/a.md", 0, 5),))
    new = answer("New?", "refused", at=NOW - 89 * DAY)
    store.write([old, old_cited, new, vote(old_cited, "p", False), vote(new, "p", False)])
    assert store.purge(NOW - 90 * DAY) == 2
    since = NOW - 365 * DAY
    assert [p.question for p in store.problems(since)] == ["New?"]
    tallies = store.tallies(since)
    assert tallies.cited_documents == [] and tallies.votes_down == 1
    assert store.purge(NOW - 90 * DAY) == 0
    with store.engine.connect() as connection:  # nothing left behind that names the old ones
        for table in ("policy_qa_citations", "policy_qa_votes"):
            ids = connection.execute(text(f"SELECT answer_id FROM {table}")).scalars().all()
            assert set(ids) <= {new.id}


def test_tallies_count_outcomes_per_day_votes_per_document_and_citations(store: SQLStore) -> None:
    yesterday, today = NOW - DAY, NOW
    a = answer("A?", at=yesterday, cited=(("/k/a.md", 0, 10), ("/k/a.md", 20, 30)))
    b = answer("B?", at=today, cited=(("/k/a.md", 0, 10), ("/k/b.md", 5, 9)))
    c = answer("C?", "unsure", at=today, cited=(("/k/b.md", 5, 9),))
    d = answer("D?", "refused", at=today)
    e = answer("E?", "refused", at=today - 10 * DAY)  # before the period
    store.write([a, b, c, d, e, vote(a, "p1", True), vote(b, "p1", False), vote(b, "p2", False)])
    tallies = store.tallies(yesterday - timedelta(hours=1))
    assert tallies.outcomes_by_day == {
        yesterday.date(): {"answered": 1, "unsure": 0, "refused": 0, "other": 0},
        today.date(): {"answered": 1, "unsure": 1, "refused": 1, "other": 0},
    }
    assert (tallies.votes_up, tallies.votes_down) == (1, 2)
    # b cites both documents: each gets its two down votes; a's two quotes of one document: once.
    votes = {v.path: (v.up, v.down) for v in tallies.document_votes}
    assert votes == {"/k/a.md": (1, 2), "/k/b.md": (0, 2)}
    assert [(c.path, c.answers) for c in tallies.cited_documents] == [
        ("/k/a.md", 2),
        ("/k/b.md", 2),
    ]
    passages = [(c.path, c.start, c.end, c.answers) for c in tallies.cited_passages]
    assert passages[:2] == [("/k/a.md", 0, 10, 2), ("/k/b.md", 5, 9, 2)]
    assert passages[2] == ("/k/a.md", 20, 30, 1)
    assert [c.path for c in store.tallies(yesterday - DAY, top=1).cited_passages] == ["/k/a.md"]
    assert date(2026, 11, 10) in store.tallies(NOW - 30 * DAY).outcomes_by_day


def test_a_vote_on_an_answer_it_never_got_is_rejected_and_an_answer_twice_is_kept_once(
    store: SQLStore,
) -> None:
    asked = answer("Q?", "refused")
    with pytest.raises(RecordRejected):
        store.write([vote(asked, "p", False)])
    store.write([asked])
    store.write([asked, vote(asked, "p", False)])  # a retry of a write that had gone through
    assert [(p.question, p.down_votes) for p in store.problems(NOW - DAY)] == [("Q?", 1)]


def test_text_is_kept_exactly(store: SQLStore) -> None:
    odd = "Ça va? 🤖 — «naïve» 'quotes' \"double\" \\ back; DROP TABLE policy_qa_answers; --"
    asked = answer(odd, "refused")
    store.write([asked, vote(asked, "p", False, odd)])
    (problem,) = store.problems(NOW - DAY)
    assert problem.question == odd and problem.comments == (odd,)


def test_cached_vectors_are_kept_and_purged_by_age(store: SQLStore) -> None:
    vector = bytes(range(256)) * 6  # 384 float32s' worth of bytes, as the report stores them
    store.cache_vectors({"a" * 64: vector, "b" * 64: vector[::-1]})
    store.cache_vectors({"a" * 64: b"ignored: the first one stays"})
    keys = ["a" * 64, "c" * 64] + [f"{n:064d}" for n in range(1200)]  # several IN (...) lists
    assert store.cached_vectors(keys) == {"a" * 64: vector}
    now = datetime.now(UTC)
    store.purge(now - DAY)
    assert len(store.cached_vectors(["a" * 64, "b" * 64])) == 2
    store.purge(now + timedelta(seconds=1))
    assert store.cached_vectors(["a" * 64, "b" * 64]) == {}
