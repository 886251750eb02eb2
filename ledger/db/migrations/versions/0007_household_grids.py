"""Household cash-flow grids: append-only snapshots of a family's incomes and expenses.

`household_grid.follow_up_id` names the follow-up visit a snapshot was recorded at. It stays a
plain integer checked by the service (`record_household_grid`), as `loan.enrollment_id` does,
so this revision does not depend on the order in which 0003 (`follow_up_visit`) is applied.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.db.migrations.append_only import create_triggers

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("household_grid", "household_line")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
COLUMNS = tuple(f"{m}_minor" for m in MONTHS)
INCOME = "'wage', 'activity', 'farming', 'remittance', 'other'"
EXPENSE = "'food', 'housing', 'health', 'schooling', 'other'"


def upgrade() -> None:
    op.create_table(
        "household_grid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("usd_rate", sa.String(length=32), nullable=True),
        sa.Column("rate_on", sa.Date(), nullable=True),
        sa.Column("savings_minor", sa.BigInteger(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("(usd_rate IS NULL) = (rate_on IS NULL)",
                           name=op.f("ck_household_grid_rate_dated")),
        sa.CheckConstraint("savings_minor >= 0", name=op.f("ck_household_grid_savings")),
        sa.ForeignKeyConstraint(["family_id"], ["family.id"],
                                name=op.f("fk_household_grid_family_id_family")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_grid")),
    )
    op.create_index("ix_household_grid_family_id_recorded_on", "household_grid",
                    ["family_id", "recorded_on"], unique=False)
    op.create_table(
        "household_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=7), nullable=False),
        sa.Column("category", sa.String(length=12), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("seasonal", sa.Boolean(), nullable=False),
        *(sa.Column(c, sa.BigInteger(), nullable=False) for c in COLUMNS),
        sa.CheckConstraint(f"(kind = 'income' AND category IN ({INCOME})) OR "
                           f"(kind = 'expense' AND category IN ({EXPENSE}))",
                           name=op.f("ck_household_line_category")),
        sa.CheckConstraint(" AND ".join(f"{c} >= 0" for c in COLUMNS),
                           name=op.f("ck_household_line_amounts")),
        sa.CheckConstraint("seasonal OR (" + " AND ".join(f"{c} = jan_minor" for c in COLUMNS[1:])
                           + ")", name=op.f("ck_household_line_flat")),
        sa.ForeignKeyConstraint(["grid_id"], ["household_grid.id"],
                                name=op.f("fk_household_line_grid_id_household_grid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_line")),
        sa.UniqueConstraint("grid_id", "position", name=op.f("uq_household_line_grid_id")),
    )
    create_triggers(TABLES)


def downgrade() -> None:
    op.drop_table("household_line")
    op.drop_index("ix_household_grid_family_id_recorded_on", table_name="household_grid")
    op.drop_table("household_grid")
