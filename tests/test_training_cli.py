"""`fsf training …` and `fsf report training …` on a real SQLite ledger: records made through
the command line, reports as one JSON object, refusals as one line naming the field."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from ledger.db import make_engine
from ledger.db.tables import Enrollment, Family, FollowUpVisit, Loan
from ledger.services.setup import set_fact
from tests.support.world import build_world
from tui.cli import build_app


@pytest.fixture
def db(sqlite_url: str) -> str:
    """A small ledger (three families, one loan) marked as a demo so commands act without a
    password, as `fsf demo` ledgers do."""
    engine = make_engine(sqlite_url)
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session)
        world.loan(world.families[0], ref="L-1")
        set_fact(session, "demo", "true")
        session.commit()
    engine.dispose()
    return sqlite_url


def fsf(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), ["--db", db, *args],
                                env={"FSF_TODAY": "2009-06-30"})
    return result.exit_code, result.stdout, result.stderr


def test_record_a_training_and_report_it(db: str) -> None:
    code, out, err = fsf(db, "training", "course", "--ref", "SEW-1", "--skill", "sewing",
                         "--provider", "PDoWA", "--place", "Svay Rieng", "--starts",
                         "2008-01-07", "--ends", "2008-03-28", "--capacity", "20",
                         "--cost", "300,000")
    assert code == 0, err
    assert out.startswith("Course SEW-1")
    code, out, err = fsf(db, "training", "enroll", "--course", "SEW-1", "--family", "F001",
                         "--on", "2008-01-07", "--asked", "beauty-salon")
    assert code == 0, err
    code, out, err = fsf(db, "training", "enroll", "--course", "SEW-1", "--family", "F002",
                         "--on", "2008-01-07", "--new-member", "ស្រីពៅ", "--relation",
                         "daughter", "--status", "completed", "--completed", "2008-03-28")
    assert code == 0, err
    engine = make_engine(db)
    with Session(engine) as s:
        first, second = s.exec(select(Enrollment).order_by(Enrollment.id)).all()  # type: ignore[arg-type]
        f001 = s.exec(select(Family).where(Family.ref == "F001")).one()
    engine.dispose()
    assert (first.asked_skill, first.status) == ("beauty-salon", "enrolled")
    assert second.family_member_id is not None and second.status == "completed"

    code, out, err = fsf(db, "training", "status", "--enrollment", str(first.id), "--set",
                         "completed", "--on", "2008-03-28")
    assert code == 0, err
    code, out, err = fsf(db, "training", "link-loan", "--loan", "L-1", "--enrollment",
                         str(first.id))
    assert code == 0, err
    code, out, err = fsf(db, "training", "visit", "--enrollment", str(first.id), "--on",
                         "2008-06-20", "--activity", "employed", "--detail", "tailor shop",
                         "--income", "45", "--costs", "20.50", "--currency", "USD",
                         "--rate", "4050", "--rate-date", "2008-06-18", "--officer", "Chenda")
    assert code == 0, err
    assert "182,250 ៛" in out

    code, out, err = fsf(db, "report", "training", "skills", "--as-of", "2008-12-31", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"as_of", "threshold", "threshold_currency", "rate", "rate_on",
                         "skills"}
    assert (data["threshold"], data["threshold_currency"]) == ("50.00", "USD")
    (sewing,) = data["skills"]
    assert sewing["enrolled"] == 2 and sewing["completed"] == 2
    assert (sewing["mismatch_pct"], sewing["loan_pct"]) == ("50.00", "50.00")
    assert (sewing["median_income"], sewing["at_threshold"], sewing["followed_up"]) == (
        "182250", 0, 1)
    assert sewing["par30_pct"] == "100.00" and sewing["on_time_pct"] == "0.00"

    code, out, err = fsf(db, "report", "training", "follow-ups", "--as-of", "2008-12-31",
                         "--json")
    assert code == 0, err
    data = json.loads(out)
    people = {p["family"]: p for p in data["people"]}
    # F001: visited 20 June → next 20 September, 102 days late; F002: never visited since
    # completing on 28 March → 28 June, 186 days late.
    assert people["F001"]["days_overdue"] == 102 and people["F001"]["officer"] == "Chenda"
    assert people["F002"]["last_visit"] is None and people["F002"]["days_overdue"] == 186
    assert data["overdue"] == 2 and data["due"] == 0
    assert sum(g["overdue"] for g in data["by_village"]) == 2

    code, out, err = fsf(db, "report", "training", "skills", "--as-of", "2008-12-31")
    assert code == 0 and "sewing" in out and "182,250 ៛" in out
    code, out, err = fsf(db, "report", "training", "follow-ups", "--as-of", "2008-12-31")
    assert code == 0 and "Chenda" in out and "never" in out
    assert f001.ref == "F001"


def test_refusals_are_one_line(db: str) -> None:
    code, _, err = fsf(db, "training", "course", "--ref", "X", "--skill", "astrology",
                       "--provider", "P", "--place", "Q", "--starts", "2008-01-07", "--ends",
                       "2008-01-01", "--capacity", "5")
    assert code == 2
    assert err.startswith("fsf training course: skill: 'astrology' is not one of")
    assert len(err.strip().splitlines()) == 1
    code, _, err = fsf(db, "training", "visit", "--enrollment", "1", "--on", "2008-06-20",
                       "--activity", "employed", "--income", "-5", "--costs", "0")
    assert code == 2 and err.strip() == "fsf training visit: --income: '-5' cannot be negative"
    code, _, err = fsf(db, "training", "link-loan", "--loan", "L-9", "--enrollment", "1")
    assert code == 2 and "'L-9' is not a loan" in err
    engine = make_engine(db)
    with Session(engine) as s:
        assert s.exec(select(FollowUpVisit)).all() == []
        assert s.exec(select(Loan)).one().enrollment_id is None
    engine.dispose()
