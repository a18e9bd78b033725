"""Alembic's entry point for the ledger: migrations run on the connection the ledger passes
(`interviews.ledger.migrate`), never from a URL in a config file."""

from __future__ import annotations

from alembic import context

from interviews.ledger import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
