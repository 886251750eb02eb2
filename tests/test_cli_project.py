"""`fsf household record|show` and `fsf project` on real SQLite and PostgreSQL ledgers: the
hand-worked tailor (US$70 in, US$25 food, US$40 housing at 4,100 riel: 20,500 riel a month) comes
out of `--json` exactly as the pure functions and a hand computation give it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from typer.testing import CliRunner

from ledger.disclosure import disclose, percent
from ledger.money import KHR, Money
from ledger.projection import FoundationProduct, compare_financing, simulate
from ledger.schedule import build_schedule
from ledger.services.households import build_household, family_by_ref
from ledger.services.setup import set_fact
from tests.support.world import ACTOR, build_world
from tui.cli import build_app

D = Decimal
AS_OF = date(2009, 6, 30)


@pytest.fixture
def db(engine: sa.Engine) -> str:
    """A small ledger marked as a demo (commands act without a password), on each database."""
    with Session(engine, expire_on_commit=False) as session:
        build_world(session)
        set_fact(session, "demo", "true")
        session.commit()
    return engine.url.render_as_string(hide_password=False)


def fsf(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), ["--db", db, *args],
                                env={"FSF_TODAY": AS_OF.isoformat()})
    return result.exit_code, result.stdout, result.stderr


def _json(db: str, *args: str) -> dict[str, Any]:
    code, out, err = fsf(db, *args, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def _riel(n: Decimal) -> str:
    return Money(n, KHR).plain()


TAILOR = ("household", "record", "--family", "F001", "--income", "activity:tailor shop=$70",
          "--expense", "food=$25", "--expense", "housing=$40", "--usd-rate", "4100",
          "--rate-on", "2009-06-01", "--on", "2009-06-01")


def test_the_tailor_through_the_command_line(db: str, engine: sa.Engine) -> None:
    rec = _json(db, *TAILOR)
    assert rec["demo"] is True and rec["usd_rate"] == "4100"
    assert rec["incomes"] == [{"category": "activity", "label": "tailor shop", "currency": "USD",
                               "seasonal": False, "amounts": ["70.00"]}]
    p = _json(db, "project", "--family", "F001", "--amount", "100,000", "--months", "6",
              "--scenarios", "1000", "--seed", "3")
    assert (p["family"], p["as_of"], p["currency"], p["months"]) == ("F001", "2009-06-30",
                                                                     "KHR", 6)
    grid = p["grid"]
    assert grid["months"] == ["2009-07", "2009-08", "2009-09", "2009-10", "2009-11", "2009-12"]
    assert grid["incomes"] == {"activity": ["287000"] * 6}
    assert grid["expenses"] == {"food": ["102500"] * 6, "housing": ["164000"] * 6}
    assert grid["net_income"] == ["20500"] * 6
    assert grid["loan"] == ["17300"] * 5 + ["17022"]
    assert grid["surplus"] == ["3200"] * 5 + ["3478"]
    assert p["loan"]["installment"] == "17300" and p["loan"]["total_interest"] == "3522"
    cap = p["capacity"]
    assert cap == {"net_income": "123000", "debt_service": "103522", "index_before": "0.00",
                   "solvency_before": "solvent", "index": "84.16", "solvency": "at-risk",
                   "installment_capacity": "10250", "largest_loan": "50000",
                   "missed_months": [], "shortfall": "0"}
    # The same figures from the pure functions, fed the household the ledger holds.
    with Session(engine) as session:
        fid = family_by_ref(session, "F001")
        household = build_household(session, actor=ACTOR, family_id=fid, as_of=AS_OF).household
    schedule = build_schedule(FoundationProduct().terms(D(100_000), 6, AS_OF))
    info = disclose(schedule)
    assert (p["loan"]["apr"], p["loan"]["eir"]) == (percent(info.apr), percent(info.eir))
    options = compare_financing(household, principal=D(100_000), months=6)
    assert [(o["label"], o["installment"], o["missed_months"], o["saving"])
            for o in p["financing"]] == [
        (o.label, _riel(o.installment), list(o.missed_months), _riel(o.saving)) for o in options]
    mc = simulate(household, schedule, scenarios=1000, months=6, seed=3)
    assert p["monte_carlo"] == {
        "scenarios": 1000, "months": 6, "seed": 3,
        "missed_installment_pct": percent(mc.probability_of_missed_installment),
        "expected_shortfall": _riel(mc.expected_shortfall),
        "worst_shortfall": _riel(mc.worst_shortfall)}
    assert [s["shock"] for s in p["stress"]] == ["price-fall", "livestock-death", "flood",
                                                 "job-loss"]
    assert p["stress"][0]["index"] is None and p["stress"][0]["solvency"] == "insolvent"
    assert p["viability"] is None and p["warnings"] == []
    # The same seed gives the same answer; the text form starts with the DEMO line.
    again = _json(db, "project", "--family", "F001", "--amount", "100000", "--months", "6",
                  "--scenarios", "1000", "--seed", "3")
    assert again == p
    code, out, err = fsf(db, "project", "--family", "F001", "--amount", "100000", "--months",
                         "6", "--scenarios", "200")
    assert code == 0, err
    assert out.startswith("DEMO ledger") and "84.16 % with the loan (at-risk)" in out
    assert "largest loan over 6 months 50,000 ៛" in out


def test_seasonal_lines_history_and_an_activity(db: str) -> None:
    farm = ",".join(["0"] * 11 + ["400000"])
    code, _, err = fsf(db, *TAILOR)
    assert code == 0, err
    shown = _json(db, "household", "record", "--family", "F001", "--income", "wage=300,000",
                  "--income", f"farming:rice={farm}", "--expense", "food=120000",
                  "--expense", "schooling=0;0;0;0;0;0;0;0;60,000;0;0;0", "--on", "2009-06-20")
    assert shown["usd_rate"] is None and shown["incomes"][1]["seasonal"] is True
    assert shown["expenses"][1]["amounts"][8] == "60000"
    now = _json(db, "household", "show", "--family", "F001")
    assert [g["recorded_on"] for g in now["grids"]] == ["2009-06-20"]
    old = _json(db, "household", "show", "--family", "F001", "--as-of", "2009-06-10")
    assert [g["recorded_on"] for g in old["grids"]] == ["2009-06-01"]
    every = _json(db, "household", "show", "--family", "F001", "--history")
    assert [g["recorded_on"] for g in every["grids"]] == ["2009-06-01", "2009-06-20"]
    p = _json(db, "project", "--family", "F001", "--activity", "tailor", "--months", "12",
              "--scenarios", "200")
    assert p["activity"] == "tailor" and p["viability"]["kind"] == "tailor"
    assert p["loan"]["principal"] == p["viability"]["capital"]
    # The rice is sold in December (month 6 from June); schooling paid in September.
    assert p["grid"]["incomes"]["farming"][5] == "400000"
    assert p["grid"]["expenses"]["schooling"][2] == "60000"
    assert p["grid_source"]["recorded_on"] == "2009-06-20"


def test_refusals_are_one_line(db: str) -> None:
    cases = [
        (("project", "--family", "F404"), "fsf project: family: 'F404' is not a family"),
        (("project", "--family", "F002"), "fsf project: family: family F002 has no cash-flow"),
        (("project", "--family", "F001", "--months", "0"), "fsf project: --months: must be"),
        (("project", "--family", "F001", "--activity", "weaving"),
         "fsf project: --activity: 'weaving' is not one of"),
        (("household", "record", "--family", "F001", "--income", "salary=5"),
         "fsf household record: --income: 'salary' is not one of"),
        (("household", "record", "--family", "F001", "--expense", "food=$5"),
         "fsf household record: --usd-rate: dollar amounts need"),
        (("household", "record", "--family", "F001", "--expense", "food=1,2,3"),
         "fsf household record: --expense: food:"),
        (("household", "record", "--family", "F001", "--expense", "food"),
         "fsf household record: --expense: 'food' is not CATEGORY=AMOUNT"),
    ]
    for args, start in cases:
        code, _, err = fsf(db, *args)
        assert code == 2, (args, err)
        assert err.startswith(start), (args, err)
        assert len(err.strip().splitlines()) == 1
    assert _json(db, "household", "show", "--family", "F001")["grids"] == []
