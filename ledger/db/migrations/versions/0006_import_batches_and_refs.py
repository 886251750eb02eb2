"""Import batches and the refs of imported rows, append-only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.db.migrations.append_only import create_triggers

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("import_batch", "import_ref")


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("sheet", sa.String(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
    )
    op.create_index(op.f("ix_import_batch_file_sha256"), "import_batch", ["file_sha256"])
    op.create_table(
        "import_ref",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref", sa.String(length=60), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"],
                                name=op.f("fk_import_ref_batch_id_import_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_ref")),
        sa.UniqueConstraint("kind", "ref", name=op.f("uq_import_ref_kind")),
    )
    create_triggers(TABLES)


def downgrade() -> None:
    op.drop_table("import_ref")
    op.drop_index(op.f("ix_import_batch_file_sha256"), table_name="import_batch")
    op.drop_table("import_batch")
