"""`fsf report …`: the same ledger on SQLite and on PostgreSQL gives identical JSON for every
report; readable tables; documented shapes; clear refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from typer.testing import CliRunner

from ledger import reports as rp
from ledger.actor import SYSTEM
from ledger.db import make_engine
from ledger.reports import json as js
from ledger.users import add_user, authenticate, create_first_admin
from tests.test_reports_oracle import build_random_portfolio
from tests.test_reports_scenario import build_scenario
from tui.cli import build_app
from tui.commands.report_cmd import portfolio_text, reserve_text, villages_text

PASSWORD = "correct horse battery staple"
ENV = {"FSF_TODAY": "2009-06-30", "FSF_PASSWORD": PASSWORD}


def fsf(url: str, *args: str, user: str = "admin") -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), ["--db", url, "--user", user, *args], env=ENV)
    return result.exit_code, result.stdout, result.stderr


def _users(session: Session, village: str) -> None:
    create_first_admin(session, name="admin", password=PASSWORD)
    admin = authenticate(session, name="admin", password=PASSWORD)
    add_user(session, actor=admin, name="tess", roles=["treasurer"], password=PASSWORD,
             villages=[village])


def _built(url: str, build: Callable[[Session], Any]) -> dict[str, str]:
    """Build a ledger at `url`; return a loan ref, a family ref and a village code in it."""
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            build(session)
            row = session.execute(sa.text(
                "SELECT loan.ref, family.ref, village.code FROM loan JOIN family ON "
                "family.id = loan.family_id JOIN village ON village.id = family.village_id "
                "WHERE loan.status IN ('active', 'written_off') ORDER BY loan.ref")).first()
            assert row is not None
            _users(session, row[2])
            return {"loan": row[0], "family": row[1], "village": row[2]}
    finally:
        engine.dispose()


def every_report(url: str, refs: dict[str, str], as_of: str) -> dict[str, Any]:
    """Every report's JSON on one ledger."""
    commands = {
        "loan": ["report", "loan", refs["loan"], "--as-of", as_of],
        "family": ["report", "family", refs["family"], "--as-of", as_of],
        "portfolio": ["report", "portfolio", "--as-of", as_of, "--from", "2008-01-01"],
        "portfolio>": ["report", "portfolio", "--as-of", as_of, "--par-boundary", ">"],
        "reserve": ["report", "reserve", "--as-of", as_of],
        "fund": ["report", "fund", "--as-of", as_of],
        "villages": ["report", "villages", "--as-of", as_of, "--sort", "par30"],
        "collection": ["report", "collection", "--village", refs["village"], "--month",
                       as_of[:7]],
        "register": ["report", "register", "--as-of", as_of],
    }
    out = {}
    for name, args in commands.items():
        code, stdout, stderr = fsf(url, *args, "--json")
        assert code == 0, (name, stderr)
        assert stdout.count("\n") == 1, name  # exactly one JSON object
        out[name] = json.loads(stdout)
    return out


def reports_json(url: str, refs: dict[str, str], as_of: date) -> dict[str, Any]:
    """Every report's JSON on one ledger, through the functions the commands call."""
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as s:
            loan_id, family_id = rp.loan_id_for(s, refs["loan"]), rp.family_id_for(s, refs[
                "family"])
            start = date(2008, 1, 1)
            return {
                "loan": js.loan_status_json(rp.loan_status(s, actor=SYSTEM, loan_id=loan_id,
                                                           as_of=as_of)),
                "family": js.family_json(rp.family_statement(s, actor=SYSTEM,
                                                             family_id=family_id, as_of=as_of)),
                "portfolio": js.portfolio_json(rp.portfolio_quality(
                    s, actor=SYSTEM, as_of=as_of, period_start=start)),
                "portfolio>": js.portfolio_json(rp.portfolio_quality(
                    s, actor=SYSTEM, as_of=as_of, par_boundary=">")),
                "reserve": js.reserve_json(rp.loan_loss_reserve(s, actor=SYSTEM, as_of=as_of)),
                "fund": js.fund_json(rp.fund_position(s, actor=SYSTEM, as_of=as_of)),
                "villages": js.villages_json(rp.villages_report(s, actor=SYSTEM, as_of=as_of,
                                                                period_start=start)),
                "collection": js.collection_json(rp.collection_sheet(
                    s, actor=SYSTEM, village_code=refs["village"], month=f"{as_of:%Y-%m}")),
                "register": js.register_json(rp.loan_register(s, actor=SYSTEM, as_of=as_of),
                                             as_of),
            }
    finally:
        engine.dispose()


def test_sqlite_and_postgresql_give_identical_reports(sqlite_url: str, pg_url: str) -> None:
    refs = _built(sqlite_url, lambda s: build_random_portfolio(s, seed=7))
    assert _built(pg_url, lambda s: build_random_portfolio(s, seed=7)) == refs
    for as_of in (date(2008, 6, 14), date(2008, 12, 31), date(2009, 6, 30)):
        lite, pg = reports_json(sqlite_url, refs, as_of), reports_json(pg_url, refs, as_of)
        for name in lite:
            assert lite[name] == pg[name], (name, as_of)
        assert lite["portfolio"]["gross_portfolio"] != "0"
    # The command prints exactly what the functions give, on both databases.
    for url in (sqlite_url, pg_url):
        code, out, err = fsf(url, "report", "portfolio", "--as-of", "2009-06-30", "--from",
                             "2008-01-01", "--json")
        assert code == 0, err
        assert json.loads(out) == lite["portfolio"]


@pytest.fixture(scope="module")
def scenario_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from ledger.db import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('scenario') / 'ledger.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    _built(url, build_scenario)
    return url


def test_json_shapes_and_conventions(scenario_url: str) -> None:
    data = every_report(scenario_url, {"loan": "L-A", "family": "F001", "village": _code(
        scenario_url)}, "2008-06-14")
    loan = data["loan"]
    assert set(loan) == {"loan", "family", "as_of", "currency", "principal", "disbursed_on",
                         "status", "outstanding_principal", "interest_due", "overdue",
                         "days_overdue", "oldest_unpaid_due", "bucket", "next_due_date",
                         "next_due_amount", "payoff"}
    assert (loan["outstanding_principal"], loan["days_overdue"], loan["bucket"]) == (
        "106670", 30, "1–30")
    assert loan["next_due_date"] == "2008-06-15" and loan["status"] == "active"
    port = data["portfolio"]
    assert port["par"]["par30"]["rate"].count(".") == 1
    assert len(port["par"]["par30"]["rate"].split(".")[1]) == 2
    assert [b["bucket"] for b in port["buckets"]] == ["current", "1–30", "31–60", "61–90",
                                                      "91–180", "181–365", "over 365"]
    assert port["par"]["par30"]["loans"] == 3 and data["portfolio>"]["par"]["par30"][
        "loans"] == 2
    assert data["reserve"]["buckets"][1]["rate"] == "10.00"
    sheet = data["collection"]
    assert [r["loan"] for r in sheet["rows"]] == ["L-A", "L-D"]
    assert sheet["totals"]["to_collect"] == "79000" and sheet["rows"][0]["collected"] is None
    assert {v["level"] for v in data["villages"]["districts"]} == {"district"}
    assert date.fromisoformat(data["family"]["loans"][0]["lines"][0]["date"]) == date(2008, 1,
                                                                                       15)


def _code(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text(
                "SELECT village.code FROM family JOIN village ON village.id = family.village_id"
                " WHERE family.ref = 'F001'")).scalar_one())
    finally:
        engine.dispose()


def test_readable_tables(scenario_url: str) -> None:
    code, out, _ = fsf(scenario_url, "report", "portfolio", "--as-of", "2008-06-14")
    assert code == 0 and "PAR30" in out and "Gross loan portfolio" in out
    assert " ៛" in out and "1–30" in out
    code, out, _ = fsf(scenario_url, "report", "collection", "--village", _code(scenario_url),
                       "--month", "2008-06")
    assert code == 0 and "Collected" in out and "79,000 ៛" in out
    assert out.splitlines()[-1].startswith("Total")
    for args in (["report", "loan", "L-D", "--as-of", "2008-06-14"],
                 ["report", "family", "F004", "--as-of", "2008-06-14"],
                 ["report", "reserve"], ["report", "fund"], ["report", "villages"],
                 ["report", "register"]):
        code, out, err = fsf(scenario_url, *args)
        assert code == 0 and out.strip(), (args, err)


def test_empty_reports_before_any_activity(scenario_url: str) -> None:
    for args in (["report", "portfolio"], ["report", "reserve"], ["report", "villages"],
                 ["report", "register"], ["report", "fund"]):
        code, _, err = fsf(scenario_url, *args, "--as-of", "2006-01-01", "--json")
        assert code == 0, (args, err)
    data = json.loads(fsf(scenario_url, "report", "portfolio", "--as-of", "2006-01-01",
                          "--json")[1])
    assert data["gross_portfolio"] == "0" and data["par"]["par30"]["rate"] is None
    assert json.loads(fsf(scenario_url, "report", "register", "--as-of", "2006-01-01",
                          "--json")[1])["loans"] == []


def test_refusals_are_one_clear_line(scenario_url: str) -> None:
    code, _, err = fsf(scenario_url, "report", "collection", "--village", "99999999",
                       "--month", "2008-06")
    assert code == 2 and "no village with code '99999999'" in err
    assert err.count("\n") == 1
    code, _, err = fsf(scenario_url, "report", "collection", "--village", _code(scenario_url),
                       "--month", "June")
    assert code == 2 and "month" in err
    code, _, err = fsf(scenario_url, "report", "portfolio", "--par-boundary", "=>")
    assert code == 2 and "--par-boundary" in err
    code, _, err = fsf(scenario_url, "report", "loan", "NOPE")
    assert code == 2 and "no loan 'NOPE'" in err
    code, _, err = fsf(scenario_url, "report", "villages", "--sort", "colour")
    assert code == 2 and "--sort" in err


def test_reserve_set_changes_the_report(tmp_path: Any, scenario_url: str) -> None:
    import shutil

    path = sa.make_url(scenario_url).database
    assert path is not None
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(path, copy)
    url = f"sqlite:///{copy}"
    code, out, err = fsf(url, "reserve", "set", "1-30", "15")
    assert code == 0, err
    assert "15.00 %" in out
    data = json.loads(fsf(url, "report", "reserve", "--as-of", "2008-06-14", "--json")[1])
    assert data["buckets"][1]["rate"] == "15.00"
    code, _, err = fsf(url, "reserve", "set", "1-30", "150")
    assert code == 2 and "0 to 100" in err


def test_a_treasurer_sees_only_her_villages(scenario_url: str) -> None:
    everyone = json.loads(fsf(scenario_url, "report", "register", "--as-of", "2008-06-14",
                              "--json")[1])
    hers = json.loads(fsf(scenario_url, "report", "register", "--as-of", "2008-06-14",
                          "--json", user="tess")[1])
    assert {r["loan"] for r in hers["loans"]} == {"L-A", "L-D"}
    assert len(everyone["loans"]) == 6
    code, _, err = fsf(scenario_url, "report", "fund", user="tess")
    assert code == 3 and "every village" in err
    code, out, _ = fsf(scenario_url, "report", "collection", "--village", _code(scenario_url),
                       "--month", "2008-06", "--json", user="tess")
    assert code == 0 and len(json.loads(out)["rows"]) == 2
    code, _, err = fsf(scenario_url, "reserve", "set", "current", "1", user="tess")
    assert code == 3 and "administrator" in err


def test_reports_on_a_demo_ledger_default_to_its_own_day(sqlite_url: str) -> None:
    from ledger.services.setup import set_fact

    refs = _built(sqlite_url, build_scenario)
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        set_fact(session, "demo", "true")
        set_fact(session, "demo_as_of", "2009-05-31")
        session.commit()
    engine.dispose()
    env = {"FSF_PASSWORD": PASSWORD, "FSF_TODAY": ""}
    for args in (["report", "portfolio", "--json"], ["report", "loan", refs["loan"], "--json"]):
        result = CliRunner().invoke(build_app(), ["--db", sqlite_url, "--user", "admin", *args],
                                    env=env)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["as_of"] == "2009-05-31"


def test_counts_are_written_with_thousands_separators(scenario_url: str) -> None:
    # A national portfolio counts loans in the hundreds of thousands, written as its riel are.
    engine = make_engine(scenario_url)
    try:
        with Session(engine) as session:
            day = date(2008, 6, 14)
            q = rp.portfolio_quality(session, actor=SYSTEM, as_of=day)
            reserve = rp.loan_loss_reserve(session, actor=SYSTEM, as_of=day)
            villages = rp.villages_report(session, actor=SYSTEM, as_of=day)
    finally:
        engine.dispose()
    q = replace(q, renegotiated_loans=1_250, par=tuple(replace(p, loans=152_885) for p in q.par),
                buckets=tuple(replace(b, loans=93_034) for b in q.buckets))
    text = "\n".join(portfolio_text(q))
    assert "152,885" in text and "93,034" in text and "(1,250 renegotiated" in text
    assert "152885" not in text and "93034" not in text
    reserve = replace(reserve, lines=tuple(replace(x, loans=12_612) for x in reserve.lines))
    assert "12,612" in "\n".join(reserve_text(reserve))
    villages = replace(villages, total=replace(villages.total, families=14_563,
                                               active_loans=209_394))
    assert "14,563" in "\n".join(villages_text(villages))
    assert "209,394" in "\n".join(villages_text(villages))
