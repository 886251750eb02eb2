"""A loan's postings by component, and its entries by kind, read from indexes alone.

Bulk posting reads what the journal booked on each loan it posts to: the credits by component
of its repayment and reallocation entries. It now sums every component posting of the loan
from the posting index (which carries component, currency, account and amount) and takes off
those of the few entries that book no repayment, found by kind in the journal's loan index,
instead of visiting each posting's entry. The indexes replace the two they extend, so no write
maintains more of them than before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_posting_loan_id_account_id", table_name="posting")
    op.create_index("ix_posting_loan_component", "posting",
                    ["loan_id", "component", "currency", "account_id", "amount_minor",
                     "entry_id"], unique=False)
    op.drop_index("ix_journal_entry_loan_id", table_name="journal_entry")
    op.create_index("ix_journal_entry_loan_id_kind", "journal_entry", ["loan_id", "kind"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_journal_entry_loan_id_kind", table_name="journal_entry")
    op.create_index("ix_journal_entry_loan_id", "journal_entry", ["loan_id"], unique=False)
    op.drop_index("ix_posting_loan_component", table_name="posting")
    op.create_index("ix_posting_loan_id_account_id", "posting", ["loan_id", "account_id"],
                    unique=False)
