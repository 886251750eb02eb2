"""Who a command acts as. A ledger made by `fsf demo` opens as its demo administrator;
otherwise the user named by --user or FSF_USER acts."""

from __future__ import annotations

import getpass
import os

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Role
from ledger.db.tables import AppMeta
from tui.commands.context import Cli

DEMO_ADMIN = "demo-admin"


def is_demo(session: Session) -> bool:
    """Whether this ledger was built by `fsf demo`."""
    row = session.execute(sa.select(AppMeta).where(AppMeta.key == "demo")).scalars().first()
    return row is not None and row.value == "true"


def authenticate(cli: Cli, session: Session) -> Actor:
    """The acting user for this invocation."""
    everyone = frozenset({Role.ADMINISTRATOR, Role.OFFICER, Role.APPROVER})
    if is_demo(session):
        return Actor(DEMO_ADMIN, everyone, demo=True)
    name = cli.user or os.environ.get("FSF_USER") or getpass.getuser()
    return Actor(name, everyone)
