"""The first schema: answers, the passages they cite, and votes on them.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_qa_answers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("person", sa.String(64), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("caveat", sa.Text(), nullable=True),
        sa.Column("top_score", sa.Float(), nullable=True),
    )
    op.create_index("ix_policy_qa_answers_asked_at", "policy_qa_answers", ["asked_at"])
    op.create_table(
        "policy_qa_citations",
        sa.Column(
            "answer_id",
            sa.String(36),
            sa.ForeignKey("policy_qa_answers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("rank", sa.SmallInteger(), primary_key=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=False),
        sa.Column("end_offset", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("quote_sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "policy_qa_votes",
        sa.Column(
            "answer_id",
            sa.String(36),
            sa.ForeignKey("policy_qa_answers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("person", sa.String(64), primary_key=True),
        sa.Column("up", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("voted_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("policy_qa_votes")
    op.drop_table("policy_qa_citations")
    op.drop_index("ix_policy_qa_answers_asked_at", "policy_qa_answers")
    op.drop_table("policy_qa_answers")
