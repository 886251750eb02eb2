"""Spreadsheet imports: one `import_batch` row per committed file, and `import_ref` naming
the rows created from refs that have no column of their own (enrollments, follow-up visits).

Both are append-only: an import is a fact about the past, like the journal it feeds.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.db.tables.base import UTCDateTime, utc_now

__all__ = ["ImportBatch", "ImportRef"]


class ImportBatch(SQLModel, table=True):
    """A file committed by an import: what kind, which file (name and SHA-256), who, when,
    and how many rows it created or found already in the ledger."""

    __tablename__ = "import_batch"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    file_name: str
    file_sha256: str = Field(sa_type=sa.String(64), index=True)
    sheet: str
    rows: int
    created: int
    unchanged: int
    imported_by: str
    imported_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ImportRef(SQLModel, table=True):
    """The ledger row an imported ref became, for kinds whose table keeps no ref."""

    __tablename__ = "import_ref"
    __table_args__ = (sa.UniqueConstraint("kind", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    ref: str = Field(max_length=60)
    target_id: int
    batch_id: int = Field(foreign_key="import_batch.id")
