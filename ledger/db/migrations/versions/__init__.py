"""Migration scripts; Alembic loads them by path, never by import."""
