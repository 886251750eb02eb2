"""Loan-loss reserve rates per ageing bucket, seeded with the default policy.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Bucket label -> percent reserved (the rates the reports start from; administrators edit them).
DEFAULTS = (
    ("current", "0.000000"),
    ("1–30", "10.000000"),
    ("31–60", "25.000000"),
    ("61–90", "50.000000"),
    ("91–180", "75.000000"),
    ("181–365", "90.000000"),
    ("over 365", "100.000000"),
)


def upgrade() -> None:
    table = op.create_table(
        "reserve_rate",
        sa.Column("bucket", sa.String(length=20), nullable=False),
        sa.Column("rate_pct", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_reserve_rate")),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC, as `UTCDateTime` does
    op.bulk_insert(table, [
        {"bucket": bucket, "rate_pct": rate, "updated_by": "system", "updated_at": now}
        for bucket, rate in DEFAULTS
    ])


def downgrade() -> None:
    op.drop_table("reserve_rate")
