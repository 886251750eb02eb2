"""The whole demo ledger, exported with `fsf export bundle` and imported with `fsf import
bundle` into an empty ledger (made by `fsf init`) on SQLite and on PostgreSQL, gives the same
books: balances per account, portfolio quality, villages, every loan's status and arrears, the
fund position, training outcomes, every family's household grids (those the follow-up visits
wrote included); `fsf verify` passes; importing it again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from typer.testing import CliRunner

from ledger.actor import SYSTEM
from ledger.arrears import arrears_as_of
from ledger.db import make_engine
from ledger.db.tables import MONTH_COLUMNS
from ledger.demo.records import AS_OF
from ledger.journal import balances_by_account
from ledger.reports import (
    fund_position,
    loan_register,
    portfolio_quality,
    villages_report,
)
from ledger.reports import json as js
from ledger.reports.training import skill_outcomes
from ledger.services.import_checks import loans_by_ref, scheduled_principal
from ledger.services.loan_book import get_loan, load_state, load_states
from tui.cli import build_app

PASSWORD = "correct horse battery staple"
ENV = {"FSF_PASSWORD": PASSWORD, "FSF_NEW_PASSWORD": PASSWORD}
TABLES = ("family", "loan", "repayment", "loan_schedule", "journal_entry", "posting",
          "capital_receipt", "grant_payment", "course", "enrollment", "follow_up_visit",
          "pending_approval", "loan_event", "import_batch", "import_ref", "household_grid",
          "household_line")


def fsf(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), list(args), env=ENV)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The demo ledger (built once: it takes a while) and its exported bundle."""
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'demo.sqlite'}"
    code, _, err = fsf("--db", url, "demo")
    assert code == 0, err
    bundle = folder / "bundle"
    code, out, err = fsf("--db", url, "export", "bundle", "--out", str(bundle))
    assert code == 0, err
    assert "manifest.json" in out
    yield url, bundle


def grids(s: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every family's grids in the order the ledger reads them (date, then recording), each
    with its lines and the visit it came from (by family and day: ids differ between ledgers,
    so a visit's grid is compared without its note, which names ids)."""
    g, ln, fam, v = (sa.table(n, *(sa.column(c) for c in cols)) for n, cols in (
        ("household_grid", ("id", "family_id", "recorded_on", "usd_rate", "rate_on",
                            "savings_minor", "follow_up_id", "note")),
        ("household_line", ("grid_id", "position", "kind", "category", "label", "currency",
                            "seasonal", *MONTH_COLUMNS)),
        ("family", ("id", "ref")), ("follow_up_visit", ("id", "visited_on", "officer"))))
    lines: dict[int, list[tuple[Any, ...]]] = {}
    for r in s.execute(sa.select(ln).order_by(ln.c.grid_id, ln.c.position)).all():
        lines.setdefault(int(r[0]), []).append(tuple(r[2:]))
    out: dict[str, list[tuple[Any, ...]]] = {}
    for r in s.execute(sa.select(g, fam.c.ref, v.c.visited_on, v.c.officer)
                       .join(fam, fam.c.id == g.c.family_id)
                       .outerjoin(v, v.c.id == g.c.follow_up_id)
                       .order_by(g.c.recorded_on, g.c.id)).all():
        m = r._mapping
        # untyped columns: dates as the driver gives them (text on SQLite), so as text here
        visit = None if m["follow_up_id"] is None else (str(m["visited_on"]), m["officer"])
        out.setdefault(str(m["ref"]), []).append((
            str(m["recorded_on"]), Decimal(str(m["usd_rate"])) if m["usd_rate"] else None,
            str(m["rate_on"]), m["savings_minor"], visit, m["note"] if visit is None else "",
            tuple(lines[int(m["id"])])))
    return out


def books(url: str) -> dict[str, Any]:
    """Everything that must be the same after the round trip, read through the reports."""
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            acct, loan = (sa.table("account", sa.column("id"), sa.column("code")),
                          sa.table("loan", sa.column("id"), sa.column("ref")))
            codes = dict(s.execute(sa.select(acct.c.id, acct.c.code)).all())
            states = {}
            for loan_id, ref in s.execute(sa.select(loan.c.id, loan.c.ref)).all():
                row = get_loan(s, loan_id)
                state = load_state(s, row)
                late = arrears_as_of(state, AS_OF)
                states[ref] = (row.status, row.closed_on, row.written_off_on, row.renegotiated,
                               row.applied_on, row.approved_on, row.disbursed_on,
                               state.outstanding, state.paid, late.overdue, late.days_overdue,
                               late.bucket)
            kw: dict[str, Any] = {"actor": SYSTEM, "as_of": AS_OF}
            return {
                "balances": {codes[k]: v for k, v in balances_by_account(s).items()},
                "balances 2008": {codes[k]: v for k, v in
                                  balances_by_account(s, as_of=date(2008, 6, 30)).items()},
                "portfolio": js.portfolio_json(portfolio_quality(
                    s, period_start=date(2008, 1, 1), **kw)),
                "villages": js.villages_json(villages_report(s, **kw)),
                "register": js.register_json(loan_register(s, **kw), AS_OF),
                "loans": states,
                "fund": js.fund_json(fund_position(s, **kw)),
                "training": skill_outcomes(s, **kw),
                "grids": grids(s),
                "rows": {t: s.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                         for t in TABLES[:12]},
            }
    finally:
        engine.dispose()


def table_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())
                    for t in TABLES}
    finally:
        engine.dispose()


def round_trip(url: str, source: str, bundle: Path) -> None:
    """Make an empty ledger at `url` as an officer would, import the bundle, check it."""
    code, _, err = fsf("--db", url, "init", "--admin", "admin", "--name", "National ledger")
    assert code == 0, err
    code, _, err = fsf("--db", url, "--user", "admin", "user", "add", "clerk", "--role",
                       "administrator,officer,approver")
    assert code == 0, err
    code, out, err = fsf("--db", url, "--user", "clerk", "import", "bundle", str(bundle),
                         "--json")
    assert code == 0, (out, err)
    doc = json.loads(out)
    assert doc["committed"] is True and doc["valid"] is True and doc["problems"] == []
    assert "marked this empty ledger as a demo ledger" in doc["setup"]
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert [s["kind"] for s in doc["steps"]] == [s["kind"] for s in manifest["steps"]]
    assert all(s["created"] == s["rows"] for s in doc["steps"])
    code, out, err = fsf("--db", url, "--user", "clerk", "verify", "--json")
    assert code == 0, (out, err)
    assert json.loads(out)["ok"] is True
    expected, got = books(source), books(url)
    for key in expected:
        assert got[key] == expected[key], key
    assert expected["rows"]["loan"] == 271 and expected["rows"]["pending_approval"] == 7
    assert sum(map(len, expected["grids"].values())) == table_counts(source)["household_grid"]
    assert len(expected["grids"]) == 271

    before = table_counts(url)
    code, out, err = fsf("--db", url, "--user", "clerk", "import", "bundle", str(bundle),
                         "--json")
    assert code == 0, (out, err)
    again = json.loads(out)
    assert again["created"] == 0 and again["unchanged"] == doc["created"]
    assert table_counts(url) == before


def test_manifest_orders_the_steps_in_rounds(demo: tuple[str, Path]) -> None:
    _, bundle = demo
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    kinds = [s["kind"] for s in manifest["steps"]]
    assert kinds[:4] == ["capital", "families", "courses", "enrollments"]
    # grids and the visits that write grids alternate as the demo recorded them, after grants
    assert kinds[kinds.index("grants"):] in (["grants", "households", "followups"],
                                             ["grants", "followups", "households"])
    # a rescheduled loan's later payments come in a step after its reschedule
    assert kinds.count("repayments") >= 2
    assert kinds.index("reschedules") < len(kinds) - 1 - kinds[::-1].index("repayments")
    assert manifest["source"]["demo"] is True and manifest["left_out"] == []
    assert manifest["setup"]["funds"] == [{"code": "RIEL", "name": "Riel loan fund",
                                           "currency": "KHR"}]
    assert {p["code"] for p in manifest["setup"]["products"]} == {"FSF"}
    rows = {k: sum(s["rows"] for s in manifest["steps"] if s["kind"] == k) for k in kinds}
    assert rows["loans"] == 271 and rows["families"] == 271 and rows["writeoffs"] == 7
    # the visits' own grids are not in the households file: the followups step writes them
    counts = table_counts(demo[0])
    assert manifest["grids_from_followups"]["grids"] == rows["followups"] == counts[
        "follow_up_visit"]
    assert manifest["grids_from_followups"]["visits_without_grid"] == 0
    engine = make_engine(demo[0])
    with engine.connect() as conn:
        visit_lines = conn.execute(sa.text(
            "SELECT count(*) FROM household_line JOIN household_grid g ON g.id = grid_id "
            "WHERE g.follow_up_id IS NOT NULL")).scalar_one()
    engine.dispose()
    assert 0 < visit_lines < counts["household_line"]
    assert rows["households"] == counts["household_line"] - visit_lines
    assert "household cash-flow grids" not in manifest["not_carried"]
    assert all((bundle / s["file"]).is_file() for s in manifest["steps"])


def test_demo_round_trip_on_sqlite(demo: tuple[str, Path], tmp_path: Path) -> None:
    source, bundle = demo
    round_trip(f"sqlite:///{tmp_path / 'national.sqlite'}", source, bundle)


@pytest.mark.postgres
def test_demo_round_trip_on_postgresql(demo: tuple[str, Path],
                                       make_pg_database: Callable[..., str]) -> None:
    source, bundle = demo
    round_trip(make_pg_database(migrated=False), source, bundle)


def test_a_changed_file_or_a_real_ledger_refuses_the_demo_bundle(
        demo: tuple[str, Path], sqlite_url: str, tmp_path: Path) -> None:
    """Nothing is written when a file was edited after export, or into real books."""
    _, bundle = demo
    engine = make_engine(sqlite_url)
    from tests.import_support import empty_ledger

    with Session(engine) as session:
        empty_ledger(session)
        session.commit()
    engine.dispose()
    before = table_counts(sqlite_url)
    copy = tmp_path / "bundle"
    copy.mkdir()
    for item in bundle.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    (copy / "01-capital.xlsx").write_bytes((copy / "03-courses.xlsx").read_bytes())
    from imports.bundle import import_bundle

    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        result = import_bundle(copy, session=session, actor=SYSTEM, today=AS_OF)
        assert not result.committed and "changed after it was exported" in str(
            result.problems[0])
        result = import_bundle(bundle, session=session, actor=SYSTEM, today=AS_OF)
        assert not result.committed and "demo ledger" in result.problems[0].message
    engine.dispose()
    assert table_counts(sqlite_url) == before


def test_a_step_failing_midway_or_a_dry_run_writes_nothing(
        demo: tuple[str, Path], sqlite_url: str, tmp_path: Path) -> None:
    """The bundle is one transaction: a refused row in a late step undoes every earlier step
    and the setup; a dry run goes through every step and writes nothing."""
    import hashlib

    import openpyxl

    from imports.bundle import import_bundle

    _, bundle = demo
    copy = tmp_path / "bundle"
    copy.mkdir()
    for item in bundle.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    last = [s for s in manifest["steps"] if s["kind"] == "repayments"][-1]
    book = openpyxl.load_workbook(copy / last["file"])
    book.active.cell(row=2, column=4).value = 99_999_999  # far above what the loan owes
    book.save(copy / last["file"])
    last["sha256"] = hashlib.sha256((copy / last["file"]).read_bytes()).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    before = table_counts(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as session:
            result = import_bundle(copy, session=session, actor=SYSTEM, today=AS_OF)
            assert not result.committed and result.steps[-1].file == last["file"]
            assert {(p.row, p.column) for p in result.steps[-1].problems} == {(2, "amount")}
            assert len(result.steps) == last["step"] and all(
                s.created == s.rows for s in result.steps[:-1])
            dry = import_bundle(bundle, session=session, actor=SYSTEM, today=AS_OF,
                                dry_run=True)
            assert dry.valid and not dry.committed
            assert dry.created == sum(s["rows"] for s in manifest["steps"])
        with engine.connect() as conn:
            for table in ("province", "village", "fund", "loan_product", "app_meta"):
                assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
    finally:
        engine.dispose()
    assert table_counts(sqlite_url) == before


def test_every_loans_first_schedule_lends_its_principal(demo: tuple[str, Path]) -> None:
    # The repayment import reads a loan's first-schedule principal from the loan itself
    # (`loans_by_ref`); over the demo's loans, rescheduled and written off among them, it
    # must equal the installments' sum (`scheduled_principal`).
    engine = make_engine(demo[0])
    try:
        with Session(engine) as s:
            refs = list(s.execute(sa.text("SELECT ref FROM loan")).scalars())
            facts = loans_by_ref(s, refs)
            summed = scheduled_principal(s, sorted(f[0] for f in facts.values()))
    finally:
        engine.dispose()
    assert len(facts) == len(refs)
    assert {f[0]: (f[4], f[6]) for f in facts.values()} == summed
    assert sum(f[6] is not None for f in facts.values()) > 250
    assert any(f[4] is not None and f[4] > 1 for f in facts.values())  # rescheduled


def test_many_loans_replay_as_each_loan_alone(demo: tuple[str, Path]) -> None:
    # A village's collection sheet replays its loans together (`load_states`); over the
    # demo's loans, rescheduled, closed and written off among them, each state must equal the
    # one `load_state` gives the loan alone (reversed payments: tests/test_load_states.py).
    engine = make_engine(demo[0])
    try:
        with Session(engine) as s:
            loans = [get_loan(s, int(i)) for i in s.execute(sa.text(
                "SELECT id FROM loan WHERE disbursed_on IS NOT NULL")).scalars()]
            together = load_states(s, loans)
            alone = {loan.id: load_state(s, loan) for loan in loans}
            moved = set(s.execute(sa.text(
                "SELECT loan_id FROM loan_schedule WHERE version > 1")).scalars())
    finally:
        engine.dispose()
    assert len(loans) > 250 and moved
    assert together == alone
