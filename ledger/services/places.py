"""Finding and adding villages; villages missing from the gazetteer can still be entered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import Actor, Permission
from ledger.db.tables import Commune, Village, core_table
from ledger.services.errors import NotFound, ServiceError
from ledger.services.unit import transactional, use_case

__all__ = ["PlaceScope", "add_village", "find_village", "villages_under"]


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


@dataclass(frozen=True, slots=True)
class PlaceScope:
    """The villages under some provinces, districts, communes or villages, and how to name
    them on a report: "20 Svay Rieng (province)"."""

    villages: frozenset[str]
    label: str


# Gazetteer codes: province 2 digits, district 4, commune 6, village 8.
_LEVELS = {2: ("province", "province"), 4: ("district", "district"), 6: ("commune", "commune")}


def villages_under(session: Session, places: Sequence[str]) -> PlaceScope:
    """The codes of every village under `places` (gazetteer codes of any level), so that a
    workbook or report can be narrowed to a province, district, commune or village. Refused,
    naming the code, when a place is unknown or holds families in a village with no code (a
    scope by codes would leave them out without saying so)."""
    vil, fam = core_table("village"), core_table("family")
    codes: set[str] = set()
    labels: list[str] = []
    for raw in places:
        place = raw.strip()
        level = _LEVELS.get(len(place)) if place.isdigit() else None
        if level is None and not (place.isdigit() and len(place) == 8):
            raise ServiceError(f"{raw!r} is not a place code: 2 digits for a province, 4 for a "
                               "district, 6 for a commune, 8 for a village", field="place")
        if level is None:
            name = session.execute(sa.select(vil.c.name_en).where(vil.c.code == place)
                                   .limit(1)).scalar_one_or_none()
            kind, under = "village", vil.c.code == place
        else:
            table = core_table(level[0])
            name = session.execute(sa.select(table.c.name_en)
                                   .where(table.c.code == place)).scalar_one_or_none()
            kind, under = level[1], vil.c.commune_code.startswith(place, autoescape=True)
        if name is None:
            raise NotFound(f"{place} is not a {kind} in this ledger", field="place")
        found = session.execute(sa.select(vil.c.code, vil.c.name_en, vil.c.id)
                                .where(under)).all()
        unnamed = [(n, i) for c, n, i in found if c is None]
        if unnamed and session.execute(sa.select(fam.c.id).where(
                fam.c.village_id.in_([i for _, i in unnamed])).limit(1)).first():
            listed = ", ".join(f"{n} (id {i})" for n, i in unnamed[:3])
            raise ServiceError(f"{place} holds families in villages with no gazetteer code "
                               f"({listed}), which a scope by village codes would leave out",
                               field="place")
        codes.update(str(c) for c, _, _ in found if c is not None)
        labels.append(f"{place} {name} ({kind})")
    if not labels:
        raise ServiceError("no place given", field="place")
    return PlaceScope(frozenset(codes), "; ".join(labels))
