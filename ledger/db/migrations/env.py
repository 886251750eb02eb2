"""Alembic environment: always run on a connection handed in by `ledger.db.migrate`."""

from alembic import context
from sqlmodel import SQLModel

import ledger.db.tables  # noqa: F401  (registers every table on SQLModel.metadata)

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through ledger.db.migrate, which supplies a connection")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    compare_type=True,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
