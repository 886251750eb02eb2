"""Setting up a new ledger: its name, its province's places, the fund and the product."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import Actor, Permission
from ledger.db.places import PlaceNotFound, load_gazetteer_province
from ledger.db.tables import AppMeta, Fund, utc_now
from ledger.services.errors import ServiceError
from ledger.services.funds import open_fund
from ledger.services.products import ensure_foundation_product
from ledger.services.unit import transactional

__all__ = ["DEFAULT_FUND", "ledger_facts", "set_fact", "setup_ledger"]

DEFAULT_FUND = "RIEL"


def set_fact(session: Session, key: str, value: str) -> None:
    """Record one fact about the ledger (its name, whether it is a demo, …)."""
    row = session.get(AppMeta, key)
    if row is None:
        session.add(AppMeta(key=key, value=value))
    else:
        row.value = value
        session.add(row)


def ledger_facts(session: Session) -> dict[str, str]:
    """Every fact about the ledger, by key."""
    return {r.key: r.value for r in session.execute(sa.select(AppMeta)).scalars()}


@transactional
def setup_ledger(session: Session, *, actor: Actor, name: str, province: str,
                 fund_name: str = "Riel loan fund", demo: bool = False) -> Fund:
    """Name the ledger, load its province from the gazetteer, open the riel fund with its
    chart of accounts and seed the Foundation's loan product."""
    actor.require(Permission.MANAGE_FUNDS)
    try:
        load_gazetteer_province(session, province)
    except PlaceNotFound as exc:
        raise ServiceError(str(exc), field="province") from exc
    set_fact(session, "ledger_name", name)
    set_fact(session, "province", province)
    set_fact(session, "demo", "true" if demo else "false")
    if session.get(AppMeta, "created_at") is None:
        set_fact(session, "created_at", utc_now().isoformat())
    fund = open_fund(session, actor=actor, code=DEFAULT_FUND, name=fund_name)
    ensure_foundation_product(session, actor=actor)
    found = session.execute(sa.select(Fund).where(col(Fund.code) == DEFAULT_FUND)).scalar_one()
    assert found.id == fund.id
    return fund
