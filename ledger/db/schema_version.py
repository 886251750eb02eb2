"""Is a ledger at the newest schema? Told from the migration files and the ledger's version row
alone, without importing Alembic, so opening the app (and every command's check) stays quick;
Alembic decides whenever the files are not one plain chain, and runs every migration."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from ledger.db.engine import read_only

__all__ = ["current_revision", "head_revision", "schema_is_current", "shipped_head"]
VERSION_TABLE = "alembic_version"  # Alembic's default, which the packaged migrations keep

# `revision = "0007"` and `down_revision = "0006"` (or None) as each migration file states them.
_REVISION = re.compile(r'^revision\b[^=\n]*=\s*"(\w+)"\s*$', re.MULTILINE)
_PARENT = re.compile(r'^down_revision\b[^=\n]*=\s*(?:"(\w+)"|None)\s*$', re.MULTILINE)


def shipped_head() -> str | None:
    """The newest schema revision, read from the packaged migration files without importing
    Alembic (which costs ~0.2 s of the app's start); None unless they form one plain chain,
    each file naming one revision and the one before it."""
    chain: dict[str, str | None] = {}
    for path in (Path(__file__).with_name("migrations") / "versions").glob("*.py"):
        text = path.read_text("utf-8")
        revisions, parents = _REVISION.findall(text), _PARENT.findall(text)
        if path.name != "__init__.py" and (len(revisions) != 1 or len(parents) != 1):
            return None  # a file this reading does not understand: Alembic decides
        chain.update({revisions[0]: parents[0] or None} if revisions else {})
    parents_named = {p for p in chain.values() if p is not None}
    heads = set(chain) - parents_named
    return heads.pop() if len(heads) == 1 and parents_named <= set(chain) else None


def schema_is_current(engine: sa.Engine) -> bool:
    """Whether the ledger is at the newest schema, by reading its version row directly; False
    when that cannot be told this way (then Alembic decides, as before)."""
    head = shipped_head()
    if head is None:
        return False
    try:
        with read_only(engine).connect() as connection:
            versions = connection.execute(
                sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    except sa.exc.SQLAlchemyError:
        return False
    return versions == [head]


def head_revision() -> str:
    """The newest revision this program ships (comma-joined if branches have not merged): read
    from the migration files, or by Alembic when they are not one plain chain."""
    head = shipped_head()
    if head is not None:
        return head
    from ledger.db import migrate

    return migrate.head_revision()


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at, or None for an empty (never migrated) database: the
    version table read as Alembic reads it (on a connection of `engine` itself, so a ledger
    another program is writing reports busy here, as it would under Alembic)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table(VERSION_TABLE):
            return None
        heads = connection.execute(
            sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    return ",".join(sorted(heads)) if heads else None
