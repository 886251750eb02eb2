"""Revision 0001's tables of the journal and the loan history, for its `upgrade`.

Frozen with that revision: Alembic runs it for every new ledger, so a later schema change
belongs in a new revision, never here. Split out of the revision file only to keep each file
readable.
"""

import sqlalchemy as sa
from alembic import op


def create_journal_tables() -> None:
    """The journal and its postings, the loans' events, schedules and repayments."""
    op.create_table(
        "journal_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.id"], name=op.f("fk_journal_entry_loan_id_loan")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["journal_entry.id"],
            name=op.f("fk_journal_entry_reverses_id_journal_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entry")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_journal_entry_reverses_id")),
        sa.UniqueConstraint("seq", name=op.f("uq_journal_entry_seq")),
    )
    op.create_index(op.f("ix_journal_entry_loan_id"), "journal_entry", ["loan_id"])
    op.create_index(op.f("ix_journal_entry_occurred_on"), "journal_entry", ["occurred_on"])
    op.create_table(
        "loan_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loan.id"], name=op.f("fk_loan_event_loan_id_loan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_event")),
    )
    op.create_index(op.f("ix_loan_event_loan_id"), "loan_event", ["loan_id"])
    op.create_table(
        "loan_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.id"], name=op.f("fk_loan_schedule_loan_id_loan")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["loan_schedule.id"],
            name=op.f("fk_loan_schedule_supersedes_id_loan_schedule"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_schedule")),
        sa.UniqueConstraint("loan_id", "version", name=op.f("uq_loan_schedule_loan_id")),
    )
    op.create_index(op.f("ix_loan_schedule_loan_id"), "loan_schedule", ["loan_id"])
    op.create_table(
        "posting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("component", sa.String(length=10), nullable=True),
        sa.CheckConstraint(
            "component IS NULL OR component IN ('principal', 'interest', 'fee', 'penalty')",
            name=op.f("ck_posting_component"),
        ),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_posting_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_posting_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entry.id"], name=op.f("fk_posting_entry_id_journal_entry")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loan.id"], name=op.f("fk_posting_loan_id_loan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posting")),
    )
    op.create_index(op.f("ix_posting_account_id"), "posting", ["account_id"])
    op.create_index(op.f("ix_posting_entry_id"), "posting", ["entry_id"])
    op.create_index("ix_posting_loan_id_account_id", "posting", ["loan_id", "account_id"])
    op.create_table(
        "repayment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=60), nullable=True),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("cash_account_id", sa.Integer(), nullable=False),
        sa.Column("received_by", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cash_account_id"], ["account.id"], name=op.f("fk_repayment_cash_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entry.id"], name=op.f("fk_repayment_entry_id_journal_entry")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loan.id"], name=op.f("fk_repayment_loan_id_loan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayment")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_repayment_entry_id")),
        sa.UniqueConstraint("ref", name=op.f("uq_repayment_ref")),
    )
    op.create_index(
        "ix_repayment_loan_paid_amount", "repayment", ["loan_id", "paid_on", "amount_minor"]
    )
    op.create_table(
        "schedule_installment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("penalty_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["loan_schedule.id"],
            name=op.f("fk_schedule_installment_schedule_id_loan_schedule"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_installment")),
        sa.UniqueConstraint(
            "schedule_id", "number", name=op.f("uq_schedule_installment_schedule_id")
        ),
    )
    op.create_table(
        "repayment_reversal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repayment_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reversed_by", sa.String(), nullable=False),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entry.id"],
            name=op.f("fk_repayment_reversal_entry_id_journal_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["repayment_id"],
            ["repayment.id"],
            name=op.f("fk_repayment_reversal_repayment_id_repayment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayment_reversal")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_repayment_reversal_entry_id")),
        sa.UniqueConstraint("repayment_id", name=op.f("uq_repayment_reversal_repayment_id")),
    )
