"""The auditor workbook's Installments read each batch of loans by their own rows: a
province's scattered loan ids are looked up one by one, not as the range between them, and a
payment's reversal is looked up through the payment, not by listing every reversal dated by
the day from the whole journal (which at 1M loans cost 0.8 s a batch of 500)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ledger.reports.installments import payments_query, schedules_query

DAY = date(2009, 6, 30)


def _plan(session: Session, query: object) -> str:
    connection = session.connection()
    compiled = query.compile(connection, compile_kwargs={"literal_binds": True})  # type: ignore[attr-defined]
    explain = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
    return "\n".join(str(row[-1]) for row in connection.exec_driver_sql(explain + str(compiled)))


def test_scattered_loans_are_read_by_their_ids_and_a_run_by_its_range() -> None:
    scattered, run = [3, 2_000, 4_001, 9_999], list(range(100, 140))
    for query in (schedules_query, lambda ids: payments_query(ids, DAY)):
        text = str(query(scattered).compile(compile_kwargs={"literal_binds": True}))
        assert "IN (3, 2000, 4001, 9999)" in text and "BETWEEN" not in text
        text = str(query(run).compile(compile_kwargs={"literal_binds": True}))
        assert "BETWEEN 100 AND 139" in text and " IN (" not in text


def test_a_payments_reversal_is_looked_up_through_the_payment(session: Session) -> None:
    plan = _plan(session, payments_query([1, 50, 900], DAY))
    if session.get_bind().dialect.name == "sqlite":
        assert "CORRELATED" in plan and "repayment_reversal" in plan, plan
        assert "ix_journal_entry_occurred_on" not in plan, plan
    else:
        assert "Anti Join" in plan, plan
    session.rollback()
