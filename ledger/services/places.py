"""Finding and adding villages; villages missing from the gazetteer can still be entered."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import Actor, Permission
from ledger.db.tables import Commune, Village
from ledger.services.errors import NotFound, ServiceError
from ledger.services.unit import transactional, use_case

__all__ = ["add_village", "find_village"]


def find_village(session: Session, code: str) -> Village:
    """The one village with this code, or a clear error when it is unknown or ambiguous."""
    found = session.execute(sa.select(Village).where(col(Village.code) == code)).scalars().all()
    if not found:
        raise NotFound(f"{code!r} is not a village in this ledger", field="village_code")
    if len(found) > 1:
        names = ", ".join(f"{v.name_en} (id {v.id})" for v in found)
        raise ServiceError(
            f"village code {code!r} is shared by {len(found)} villages ({names}); "
            "choose one by its id",
            field="village_code",
        )
    return found[0]


@transactional
def add_village(
    session: Session,
    *,
    actor: Actor,
    commune_code: str,
    name_kh: str,
    name_en: str,
    code: str | None = None,
) -> Village:
    """Enter a village that the gazetteer does not list (it is marked `in_gazetteer=False`)."""
    actor.require(Permission.ENTER_FAMILIES)
    if session.get(Commune, commune_code) is None:
        raise NotFound(f"{commune_code!r} is not a commune in this ledger", field="commune_code")
    if not name_kh.strip() and not name_en.strip():
        raise ServiceError("a village needs a name", field="name_kh")
    with use_case(session):
        village = Village(
            code=code, commune_code=commune_code, name_kh=name_kh.strip() or name_en.strip(),
            name_en=name_en.strip() or name_kh.strip(), in_gazetteer=False,
        )
        session.add(village)
        session.flush()
    return village
