"""Reports "as of" any day, computed by SQL aggregation from the journal and the schedules.

Each report is a function taking `session`, `actor` and keyword arguments and returning a frozen
dataclass (tuples, `Money`, `Decimal`, dates; never ORM objects); `ledger.reports.json` turns
them into the stable JSON shapes documented in docs/reports.md.
"""

from ledger.reports.ageing import Boundary
from ledger.reports.collection import CollectionRow, CollectionSheet, collection_sheet
from ledger.reports.family import (
    FamilyStatement,
    InstallmentLine,
    LoanStatement,
    StatementLine,
    family_id_for,
    family_statement,
)
from ledger.reports.fund import CashLine, FundPosition, fund_position
from ledger.reports.loans import LoanRow, LoanStatus, loan_id_for, loan_register, loan_status
from ledger.reports.portfolio import BucketLine, ParLine, PortfolioQuality, portfolio_quality
from ledger.reports.rates import FallenDue, fallen_due
from ledger.reports.reserve import (
    LoanLossReserve,
    ReserveLine,
    loan_loss_reserve,
    reserve_rates,
    set_reserve_rate,
)
from ledger.reports.scope import Ratio
from ledger.reports.villages import SORT_COLUMNS, VillageLine, VillagesReport, villages_report

__all__ = [
    "SORT_COLUMNS",
    "Boundary",
    "BucketLine",
    "CashLine",
    "CollectionRow",
    "CollectionSheet",
    "FallenDue",
    "FamilyStatement",
    "FundPosition",
    "InstallmentLine",
    "LoanLossReserve",
    "LoanRow",
    "LoanStatement",
    "LoanStatus",
    "ParLine",
    "PortfolioQuality",
    "Ratio",
    "ReserveLine",
    "StatementLine",
    "VillageLine",
    "VillagesReport",
    "collection_sheet",
    "fallen_due",
    "family_id_for",
    "family_statement",
    "fund_position",
    "loan_id_for",
    "loan_loss_reserve",
    "loan_register",
    "loan_status",
    "portfolio_quality",
    "reserve_rates",
    "set_reserve_rate",
    "villages_report",
]
