"""Database fixtures: every storage test runs on SQLite and on the real PostgreSQL server.

- `engine` / `session`: parametrised over `sqlite` (a fresh migrated file under tmp_path) and
  `postgresql` (a fresh database per test, marked `postgres`).
- `pg_url`: the URL of a fresh, migrated PostgreSQL database, dropped after the test.
- `make_pg_database(migrated=True)`: make more fresh PostgreSQL databases (dropped afterwards).
- `sqlite_url`: the URL of a fresh, migrated SQLite file.
- `ledger_url`: the URL of a fresh, migrated ledger on each database in turn.
- `twins`: sessions on two fresh ledgers of the same database, for comparing two paths.

Speed (measured here): migrating once per run (per xdist worker) into a template and cloning
it with `CREATE DATABASE ... TEMPLATE` costs ~0.2-0.3 s a test (create and drop) against ~1.0 s
to create and migrate each database; SQLite copies a migrated file the same way.

PostgreSQL unreachable: the tests skip, except when `CI=true`, where they fail, so that CI never
goes green without having run them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ledger.db import make_engine, upgrade

PG_ADMIN_URL = os.environ.get(
    "FSF_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin_engine() -> sa.Engine:
    return sa.create_engine(
        PG_ADMIN_URL,
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
        connect_args={"connect_timeout": 3},
    )


def _db_url(name: str) -> str:
    return sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def require_postgres() -> None:
    """Skip when the server is unreachable, or fail when running under CI (`CI=true`)."""
    try:
        with _admin_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        reason = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def create_pg_database(template: str | None = None) -> str:
    """Create a uniquely named database (optionally cloned from `template`); return its name."""
    name = f"fsf_test_{_worker()}_{uuid.uuid4().hex[:12]}"
    with _admin_engine().connect() as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
    return name


def drop_pg_database(name: str) -> None:
    """Drop a test database, disconnecting anyone still on it."""
    with _admin_engine().connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    require_postgres()
    name = create_pg_database()
    engine = make_engine(_db_url(name), poolclass=sa.pool.NullPool)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    yield name
    drop_pg_database(name)


@pytest.fixture
def make_pg_database(request: pytest.FixtureRequest) -> Iterator[Callable[..., str]]:
    """A factory of fresh PostgreSQL database URLs: `make_pg_database(migrated=True)`."""
    require_postgres()
    made: list[str] = []

    def make(migrated: bool = True) -> str:
        template = request.getfixturevalue("_pg_template") if migrated else None
        name = create_pg_database(template)
        made.append(name)
        return _db_url(name)

    yield make
    for name in made:
        drop_pg_database(name)


@pytest.fixture
def pg_url(make_pg_database: Callable[..., str]) -> str:
    """The URL of a fresh, migrated PostgreSQL database."""
    return make_pg_database()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ledger.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection's close checkpoints the WAL into the file
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """The URL of a fresh, migrated SQLite ledger file."""
    path = tmp_path / "ledger.sqlite"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated ledger on each database."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """A migrated, empty ledger on each database."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("pg_url")
    eng = make_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """A session on `engine`; tests commit or roll back as services would."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def twins(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Session, Session]]:
    """Sessions on two fresh, migrated ledgers of the same kind of database."""
    if request.param == "sqlite":
        first = request.getfixturevalue("sqlite_url")
        second = tmp_path / "twin.sqlite"
        second.write_bytes(Path(first.removeprefix("sqlite:///")).read_bytes())
        urls = [first, f"sqlite:///{second}"]
    else:
        make: Callable[..., str] = request.getfixturevalue("make_pg_database")
        urls = [make(), make()]
    engines = [make_engine(u) for u in urls]
    with Session(engines[0], expire_on_commit=False) as a, \
            Session(engines[1], expire_on_commit=False) as b:
        yield a, b
    for e in engines:
        e.dispose()
