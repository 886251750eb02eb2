"""Storage of the ledger: engines, tables, packaged migrations.

    engine = make_engine(resolve_url(None))   # the default ledger, or $FSF_DATABASE_URL
    upgrade(engine)                            # create or bring the schema up to date
    with Session(engine) as session: ...       # services commit once per use case

Importing this package defines tables only; it opens no file and creates no engine.
"""

from ledger.db import tables
from ledger.db.engine import (
    DATABASE_URL_ENV,
    default_ledger_path,
    is_postgresql,
    is_sqlite,
    make_engine,
    read_only,
    resolve_url,
)
from ledger.db.migrate import current_revision, head_revision, upgrade

__all__ = [
    "DATABASE_URL_ENV",
    "current_revision",
    "default_ledger_path",
    "head_revision",
    "is_postgresql",
    "is_sqlite",
    "make_engine",
    "read_only",
    "resolve_url",
    "tables",
    "upgrade",
]
