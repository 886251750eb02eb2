"""Revision 0001's register tables (funds, accounts, places, families, loans), for its `upgrade`.

Frozen with that revision: Alembic runs it for every new ledger, so a later schema change
belongs in a new revision, never here. Split out of the revision file only to keep each file
readable.
"""

import sqlalchemy as sa
from alembic import op


def create_register_tables() -> None:
    """The app's settings, funds, products, accounts, places, families and loans."""
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
