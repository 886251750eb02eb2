"""`families`: one household per row, registered through `register_family`."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from imports.columns import Column, ParsedRow
from imports.kinds.common import by_refs, conflict, duplicate_refs, fetch_in
from imports.preview import Checked, Context, Progress
from imports.problems import Problem
from ledger.db.tables import core_table
from ledger.money import Money
from ledger.services.families import DebtInput, FamilyInput, family_problems, register_family
from ledger.services.unit import use_case

__all__ = ["COLUMNS", "check", "commit"]

LENDER_KIND = "moneylender"
COLUMNS = (
    Column("family_ref", required=True, max_length=40, example="F001",
           help="The family's reference: its identity in the ledger, unique."),
    Column("head_name", required=True, example="សុខ ស្រីមុំ",
           help="Head of household as written; Khmer script welcome."),
    Column("head_name_latin", example="Sok Sreymom", help="Latin spelling, optional."),
    Column("sex", "choice", required=True, choices=("F", "M", "X"), example="F",
           help="Sex of the head: F, M or X."),
    Column("birth_year", "whole", minimum=1900, maximum=2100, example="1975",
           help="Year of birth of the head, four digits."),
    Column("household_size", "whole", required=True, minimum=1, maximum=60, example="5",
           help="People living in the household, the head included."),
    Column("dependants", "whole", maximum=60, example="3",
           help="Children and others who do not earn; fewer than the household size."),
    Column("village_code", required=True, max_length=10, example="20010101",
           help="The village's gazetteer code (see the Lists sheet)."),
    Column("village_name", example="Prey Kduoch",
           help="Only needed when a code is shared by several villages."),
    Column("phone", max_length=40, example="012 345 678", help="Phone number, optional."),
    Column("id_number", max_length=40, example="", help="National ID number, optional."),
    Column("registered_on", "date", required=True, example="2008-03-15",
           help="Registration date: 2008-03-15 or 15/03/2008."),
    Column("informal_debt", "amount", example="300,000",
           help="What the family owes a moneylender, in riel; blank or 0 for none."),
    Column("informal_rate_monthly_pct", "rate", example="10",
           help="The moneylender's rate, percent a month."),
)


def _column(field: str) -> str:
    """The column a `family_problems` field comes from."""
    if field == "ref":
        return "family_ref"
    if field.startswith("debts"):
        return "informal_rate_monthly_pct" if field.endswith("rate_pct") else "informal_debt"
    return field


def _villages(ctx: Context) -> dict[str, list[tuple[int, str, str]]]:
    v = core_table("village")
    out: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for vid, code, name_en, name_kh in ctx.session.execute(
            sa.select(v.c.id, v.c.code, v.c.name_en, v.c.name_kh).where(v.c.code.is_not(None))):
        out[str(code)].append((int(vid), str(name_en), str(name_kh)))
    return out


def _village(row: ParsedRow, villages: dict[str, list[tuple[int, str, str]]]
             ) -> tuple[int | None, Problem | None]:
    code = str(row.get("village_code"))
    found = villages.get(code) or villages.get(code.zfill(8)) or []
    if not found:
        return None, Problem(row.number, "village_code", code, (
            f"{code!r} is not a village code in this ledger: use a code from the Lists sheet "
            "of the template, or add the village first"))
    if len(found) == 1:
        return found[0][0], None
    name = (row.get("village_name") or "").strip().lower()
    named = [f for f in found if name and name in (f[1].lower(), f[2].lower())]
    if len(named) == 1:
        return named[0][0], None
    options = ", ".join(f"{f[1]} ({f[2]})" for f in found)
    return None, Problem(row.number, "village_name", row.get("village_name") or "", (
        f"village code {code} is shared by {options}: write which one in village_name"))


def _input(row: ParsedRow, village_id: int) -> FamilyInput:
    debt: Money | None = row.get("informal_debt")
    debts = (DebtInput(LENDER_KIND, debt, row.get("informal_rate_monthly_pct")),) if debt else ()
    return FamilyInput(
        ref=row.get("family_ref"), head_name=row.get("head_name"), sex=row.get("sex"),
        household_size=row.get("household_size"), village_id=village_id,
        registered_on=row.get("registered_on"), head_name_latin=row.get("head_name_latin"),
        birth_year=row.get("birth_year"), dependants=row.get("dependants", 0),
        phone=row.get("phone"), id_number=row.get("id_number"), debts=debts)


def _stored_debts(ctx: Context, ids: list[int]) -> dict[int, tuple[int, Decimal | None]]:
    d = core_table("informal_debt")
    rows = fetch_in(ctx.session, sa.select(d.c.family_id, d.c.outstanding_minor,
                                           d.c.monthly_rate_pct), d.c.family_id, ids)
    return {int(r[0]): (int(r[1]), r[2]) for r in rows}


def _differences(data: FamilyInput, stored: Any, debt: tuple[int, Decimal | None] | None,
                 present: set[str]) -> list[tuple[str, Any, Any]]:
    m = stored._mapping
    pairs: list[tuple[str, Any, Any]] = [
        ("head_name", data.head_name, m["head_name"]),
        ("head_name_latin", data.head_name_latin or None, m["head_name_latin"]),
        ("sex", data.sex, m["sex"]), ("birth_year", data.birth_year, m["birth_year"]),
        ("household_size", data.household_size, m["household_size"]),
        ("dependants", data.dependants, m["dependants"]),
        ("village_code", data.village_id, m["village_id"]),
        ("phone", data.phone, m["phone"]), ("id_number", data.id_number, m["id_number"]),
        ("registered_on", data.registered_on, m["registered_on"]),
        ("informal_debt", data.debts[0].outstanding.minor if data.debts else 0,
         debt[0] if debt else 0),
        ("informal_rate_monthly_pct", data.debts[0].monthly_rate_pct if data.debts else None,
         debt[1] if debt else None),
    ]
    return [(n, a, b) for n, a, b in pairs if n in present and a != b]


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every family row against the file and the ledger."""
    checked = Checked()
    dupes = duplicate_refs(rows, "family_ref", checked)
    villages = _villages(ctx)
    stored = by_refs(ctx.session, core_table("family"), [r.get("family_ref") for r in rows
                                                          if r.get("family_ref")])
    debts = _stored_debts(ctx, [int(s._mapping["id"]) for s in stored.values()])
    fam = core_table("family")
    twins = {(int(r[1]), str(r[2]).strip().lower(), r[3]): str(r[0]) for r in ctx.session.execute(
        sa.select(fam.c.ref, fam.c.village_id, fam.c.head_name, fam.c.birth_year))}
    plan: list[tuple[int, FamilyInput]] = []
    for row in rows:
        ref = row.get("family_ref")
        if ref is not None:
            checked.refs[row.number] = ref
        if not row.ok or row.number in dupes:
            continue
        village_id, problem = _village(row, villages)
        if problem is not None:
            checked.problems.append(problem)
            continue
        assert village_id is not None
        data = _input(row, village_id)
        problems = [Problem(row.number, _column(f), str(row.raw.get(_column(f)) or ""), why)
                    for f, why in family_problems(data, today=ctx.today)]
        if problems:
            checked.problems.extend(problems)
            continue
        if ref in stored:
            diff = _differences(data, stored[ref], debts.get(int(stored[ref]._mapping["id"])),
                                present)
            if diff:
                checked.problems.extend(conflict(row.number, "family_ref", ref, "family", diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        twin = twins.get((village_id, data.head_name.strip().lower(), data.birth_year))
        if twin is not None:
            checked.problems.append(Problem(row.number, "head_name", data.head_name, (
                f"{data.head_name} (born {data.birth_year}) is already registered in this "
                f"village as {twin}: use ref {twin}, or correct the name or birth year")))
            continue
        checked.status[row.number] = "new"
        plan.append((row.number, data))
    checked.plan = plan
    return checked


def commit(plan: list[tuple[int, FamilyInput]], ctx: Context, progress: Progress) -> int:
    """Register every new family, in file order, inside the caller's transaction."""
    with use_case(ctx.session):
        for done, (_row, data) in enumerate(plan, start=1):
            register_family(ctx.session, actor=ctx.actor, data=data, today=ctx.today,
                            confirm_duplicate=True)
            progress(done, len(plan))
    return len(plan)
