"""Each account's postings summed per day and entry kind, kept beside the journal.

A fund's cash account takes a posting from every repayment: at a million loans, millions of
them, and its balance on a date (asked before every disbursement, grant and transfer, and by
the dashboard) took seconds to sum. `account_day` holds one row per account, day and kind,
added to in the transaction that posts the entry; this migration fills it from the journal.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_day",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_account_day_account_id_account")),
        sa.PrimaryKeyConstraint("account_id", "occurred_on", "kind",
                                name=op.f("pk_account_day")),
    )
    op.execute(
        "INSERT INTO account_day (account_id, occurred_on, kind, amount_minor) "
        "SELECT p.account_id, e.occurred_on, e.kind, SUM(p.amount_minor) "
        "FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
        "GROUP BY p.account_id, e.occurred_on, e.kind"
    )


def downgrade() -> None:
    op.drop_table("account_day")
