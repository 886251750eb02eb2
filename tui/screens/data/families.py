"""Finding families as someone types, and everything a family's page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import core_table
from ledger.money import Money
from ledger.services.families import sensitive_facts
from tui.screens.data.scope import require_family, village_filters

__all__ = ["FamilyPage", "FamilyRow", "LoanLine", "family_page", "family_trainings",
           "search_families"]


@dataclass(frozen=True, slots=True)
class FamilyRow:
    """One family in a search result: Latin spelling for aligned columns, Khmer for the last."""

    id: int
    ref: str
    name: str
    name_latin: str
    village: str
    village_kh: str
    open_loan: str


@dataclass(frozen=True, slots=True)
class LoanLine:
    """One of a family's loans, as its page lists them."""

    id: int
    ref: str
    status: str
    principal: Money
    applied_on: date
    disbursed_on: date | None


@dataclass(frozen=True, slots=True)
class FamilyPage:
    """A family's page: who they are, their household, debts, facts, loans."""

    id: int
    ref: str
    name: str
    name_latin: str
    sex: str
    birth_year: int | None
    household_size: int
    dependants: int
    phone: str
    village: str
    village_kh: str
    registered_on: date
    members: tuple[tuple[str, str, str], ...]
    debts: tuple[tuple[str, Money, str], ...]
    sensitive: tuple[tuple[str, str], ...] | None
    loans: tuple[LoanLine, ...]


def search_families(session: Session, text: str, *, actor: Actor,
                    limit: int = 200) -> list[FamilyRow]:
    """Families `actor` sees whose reference, name (Khmer or Latin), village or id match
    `text`."""
    fam, vil, loan = core_table("family"), core_table("village"), core_table("loan")
    open_loan = (
        sa.select(loan.c.ref)
        .where(loan.c.family_id == fam.c.id, loan.c.status.in_(("applied", "approved", "active")))
        .order_by(loan.c.id.desc()).limit(1).scalar_subquery()
    )
    query = (
        sa.select(fam.c.id, fam.c.ref, fam.c.head_name, fam.c.head_name_latin, vil.c.name_en,
                  vil.c.name_kh, open_loan)
        .join(vil, vil.c.id == fam.c.village_id).where(*village_filters(actor, fam.c.village_id))
        .order_by(fam.c.ref).limit(limit)
    )
    typed = text.strip()
    if typed and " " not in typed:
        # A whole ref, as on a receipt, is found through its unique index: the search below
        # reads every family (about 2 s at a million) when few match.
        exact = _found(session, query.where(fam.c.ref.in_(sorted({typed, typed.upper()}))))
        if exact:
            return exact
    needle = typed.lower()
    if needle:
        like = f"%{needle}%"
        # SQLite's LIKE already ignores the case of ASCII letters, all its lower() folds: the
        # same matches without a call per column and row (at a million families, 1.3 s ->
        # 0.3 s with the village test below). PostgreSQL's ILIKE folds every script's case.
        sqlite = session.get_bind().dialect.name == "sqlite"

        def has(column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
            return column.like(like) if sqlite else column.ilike(like)

        # Villages are few: the ones whose name matches are found once, not once a family.
        named = core_table("village").alias("named")
        terms = [has(fam.c.ref), has(fam.c.head_name), has(fam.c.head_name_latin),
                 fam.c.village_id.in_(sa.select(named.c.id).where(
                     sa.or_(has(named.c.name_en), has(named.c.name_kh))))]
        if needle.isdigit():
            terms.append(fam.c.id == int(needle))
        query = query.where(sa.or_(*terms))
    return _found(session, query)


def _found(session: Session, query: sa.Select[Any]) -> list[FamilyRow]:
    return [FamilyRow(int(i), r, n, nl or n, ve, vk, ol or "")
            for i, r, n, nl, ve, vk, ol in session.execute(query).all()]


def family_page(session: Session, *, actor: Actor, family_id: int) -> FamilyPage:
    """Everything the family's page shows; sensitive facts only when the role may see them
    (NotFound for a family outside the actor's villages)."""
    require_family(session, actor, family_id)
    fam, vil = core_table("family"), core_table("village")
    row = session.execute(
        sa.select(fam, vil.c.name_en, vil.c.name_kh).join(vil, vil.c.id == fam.c.village_id)
        .where(fam.c.id == family_id)
    ).mappings().one()
    mem, debt, loan = core_table("family_member"), core_table("informal_debt"), core_table("loan")
    members = tuple(
        (m.name_latin or m.name, m.relation or "", m.name)
        for m in session.execute(sa.select(mem).where(mem.c.family_id == family_id)).all())
    debts = tuple(
        (d.lender_kind, Money.from_minor(int(d.outstanding_minor), d.currency),
         f"{d.monthly_rate_pct.normalize():f} % a month" if d.monthly_rate_pct is not None else "")
        for d in session.execute(sa.select(debt).where(debt.c.family_id == family_id)).all())
    facts = None
    if actor.can(Permission.VIEW_SENSITIVE):
        facts = tuple((f.kind, f.note) for f in sensitive_facts(session, actor=actor,
                                                                 family_id=family_id))
    loans = tuple(
        LoanLine(int(x.id), x.ref, x.status, Money.from_minor(int(x.principal_minor), x.currency),
                 x.applied_on, x.disbursed_on)
        for x in session.execute(sa.select(loan).where(loan.c.family_id == family_id)
                                 .order_by(loan.c.id.desc())).all())
    return FamilyPage(
        id=family_id, ref=row["ref"], name=row["head_name"],
        name_latin=row["head_name_latin"] or row["head_name"], sex=row["sex"],
        birth_year=row["birth_year"], household_size=row["household_size"],
        dependants=row["dependants"], phone=row["phone"] or "", village=row["name_en"],
        village_kh=row["name_kh"], registered_on=row["registered_on"], members=members,
        debts=debts, sensitive=facts, loans=loans)


def family_trainings(session: Session, family_id: int) -> list[tuple[str, str, str, str]]:
    """A family's enrollments: course, skill, status, and the last follow-up visit."""
    enr, course = core_table("enrollment"), core_table("course")
    visit = core_table("follow_up_visit")
    last = (sa.select(sa.func.max(visit.c.visited_on)).where(visit.c.enrollment_id == enr.c.id)
            .scalar_subquery())
    rows = session.execute(
        sa.select(course.c.ref, course.c.skill, enr.c.status, last)
        .join(course, course.c.id == enr.c.course_id).where(enr.c.family_id == family_id)
        .order_by(enr.c.enrolled_on)).all()
    return [(ref, skill, status, f"last visit {seen}" if seen else "no visit yet")
            for ref, skill, status, seen in rows]
