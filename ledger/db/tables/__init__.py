"""Every ledger table, registered on `SQLModel.metadata` when this package is imported.

Importing defines classes only; no engine or connection is made.
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from ledger.db.tables.base import MINOR, NAMING_CONVENTION, DecimalText, UTCDateTime, utc_now
from ledger.db.tables.families import Family, FamilyBase, FamilyMember, InformalDebt, SensitiveFact
from ledger.db.tables.fund_events import CapitalReceipt, GrantPayment
from ledger.db.tables.funds import ACCOUNT_KINDS, Account, CashBox, Fund
from ledger.db.tables.households import (
    EXPENSE_CATEGORIES,
    INCOME_CATEGORIES,
    LINE_KINDS,
    MONTH_COLUMNS,
    HouseholdGrid,
    HouseholdLine,
)
from ledger.db.tables.imports import ImportBatch, ImportRef
from ledger.db.tables.journal import (
    COMPONENTS,
    ENTRY_KINDS,
    GENESIS_HASH,
    AccountDay,
    JournalEntry,
    Posting,
)
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
from ledger.db.tables.reserve import DEFAULT_RESERVE_RATES, ReserveRate
from ledger.db.tables.schedules import LoanSchedule, ScheduleInstallment
from ledger.db.tables.training import (
    ENROLLMENT_STATUSES,
    SKILLS,
    VISIT_ACTIVITIES,
    Course,
    Enrollment,
    FollowUpVisit,
)
from ledger.db.tables.users import APPROVAL_KINDS, PendingApproval, User, UserEvent


def core_table(name: str) -> sa.Table:
    """The Core `Table` of a ledger table by name, for typed SQL expressions and bulk inserts."""
    return SQLModel.metadata.tables[name]


def insert_row(session: Session, name: str, values: dict[str, Any]) -> int:
    """Insert one row with Core on the session's connection and return its new id: the
    interactive path's inserts, without the ORM's unit of work."""
    key = session.connection().execute(sa.insert(core_table(name)), values).inserted_primary_key
    assert key is not None
    return int(key[0])


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
    "follow_up_visit",
    "user_event",
    "import_batch",
    "import_ref",
    "household_grid",
    "household_line",
)

__all__ = [
    "ACCOUNT_KINDS",
    "APPEND_ONLY_TABLES",
    "APPROVAL_KINDS",
    "COMPONENTS",
    "DEFAULT_RESERVE_RATES",
    "ENROLLMENT_STATUSES",
    "ENTRY_KINDS",
    "EXPENSE_CATEGORIES",
    "GENESIS_HASH",
    "INCOME_CATEGORIES",
    "LINE_KINDS",
    "LOAN_STATUSES",
    "MINOR",
    "MONTH_COLUMNS",
    "NAMING_CONVENTION",
    "SKILLS",
    "VISIT_ACTIVITIES",
    "Account",
    "AccountDay",
    "AppMeta",
    "CapitalReceipt",
    "CashBox",
    "Commune",
    "Course",
    "DecimalText",
    "District",
    "Enrollment",
    "Family",
    "FamilyBase",
    "FamilyMember",
    "FollowUpVisit",
    "Fund",
    "GrantPayment",
    "HouseholdGrid",
    "HouseholdLine",
    "ImportBatch",
    "ImportRef",
    "InformalDebt",
    "JournalEntry",
    "Loan",
    "LoanBase",
    "LoanEvent",
    "LoanProduct",
    "LoanProductBase",
    "LoanSchedule",
    "PendingApproval",
    "Posting",
    "Province",
    "Repayment",
    "RepaymentReversal",
    "ReserveRate",
    "ScheduleInstallment",
    "SensitiveFact",
    "UTCDateTime",
    "User",
    "UserEvent",
    "Village",
    "core_table",
    "insert_row",
    "utc_now",
]
