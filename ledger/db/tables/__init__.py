"""Every ledger table, registered on `SQLModel.metadata` when this package is imported.

Importing defines classes only; no engine or connection is made.
"""

import sqlalchemy as sa
from sqlmodel import SQLModel

from ledger.db.tables.base import MINOR, NAMING_CONVENTION, DecimalText, UTCDateTime, utc_now
from ledger.db.tables.families import Family, FamilyBase, FamilyMember, InformalDebt, SensitiveFact
from ledger.db.tables.fund_events import CapitalReceipt, GrantPayment
from ledger.db.tables.funds import ACCOUNT_KINDS, Account, CashBox, Fund
from ledger.db.tables.journal import COMPONENTS, ENTRY_KINDS, GENESIS_HASH, JournalEntry, Posting
from ledger.db.tables.loans import (
    LOAN_STATUSES,
    Loan,
    LoanBase,
    LoanEvent,
    LoanProduct,
    LoanProductBase,
)
from ledger.db.tables.meta import AppMeta
from ledger.db.tables.places import Commune, District, Province, Village
from ledger.db.tables.repayments import Repayment, RepaymentReversal
from ledger.db.tables.schedules import LoanSchedule, ScheduleInstallment


def core_table(name: str) -> sa.Table:
    """The Core `Table` of a ledger table by name, for typed SQL expressions and bulk inserts."""
    return SQLModel.metadata.tables[name]


# Tables the database itself refuses to UPDATE or DELETE (triggers made by the migrations).
APPEND_ONLY_TABLES: tuple[str, ...] = (
    "journal_entry",
    "posting",
    "repayment",
    "repayment_reversal",
    "loan_event",
    "loan_schedule",
    "schedule_installment",
    "capital_receipt",
    "grant_payment",
)

__all__ = [
    "ACCOUNT_KINDS",
    "APPEND_ONLY_TABLES",
    "COMPONENTS",
    "ENTRY_KINDS",
    "GENESIS_HASH",
    "LOAN_STATUSES",
    "MINOR",
    "NAMING_CONVENTION",
    "Account",
    "AppMeta",
    "CapitalReceipt",
    "CashBox",
    "Commune",
    "DecimalText",
    "District",
    "Family",
    "FamilyBase",
    "FamilyMember",
    "Fund",
    "GrantPayment",
    "InformalDebt",
    "JournalEntry",
    "Loan",
    "LoanBase",
    "LoanEvent",
    "LoanProduct",
    "LoanProductBase",
    "LoanSchedule",
    "Posting",
    "Province",
    "Repayment",
    "RepaymentReversal",
    "ScheduleInstallment",
    "SensitiveFact",
    "UTCDateTime",
    "Village",
    "core_table",
    "utc_now",
]
