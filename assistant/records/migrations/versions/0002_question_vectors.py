"""The report's cache of question vectors: a question's wording is embedded once, not per report.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_qa_question_vectors",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "ix_policy_qa_question_vectors_stored_at", "policy_qa_question_vectors", ["stored_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_policy_qa_question_vectors_stored_at", "policy_qa_question_vectors")
    op.drop_table("policy_qa_question_vectors")
