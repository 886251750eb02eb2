"""Reports against hand-written SQL doing the same aggregation over the same tables.

The baseline query is what a careful person would write by hand for the generated ledger
(schedule version 1 only, no reversals, default allocation order): per installment the running
total, per loan the outstanding principal and the oldest unpaid due date, then buckets and PAR
(or per village). Dates are bound parameters, so the text runs unchanged on both databases.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.timing import Row, median_seconds
from ledger.actor import SYSTEM
from ledger.db.tables import core_table
from ledger.reports import collection_sheet, loan_status, portfolio_quality, villages_report

__all__ = ["run"]

_PER_LOAN = """
WITH paid AS (
  SELECT r.loan_id, SUM(r.amount_minor) AS paid FROM repayment r
  WHERE r.paid_on <= :as_of {loan_r} GROUP BY r.loan_id),
inst AS (
  SELECT ls.loan_id, f.village_id, si.due_date, si.principal_minor AS p,
    SUM(si.principal_minor + si.interest_minor + si.fee_minor + si.penalty_minor)
      OVER (PARTITION BY si.schedule_id ORDER BY si.number) AS cum,
    COALESCE(pd.paid, 0) AS pe
  FROM loan_schedule ls JOIN loan l ON l.id = ls.loan_id JOIN family f ON f.id = l.family_id
  JOIN schedule_installment si ON si.schedule_id = ls.id
  LEFT JOIN paid pd ON pd.loan_id = ls.loan_id
  WHERE ls.version = 1 AND l.disbursed_on <= :as_of AND l.currency = 'KHR'
    AND (l.closed_on IS NULL OR l.closed_on > :as_of) AND l.written_off_on IS NULL {loan_l}),
per_loan AS (
  SELECT loan_id, village_id,
    SUM(CASE WHEN pe >= cum THEN 0 WHEN pe <= cum - p THEN p ELSE cum - pe END) AS outstanding,
    MIN(CASE WHEN due_date < :as_of AND pe < cum THEN due_date END) AS oldest_due
  FROM inst GROUP BY loan_id, village_id)
"""
_BUCKETS = _PER_LOAN.format(loan_r="", loan_l="") + """
SELECT CASE WHEN oldest_due IS NULL THEN 'current' WHEN oldest_due >= :d30 THEN '1-30'
            WHEN oldest_due >= :d60 THEN '31-60' WHEN oldest_due >= :d90 THEN '61-90'
            ELSE '90+' END AS bucket,
  COUNT(*) AS loans, SUM(outstanding) AS outstanding,
  SUM(CASE WHEN oldest_due < :d30 THEN outstanding ELSE 0 END) AS par30,
  SUM(CASE WHEN oldest_due < :d90 THEN outstanding ELSE 0 END) AS par90
FROM per_loan GROUP BY 1
"""
_VILLAGES = _PER_LOAN.format(loan_r="", loan_l="") + """,
by_village AS (
  SELECT village_id, COUNT(*) AS loans, SUM(outstanding) AS outstanding,
    SUM(CASE WHEN oldest_due < :d30 THEN outstanding ELSE 0 END) AS par30
  FROM per_loan GROUP BY village_id),
fams AS (SELECT village_id, COUNT(*) AS families FROM family GROUP BY village_id)
SELECT v.code, v.name_en, c.name_en, d.name_en, p.name_en, fams.families,
  bv.loans, bv.outstanding, bv.par30
FROM fams JOIN village v ON v.id = fams.village_id
  JOIN commune c ON c.code = v.commune_code JOIN district d ON d.code = c.district_code
  JOIN province p ON p.code = d.province_code
  LEFT JOIN by_village bv ON bv.village_id = fams.village_id
ORDER BY v.code
"""
_ONE_LOAN = _PER_LOAN.format(loan_r="AND r.loan_id = :loan", loan_l="AND l.id = :loan") + """
SELECT loan_id, outstanding, oldest_due FROM per_loan
"""
_SHEET = """
SELECT l.ref, f.head_name, si.due_date, si.principal_minor + si.interest_minor AS due,
  (SELECT COALESCE(SUM(r.amount_minor), 0) FROM repayment r WHERE r.loan_id = l.id) AS paid
FROM village v JOIN family f ON f.village_id = v.id JOIN loan l ON l.family_id = f.id
  JOIN loan_schedule ls ON ls.loan_id = l.id AND ls.version = 1
  JOIN schedule_installment si ON si.schedule_id = ls.id
WHERE v.code = :code AND l.status = 'active' AND si.due_date BETWEEN :first AND :last
ORDER BY f.head_name
"""


def _text(sql: str, **params: Any) -> tuple[sa.TextClause, dict[str, Any]]:
    dates = [k for k, v in params.items() if isinstance(v, date)]
    return sa.text(sql).bindparams(*(sa.bindparam(k, type_=sa.Date) for k in dates)), params


def _sql(session: Session, sql: str, **params: Any) -> list[Any]:
    clause, values = _text(sql, **params)
    return list(session.execute(clause, values).all())


def _ages(as_of: date) -> dict[str, date]:
    return {"as_of": as_of, "d30": as_of - timedelta(days=30),
            "d60": as_of - timedelta(days=60), "d90": as_of - timedelta(days=90)}


def _busiest_village(session: Session) -> str:
    fam, vil = core_table("family"), core_table("village")
    return str(session.execute(
        sa.select(vil.c.code).join(fam, fam.c.village_id == vil.c.id)
        .group_by(vil.c.id, vil.c.code).order_by(sa.func.count().desc(), vil.c.code).limit(1)
    ).scalar_one())


def run(session: Session, as_of: date, runs: int) -> list[Row]:
    """Portfolio, villages, one collection sheet and one loan's status, with baselines."""
    ages = _ages(as_of)
    opening = _ages(as_of.replace(day=1) - timedelta(days=1))
    rows: list[Row] = []

    def portfolio() -> None:
        portfolio_quality(session, actor=SYSTEM, as_of=as_of)
        session.rollback()

    def portfolio_sql() -> None:
        _sql(session, _BUCKETS, **ages)
        _sql(session, _BUCKETS, **opening)  # the report also values the period's opening
        session.rollback()

    t, b = median_seconds(portfolio, runs), median_seconds(portfolio_sql, runs)
    rows.append(Row("reports", "portfolio quality", t, "hand-written SQL (buckets, PAR, "
                    "opening gross)", b, "≤ 1.5 × baseline", t <= 1.5 * b))

    def villages() -> None:
        villages_report(session, actor=SYSTEM, as_of=as_of)
        session.rollback()

    def villages_sql() -> None:
        _sql(session, _VILLAGES, as_of=as_of, d30=ages["d30"])
        session.rollback()

    t, b = median_seconds(villages, runs), median_seconds(villages_sql, runs)
    rows.append(Row("reports", "villages report", t, "hand-written SQL per village", b,
                    "≤ 1.5 × baseline", t <= 1.5 * b))

    code = _busiest_village(session)
    month = f"{as_of.year:04d}-{as_of.month:02d}"
    first = as_of.replace(day=1)

    def sheet() -> None:
        collection_sheet(session, actor=SYSTEM, village_code=code, month=month)
        session.rollback()

    def sheet_sql() -> None:
        _sql(session, _SHEET, code=code, first=first, last=as_of)
        session.rollback()

    t, b = median_seconds(sheet, runs), median_seconds(sheet_sql, runs)
    rows.append(Row("reports", f"collection sheet (village {code}, {month})", t,
                    "hand-written SQL of the month's dues", b, "≤ 50 ms", t <= 0.050))

    ln = core_table("loan")
    loan_id = int(session.execute(sa.select(sa.func.max(ln.c.id))
                                  .where(ln.c.status == "active")).scalar_one())

    def status() -> None:
        loan_status(session, actor=SYSTEM, loan_id=loan_id, as_of=as_of)
        session.rollback()

    def status_sql() -> None:
        _sql(session, _ONE_LOAN, loan=loan_id, as_of=as_of)
        session.rollback()

    t, b = median_seconds(status, runs), median_seconds(status_sql, runs)
    rows.append(Row("reports", "one loan's status", t, "hand-written SQL for one loan", b,
                    "≤ 20 ms", t <= 0.020))
    return rows
