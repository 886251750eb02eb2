"""Families, villages and the chart of accounts as tables, streamed from SQL.

Sensitive facts appear only in the families table of an export made with `include_sensitive`
(never pseudonymised, only for roles that may see them; see `ledger.privacy`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy as sa

from exports.cells import Cell
from exports.context import Dataset, ExportContext, stream
from exports.workbook import Column
from ledger.db.tables import core_table

__all__ = ["ACCOUNTS", "FAMILIES", "VILLAGES", "families_dataset"]

FAMILY_COLUMNS = (
    Column("Family", 14), Column("Head of family", 24, private=True),
    Column("Latin spelling", 20, private=True), Column("Sex", 4), Column("Birth year", 6, "0"),
    Column("Household size", 6, "0"), Column("Dependants", 6, "0"), Column("Village code", 10),
    Column("Village", 18), Column("Phone", 14, private=True),
    Column("ID number", 14, private=True), Column("Registered on", 11),
)
SENSITIVE_COLUMN = Column("Sensitive facts", 30, private=True)


def _family_rows(ctx: ExportContext) -> Iterator[Sequence[Cell]]:
    fam, vil = core_table("family"), core_table("village")
    query = (
        sa.select(fam.c.id, fam.c.ref, fam.c.head_name, fam.c.head_name_latin, fam.c.sex,
                  fam.c.birth_year, fam.c.household_size, fam.c.dependants, vil.c.code,
                  vil.c.name_en, fam.c.phone, fam.c.id_number, fam.c.registered_on)
        .join(vil, vil.c.id == fam.c.village_id).where(*ctx.in_villages(fam.c.village_id))
        .order_by(fam.c.id)
    )
    facts = _sensitive(ctx) if ctx.include_sensitive else None
    pending: tuple[int, str] | None = next(facts, None) if facts else None
    for fid, ref, *rest in stream(ctx, query):
        row: tuple[Cell, ...] = (ctx.family(fid, ref), *rest)
        if facts is not None:
            found: list[str] = []
            while pending is not None and pending[0] <= int(fid):
                if pending[0] == int(fid):
                    found.append(pending[1])
                pending = next(facts, None)
            row = (*row, "; ".join(found) or None)
        yield row


def _sensitive(ctx: ExportContext) -> Iterator[tuple[int, str]]:
    sf = core_table("sensitive_fact")
    query = sa.select(sf.c.family_id, sf.c.kind, sf.c.note).order_by(sf.c.family_id, sf.c.id)
    for fid, kind, note in stream(ctx, query):
        yield int(fid), f"{kind}: {note}" if note else str(kind)


def families_dataset(ctx: ExportContext) -> Dataset:
    """The families table, with the sensitive-facts column only when the export carries it."""
    columns = FAMILY_COLUMNS + ((SENSITIVE_COLUMN,) if ctx.include_sensitive else ())
    return Dataset("Families", columns, _family_rows)


FAMILIES = Dataset("Families", FAMILY_COLUMNS, _family_rows)

VILLAGE_COLUMNS = (
    Column("Village code", 10), Column("Name (Khmer)", 18), Column("Name", 18),
    Column("Commune", 16), Column("District", 16), Column("Province", 14),
    Column("Gazetteer year", 8, "0"), Column("In gazetteer", 8), Column("Families", 8, "0"),
    Column("Loans", 8, "0"),
)


def _village_rows(ctx: ExportContext) -> Iterator[Sequence[Cell]]:
    vil, com, dis, pro = (core_table(n) for n in ("village", "commune", "district", "province"))
    fam, loan = core_table("family"), core_table("loan")
    families = (sa.select(fam.c.village_id, sa.func.count(fam.c.id).label("n"))
                .group_by(fam.c.village_id).subquery())
    loans = (sa.select(fam.c.village_id, sa.func.count(loan.c.id).label("n"))
             .join(loan, loan.c.family_id == fam.c.id)
             .where(loan.c.disbursed_on.is_not(None), loan.c.disbursed_on <= ctx.as_of)
             .group_by(fam.c.village_id).subquery())
    query = (
        sa.select(vil.c.code, vil.c.name_kh, vil.c.name_en, com.c.name_en, dis.c.name_en,
                  pro.c.name_en, vil.c.gazetteer_year, vil.c.in_gazetteer,
                  sa.func.coalesce(families.c.n, 0), sa.func.coalesce(loans.c.n, 0))
        .join(com, com.c.code == vil.c.commune_code)
        .join(dis, dis.c.code == com.c.district_code)
        .join(pro, pro.c.code == dis.c.province_code)
        .outerjoin(families, families.c.village_id == vil.c.id)
        .outerjoin(loans, loans.c.village_id == vil.c.id)
        .where(*ctx.in_villages(vil.c.id))
        .order_by(vil.c.code, vil.c.id)
    )
    for code, kh, en, commune, district, province, year, listed, nfam, nloan in stream(
            ctx, query):
        yield (code, kh, en, commune, district, province, year, "yes" if listed else "no",
               int(nfam), int(nloan))


VILLAGES = Dataset("Villages", VILLAGE_COLUMNS, _village_rows)

ACCOUNT_COLUMNS = (
    Column("Account", 22), Column("Name", 30), Column("Kind", 10), Column("Role", 16),
    Column("Fund", 8), Column("Currency", 8), Column("Cash box holder", 18),
)


def _account_rows(ctx: ExportContext) -> Iterator[Sequence[Cell]]:
    acct, fund, box = core_table("account"), core_table("fund"), core_table("cash_box")
    query = (
        sa.select(acct.c.code, acct.c.name, acct.c.kind, acct.c.role, fund.c.code,
                  acct.c.currency, box.c.holder)
        .outerjoin(fund, fund.c.id == acct.c.fund_id)
        .outerjoin(box, box.c.id == acct.c.cash_box_id)
        .order_by(acct.c.code)
    )
    yield from (tuple(r) for r in stream(ctx, query))


ACCOUNTS = Dataset("Accounts", ACCOUNT_COLUMNS, _account_rows)
