"""`grants`: non-repayable support paid from a fund (house building, school materials), one
per row, posted by `pay_grant` (grants expense debit, cash credit) when the cash is there.
`grant_ref` is the payment's own ref."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from imports.columns import Column, ParsedRow
from imports.kinds.capital import fund_codes
from imports.kinds.common import by_refs, conflict, duplicate_refs
from imports.preview import Checked, Context, Progress
from imports.problems import Problem
from imports.refs import RowRefused
from ledger.accounts import AccountRole, account_for
from ledger.db.tables import core_table
from ledger.journal import balance
from ledger.money import Money, format_amount
from ledger.services.errors import ServiceError
from ledger.services.funds import GRANT_PURPOSES, pay_grant
from ledger.services.unit import use_case

__all__ = ["COLUMNS", "check", "commit"]

COLUMNS = (
    Column("grant_ref", required=True, max_length=40, example="G001",
           help="The grant's reference: its identity in the ledger, unique."),
    Column("purpose", "choice", required=True, choices=GRANT_PURPOSES, example="house-building",
           help="What the grant pays for."),
    Column("family_ref", max_length=40, example="F001",
           help="The family helped (already in the ledger); blank for none in particular."),
    Column("paid_on", "date", required=True, example="2008-05-20",
           help="The day the money was paid out."),
    Column("amount", "amount", required=True, example="1,800,000", help="Amount paid."),
    Column("currency", "currency", choices=("KHR", "USD"), example="KHR",
           help="KHR or USD; blank: riel."),
    Column("fund", max_length=20, example="RIEL",
           help="The fund paying; blank: the fund that keeps the amount's currency."),
    Column("note", max_length=500, example="Roof and walls after the flood",
           help="What it bought, optional."),
)
_COLUMN = {"purpose": "purpose", "amount": "amount", "family": "family_ref", "fund": "fund",
           "ref": "grant_ref"}


@dataclass(frozen=True, slots=True)
class NewGrant:
    """One grant to pay: its file row and the service's inputs."""

    row: int
    ref: str
    fund: str
    purpose: str
    family_id: int | None
    on: date
    amount: Money
    note: str


def _row_problems(row: ParsedRow, ctx: Context, fund: str | None,
                  currencies: dict[str, str], family: Any) -> list[Problem]:
    amount: Money = row.get("amount")
    out = []
    if fund is None or fund not in currencies:
        out.append(Problem(row.number, "fund", row.get("fund") or "", (
            f"{fund!r} is not a fund in this ledger; funds: {', '.join(currencies)}" if fund
            else f"no fund in this ledger keeps {amount.currency.code}")))
    elif currencies[fund] != amount.currency.code:
        out.append(Problem(row.number, "currency", amount.currency.code,
                           f"fund {fund} keeps {currencies[fund]}: write the amount in it"))
    if amount.amount <= 0:
        out.append(Problem(row.number, "amount", str(amount), "a grant must be more than zero"))
    if row.get("paid_on") > ctx.today:
        out.append(Problem(row.number, "paid_on", str(row.get("paid_on")), "is in the future"))
    if row.get("family_ref") and family is None:
        out.append(Problem(row.number, "family_ref", row.get("family_ref"), (
            f"family {row.get('family_ref')!r} is not in the ledger: import the families file "
            "first, or correct the ref")))
    return out


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every grant: purpose, fund, family, that the fund holds the cash on the day
    after the file's earlier grants, conflicts with grants already in the ledger."""
    checked = Checked()
    dupes = duplicate_refs(rows, "grant_ref", checked)
    stored = by_refs(ctx.session, core_table("grant_payment"),
                     [r.get("grant_ref") for r in rows if r.get("grant_ref")])
    families = by_refs(ctx.session, core_table("family"),
                       [r.get("family_ref") for r in rows if r.get("family_ref")])
    currencies, default = fund_codes(ctx)
    f = core_table("fund")
    fund_ids = {str(c): int(i) for i, c in ctx.session.execute(sa.select(f.c.id, f.c.code))}
    plan: list[NewGrant] = []
    for row in rows:
        ref = row.get("grant_ref")
        if ref is not None:
            checked.refs[row.number] = ref
        if not row.ok or row.number in dupes:
            continue
        amount: Money = row.get("amount")
        fund = row.get("fund") or default.get(amount.currency.code)
        family = families.get(row.get("family_ref")) if row.get("family_ref") else None
        problems = _row_problems(row, ctx, fund, currencies, family)
        if problems:
            checked.problems.extend(problems)
            continue
        assert fund is not None
        family_id = int(family._mapping["id"]) if family is not None else None
        new = NewGrant(row.number, ref, fund, row.get("purpose"), family_id, row.get("paid_on"),
                       amount, row.get("note") or "")
        if ref in stored:
            m = stored[ref]._mapping
            diff = [(n, a, b) for n, a, b in (
                ("fund", fund_ids[fund], m["fund_id"]), ("purpose", new.purpose, m["purpose"]),
                ("family_ref", family_id, m["family_id"]), ("paid_on", new.on, m["paid_on"]),
                ("amount", amount.minor, m["amount_minor"]),
                ("currency", amount.currency.code, m["currency"])) if a != b]
            if diff:
                checked.problems.extend(conflict(row.number, "grant_ref", ref, "grant", diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        checked.status[row.number] = "new"
        plan.append(new)
    plan.sort(key=lambda n: (n.on, n.row))
    _check_cash(ctx, plan, checked, fund_ids)
    checked.plan = plan
    return checked


def _check_cash(ctx: Context, plan: list[NewGrant], checked: Checked,
                fund_ids: dict[str, int]) -> None:
    """Each fund must hold the cash for every grant on its day, the file's earlier ones paid."""
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for new in plan:
        cash = account_for(ctx.session, AccountRole.CASH, fund_id=fund_ids[new.fund])
        assert cash.id is not None
        held = balance(ctx.session, cash.id, as_of=new.on)
        paid[new.fund] += new.amount.amount
        short = paid[new.fund] - held.amount
        if short > 0:
            checked.status.pop(new.row, None)
            paid[new.fund] -= new.amount.amount
            checked.problems.append(Problem(new.row, "amount", str(new.amount), (
                f"fund {new.fund} holds {held} on {new.on}, not enough for this grant after "
                f"the file's earlier ones ({format_amount(short, new.amount.currency)} short): "
                "record the capital received first")))
    plan[:] = [n for n in plan if n.row in checked.status]


def commit(plan: list[NewGrant], ctx: Context, progress: Progress) -> int:
    """Pay every new grant in date order, inside the caller's transaction."""
    with use_case(ctx.session):
        for done, new in enumerate(plan, start=1):
            try:
                pay_grant(ctx.session, actor=ctx.actor, fund_code=new.fund, ref=new.ref,
                          purpose=new.purpose, amount=new.amount, paid_on=new.on,
                          family_id=new.family_id, memo=new.note)
            except ServiceError as exc:
                raise RowRefused(new.row, _COLUMN.get(exc.field or "", "grant_ref"), new.ref,
                                 exc.message) from exc
            progress(done, len(plan))
    return len(plan)
