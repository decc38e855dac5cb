"""Alembic's entry point for the records' migrations: run on the connection SQLStore hands over."""

from __future__ import annotations

from alembic import context

from assistant.records.schema import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    # SQLite cannot alter most of a table in place; batch mode copies it instead.
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
