"""Reports against hand-written SQL computing the same figures over the same tables.

Each baseline is what a careful person would write by hand for the generated ledger (schedule
version 1 only, no reversals, default allocation order, riel): per loan the repayments up to a
day, per installment the running total (a window SUM) and from them the outstanding principal,
the oldest unpaid due date and what was paid on time; then the report's figures. Running
totals are taken only for loans still open when the period starts (a closed loan owes nothing
and has nothing falling due); what fell due to date is a plain SUM for every loan. Sums that
feed per-installment arithmetic are cast to BIGINT (PostgreSQL sums BIGINTs as the slower
NUMERIC). Dates are bound parameters, so the text runs unchanged on both databases, and
`baseline_portfolio` / `baseline_villages` return the figures so that a test can hold them
equal to the reports'.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.timing import Row, median_seconds
from ledger.actor import SYSTEM
from ledger.db.tables import core_table
from ledger.reports import collection_sheet, loan_status, portfolio_quality, villages_report
from ledger.reports.scope import planned_for_reports

__all__ = ["baseline_portfolio", "baseline_villages", "run"]

_NOW_OPEN = ("(closed_on IS NULL OR closed_on > :as_of) "
             "AND (written_off_on IS NULL OR written_off_on > :as_of)")
_ENDED = """CASE WHEN l.closed_on <= :as_of
              AND (l.written_off_on IS NULL OR l.closed_on <= l.written_off_on) THEN l.closed_on
         WHEN l.written_off_on <= :as_of THEN l.written_off_on ELSE :as_of END"""
# Per loan still open when the period starts: its outstanding principal at both ends of the
# period, overdue amount, oldest unpaid due date, and what fell due in the period and was paid
# on time (each installment's payments up to its due date, through the covering index).
_OPEN_LOANS = f"""
WITH paid AS (
  SELECT r.loan_id, CAST(SUM(r.amount_minor) AS BIGINT) AS paid,
    CAST(SUM(CASE WHEN r.paid_on <= :opening THEN r.amount_minor ELSE 0 END) AS BIGINT)
      AS paid_open
  FROM repayment r WHERE r.paid_on <= :as_of GROUP BY r.loan_id),
inst AS (
  SELECT l.id AS loan_id, f.village_id, l.disbursed_on, l.closed_on, l.written_off_on,
    {_ENDED} AS ended, COALESCE(pd.paid, 0) AS paid, COALESCE(pd.paid_open, 0) AS paid_open,
    si.due_date, si.principal_minor AS p,
    si.principal_minor + si.interest_minor + si.fee_minor + si.penalty_minor AS tot,
    CAST(SUM(si.principal_minor + si.interest_minor + si.fee_minor + si.penalty_minor)
      OVER (PARTITION BY si.schedule_id ORDER BY si.number) AS BIGINT) AS cum
  FROM loan l JOIN family f ON f.id = l.family_id
    JOIN loan_schedule ls ON ls.loan_id = l.id AND ls.version = 1
    JOIN schedule_installment si ON si.schedule_id = ls.id
    LEFT JOIN paid pd ON pd.loan_id = l.id
  WHERE l.disbursed_on <= :as_of AND l.currency = 'KHR'
    AND (l.closed_on IS NULL OR l.closed_on >= :start)
    AND (l.written_off_on IS NULL OR l.written_off_on >= :start)),
open_loans AS (
  SELECT loan_id, village_id, disbursed_on, closed_on, written_off_on,
    SUM(CASE WHEN paid >= cum THEN 0 WHEN paid <= cum - p THEN p ELSE cum - paid END)
      AS outstanding,
    SUM(CASE WHEN paid_open >= cum THEN 0 WHEN paid_open <= cum - p THEN p
             ELSE cum - paid_open END) AS outstanding_open,
    SUM(CASE WHEN due_date >= :as_of OR paid >= cum THEN 0
             WHEN paid <= cum - tot THEN tot ELSE cum - paid END) AS overdue,
    MIN(CASE WHEN due_date < :as_of AND paid < cum THEN due_date END) AS oldest_due,
    SUM(CASE WHEN due_date >= :start AND due_date <= ended THEN tot ELSE 0 END) AS due,
    SUM(CASE WHEN due_date >= :start AND due_date <= ended THEN
          (SELECT CASE WHEN COALESCE(SUM(r.amount_minor), 0) >= cum THEN tot
                       WHEN COALESCE(SUM(r.amount_minor), 0) <= cum - tot THEN 0
                       ELSE COALESCE(SUM(r.amount_minor), 0) - (cum - tot) END
           FROM repayment r WHERE r.loan_id = inst.loan_id AND r.paid_on <= inst.due_date)
        ELSE 0 END) AS on_time
  FROM inst GROUP BY loan_id, village_id, disbursed_on, closed_on, written_off_on)"""
_PORTFOLIO = _OPEN_LOANS + f"""
SELECT CASE WHEN NOT ({_NOW_OPEN}) THEN '' WHEN oldest_due IS NULL THEN 'current'
            WHEN oldest_due >= :d30 THEN '1–30' WHEN oldest_due >= :d60 THEN '31–60'
            WHEN oldest_due >= :d90 THEN '61–90' WHEN oldest_due >= :d180 THEN '91–180'
            WHEN oldest_due >= :d365 THEN '181–365' ELSE 'over 365' END AS bucket,
  SUM(CASE WHEN {_NOW_OPEN} THEN 1 ELSE 0 END) AS loans,
  SUM(CASE WHEN {_NOW_OPEN} THEN outstanding ELSE 0 END) AS value,
  SUM(CASE WHEN {_NOW_OPEN} AND oldest_due <= :d1 THEN 1 ELSE 0 END) AS n1,
  SUM(CASE WHEN {_NOW_OPEN} AND oldest_due <= :d1 THEN outstanding ELSE 0 END) AS v1,
  SUM(CASE WHEN {_NOW_OPEN} AND oldest_due <= :d30 THEN 1 ELSE 0 END) AS n30,
  SUM(CASE WHEN {_NOW_OPEN} AND oldest_due <= :d30 THEN outstanding ELSE 0 END) AS v30,
  SUM(CASE WHEN {_NOW_OPEN} AND oldest_due <= :d90 THEN 1 ELSE 0 END) AS n90,
  SUM(CASE WHEN {_NOW_OPEN} AND oldest_due <= :d90 THEN outstanding ELSE 0 END) AS v90,
  SUM(CASE WHEN disbursed_on <= :opening AND (closed_on IS NULL OR closed_on > :opening)
                AND (written_off_on IS NULL OR written_off_on > :opening)
           THEN outstanding_open ELSE 0 END) AS opening,
  SUM(due) AS due, SUM(on_time) AS on_time
FROM open_loans GROUP BY 1
"""
# Cumulative repayment rate: per loan disbursed by the day, what fell due up to the day (or
# its closing or write-off) and what was received, capped at that.
_CUMULATIVE = f"""
WITH paid AS (SELECT r.loan_id, SUM(r.amount_minor) AS paid FROM repayment r
              WHERE r.paid_on <= :as_of GROUP BY r.loan_id),
fell AS (
  SELECT l.id AS loan_id, SUM(si.principal_minor + si.interest_minor + si.fee_minor
                              + si.penalty_minor) AS fell
  FROM loan l JOIN loan_schedule ls ON ls.loan_id = l.id AND ls.version = 1
    JOIN schedule_installment si ON si.schedule_id = ls.id
  WHERE l.disbursed_on <= :as_of AND l.currency = 'KHR' AND si.due_date <= {_ENDED}
  GROUP BY l.id)
SELECT SUM(CASE WHEN COALESCE(pd.paid, 0) < fe.fell THEN COALESCE(pd.paid, 0) ELSE fe.fell END),
  SUM(fe.fell)
FROM fell fe LEFT JOIN paid pd ON pd.loan_id = fe.loan_id
"""
_WRITTEN_OFF = """
SELECT SUM(p.amount_minor), COUNT(DISTINCT p.loan_id)
FROM posting p JOIN journal_entry e ON e.id = p.entry_id JOIN account a ON a.id = p.account_id
WHERE e.kind = 'write_off' AND a.role = 'loan_loss_expense'
  AND e.occurred_on >= :start AND e.occurred_on <= :as_of
"""
_FIGURES = ("families", "active", "disbursed", "outstanding", "overdue", "par30", "due",
            "on_time")
_SUMS = ", ".join(f"SUM({f}) AS {f}" for f in _FIGURES)
_VILLAGES = _OPEN_LOANS + """,
by_village AS (
  SELECT village_id, SUM(CASE WHEN {now_open} THEN 1 ELSE 0 END) AS active,
    SUM(CASE WHEN {now_open} THEN outstanding ELSE 0 END) AS outstanding,
    SUM(CASE WHEN {now_open} THEN overdue ELSE 0 END) AS overdue,
    SUM(CASE WHEN {now_open} AND oldest_due <= :d30 THEN outstanding ELSE 0 END) AS par30,
    SUM(due) AS due, SUM(on_time) AS on_time
  FROM open_loans GROUP BY village_id),
lent AS (SELECT f.village_id, SUM(l.principal_minor) AS disbursed
         FROM loan l JOIN family f ON f.id = l.family_id
         WHERE l.disbursed_on <= :as_of AND l.currency = 'KHR' GROUP BY f.village_id),
fams AS (SELECT village_id, COUNT(*) AS families FROM family
         WHERE registered_on <= :as_of GROUP BY village_id),
lines AS (
  SELECT p.name_en AS province, d.name_en AS district, v.code, v.name_en AS name,
    COALESCE(fm.families, 0) AS families, COALESCE(bv.active, 0) AS active,
    COALESCE(le.disbursed, 0) AS disbursed, COALESCE(bv.outstanding, 0) AS outstanding,
    COALESCE(bv.overdue, 0) AS overdue, COALESCE(bv.par30, 0) AS par30,
    COALESCE(bv.due, 0) AS due, COALESCE(bv.on_time, 0) AS on_time
  FROM (SELECT village_id FROM fams UNION SELECT village_id FROM lent) ids
    JOIN village v ON v.id = ids.village_id JOIN commune c ON c.code = v.commune_code
    JOIN district d ON d.code = c.district_code JOIN province p ON p.code = d.province_code
    LEFT JOIN fams fm ON fm.village_id = ids.village_id
    LEFT JOIN lent le ON le.village_id = ids.village_id
    LEFT JOIN by_village bv ON bv.village_id = ids.village_id)
SELECT 'village' AS level, province, district, code, name, {figures} FROM lines
UNION ALL SELECT 'district', province, district, NULL, district, {sums} FROM lines
  GROUP BY province, district
UNION ALL SELECT 'province', province, '', NULL, province, {sums} FROM lines GROUP BY province
UNION ALL SELECT 'total', '', '', NULL, 'Total', {sums} FROM lines
""".format(now_open=_NOW_OPEN, figures=", ".join(_FIGURES), sums=_SUMS)
_ONE_LOAN = """
WITH paid AS (SELECT COALESCE(SUM(r.amount_minor), 0) AS paid FROM repayment r
              WHERE r.loan_id = :loan AND r.paid_on <= :as_of),
inst AS (
  SELECT si.due_date, si.principal_minor AS p,
    SUM(si.principal_minor + si.interest_minor + si.fee_minor + si.penalty_minor)
      OVER (PARTITION BY si.schedule_id ORDER BY si.number) AS cum
  FROM loan_schedule ls JOIN schedule_installment si ON si.schedule_id = ls.id
  WHERE ls.loan_id = :loan AND ls.version = 1)
SELECT SUM(CASE WHEN pd.paid >= cum THEN 0 WHEN pd.paid <= cum - p THEN p ELSE cum - pd.paid END),
  MIN(CASE WHEN due_date < :as_of AND pd.paid < cum THEN due_date END)
FROM inst, paid pd
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


def _sql(session: Session, sql: str, **params: Any) -> list[Any]:
    """Run hand-written SQL with its dates bound as dates (under the reports' planner settings,
    so both sides are planned alike on PostgreSQL)."""
    used = {k: v for k, v in params.items() if re.search(rf":{k}\b", sql)}
    clause = sa.text(sql).bindparams(*(sa.bindparam(k, type_=sa.Date)
                                       for k, v in used.items() if isinstance(v, date)))
    with planned_for_reports(session):
        return list(session.execute(clause, used).all())


def _days(as_of: date, start: date) -> dict[str, date]:
    ago = {f"d{n}": as_of - timedelta(days=n) for n in (1, 30, 60, 90, 180, 365)}
    return {"as_of": as_of, "start": start, "opening": start - timedelta(days=1), **ago}


def baseline_portfolio(session: Session, as_of: date, start: date) -> dict[str, Any]:
    """The portfolio report's figures by hand-written SQL (minor units; buckets by label)."""
    rows = _sql(session, _PORTFOLIO, **_days(as_of, start))

    def total(name: str) -> int:
        return sum(int(getattr(r, name) or 0) for r in rows)

    received, fell = _sql(session, _CUMULATIVE, as_of=as_of)[0]
    written, loans = _sql(session, _WRITTEN_OFF, as_of=as_of, start=start)[0]
    return {"buckets": {r.bucket: (int(r.loans), int(r.value)) for r in rows if r.bucket},
            "par": {t: (total(f"n{t}"), total(f"v{t}")) for t in (1, 30, 90)},
            "gross": total("value"), "loans": total("loans"), "opening": total("opening"),
            "due": total("due"), "on_time": total("on_time"), "received": int(received or 0),
            "fell": int(fell or 0), "written_off": (int(written or 0), int(loans))}


def baseline_villages(session: Session, as_of: date, start: date) -> list[tuple[Any, ...]]:
    """The villages report's lines (villages, district and province subtotals, total) by
    hand-written SQL: (level, province, district, code, name, families, active loans,
    disbursed, outstanding, overdue, PAR30, due in period, paid on time)."""
    return [(r[0], r[1], r[2], r[3], r[4], *(int(x or 0) for x in r[5:]))
            for r in _sql(session, _VILLAGES, **_days(as_of, start))]


def _busiest_village(session: Session) -> str:
    fam, vil = core_table("family"), core_table("village")
    return str(session.execute(
        sa.select(vil.c.code).join(fam, fam.c.village_id == vil.c.id)
        .group_by(vil.c.id, vil.c.code).order_by(sa.func.count().desc(), vil.c.code).limit(1)
    ).scalar_one())


def run(session: Session, as_of: date, runs: int) -> list[Row]:
    """Portfolio, villages, one collection sheet and one loan's status, with baselines."""
    start = as_of.replace(day=1)  # the reports' default period: the as-of month
    rows: list[Row] = []

    def portfolio() -> None:
        portfolio_quality(session, actor=SYSTEM, as_of=as_of)
        session.rollback()

    def portfolio_sql() -> None:
        baseline_portfolio(session, as_of, start)
        session.rollback()

    t, b = median_seconds(portfolio, runs), median_seconds(portfolio_sql, runs)
    rows.append(Row("reports", "portfolio quality", t, "hand-written SQL (buckets, PAR, "
                    "opening gross, on-time and cumulative rates, write-offs)", b,
                    "≤ 1.5 × baseline", t <= 1.5 * b))

    def villages() -> None:
        villages_report(session, actor=SYSTEM, as_of=as_of)
        session.rollback()

    def villages_sql() -> None:
        baseline_villages(session, as_of, start)
        session.rollback()

    t, b = median_seconds(villages, runs), median_seconds(villages_sql, runs)
    rows.append(Row("reports", "villages report", t, "hand-written SQL per village with "
                    "subtotals", b, "≤ 1.5 × baseline", t <= 1.5 * b))

    code = _busiest_village(session)
    month = f"{as_of.year:04d}-{as_of.month:02d}"

    def sheet() -> None:
        collection_sheet(session, actor=SYSTEM, village_code=code, month=month)
        session.rollback()

    def sheet_sql() -> None:
        _sql(session, _SHEET, code=code, first=start, last=as_of)
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
