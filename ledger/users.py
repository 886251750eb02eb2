"""People who sign in to the ledger: adding them, their passwords (argon2id), disabling them,
and signing in with failed attempts slowed down.

Users and their roles are master data, so rows change; every change is also appended to
`user_event` (who did what to whom, when). Sign-in turns a name and password into the `Actor`
every service takes.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import SYSTEM, Actor, Permission, Role
from ledger.db.tables import User, UserEvent, Village, utc_now
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.unit import transactional

__all__ = [
    "MAX_DELAY_SECONDS",
    "MIN_PASSWORD_LENGTH",
    "RESERVED_NAMES",
    "AuthenticationFailed",
    "UserInfo",
    "add_user",
    "authenticate",
    "change_password",
    "create_first_admin",
    "disable_user",
    "failure_delay",
    "has_users",
    "list_users",
    "parse_roles",
    "set_roles",
]

MIN_PASSWORD_LENGTH = 8
MAX_DELAY_SECONDS = 60
RESERVED_NAMES = frozenset({"system", "demo-admin"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash("not a password anyone has")


class AuthenticationFailed(Exception):
    """Sign-in refused; the message never says whether the name or the password was wrong."""


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A user as listed to administrators (never the password hash)."""

    name: str
    display_name: str
    roles: tuple[str, ...]
    villages: tuple[str, ...] | None
    disabled: bool
    created_by: str
    failed_attempts: int


def parse_roles(roles: Iterable[str | Role]) -> frozenset[Role]:
    """Roles from their names; a ServiceError names any unknown one."""
    out = set()
    for r in roles:
        text = str(r).strip().lower()
        if not text:
            continue
        try:
            out.add(Role(text))
        except ValueError:
            known = ", ".join(x.value for x in Role)
            raise ServiceError(f"{text!r} is not a role; roles are {known}",
                               field="role") from None
    if not out:
        raise ServiceError("give the user at least one role", field="role")
    return frozenset(out)


def _split(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(x for x in text.split(",") if x)


def failure_delay(failed_attempts: int) -> float:
    """Seconds to wait before the next password check after `failed_attempts` failures in a
    row: 0, then 1, 2, 4, … capped at `MAX_DELAY_SECONDS`."""
    if failed_attempts <= 0:
        return 0.0
    return float(min(2 ** (failed_attempts - 1), MAX_DELAY_SECONDS))  # seconds to sleep: float


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
                           field="password")


def _find(session: Session, name: str, *, lock: bool = False) -> User:
    query = sa.select(User).where(col(User.name) == name)
    if lock:
        query = query.with_for_update()
    user = session.execute(query).scalars().first()
    if user is None:
        raise NotFound(f"no user named {name!r}", field="user")
    return user


def _log(session: Session, user: User, event: str, by: str, detail: str = "") -> None:
    assert user.id is not None
    session.add(UserEvent(user_id=user.id, event=event, detail=detail, by=by))


def _villages(session: Session, codes: Iterable[str] | None) -> str | None:
    if codes is None:
        return None
    wanted = sorted({c.strip() for c in codes if c.strip()})
    if not wanted:
        return None
    known = set(session.execute(
        sa.select(col(Village.code)).where(col(Village.code).in_(wanted))).scalars())
    missing = [c for c in wanted if c not in known]
    if missing:
        raise NotFound(f"no village with code {', '.join(missing)}", field="villages")
    return ",".join(wanted)


def has_users(session: Session) -> bool:
    """Whether any user exists (a ledger made before users, or a demo, has none)."""
    return session.execute(sa.select(col(User.id)).limit(1)).first() is not None


def _insert(session: Session, *, by: str, name: str, roles: frozenset[Role], password: str,
            villages: Iterable[str] | None, display_name: str) -> User:
    if not _NAME.match(name) or name.lower() in RESERVED_NAMES:
        raise ServiceError(f"{name!r} cannot be a user name: use letters, digits, '.', '_' or "
                           "'-' (and not 'system' or 'demo-admin')", field="name")
    _check_password(password)
    stored = _villages(session, villages)
    if Role.TREASURER in roles and stored is None:
        raise ServiceError("a treasurer needs the villages she may see (--villages CODE,…)",
                           field="villages")
    if session.execute(sa.select(col(User.id)).where(col(User.name) == name)).first():
        raise Conflict(f"a user named {name!r} already exists", field="name")
    user = User(name=name, display_name=display_name, roles=",".join(sorted(roles)),
                villages=stored, password_hash=_HASHER.hash(password), created_by=by)
    session.add(user)
    session.flush()
    _log(session, user, "added", by, f"roles {user.roles}" + (
        f"; villages {stored}" if stored else ""))
    return user


@transactional
def create_first_admin(session: Session, *, name: str, password: str,
                       display_name: str = "") -> User:
    """The ledger's first administrator (for `fsf init --admin`); refused once any user
    exists, so it can never be used to add a second administrator without one."""
    if has_users(session):
        raise Conflict("this ledger already has users; an administrator adds more",
                       field="admin")
    return _insert(session, by=SYSTEM.name, name=name, roles=frozenset({Role.ADMINISTRATOR}),
                   password=password, villages=None, display_name=display_name)


@transactional
def add_user(session: Session, *, actor: Actor, name: str, roles: Iterable[str | Role],
             password: str, villages: Iterable[str] | None = None,
             display_name: str = "") -> User:
    """Add a user with roles (administrators only); treasurers need their villages."""
    actor.require(Permission.MANAGE_USERS)
    return _insert(session, by=actor.name, name=name, roles=parse_roles(roles),
                   password=password, villages=villages, display_name=display_name)


@transactional
def change_password(session: Session, *, actor: Actor, name: str, password: str) -> None:
    """Set a new password: administrators for anyone, every user for herself."""
    if actor.name != name or actor.user_id is None:
        actor.require(Permission.MANAGE_USERS, f"changing {name}'s password")
    _check_password(password)
    user = _find(session, name, lock=True)
    user.password_hash = _HASHER.hash(password)
    user.failed_attempts, user.last_failed_at = 0, None
    session.add(user)
    _log(session, user, "password_changed", actor.name)


def _active_admins(session: Session) -> list[str]:
    rows = session.execute(sa.select(col(User.name), col(User.roles)).where(
        col(User.disabled).is_(False))).all()
    return [n for n, r in rows if Role.ADMINISTRATOR.value in r.split(",")]


@transactional
def disable_user(session: Session, *, actor: Actor, name: str, reason: str = "") -> None:
    """Stop a user from signing in (administrators only); the last administrator stays."""
    actor.require(Permission.MANAGE_USERS)
    user = _find(session, name, lock=True)
    if user.disabled:
        raise ServiceError(f"{name} is already disabled", field="user")
    if _active_admins(session) == [name]:
        raise ServiceError(f"{name} is the last administrator; add another first",
                           field="user")
    user.disabled = True
    session.add(user)
    _log(session, user, "disabled", actor.name, reason)


@transactional
def set_roles(session: Session, *, actor: Actor, name: str, roles: Iterable[str | Role],
              villages: Iterable[str] | None = None) -> None:
    """Change a user's roles and villages (administrators only)."""
    actor.require(Permission.MANAGE_USERS)
    wanted = parse_roles(roles)
    user = _find(session, name, lock=True)
    if Role.ADMINISTRATOR not in wanted and _active_admins(session) == [name]:
        raise ServiceError(f"{name} is the last administrator", field="role")
    stored = _villages(session, villages)
    if Role.TREASURER in wanted and stored is None:
        raise ServiceError("a treasurer needs the villages she may see", field="villages")
    user.roles, user.villages = ",".join(sorted(wanted)), stored
    session.add(user)
    _log(session, user, "roles_changed", actor.name,
         f"roles {user.roles}" + (f"; villages {stored}" if stored else ""))


@transactional
def list_users(session: Session, *, actor: Actor) -> Sequence[UserInfo]:
    """Every user, by name (administrators only)."""
    actor.require(Permission.MANAGE_USERS)
    users = session.execute(sa.select(User).order_by(col(User.name))).scalars()
    return [UserInfo(u.name, u.display_name, tuple(u.roles.split(",")),
                     tuple(sorted(v)) if (v := _split(u.villages)) is not None else None,
                     u.disabled, u.created_by, u.failed_attempts) for u in users]


def _record_failure(session: Session, user_id: int, now: datetime) -> None:
    session.execute(sa.update(User).where(col(User.id) == user_id).values(
        failed_attempts=col(User.failed_attempts) + 1, last_failed_at=now))
    session.commit()


def authenticate(
    session: Session,
    *,
    name: str,
    password: str,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> Actor:
    """The `Actor` for a name and password, or AuthenticationFailed.

    After failures in a row the check waits (`failure_delay`, counted from the last failure)
    before looking at the password, so guessing is slow even across processes; the count is
    kept in the database and reset by a success. `clock` and `sleep` are injectable for tests.
    """
    refused = AuthenticationFailed("wrong user name or password")
    user = session.execute(sa.select(User).where(col(User.name) == name)).scalars().first()
    if user is None:
        # Spend the time a real check takes, so names cannot be probed by timing.
        with contextlib.suppress(VerificationError):
            _HASHER.verify(_dummy_hash(), password)
        session.rollback()
        raise refused
    assert user.id is not None
    user_id, stored_hash, disabled = user.id, user.password_hash, user.disabled
    failures, last_failed = user.failed_attempts, user.last_failed_at
    actor = Actor(user.name, frozenset(Role(r) for r in user.roles.split(",") if r),
                  _split(user.villages), user_id)
    session.rollback()  # end the read (on SQLite a transaction holds the write lock)
    if failures and last_failed is not None:
        ready = last_failed + timedelta(seconds=failure_delay(failures))
        wait = (ready - clock()).total_seconds()
        if wait > 0:
            sleep(wait)
    try:
        _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        _record_failure(session, user_id, clock())
        raise refused from None
    if disabled:
        raise AuthenticationFailed(f"user {name} is disabled; ask an administrator")
    rehash = _HASHER.check_needs_rehash(stored_hash)
    if failures or rehash:
        values: dict[str, object] = {"failed_attempts": 0, "last_failed_at": None}
        if rehash:
            values["password_hash"] = _HASHER.hash(password)
        session.execute(sa.update(User).where(col(User.id) == user_id).values(**values))
        session.commit()
    return actor
