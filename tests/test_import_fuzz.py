"""Any cell value yields a value or a clean problem, never another exception."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from imports import validate
from imports.api import KINDS, columns_of
from imports.problems import CellError, Problem
from ledger.db import make_engine
from tests.import_support import TODAY, empty_ledger, write_csv, write_xlsx
from tests.support.world import ACTOR

CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.text(alphabet="០១២៣៤៥៦៧៨៩,. ៛$-/%eE0123456789", max_size=16),
    st.dates(), st.datetimes(), st.decimals(allow_nan=True).map(str),
)


@settings(max_examples=400, deadline=None)
@given(value=CELLS)
def test_every_column_type_parses_or_refuses_cleanly(value: Any) -> None:
    for kind in KINDS:
        for column in columns_of(kind):
            for currency in ("KHR", "USD"):
                try:
                    column.parse(value, currency)
                except CellError as exc:
                    assert str(exc)


def _ledger(tmp_path_factory: Any) -> sa.Engine:
    from ledger.db import upgrade

    path = tmp_path_factory.mktemp("fuzz") / "ledger.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine) as session:
        empty_ledger(session)
    return engine


ROWS = st.lists(st.lists(CELLS, min_size=0, max_size=9), min_size=0, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(KINDS)), rows=ROWS, as_csv=st.booleans(),
       data=st.data())
def test_whole_files_of_random_cells_give_only_problems(
        tmp_path_factory: Any, kind: str, rows: list[list[Any]], as_csv: bool,
        data: st.DataObject) -> None:
    engine = getattr(test_whole_files_of_random_cells_give_only_problems, "engine", None)
    if engine is None:
        engine = _ledger(tmp_path_factory)
        test_whole_files_of_random_cells_give_only_problems.engine = engine  # type: ignore[attr-defined]
    headers = [c.name for c in columns_of(kind)]
    headers = data.draw(st.permutations(headers))[:9]
    folder = tmp_path_factory.mktemp("f")
    rows = [[v if not isinstance(v, float) or v == v else None for v in r] for r in rows]
    if as_csv:
        path = write_csv(folder / "x.csv", headers, [["" if v is None else str(v) for v in r]
                                                     for r in rows])
    else:
        cleaned = [[v.replace(tzinfo=None) if isinstance(v, datetime) else v
                    for v in r] for r in rows]
        cleaned = [[v if not isinstance(v, str) or v.isprintable() else "x" for v in r]
                   for r in cleaned]
        cleaned = [[v if not isinstance(v, int) or abs(v) < 10**15 else 0 for v in r]
                   for r in cleaned]
        cleaned = [[v if not isinstance(v, date) or v.year > 1900 else None for v in r]
                   for r in cleaned]
        path = write_xlsx(folder / "x.xlsx", headers, cleaned)
    with Session(engine, expire_on_commit=False) as session:
        preview = validate(kind, path, session=session, actor=ACTOR, today=TODAY)
    assert all(isinstance(p, Problem) and p.message for p in preview.problems)
    assert len(preview.rows) <= len(rows)
