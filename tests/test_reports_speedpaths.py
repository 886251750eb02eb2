"""The one-pass portfolio and villages reports against the per-loan figures they summarise.

Random portfolios (early, late, partial, payoff and back-dated payments, reversals, reschedules,
write-offs; built by the oracle tests' generator) are reported on many days and periods. Every
figure is rebuilt independently from the loan register (positions the oracle tests hold to the
pure replay), the register on the opening day, the installments behind the on-time rate
(`fallen_due`, also held to the replay) and the cumulative terms of `positions`. A treasurer
sees her villages only; and the benchmarks' hand-written baselines compute the same figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from bench.generate import generate
from bench.reports import baseline_portfolio, baseline_villages
from ledger.actor import SYSTEM, Actor, Role
from ledger.db import make_engine
from ledger.reports import (
    collection_sheet,
    loan_register,
    loan_status,
    portfolio_quality,
    villages_report,
)
from ledger.reports.ageing import BUCKETS, Boundary, in_portfolio
from ledger.reports.collection import _sheet_query
from ledger.reports.positions import positions
from ledger.reports.rates import cumulative_terms, fallen_due
from ledger.reports.scope import loan_filters, minor
from ledger.services.errors import NotFound
from ledger.services.repayments import record_repayment
from ledger.services.reschedule import reschedule_loan
from tests.support.world import ACTOR, TODAY, riel
from tests.test_reports_oracle import START, build_random_portfolio
from tests.test_reports_scenario import build_scenario

LIVE = ("active", "renegotiated")
FIGURES = ("disbursed", "active", "outstanding", "overdue", "par30", "due", "on_time")


@dataclass
class Expected:
    """The report's figures rebuilt from per-loan rows (minor units)."""

    buckets: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    par: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    gross: int = 0
    loans: int = 0
    renegotiated: list[int] = field(default_factory=lambda: [0, 0])
    opening: int = 0
    due: int = 0
    on_time: int = 0
    received: int = 0
    fell: int = 0
    villages: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))


def _late(days: int, threshold: int, boundary: Boundary) -> bool:
    return days >= threshold if boundary == ">=" else days > threshold


def expected(session: Session, actor: Actor, as_of: date, start: date,
             boundary: Boundary = ">=") -> Expected:
    """Every figure of both reports from the register, `fallen_due` and `positions`."""
    want = Expected()
    register = loan_register(session, actor=actor, as_of=as_of, currency="KHR")
    village_of = {r.loan_id: r.village_code or "" for r in register}
    for r in register:
        v = want.villages[village_of[r.loan_id]]
        v["disbursed"] += int(r.principal.amount)
        if r.status not in LIVE:
            continue
        value = int(r.outstanding_principal.amount)
        want.loans += 1
        want.gross += value
        want.buckets[r.bucket][0] += 1
        want.buckets[r.bucket][1] += value
        reneg = r.status == "renegotiated"
        if reneg:
            want.renegotiated[0] += 1
            want.renegotiated[1] += value
        for t in (1, 30, 90):
            if reneg or _late(r.days_overdue, t, boundary):
                want.par[t][0] += 1
                want.par[t][1] += value
        v["active"] += 1
        v["outstanding"] += value
        v["overdue"] += int(r.overdue.amount)
        if reneg or r.days_overdue >= 30:
            v["par30"] += value
    before = start - timedelta(days=1)
    want.opening = sum(int(r.outstanding_principal.amount) for r in
                       loan_register(session, actor=actor, as_of=before, currency="KHR")
                       if r.status in LIVE)
    for f in fallen_due(session, actor=actor, start=start, as_of=as_of):
        want.due += f.due_minor
        want.on_time += f.on_time_minor
        want.villages[village_of[f.loan_id]]["due"] += f.due_minor
        want.villages[village_of[f.loan_id]]["on_time"] += f.on_time_minor
    pos = positions(as_of, loan_filters(actor, currency="KHR"))
    received, fell = cumulative_terms(pos)
    got, due = session.execute(sa.select(sa.func.sum(received), sa.func.sum(fell))).one()
    want.received, want.fell = minor(got), minor(due)
    assert session.execute(sa.select(sa.func.count()).select_from(pos)
                           .where(in_portfolio(pos, as_of))).scalar_one() == want.loans
    return want


def check_portfolio(session: Session, actor: Actor, as_of: date, start: date,
                    boundary: Boundary) -> None:
    want = expected(session, actor, as_of, start, boundary)
    p = portfolio_quality(session, actor=actor, as_of=as_of, period_start=start,
                          par_boundary=boundary)
    where = f"as of {as_of} from {start} ({boundary})"
    assert {b.bucket: [b.loans, int(b.value.amount)] for b in p.buckets} == {
        b.value: want.buckets.get(b.value, [0, 0]) for b in BUCKETS}, where
    assert {x.threshold: [x.loans, int(x.value.amount)] for x in p.par} == {
        t: want.par.get(t, [0, 0]) for t in (1, 30, 90)}, where
    assert (p.gross_portfolio.amount, p.active_loans) == (want.gross, want.loans), where
    assert [p.renegotiated_loans, p.renegotiated_value.amount] == want.renegotiated, where
    assert (p.due_in_period.amount, p.paid_on_time.amount) == (want.due, want.on_time), where
    assert (p.received_to_date.amount, p.fallen_due_to_date.amount) == (want.received,
                                                                         want.fell), where
    average = (p.average_gross_portfolio.amount * 2 - want.gross - want.opening)
    assert abs(average) <= 1, where  # the average of the opening and closing gross, rounded


def check_villages(session: Session, actor: Actor, as_of: date, start: date) -> None:
    want = expected(session, actor, as_of, start)
    report = villages_report(session, actor=actor, as_of=as_of, period_start=start)
    got = {v.code or "": {"disbursed": int(v.disbursed.amount), "active": v.active_loans,
                          "outstanding": int(v.outstanding.amount),
                          "overdue": int(v.overdue.amount), "par30": int(v.par30.amount),
                          "due": int(v.due_in_period.amount),
                          "on_time": int(v.paid_on_time.amount)}
           for v in report.villages}
    for code, figures in want.villages.items():
        assert got.get(code) == {k: figures.get(k, 0) for k in FIGURES}, (code, as_of)
    # Villages with families but no loan by the day show zeros, never another's figures.
    assert all(not any(f.values()) for c, f in got.items() if c not in want.villages)
    assert report.total.outstanding.amount == sum(int(v.outstanding.amount)
                                                  for v in report.districts)
    assert report.total.par30.amount == sum(f["par30"] for f in want.villages.values())


def _days(session: Session) -> list[tuple[date, date]]:
    """(as_of, period start): month-to-date periods and quarters reaching across reschedules,
    write-offs and payoffs, from before the first disbursement to the end of the history; and
    periods ending, starting and opening on the days loans were rescheduled or written off."""
    out = []
    day = START - timedelta(days=20)
    while day <= TODAY:
        out.append((day, day.replace(day=1)))
        out.append((day, day - timedelta(days=90)))
        day += timedelta(days=47)
    events = session.execute(sa.text(
        "SELECT created_on FROM loan_schedule WHERE version > 1 UNION "
        "SELECT written_off_on FROM loan WHERE written_off_on IS NOT NULL")).scalars()
    for e in sorted({d if isinstance(d, date) else date.fromisoformat(d) for d in events}):
        out += [(e, e - timedelta(days=10)), (e + timedelta(days=40), e),
                (e + timedelta(days=40), e + timedelta(days=1))]
    return [*out, (TODAY, date(2008, 1, 1))]


def test_portfolio_and_villages_match_the_loans(session: Session) -> None:
    build_random_portfolio(session, seed=7)
    for n, (as_of, start) in enumerate(_days(session)):
        check_portfolio(session, ACTOR, as_of, start, ">=" if n % 2 else ">")
        check_villages(session, ACTOR, as_of, start)


@pytest.mark.parametrize("seed", [23, 42])
def test_on_more_portfolios(sqlite_url: str, seed: int) -> None:
    engine = make_engine(sqlite_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            build_random_portfolio(session, seed=seed, loans=14)
            for as_of, start in _days(session)[::2]:
                check_portfolio(session, ACTOR, as_of, start, ">=")
                check_villages(session, ACTOR, as_of, start)
    finally:
        engine.dispose()


def test_the_hand_worked_portfolio_on_its_event_days(session: Session) -> None:
    """B rescheduled on 03-20, C written off on 06-01 with installments still to fall due, F
    paid off on 03-10, and A rescheduled on 06-15 after paying on that very day."""
    ids = build_scenario(session)
    record_repayment(session, actor=ACTOR, loan_id=ids["A"], amount=riel(15_800),
                     paid_on=date(2008, 6, 15), today=TODAY)
    reschedule_loan(session, actor=ACTOR, loan_id=ids["A"], on=date(2008, 6, 15), today=TODAY,
                    repayments=5, reason="illness")
    days = [date(2008, 3, 10), date(2008, 3, 19), date(2008, 3, 20), date(2008, 3, 21),
            date(2008, 6, 1), date(2008, 6, 15), date(2008, 6, 16), date(2008, 12, 31), TODAY]
    for as_of in days:
        for start in {as_of.replace(day=1), *(d for d in days if d <= as_of)}:
            check_portfolio(session, ACTOR, as_of, start, ">=")
            check_villages(session, ACTOR, as_of, start)


def test_a_treasurer_sees_her_villages_only(session: Session) -> None:
    build_random_portfolio(session, seed=11)
    register = loan_register(session, actor=ACTOR, as_of=TODAY)
    mine = sorted({r.village_code for r in register if r.village_code})[:1]
    tess = Actor("tess", frozenset({Role.TREASURER}), villages=frozenset(mine))
    theirs = loan_register(session, actor=tess, as_of=TODAY)
    assert theirs and len(theirs) < len(register)
    for as_of, start in ((TODAY, TODAY.replace(day=1)), (date(2008, 9, 30), date(2008, 7, 1))):
        check_portfolio(session, tess, as_of, start, ">=")
        check_villages(session, tess, as_of, start)
        shown = villages_report(session, actor=tess, as_of=as_of, period_start=start)
        assert [v.code for v in shown.villages] == mine
        # Her village's line is the same line everyone else sees for it.
        everyone = villages_report(session, actor=ACTOR, as_of=as_of, period_start=start)
        assert [v for v in everyone.villages if v.code in mine] == list(shown.villages)
        hers = portfolio_quality(session, actor=tess, as_of=as_of, period_start=start)
        assert hers.gross_portfolio == shown.total.outstanding


def test_one_loans_status_is_its_register_line_for_everyone_and_for_a_treasurer(
        session: Session) -> None:
    """`loan_status` reuses one statement a day and scope, the loan bound at each call: every
    loan on several days gives its own line, and a treasurer's scope is kept."""
    build_random_portfolio(session, seed=5)
    register = loan_register(session, actor=ACTOR, as_of=TODAY)
    mine = sorted({r.village_code for r in register if r.village_code})[:1]
    tess = Actor("tess", frozenset({Role.TREASURER}), villages=frozenset(mine))
    for as_of in (date(2008, 9, 30), TODAY, date(2008, 9, 30)):
        for line in loan_register(session, actor=ACTOR, as_of=as_of):
            got = loan_status(session, actor=ACTOR, loan_id=line.loan_id, as_of=as_of)
            assert (got.ref, got.outstanding_principal, got.interest_due, got.overdue,
                    got.days_overdue, got.bucket, got.status) == (
                line.ref, line.outstanding_principal, line.interest_due, line.overdue,
                line.days_overdue, line.bucket, line.status), (as_of, line.ref)
            if line.village_code in mine:
                assert loan_status(session, actor=tess, loan_id=line.loan_id,
                                   as_of=as_of) == got
            else:
                with pytest.raises(NotFound):
                    loan_status(session, actor=tess, loan_id=line.loan_id, as_of=as_of)


def test_the_benchmark_baselines_compute_the_reports_figures(engine: sa.Engine) -> None:
    """The hand-written SQL the benchmarks time the reports against computes exactly their
    figures on a generated ledger, so it stays a fair yardstick."""
    made = generate(engine.url.render_as_string(hide_password=False), 240, seed=3)
    with Session(engine) as session:
        days = [made.as_of - timedelta(days=37 * n) for n in range(0, 24, 2)]
        for as_of, start in [(d, d.replace(day=1)) for d in days] + [
                (date(2009, 3, 15), date(2008, 12, 1)), (date(2008, 1, 31), date(2007, 6, 1))]:
            p = portfolio_quality(session, actor=SYSTEM, as_of=as_of, period_start=start)
            b = baseline_portfolio(session, as_of, start)
            assert {x.bucket: (x.loans, int(x.value.amount)) for x in p.buckets
                    if x.loans} == b["buckets"]
            assert {x.threshold: (x.loans, int(x.value.amount)) for x in p.par} == b["par"]
            assert (p.gross_portfolio.amount, p.active_loans) == (b["gross"], b["loans"])
            assert abs(p.average_gross_portfolio.amount * 2 - b["gross"] - b["opening"]) <= 1
            assert (p.due_in_period.amount, p.paid_on_time.amount) == (b["due"], b["on_time"])
            assert (p.received_to_date.amount, p.fallen_due_to_date.amount) == (b["received"],
                                                                                 b["fell"])
            assert (p.written_off_in_period.amount,
                    p.loans_written_off_in_period) == b["written_off"]
            assert b["loans"] > 0 and b["due"] > 0 and b["fell"] > b["received"] > 0
            v = villages_report(session, actor=SYSTEM, as_of=as_of, period_start=start)
            ours = sorted((line.level, line.code or "", line.name, line.families,
                           line.active_loans, *(int(m.amount) for m in (
                               line.disbursed, line.outstanding, line.overdue, line.par30,
                               line.due_in_period, line.paid_on_time)))
                          for line in (*v.villages, *v.districts, *v.provinces, v.total))
            theirs = sorted((r[0], r[3] or "", r[4], *r[5:])
                            for r in baseline_villages(session, as_of, start))
            assert ours == theirs, as_of


def test_a_months_collection_sheets_share_one_statement(session: Session) -> None:
    """`collection_sheet` builds its statement once a month and currency, the villages bound
    at each call: every village's sheet is the one its own statement, built afresh, gives."""
    build_random_portfolio(session, seed=9)
    codes = sorted({r.village_code for r in loan_register(session, actor=ACTOR, as_of=TODAY)
                    if r.village_code})
    assert len(codes) > 1
    for month in ("2008-05", "2008-09", "2008-05"):
        _sheet_query.cache_clear()
        sheets = [collection_sheet(session, actor=ACTOR, village_code=c, month=month)
                  for c in codes]
        assert _sheet_query.cache_info()[:2] == (len(codes) - 1, 1)  # (hits, misses)
        for code, sheet in zip(codes, sheets, strict=True):
            assert sheet.village_code == code and sheet.month == month
            _sheet_query.cache_clear()
            assert collection_sheet(session, actor=ACTOR, village_code=code,
                                    month=month) == sheet
        assert len({s.rows for s in sheets}) == len(codes)  # no two villages share a sheet
        assert sum(len(s.rows) for s in sheets) > len(codes)
