"""Indexes for the reports: the rescheduled schedule versions, by loan.

The reports find, for every schedule version, the day the next version was made; only
rescheduled loans have a version above 1, so a partial index over those few rows answers that
without reading every version.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESCHEDULED = sa.text("version > 1")


def upgrade() -> None:
    op.create_index("ix_loan_schedule_rescheduled", "loan_schedule",
                    ["loan_id", "version", "created_on"], unique=False,
                    sqlite_where=RESCHEDULED, postgresql_where=RESCHEDULED)


def downgrade() -> None:
    op.drop_index("ix_loan_schedule_rescheduled", table_name="loan_schedule")
