"""Users: argon2id hashes, signing in, disabled users, failures slowed down (with an injected
clock), the append-only user log, and the rules about names, treasurers and the last admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from ledger import users
from ledger.actor import PermissionDenied, Role
from ledger.db.places import load_gazetteer_province
from ledger.db.tables import User, UserEvent, Village
from ledger.services.errors import Conflict, ServiceError
from ledger.users import (
    AuthenticationFailed,
    add_user,
    authenticate,
    change_password,
    create_first_admin,
    disable_user,
    failure_delay,
    list_users,
    set_roles,
)

PW = "correct horse"


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    # Still argon2id, with the smallest cost, so the tests spend their time on the rules.
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                         parallelism=1))


@pytest.fixture
def admin(session: Session) -> str:
    create_first_admin(session, name="ana", password=PW)
    return "ana"


def _login(session: Session, name: str, password: str = PW):  # type: ignore[no-untyped-def]
    return authenticate(session, name=name, password=password, sleep=lambda _s: None)


def test_first_admin_signs_in_with_an_argon2id_hash(session: Session, admin: str) -> None:
    row = session.execute(sa.select(User).where(User.name == admin)).scalar_one()  # type: ignore[arg-type]
    assert row.password_hash.startswith("$argon2id$") and PW not in row.password_hash
    actor = _login(session, admin)
    assert actor.name == "ana" and actor.roles == frozenset({Role.ADMINISTRATOR})
    assert actor.user_id == row.id and actor.villages is None and not actor.demo
    with pytest.raises(Conflict):
        create_first_admin(session, name="eve", password=PW)


def test_wrong_password_unknown_user_and_disabled_user_are_refused(
        session: Session, admin: str) -> None:
    boss = _login(session, admin)
    add_user(session, actor=boss, name="oli", roles=["officer"], password=PW)
    with pytest.raises(AuthenticationFailed, match="wrong user name or password"):
        _login(session, "oli", "not the password")
    with pytest.raises(AuthenticationFailed, match="wrong user name or password"):
        _login(session, "nobody")
    disable_user(session, actor=boss, name="oli", reason="left the project")
    with pytest.raises(AuthenticationFailed, match="disabled"):
        _login(session, "oli")


def test_repeated_failures_wait_longer_each_time(session: Session, admin: str) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    slept: list[float] = []

    def attempt(password: str) -> None:
        authenticate(session, name=admin, password=password, clock=lambda: now[0],
                     sleep=slept.append)

    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            attempt("guess")
    # No wait before the first try; then 1, 2, 4 seconds counted from the last failure.
    assert slept == [1.0, 2.0, 4.0]
    now[0] += timedelta(seconds=3)  # 3 of the 8 seconds have passed: 5 left
    attempt(PW)
    assert slept[-1] == 5.0
    row = session.execute(sa.select(User).where(User.name == admin)).scalar_one()  # type: ignore[arg-type]
    assert row.failed_attempts == 0  # a success starts the count again
    assert failure_delay(0) == 0 and failure_delay(30) == 60


def test_administrators_manage_users_and_every_change_is_logged(
        session: Session, admin: str) -> None:
    load_gazetteer_province(session, "Svay Rieng")
    session.commit()
    code = session.execute(sa.select(Village.code).limit(1)).scalar_one()  # type: ignore[call-overload]
    boss = _login(session, admin)
    with pytest.raises(ServiceError, match="villages"):
        add_user(session, actor=boss, name="tina", roles=["treasurer"], password=PW)
    add_user(session, actor=boss, name="tina", roles=["treasurer"], password=PW,
             villages=[code])
    with pytest.raises(ServiceError, match="not a role"):
        add_user(session, actor=boss, name="x1", roles=["cashier"], password=PW)
    with pytest.raises(ServiceError, match="cannot be a user name"):
        add_user(session, actor=boss, name="system", roles=["officer"], password=PW)
    with pytest.raises(ServiceError, match="at least 8"):
        add_user(session, actor=boss, name="x2", roles=["officer"], password="short")
    tina = _login(session, "tina")
    assert tina.villages == frozenset({code}) and not tina.sees_village("other")
    with pytest.raises(PermissionDenied, match="needs the administrator role"):
        add_user(session, actor=tina, name="x3", roles=["officer"], password=PW)
    with pytest.raises(PermissionDenied):
        change_password(session, actor=tina, name=admin, password="another one")
    change_password(session, actor=tina, name="tina", password="another one")
    _login(session, "tina", "another one")
    set_roles(session, actor=boss, name="tina", roles=["treasurer", "auditor"], villages=[code])
    with pytest.raises(ServiceError, match="last administrator"):
        disable_user(session, actor=boss, name=admin)
    assert [u.name for u in list_users(session, actor=boss)] == ["ana", "tina"]
    events = session.execute(sa.select(UserEvent.event).order_by(UserEvent.id)).scalars().all()  # type: ignore[arg-type]
    assert events == ["added", "added", "password_changed", "roles_changed"]


def test_the_user_log_is_append_only(engine: sa.Engine) -> None:
    with Session(engine) as session:
        create_first_admin(session, name="ana", password=PW)
    for statement in ("UPDATE user_event SET event = 'x'", "DELETE FROM user_event"):
        with engine.connect() as conn:
            with pytest.raises(sa.exc.DBAPIError, match="user_event is append-only"):
                conn.exec_driver_sql(statement)
            conn.rollback()
