"""First tables of the ledger and the append-only triggers.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Every table of `ledger.db.tables` as of this revision, reviewed after autogeneration (SQLModel's
AutoString written as plain `sa.String`, the ledger's type decorators as their storage types),
plus triggers that make the journal and the loan history append-only in the database itself.
The trigger SQL is frozen here on purpose: a later change to it belongs in a new revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.db.migrations.append_only import (
    create_refuse_function,
    create_triggers,
    drop_refuse_function,
    drop_triggers,
)

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
    op.create_table(
        "app_meta",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_meta")),
    )
    op.create_table(
        "fund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund")),
        sa.UniqueConstraint("code", name=op.f("uq_fund_code")),
    )
    op.create_table(
        "loan_product",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("min_principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("max_principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=False),
        sa.Column("rate_period", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("amortization", sa.String(length=20), nullable=False),
        sa.Column("min_repayments", sa.Integer(), nullable=False),
        sa.Column("max_repayments", sa.Integer(), nullable=False),
        sa.Column("allowed_units", sa.String(), nullable=False),
        sa.Column("allowed_every", sa.String(), nullable=False),
        sa.Column("multiple_minor", sa.BigInteger(), nullable=True),
        sa.Column("max_grace_principal", sa.Integer(), nullable=False),
        sa.Column("max_grace_interest", sa.Integer(), nullable=False),
        sa.Column("allocation_order", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_product")),
        sa.UniqueConstraint("code", name=op.f("uq_loan_product_code")),
    )
    op.create_table(
        "province",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name_kh", sa.String(), nullable=False),
        sa.Column("name_en", sa.String(), nullable=False),
        sa.Column("gazetteer_year", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_province")),
    )
    op.create_table(
        "cash_box",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("holder", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["fund.id"], name=op.f("fk_cash_box_fund_id_fund")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_box")),
    )
    op.create_index(op.f("ix_cash_box_fund_id"), "cash_box", ["fund_id"])
    op.create_table(
        "district",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("name_kh", sa.String(), nullable=False),
        sa.Column("name_en", sa.String(), nullable=False),
        sa.Column("gazetteer_year", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["province_code"], ["province.code"], name=op.f("fk_district_province_code_province")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_district")),
    )
    op.create_index(op.f("ix_district_province_code"), "district", ["province_code"])
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=True),
        sa.Column("cash_box_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint(
            "kind IN ('asset', 'liability', 'equity', 'income', 'expense')",
            name=op.f("ck_account_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["cash_box_id"], ["cash_box.id"], name=op.f("fk_account_cash_box_id_cash_box")
        ),
        sa.ForeignKeyConstraint(["fund_id"], ["fund.id"], name=op.f("fk_account_fund_id_fund")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("code", name=op.f("uq_account_code")),
    )
    op.create_index(op.f("ix_account_fund_id"), "account", ["fund_id"])
    op.create_index(op.f("ix_account_role"), "account", ["role"])
    op.create_table(
        "commune",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("district_code", sa.String(length=8), nullable=False),
        sa.Column("name_kh", sa.String(), nullable=False),
        sa.Column("name_en", sa.String(), nullable=False),
        sa.Column("gazetteer_year", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["district_code"], ["district.code"], name=op.f("fk_commune_district_code_district")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_commune")),
    )
    op.create_index(op.f("ix_commune_district_code"), "commune", ["district_code"])
    op.create_table(
        "village",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=True),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("name_kh", sa.String(), nullable=False),
        sa.Column("name_en", sa.String(), nullable=False),
        sa.Column("gazetteer_year", sa.Integer(), nullable=True),
        sa.Column("in_gazetteer", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_code"], ["commune.code"], name=op.f("fk_village_commune_code_commune")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village")),
    )
    op.create_index(op.f("ix_village_code"), "village", ["code"])
    op.create_index(op.f("ix_village_commune_code"), "village", ["commune_code"])
    op.create_table(
        "family",
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("head_name", sa.String(), nullable=False),
        sa.Column("head_name_latin", sa.String(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("household_size", sa.Integer(), nullable=False),
        sa.Column("dependants", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("id_number", sa.String(), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["village_id"], ["village.id"], name=op.f("fk_family_village_id_village")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family")),
        sa.UniqueConstraint("ref", name=op.f("uq_family_ref")),
    )
    op.create_index(op.f("ix_family_village_id"), "family", ["village_id"])
    op.create_table(
        "family_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("name_latin", sa.String(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("relation", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_family_member_family_id_family")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_member")),
    )
    op.create_index(op.f("ix_family_member_family_id"), "family_member", ["family_id"])
    op.create_table(
        "informal_debt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("lender_kind", sa.String(), nullable=False),
        sa.Column("outstanding_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("monthly_rate_pct", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_informal_debt_family_id_family")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_informal_debt")),
    )
    op.create_index(op.f("ix_informal_debt_family_id"), "informal_debt", ["family_id"])
    op.create_table(
        "loan",
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=False),
        sa.Column("rate_period", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("amortization", sa.String(length=20), nullable=False),
        sa.Column("repayments", sa.Integer(), nullable=False),
        sa.Column("every", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("first_due_on", sa.Date(), nullable=True),
        sa.Column("multiple_minor", sa.BigInteger(), nullable=True),
        sa.Column("grace_principal", sa.Integer(), nullable=False),
        sa.Column("grace_interest", sa.Integer(), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("applied_by", sa.String(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("renegotiated", sa.Boolean(), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("approved_by", sa.String(), nullable=True),
        sa.Column("disbursed_on", sa.Date(), nullable=True),
        sa.Column("disbursed_by", sa.String(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("written_off_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "status IN ('applied', 'approved', 'rejected', 'active', 'closed', 'written_off')",
            name=op.f("ck_loan_status"),
        ),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_loan_family_id_family")
        ),
        sa.ForeignKeyConstraint(["fund_id"], ["fund.id"], name=op.f("fk_loan_fund_id_fund")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["loan_product.id"], name=op.f("fk_loan_product_id_loan_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan")),
        sa.UniqueConstraint("ref", name=op.f("uq_loan_ref")),
    )
    op.create_index(op.f("ix_loan_family_id"), "loan", ["family_id"])
    op.create_index(op.f("ix_loan_status"), "loan", ["status"])
    op.create_table(
        "sensitive_fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_sensitive_fact_family_id_family")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensitive_fact")),
    )
    op.create_index(op.f("ix_sensitive_fact_family_id"), "sensitive_fact", ["family_id"])
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
