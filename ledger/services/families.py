"""Registering families with their informal debts and sensitive facts.

Sensitive facts (a returnee or trafficking survivor in the household, an at-risk category) go to
their own table and are read back only for roles allowed to see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import Actor, Permission
from ledger.db.tables import Family, FamilyMember, InformalDebt, SensitiveFact, Village
from ledger.money import Money
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.unit import transactional, use_case

__all__ = [
    "DebtInput",
    "FamilyInput",
    "MemberInput",
    "family_problems",
    "register_family",
    "sensitive_facts",
]

SEXES = ("F", "M", "X")
SENSITIVE_KINDS = ("returnee", "trafficking-survivor", "at-risk", "indigenous", "disability")


@dataclass(frozen=True, slots=True)
class DebtInput:
    """A debt to an informal lender declared at registration."""

    lender_kind: str
    outstanding: Money
    monthly_rate_pct: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MemberInput:
    """A household member beside the head."""

    name: str
    name_latin: str | None = None
    sex: str | None = None
    birth_year: int | None = None
    relation: str | None = None


@dataclass(frozen=True, slots=True)
class FamilyInput:
    """A family as an officer enters it; names are kept exactly as typed."""

    ref: str
    head_name: str
    sex: str
    household_size: int
    village_id: int
    registered_on: date
    head_name_latin: str | None = None
    birth_year: int | None = None
    dependants: int = 0
    phone: str | None = None
    id_number: str | None = None
    debts: tuple[DebtInput, ...] = ()
    members: tuple[MemberInput, ...] = ()
    sensitive: tuple[tuple[str, str], ...] = ()


def family_problems(data: FamilyInput, *, today: date) -> list[tuple[str, str]]:
    """Every (field, reason) that stops this family from being registered."""
    out: list[tuple[str, str]] = []
    if not data.ref.strip():
        out.append(("ref", "is empty"))
    if not data.head_name.strip():
        out.append(("head_name", "is empty"))
    if data.sex not in SEXES:
        out.append(("sex", f"{data.sex!r} is not one of F, M, X"))
    if data.birth_year is not None and not 1900 <= data.birth_year <= today.year:
        out.append(("birth_year", f"{data.birth_year} is not a plausible birth year"))
    if data.household_size < 1:
        out.append(("household_size", "must be at least 1"))
    if data.dependants < 0 or data.dependants >= max(data.household_size, 1):
        out.append(("dependants", "must be zero or more and fewer than the household size"))
    if data.registered_on > today:
        out.append(("registered_on", f"{data.registered_on} is in the future"))
    for n, debt in enumerate(data.debts, start=1):
        if debt.outstanding.amount < 0:
            out.append((f"debts[{n}].outstanding", "cannot be negative"))
        if debt.monthly_rate_pct is not None and debt.monthly_rate_pct < 0:
            out.append((f"debts[{n}].monthly_rate_pct", "cannot be negative"))
    for kind, _note in data.sensitive:
        if kind not in SENSITIVE_KINDS:
            out.append(("sensitive", f"{kind!r} is not one of {', '.join(SENSITIVE_KINDS)}"))
    return out


def _duplicate(session: Session, data: FamilyInput) -> Family | None:
    query = sa.select(Family).where(
        col(Family.village_id) == data.village_id,
        sa.func.lower(col(Family.head_name)) == data.head_name.strip().lower(),
        col(Family.birth_year) == data.birth_year,
    )
    return session.execute(query).scalars().first()


@transactional
def register_family(
    session: Session,
    *,
    actor: Actor,
    data: FamilyInput,
    today: date,
    confirm_duplicate: bool = False,
) -> Family:
    """Register a family in one transaction. The same head's name in the same village with the
    same birth year is refused unless `confirm_duplicate` is set."""
    actor.require(Permission.ENTER_FAMILIES)
    problems = family_problems(data, today=today)
    if problems:
        raise ServiceError("; ".join(f"{f}: {why}" for f, why in problems), field=problems[0][0])
    village = session.get(Village, data.village_id)
    if village is None:
        raise NotFound(f"village id {data.village_id} is not in this ledger", field="village")
    if data.sensitive:
        actor.require(Permission.VIEW_SENSITIVE, "recording sensitive facts")
    if session.execute(sa.select(col(Family.id)).where(col(Family.ref) == data.ref)).first():
        raise Conflict(f"a family with ref {data.ref!r} already exists", field="ref")
    twin = _duplicate(session, data)
    if twin is not None and not confirm_duplicate:
        raise Conflict(
            f"{twin.head_name} (born {twin.birth_year}) is already registered in "
            f"{village.name_en} as {twin.ref}; confirm to register a second family",
            field="head_name",
        )
    with use_case(session):
        family = Family(
            ref=data.ref.strip(), head_name=data.head_name.strip(),
            head_name_latin=(data.head_name_latin or "").strip() or None, sex=data.sex,
            birth_year=data.birth_year, household_size=data.household_size,
            dependants=data.dependants, village_id=data.village_id, phone=data.phone,
            id_number=data.id_number, registered_on=data.registered_on, created_by=actor.name,
        )
        session.add(family)
        session.flush()
        assert family.id is not None
        for debt in data.debts:
            session.add(InformalDebt(
                family_id=family.id, lender_kind=debt.lender_kind,
                outstanding_minor=debt.outstanding.minor, currency=debt.outstanding.currency.code,
                monthly_rate_pct=debt.monthly_rate_pct,
            ))
        for m in data.members:
            session.add(FamilyMember(family_id=family.id, name=m.name, name_latin=m.name_latin,
                                     sex=m.sex, birth_year=m.birth_year, relation=m.relation))
        for kind, note in data.sensitive:
            session.add(SensitiveFact(family_id=family.id, kind=kind, note=note,
                                      recorded_by=actor.name))
    return family


@transactional
def sensitive_facts(session: Session, *, actor: Actor, family_id: int) -> Sequence[SensitiveFact]:
    """A family's sensitive facts; never loaded for a role that may not see them."""
    actor.require(Permission.VIEW_SENSITIVE)
    query = sa.select(SensitiveFact).where(col(SensitiveFact.family_id) == family_id)
    return session.execute(query).scalars().all()
