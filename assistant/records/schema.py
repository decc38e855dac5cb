"""The records' tables as SQLAlchemy sees them; the migrations in migrations/versions/ make them.

Every name starts with `policy_qa_`, so the records can share a PostgreSQL database with other
applications. Times are UTC without a time zone (SQLite has no time zone type; one convention for
both databases). A test checks that these tables and the migrations' result do not drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

PREFIX = "policy_qa_"
VERSION_TABLE = f"{PREFIX}schema_version"

metadata = MetaData()

answers = Table(
    f"{PREFIX}answers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("asked_at", DateTime(), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("person", String(64), nullable=True),
    Column("question", Text(), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("caveat", Text(), nullable=True),
    Column("top_score", Float(), nullable=True),
    # The report and the purge both select by time.
    Index(f"ix_{PREFIX}answers_asked_at", "asked_at"),
)

citations = Table(
    f"{PREFIX}citations",
    metadata,
    Column(
        "answer_id",
        String(36),
        ForeignKey(f"{PREFIX}answers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("rank", SmallInteger(), primary_key=True),  # 1 for the first quote
    Column("path", Text(), nullable=False),
    Column("start_offset", Integer(), nullable=False),
    Column("end_offset", Integer(), nullable=False),
    Column("score", Float(), nullable=False),
    Column("quote_sha256", String(64), nullable=False),
)

votes = Table(
    f"{PREFIX}votes",
    metadata,
    Column(
        "answer_id",
        String(36),
        ForeignKey(f"{PREFIX}answers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("person", String(64), primary_key=True),  # one vote per person per answer
    Column("up", Boolean(), nullable=False),
    Column("comment", Text(), nullable=True),
    Column("voted_at", DateTime(), nullable=False),
)

# The report's cache: a question's vector, keyed by the SHA-256 of the model's id and the text
# embedded, so a wording is embedded once however many reports include it. Derived from questions,
# so kept no longer than they are (purged with them, by age).
question_vectors = Table(
    f"{PREFIX}question_vectors",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("vector", LargeBinary(), nullable=False),  # float32, little-endian
    Column("stored_at", DateTime(), nullable=False),
    Index(f"ix_{PREFIX}question_vectors_stored_at", "stored_at"),
)


def naive_utc(moment: datetime) -> datetime:
    """A moment as the tables keep it: in UTC, without a time zone (a naive one is UTC already)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
