"""The stable JSON shapes of the reports (documented in docs/reports.md), as pure converters.

Amounts are strings with exactly the currency's digits ("150000" riel, "278.00" dollars); rates
are percent strings with two decimals ("12.50"), null when nothing was there to measure; dates
are ISO. The command line, the terminal app and the exports share these.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledger.money import Money
from ledger.reports.collection import CollectionSheet
from ledger.reports.family import FamilyStatement
from ledger.reports.fund import FundPosition
from ledger.reports.loans import LoanRow, LoanStatus
from ledger.reports.portfolio import PortfolioQuality
from ledger.reports.reserve import LoanLossReserve
from ledger.reports.scope import Ratio
from ledger.reports.villages import VillageLine, VillagesReport

__all__ = [
    "amount",
    "collection_json",
    "day",
    "family_json",
    "fund_json",
    "loan_row_json",
    "loan_status_json",
    "pct",
    "portfolio_json",
    "rate_pct",
    "register_json",
    "reserve_json",
    "villages_json",
]

Json = dict[str, Any]


def amount(value: Money) -> str:
    """An amount with exactly its currency's digits."""
    return value.plain()


def pct(fraction: Decimal | None) -> str | None:
    """A fraction as a percent string with two decimals (half up); None stays None."""
    if fraction is None:
        return None
    shown = (fraction * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{abs(shown) if shown == 0 else shown:f}"


def rate_pct(r: Ratio) -> str | None:
    """A ratio as a percent string, None when its denominator is zero."""
    return pct(r.value)


def day(value: date | None) -> str | None:
    """An ISO date, or None."""
    return value.isoformat() if value is not None else None


def loan_status_json(s: LoanStatus) -> Json:
    """`fsf report loan REF --json`."""
    return {"loan": s.ref, "family": s.family_ref, "as_of": day(s.as_of),
            "currency": s.currency, "principal": amount(s.principal),
            "disbursed_on": day(s.disbursed_on), "status": s.status,
            "outstanding_principal": amount(s.outstanding_principal),
            "interest_due": amount(s.interest_due), "overdue": amount(s.overdue),
            "days_overdue": s.days_overdue, "oldest_unpaid_due": day(s.oldest_due),
            "bucket": s.bucket, "next_due_date": day(s.next_due_date),
            "next_due_amount": amount(s.next_due_amount), "payoff": amount(s.payoff)}


def loan_row_json(r: LoanRow) -> Json:
    """One row of the loan register."""
    return {"loan": r.ref, "family": r.family_ref, "family_name": r.family_name,
            "family_name_latin": r.family_name_latin, "village_code": r.village_code,
            "village": r.village_name, "currency": r.currency, "principal": amount(r.principal),
            "rate": f"{r.rate:f}", "rate_period": r.rate_period, "method": r.method,
            "repayments": r.repayments, "every": r.every, "unit": r.unit,
            "disbursed_on": day(r.disbursed_on),
            "outstanding_principal": amount(r.outstanding_principal),
            "interest_due": amount(r.interest_due), "overdue": amount(r.overdue),
            "days_overdue": r.days_overdue, "bucket": r.bucket, "status": r.status}


def register_json(rows: tuple[LoanRow, ...], as_of: date) -> Json:
    """The loan register."""
    return {"as_of": day(as_of), "loans": [loan_row_json(r) for r in rows]}


def family_json(s: FamilyStatement) -> Json:
    """`fsf report family REF --json`."""
    return {
        "family": s.family_ref, "head_name": s.head_name, "head_name_latin": s.head_name_latin,
        "village": s.village, "as_of": day(s.as_of),
        "loans": [{
            **loan_status_json(ls.status),
            "installments": [{"number": i.number, "due_date": day(i.due_date),
                              "principal": amount(i.principal), "interest": amount(i.interest),
                              "fees": amount(i.fees), "total": amount(i.total),
                              "paid": amount(i.paid), "outstanding": amount(i.outstanding)}
                             for i in ls.installments],
            "lines": [{"date": day(m.on), "seq": m.seq, "kind": m.kind, "cash": amount(m.cash),
                       "principal": amount(m.principal), "interest": amount(m.interest),
                       "fees": amount(m.fees), "balance": amount(m.balance)}
                      for m in ls.lines],
        } for ls in s.loans]}


def portfolio_json(p: PortfolioQuality) -> Json:
    """`fsf report portfolio --json`."""
    return {
        "as_of": day(p.as_of), "period_start": day(p.period_start), "currency": p.currency,
        "par_boundary": p.par_boundary, "gross_portfolio": amount(p.gross_portfolio),
        "active_loans": p.active_loans, "renegotiated_loans": p.renegotiated_loans,
        "renegotiated_value": amount(p.renegotiated_value),
        "par": {f"par{x.threshold}": {"loans": x.loans, "value": amount(x.value),
                                      "rate": rate_pct(x.rate)} for x in p.par},
        "buckets": [{"bucket": b.bucket, "loans": b.loans, "value": amount(b.value)}
                    for b in p.buckets],
        "on_time": {"due": amount(p.due_in_period), "paid_on_time": amount(p.paid_on_time),
                    "rate": rate_pct(p.on_time_rate)},
        "cumulative": {"fallen_due": amount(p.fallen_due_to_date),
                       "received": amount(p.received_to_date),
                       "rate": rate_pct(p.cumulative_repayment_rate)},
        "write_off": {"written_off": amount(p.written_off_in_period),
                      "loans": p.loans_written_off_in_period,
                      "average_gross_portfolio": amount(p.average_gross_portfolio),
                      "ratio": rate_pct(p.write_off_ratio)},
    }


def reserve_json(r: LoanLossReserve) -> Json:
    """`fsf report reserve --json`."""
    return {"as_of": day(r.as_of), "currency": r.currency,
            "buckets": [{"bucket": x.bucket, "loans": x.loans,
                         "outstanding": amount(x.outstanding), "rate": pct(x.rate_pct / 100),
                         "required": amount(x.required)} for x in r.lines],
            "outstanding": amount(r.outstanding), "required": amount(r.required)}


def fund_json(f: FundPosition) -> Json:
    """`fsf report fund --json`."""
    return {
        "as_of": day(f.as_of), "fund": f.fund, "currency": f.currency,
        "capital": amount(f.capital),
        "capital_by_contributor": [{"account": n, "amount": amount(a)}
                                   for n, a in f.capital_by_contributor],
        "cash": amount(f.cash),
        "cash_boxes": [{"account": c.account, "name": c.name, "holder": c.holder,
                        "balance": amount(c.balance)} for c in f.cash_lines],
        "portfolio": amount(f.portfolio), "portfolio_in_books": amount(f.portfolio_in_books),
        "performing_portfolio": amount(f.performing_portfolio),
        "interest_earned": amount(f.interest_earned), "fees_earned": amount(f.fees_earned),
        "recoveries": amount(f.recoveries), "grants_paid": amount(f.grants_paid),
        "written_off": amount(f.written_off), "erosion": rate_pct(f.erosion),
    }


def _village_line(v: VillageLine) -> Json:
    return {"level": v.level, "province": v.province, "district": v.district,
            "commune": v.commune, "code": v.code, "name": v.name, "families": v.families,
            "active_loans": v.active_loans, "disbursed": amount(v.disbursed),
            "outstanding": amount(v.outstanding), "overdue": amount(v.overdue),
            "par30": amount(v.par30), "par30_rate": rate_pct(v.par30_rate),
            "due_in_period": amount(v.due_in_period), "paid_on_time": amount(v.paid_on_time),
            "on_time_rate": rate_pct(v.on_time_rate)}


def villages_json(r: VillagesReport) -> Json:
    """`fsf report villages --json`."""
    return {"as_of": day(r.as_of), "period_start": day(r.period_start),
            "currency": r.currency, "sort": r.sort,
            "villages": [_village_line(v) for v in r.villages],
            "districts": [_village_line(v) for v in r.districts],
            "provinces": [_village_line(v) for v in r.provinces],
            "total": _village_line(r.total)}


def collection_json(c: CollectionSheet) -> Json:
    """`fsf report collection --json`."""
    return {"village_code": c.village_code, "villages": list(c.village_names),
            "month": c.month, "first_day": day(c.first_day), "last_day": day(c.last_day),
            "currency": c.currency,
            "rows": [{"family": r.family_ref, "family_name": r.family_name,
                      "family_name_latin": r.family_name_latin, "loan": r.loan_ref,
                      "due_this_month": amount(r.due_this_month), "arrears": amount(r.arrears),
                      "to_collect": amount(r.to_collect), "last_paid_on": day(r.last_paid_on),
                      "last_paid": amount(r.last_paid), "collected": None} for r in c.rows],
            "totals": {"due_this_month": amount(c.due_this_month),
                       "arrears": amount(c.arrears), "to_collect": amount(c.to_collect)}}
