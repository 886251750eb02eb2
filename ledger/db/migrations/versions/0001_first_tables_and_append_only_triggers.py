"""First tables of the ledger and the append-only triggers.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Every table of `ledger.db.tables` as of this revision, reviewed after autogeneration (SQLModel's
AutoString written as plain `sa.String`, the ledger's type decorators as their storage types),
plus triggers that make the journal and the loan history append-only in the database itself.
The tables are written out in `ledger.db.migrations.first_register_tables` and
`first_journal_tables`, frozen with this revision like the trigger SQL: a later change to any
of them belongs in a new revision.
"""

from collections.abc import Sequence

from alembic import op

from ledger.db.migrations.append_only import (
    create_refuse_function,
    create_triggers,
    drop_refuse_function,
    drop_triggers,
)
from ledger.db.migrations.first_journal_tables import create_journal_tables
from ledger.db.migrations.first_register_tables import create_register_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY_TABLES = (
    "journal_entry",
    "posting",
    "repayment",
    "repayment_reversal",
    "loan_event",
    "loan_schedule",
    "schedule_installment",
)


def upgrade() -> None:
    create_register_tables()
    create_journal_tables()
    create_refuse_function()
    create_triggers(APPEND_ONLY_TABLES)


def downgrade() -> None:
    drop_triggers(APPEND_ONLY_TABLES)
    drop_refuse_function()
    op.drop_table("repayment_reversal")
    op.drop_table("schedule_installment")
    op.drop_table("repayment")
    op.drop_table("posting")
    op.drop_table("loan_schedule")
    op.drop_table("loan_event")
    op.drop_table("journal_entry")
    op.drop_table("sensitive_fact")
    op.drop_table("loan")
    op.drop_table("informal_debt")
    op.drop_table("family_member")
    op.drop_table("family")
    op.drop_table("village")
    op.drop_table("commune")
    op.drop_table("account")
    op.drop_table("district")
    op.drop_table("cash_box")
    op.drop_table("province")
    op.drop_table("loan_product")
    op.drop_table("fund")
    op.drop_table("app_meta")
