"""Users with roles and hashed passwords, their append-only event log, and the maker-checker
queue of pending approvals.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.db.migrations.append_only import create_triggers

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("user_event",)


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("roles", sa.String(length=120), nullable=False),
        sa.Column("villages", sa.String(), nullable=True),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("name", name=op.f("uq_app_user_name")),
    )
    op.create_table(
        "user_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("by", sa.String(length=60), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name=op.f("fk_user_event_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_event")),
    )
    op.create_index(op.f("ix_user_event_user_id"), "user_event", ["user_id"])
    op.create_table(
        "pending_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("requested_by", sa.String(length=60), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("decided_by", sa.String(length=60), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entry.id"],
                                name=op.f("fk_pending_approval_entry_id_journal_entry")),
        sa.ForeignKeyConstraint(["loan_id"], ["loan.id"],
                                name=op.f("fk_pending_approval_loan_id_loan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_approval")),
    )
    op.create_index(op.f("ix_pending_approval_kind"), "pending_approval", ["kind"])
    op.create_index(op.f("ix_pending_approval_loan_id"), "pending_approval", ["loan_id"])
    create_triggers(APPEND_ONLY)


def downgrade() -> None:
    op.drop_index(op.f("ix_pending_approval_loan_id"), table_name="pending_approval")
    op.drop_index(op.f("ix_pending_approval_kind"), table_name="pending_approval")
    op.drop_table("pending_approval")
    op.drop_index(op.f("ix_user_event_user_id"), table_name="user_event")
    op.drop_table("user_event")
    op.drop_table("app_user")
