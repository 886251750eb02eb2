"""Alembic migrations of the ledger schema, shipped inside the package (see `ledger.db.migrate`)."""
