"""Capital receipts and grant payments, append-only like the journal they explain.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.db.migrations.append_only import create_triggers

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("capital_receipt", "grant_payment")


def upgrade() -> None:
    op.create_table(
        "capital_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("contributor", sa.String(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("foreign_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("foreign_currency", sa.String(length=3), nullable=True),
        sa.Column("rate", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entry.id"],
                                name=op.f("fk_capital_receipt_entry_id_journal_entry")),
        sa.ForeignKeyConstraint(["fund_id"], ["fund.id"],
                                name=op.f("fk_capital_receipt_fund_id_fund")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capital_receipt")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_capital_receipt_entry_id")),
        sa.UniqueConstraint("ref", name=op.f("uq_capital_receipt_ref")),
    )
    op.create_table(
        "grant_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entry.id"],
                                name=op.f("fk_grant_payment_entry_id_journal_entry")),
        sa.ForeignKeyConstraint(["family_id"], ["family.id"],
                                name=op.f("fk_grant_payment_family_id_family")),
        sa.ForeignKeyConstraint(["fund_id"], ["fund.id"],
                                name=op.f("fk_grant_payment_fund_id_fund")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_payment")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_grant_payment_entry_id")),
        sa.UniqueConstraint("ref", name=op.f("uq_grant_payment_ref")),
    )
    create_triggers(TABLES)


def downgrade() -> None:
    op.drop_table("grant_payment")
    op.drop_table("capital_receipt")
