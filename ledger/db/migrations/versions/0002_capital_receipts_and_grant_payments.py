"""Capital receipts and grant payments, append-only like the journal they explain.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("capital_receipt", "grant_payment")


def _triggers() -> None:
    # fsf_refuse_change() was created by revision 0001 on PostgreSQL.
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
                )
        else:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION fsf_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION fsf_refuse_change()"
            )


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
    _triggers()


def downgrade() -> None:
    op.drop_table("grant_payment")
    op.drop_table("capital_receipt")
