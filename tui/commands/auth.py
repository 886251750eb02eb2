"""Signing in on the command line: who acts (--user or FSF_USER) and their password
(FSF_PASSWORD or a prompt), checked by `ledger.users.authenticate`.

A ledger made by `fsf demo` opens without a password as its demo administrator, unless a user
of that ledger is named. Every refusal exits with status 3.
"""

from __future__ import annotations

import getpass
import os

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Role
from tui.commands.context import EXIT_REFUSED, Cli, is_demo_ledger
from tui.commands.errors import CliError, fail

__all__ = ["DEMO_ADMIN", "PASSWORD_ENV", "authenticate", "has_any_user", "is_demo",
           "read_new_password"]

DEMO_ADMIN = "demo-admin"
PASSWORD_ENV = "FSF_PASSWORD"
NEW_PASSWORD_ENV = "FSF_NEW_PASSWORD"


def is_demo(session: Session) -> bool:
    """Whether this ledger was built by `fsf demo`."""
    return is_demo_ledger(session)


def _demo_actor() -> Actor:
    everyone = frozenset({Role.ADMINISTRATOR, Role.OFFICER, Role.APPROVER})
    return Actor(DEMO_ADMIN, everyone, demo=True)


_USERS = sa.table("app_user", sa.column("id"), sa.column("name"))


def _user_exists(session: Session, name: str) -> bool:
    # Plain SQL: a demo ledger's app opens without loading the table classes or argon2.
    query = sa.select(_USERS.c.id).where(_USERS.c.name == name)
    return session.execute(query).first() is not None


def has_any_user(session: Session) -> bool:
    """Whether the ledger has a user to sign in as (plain SQL, as `_user_exists`)."""
    return session.execute(sa.select(_USERS.c.id).limit(1)).first() is not None


def authenticate(cli: Cli, session: Session, command: str = "login") -> Actor:
    """The signed-in user for this invocation, or exit 3 with the reason."""
    name = cli.user
    if is_demo_ledger(session) and (name in (None, DEMO_ADMIN)
                                    or not _user_exists(session, name or "")):
        session.rollback()
        return _demo_actor()
    from ledger.users import AuthenticationFailed, has_users
    from ledger.users import authenticate as check_password

    if not name:
        fail(command, CliError("--user", "say who you are with --user NAME or FSF_USER",
                               status=EXIT_REFUSED))
    if not has_users(session):
        session.rollback()
        fail(command, CliError("--user", "this ledger has no users yet; create its "
                               "administrator with `fsf user add NAME --role administrator`",
                               status=EXIT_REFUSED))
    session.rollback()  # no transaction (nor SQLite's write lock) held while typing
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = getpass.getpass(f"Password for {name}: ")
    try:
        return check_password(session, name=name, password=password)
    except AuthenticationFailed as exc:
        fail(command, CliError("login", str(exc), status=EXIT_REFUSED))


def read_new_password(command: str, who: str, env: str = NEW_PASSWORD_ENV) -> str:
    """A new password from `env`, or asked twice at the terminal."""
    password = os.environ.get(env)
    if password is not None:
        return password
    first = getpass.getpass(f"New password for {who}: ")
    if getpass.getpass("Again: ") != first:
        fail(command, CliError("password", "the two passwords differ"))
    return first
