"""Run the packaged Alembic migrations from code: no alembic.ini on disk is needed.

`upgrade(engine)` brings a ledger to the newest schema; `current_revision(engine)` and
`head_revision()` tell whether a ledger is older than this program (the app takes a backup before
upgrading an older ledger). Alembic is imported inside the functions: it costs ~0.15 s at
start-up and only these calls need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["alembic_config", "current_revision", "downgrade", "head_revision", "upgrade"]

SCRIPT_LOCATION = "ledger.db:migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic Config built in code, pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine, revision: str = "heads") -> None:
    """Migrate the database to `revision` (default: the newest), in one transaction."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Migrate the database down to `revision` ("base" drops every table)."""
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at, or None for an empty (never migrated) database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
        return ",".join(sorted(heads)) if heads else None


def head_revision() -> str:
    """The newest revision this program ships (comma-joined if branches have not merged)."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if not heads:  # pragma: no cover - the package always ships a first revision
        raise RuntimeError("no migrations found")
    return ",".join(sorted(heads))
