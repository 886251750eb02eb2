"""Household grids on SQLite and PostgreSQL: snapshots round-trip exactly, the latest one is the
family's grid, the database refuses edits and malformed lines, roles and villages are enforced,
a snapshot can name its follow-up visit, and the `Household` carries the family's debts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ledger.actor import Actor, PermissionDenied, Role
from ledger.db.tables import (
    EXPENSE_CATEGORIES,
    INCOME_CATEGORIES,
    MONTH_COLUMNS,
    ScheduleInstallment,
    Village,
    core_table,
)
from ledger.money import KHR, USD, Money
from ledger.projection import CashLine, ExpenseKind, IncomeSource
from ledger.services.errors import NotFound, ServiceError
from ledger.services.families import DebtInput, FamilyInput, register_family
from ledger.services.households import (
    build_household,
    grid_history,
    latest_grid,
    record_household_grid,
)
from ledger.services.repayments import record_repayment
from ledger.services.training import CourseInput, EnrollmentInput, add_course, enroll
from ledger.services.training_followups import VisitInput, record_follow_up
from tests.support.world import ACTOR, TODAY, World, build_world

D = Decimal
FARMING = tuple(D(400_000) if m == 12 else D(100_000) if m == 1 else D(0) for m in range(1, 13))
LINES = (
    CashLine(IncomeSource.WAGE, (D("70.00"),), USD, "tailor shop"),
    CashLine(IncomeSource.FARMING, FARMING, KHR, "rice", seasonal=True),
    CashLine(ExpenseKind.FOOD, (D(102_500),)),
    CashLine(ExpenseKind.HOUSING, (D("40"),), USD),
    CashLine(ExpenseKind.OTHER, (D(5_000),), KHR, "soap"),
)


def _village_code(session: Session, village_id: int) -> str:
    code = session.get(Village, village_id)
    assert code is not None and code.code is not None
    return code.code


def _record(world: World, on: date = date(2009, 5, 2), **kw: object) -> int:
    args: dict[str, object] = {"lines": LINES, "recorded_on": on, "usd_rate": D(4100),
                               "rate_on": on} | kw
    grid = record_household_grid(world.session, actor=ACTOR, family_id=world.families[0],
                                 **args)  # type: ignore[arg-type]
    return grid.id


def test_a_grid_round_trips_and_the_latest_is_current(session: Session) -> None:
    world = build_world(session)
    first = _record(world, date(2009, 1, 10))
    second = _record(world, date(2009, 5, 2), lines=LINES[2:], savings=D(50_000), note="visit")
    fam = world.families[0]
    got = latest_grid(session, actor=ACTOR, family_id=fam)
    assert got is not None and got.id == second
    assert got.expenses == LINES[2:] and got.incomes == ()
    assert (got.savings, got.note, got.recorded_by) == (D(50_000), "visit", "system")
    older = latest_grid(session, actor=ACTOR, family_id=fam, as_of=date(2009, 5, 1))
    assert older is not None and older.id == first
    assert older.incomes == LINES[:2] and older.expenses == LINES[2:]
    assert older.usd_rate == D(4100) and older.rate_on == date(2009, 1, 10)
    assert latest_grid(session, actor=ACTOR, family_id=fam, as_of=date(2008, 12, 31)) is None
    assert [g.id for g in grid_history(session, actor=ACTOR, family_id=fam)] == [first, second]
    # Stored as integer minor units in twelve month columns: dollars in cents, riel whole.
    line = core_table("household_line")
    rows = session.execute(sa.select(line.c.category, line.c.currency, line.c.seasonal,
                                     *(line.c[c] for c in MONTH_COLUMNS))
                           .where(line.c.grid_id == first).order_by(line.c.position)).all()
    assert tuple(rows[0]) == ("wage", "USD", False, *([7000] * 12))
    assert tuple(rows[1])[3:] == (100_000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 400_000)


def test_the_categories_match_the_projection_enums() -> None:
    assert tuple(s.value for s in IncomeSource) == INCOME_CATEGORIES
    assert tuple(e.value for e in ExpenseKind) == EXPENSE_CATEGORIES


def test_the_database_refuses_edits_and_malformed_lines(engine: sa.Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        grid = _record(build_world(session))
    line = core_table("household_line")
    for table in ("household_grid", "household_line"):
        for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as caught:
                conn.exec_driver_sql(sql)
            assert f"{table} is append-only" in str(caught.value)
    good = {"grid_id": grid, "position": 9, "kind": "expense", "category": "food", "label": "",
            "currency": "KHR", "seasonal": False} | dict.fromkeys(MONTH_COLUMNS, 1_000)
    for bad in ({"jun_minor": 2_000}, {"category": "wage"}, {"kind": "gift"},
                {"seasonal": True, "mar_minor": -1}):
        with engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
            conn.execute(sa.insert(line), [good | bad])
    with engine.begin() as conn:  # the control: the same row, well formed, goes in
        conn.execute(sa.insert(line), [good | {"seasonal": True, "jun_minor": 2_000}])


BAD: tuple[tuple[dict[str, object], str], ...] = (
    ({"lines": ()}, "lines"),
    ({"usd_rate": None, "rate_on": None}, "usd_rate"),
    ({"rate_on": None}, "usd_rate"),
    ({"usd_rate": D(0)}, "usd_rate"),
    ({"rate_on": date(2009, 5, 3)}, "rate_on"),
    ({"lines": (CashLine(ExpenseKind.FOOD, (D(1), D(2))),)}, "lines[1]"),
    ({"lines": (CashLine(ExpenseKind.FOOD, (D("1.5"),)),)}, "lines[1]"),
    ({"lines": (CashLine(ExpenseKind.FOOD, (D("1.505"),), USD),)}, "lines[1]"),
    ({"savings": D(-1)}, "savings"),
    ({"today": date(2009, 5, 1)}, "recorded_on"),
)


def test_bad_grids_are_refused_and_nothing_is_written(session: Session) -> None:
    world = build_world(session)
    for kw, field in BAD:
        with pytest.raises(ServiceError) as caught:
            _record(world, **kw)
        assert caught.value.field == field, (kw, caught.value)
    assert session.execute(sa.select(sa.func.count()).select_from(
        core_table("household_grid"))).scalar_one() == 0
    _record(world)  # the control: the same call without the fault is recorded
    assert session.execute(sa.select(sa.func.count()).select_from(
        core_table("household_grid"))).scalar_one() == 1


def test_roles_and_villages(session: Session) -> None:
    world = build_world(session)
    _record(world)
    fam = world.families[0]
    mine = _village_code(session, world.villages[0])
    other = _village_code(session, world.villages[1])
    assert mine != other
    auditor = Actor("ana", frozenset({Role.AUDITOR}))
    assert latest_grid(session, actor=auditor, family_id=fam) is not None
    with pytest.raises(PermissionDenied, match="officer"):
        record_household_grid(session, actor=auditor, family_id=fam, lines=LINES[2:3],
                              recorded_on=TODAY)
    tina = Actor("tina", frozenset({Role.TREASURER}), villages=frozenset({mine}))
    assert latest_grid(session, actor=tina, family_id=fam) is not None
    tom = Actor("tom", frozenset({Role.TREASURER}), villages=frozenset({other}))
    with pytest.raises(NotFound):
        latest_grid(session, actor=tom, family_id=fam)
    with pytest.raises(NotFound):
        build_household(session, actor=tom, family_id=fam, as_of=TODAY)


def test_a_grid_can_name_its_follow_up_visit(session: Session) -> None:
    world = build_world(session)
    course = add_course(session, actor=ACTOR, data=CourseInput(
        "SEW-1", "sewing", "PDoWA", "Svay Rieng", date(2008, 1, 7), date(2008, 3, 28), 20,
        Money(D(0), KHR)))
    assert course.id is not None
    enrolment = enroll(session, actor=ACTOR, today=TODAY, data=EnrollmentInput(
        course.id, world.families[0], date(2008, 1, 7), status="completed",
        completed_on=date(2008, 3, 28)))
    assert enrolment.id is not None
    visit = record_follow_up(session, actor=ACTOR, today=TODAY, data=VisitInput(
        enrolment.id, date(2008, 6, 20), "Chenda", "self-employed", Money(D(287_000), KHR),
        Money(D(266_500), KHR), activity_detail="sewing at home"))
    grid = record_household_grid(session, actor=ACTOR, family_id=world.families[0],
                                 lines=LINES[2:3], recorded_on=date(2008, 6, 20),
                                 follow_up_id=visit.id)
    assert grid.follow_up_id == visit.id
    with pytest.raises(NotFound) as caught:  # the visit belongs to another family
        record_household_grid(session, actor=ACTOR, family_id=world.families[1],
                              lines=LINES[2:3], recorded_on=date(2008, 6, 20),
                              follow_up_id=visit.id)
    assert caught.value.field == "follow_up"


def test_the_household_carries_informal_debts_and_foundation_loans(session: Session) -> None:
    world = build_world(session)
    fam = register_family(session, actor=ACTOR, today=TODAY, data=FamilyInput(
        ref="F-DEBT", head_name="ចាន់ ធី", sex="F", household_size=4,
        village_id=world.villages[0], registered_on=date(2009, 1, 5), debts=(
            DebtInput("moneylender", Money(D(200_000), KHR), D(10)),
            DebtInput("relative", Money(D("50.00"), USD)),
            DebtInput("shop", Money(D("25.00"), USD), D(5)))))
    assert fam.id is not None
    record_household_grid(session, actor=ACTOR, family_id=fam.id, lines=LINES[2:3],
                          recorded_on=date(2009, 3, 1), usd_rate=D(4000),
                          rate_on=date(2009, 3, 1))
    loan = world.loan(fam.id, 100_000, repayments=6, on=date(2009, 3, 15), ref="L-D")
    dues = [int(r.principal_minor + r.interest_minor) for r in session.execute(
        sa.select(ScheduleInstallment).order_by(ScheduleInstallment.number)).scalars()]
    # Installments fall due on the 15th, April to September. April's is paid, May's in part.
    record_repayment(session, actor=ACTOR, loan_id=loan, amount=Money(D(dues[0]), KHR),
                     paid_on=date(2009, 4, 15), today=TODAY)
    record_repayment(session, actor=ACTOR, loan_id=loan, amount=Money(D(10_000), KHR),
                     paid_on=date(2009, 5, 15), today=TODAY)
    found = build_household(session, actor=ACTOR, family_id=fam.id, as_of=TODAY)
    h = found.household
    assert (h.start, h.usd_rate) == (TODAY, D(4000))
    moneylender, shop, foundation = h.debts
    assert moneylender.repeat and moneylender.payments == (D(20_000),)  # 10 % of 200,000
    assert shop.repeat and shop.payments == (D(5_000),)  # 5 % of $25 × 4,000
    assert foundation.label == "Foundation loan L-D" and not foundation.repeat
    # July (month 1) carries what is overdue — May's rest and June's — plus July's own.
    overdue = dues[1] - 10_000 + dues[2]
    assert foundation.payments == (D(overdue + dues[3]), D(dues[4]), D(dues[5]))
    assert [d.payment(k) for d in h.debts for k in (4,)] == [D(20_000), D(5_000), D(0)]
    assert found.warnings == ("The relative debt of 200,000 ៛ has no interest rate recorded: "
                              "no payments on it are counted.",)
    # The day before the loan was disbursed the family had only its informal debts.
    early = build_household(session, actor=ACTOR, family_id=fam.id, as_of=date(2009, 3, 14))
    assert [d.label for d in early.household.debts] == ["moneylender (informal)",
                                                        "shop (informal)"]
    with pytest.raises(NotFound, match="no cash-flow grid"):
        build_household(session, actor=ACTOR, family_id=fam.id, as_of=date(2009, 2, 28))
