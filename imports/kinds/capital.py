"""`capital`: capital received into a fund, one receipt per row, posted by `receive_capital`
(cash debit, the contributor's capital credit). `capital_ref` is the receipt's own ref."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from imports import cells
from imports.columns import Column, ParsedRow
from imports.kinds.common import by_refs, conflict, duplicate_refs
from imports.preview import Checked, Context, Progress
from imports.problems import CellError, Problem
from imports.refs import RowRefused
from ledger.db.tables import core_table
from ledger.money import Money
from ledger.services.errors import ServiceError
from ledger.services.funds import ForeignAmount, receive_capital
from ledger.services.unit import use_case

__all__ = ["COLUMNS", "check", "commit", "fund_codes"]

COLUMNS = (
    Column("capital_ref", required=True, max_length=40, example="C1",
           help="The receipt's reference: its identity in the ledger, unique."),
    Column("fund", max_length=20, example="RIEL",
           help="The fund credited; blank: the fund that keeps the amount's currency."),
    Column("contributor", required=True, max_length=120, example="IOM",
           help="Who gave the capital; each contributor has its own capital account."),
    Column("received_on", "date", required=True, example="2007-01-08",
           help="The day the money arrived."),
    Column("amount", "amount", required=True, example="20,750,000",
           help="The amount credited, in the fund's currency."),
    Column("currency", "currency", choices=("KHR", "USD"), example="KHR",
           help="KHR or USD; blank: riel."),
    Column("foreign_amount", max_length=30, example="5,000.00",
           help="What the contributor sent in another currency, optional."),
    Column("foreign_currency", "currency", choices=("KHR", "USD"), example="USD",
           help="The currency of foreign_amount."),
    Column("rate", max_length=20, example="4150",
           help="Units of the fund's currency per foreign unit: amount = foreign_amount × rate."),
    Column("note", max_length=500, example="IOM capital contribution, first tranche",
           help="What the receipt was, optional."),
)
_COLUMN = {"amount": "amount", "fund": "fund", "ref": "capital_ref"}


@dataclass(frozen=True, slots=True)
class NewCapital:
    """One receipt to post: its file row and the service's inputs."""

    row: int
    ref: str
    fund: str
    contributor: str
    on: date
    amount: Money
    foreign: ForeignAmount | None
    note: str


def fund_codes(ctx: Context) -> tuple[dict[str, str], dict[str, str]]:
    """Every fund's currency by code, and per currency the default fund (RIEL first)."""
    f = core_table("fund")
    currency: dict[str, str] = {}
    default: dict[str, str] = {}
    for code, cur in ctx.session.execute(
            sa.select(f.c.code, f.c.currency).order_by(f.c.code != "RIEL", f.c.id)):
        currency[str(code)] = str(cur)
        default.setdefault(str(cur), str(code))
    return currency, default


def _foreign(row: ParsedRow) -> tuple[ForeignAmount | None, list[Problem]]:
    given = [n for n in ("foreign_amount", "foreign_currency", "rate") if row.get(n) is not None]
    if not given:
        return None, []
    if len(given) < 3:
        missing = [n for n in ("foreign_amount", "foreign_currency", "rate") if n not in given]
        return None, [Problem(row.number, missing[0], "", (
            "foreign_amount, foreign_currency and rate go together: fill in all three or "
            "none"))]
    try:
        sent = cells.as_amount(row.raw["foreign_amount"], row.get("foreign_currency"))
    except CellError as exc:
        return None, [Problem(row.number, "foreign_amount", cells.shown(
            row.raw["foreign_amount"]), str(exc))]
    try:
        rate = Decimal(str(row.get("rate")).replace(",", "").strip())
    except InvalidOperation:
        rate = Decimal(-1)
    if not rate.is_finite() or rate <= 0:
        return None, [Problem(row.number, "rate", str(row.get("rate")),
                              "the rate must be a number above zero, e.g. 4150")]
    return ForeignAmount(sent, rate.normalize() if rate == rate.to_integral() else rate), []


def _differences(new: NewCapital, stored: Any, fund_id: int) -> list[tuple[str, Any, Any]]:
    m = stored._mapping
    f = new.foreign
    pairs: list[tuple[str, Any, Any]] = [
        ("fund", fund_id, m["fund_id"]), ("contributor", new.contributor, m["contributor"]),
        ("received_on", new.on, m["received_on"]), ("amount", new.amount.minor,
                                                    m["amount_minor"]),
        ("currency", new.amount.currency.code, m["currency"]),
        ("foreign_amount", f.amount.minor if f else None, m["foreign_amount_minor"]),
        ("foreign_currency", f.amount.currency.code if f else None, m["foreign_currency"]),
        ("rate", f.rate if f else None, Decimal(str(m["rate"])) if m["rate"] is not None
         else None)]
    return [(n, a, b) for n, a, b in pairs if a != b]


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every receipt: its fund and currency, the foreign amount at the rate,
    conflicts with receipts already in the ledger."""
    checked = Checked()
    dupes = duplicate_refs(rows, "capital_ref", checked)
    stored = by_refs(ctx.session, core_table("capital_receipt"),
                     [r.get("capital_ref") for r in rows if r.get("capital_ref")])
    currencies, default = fund_codes(ctx)
    f = core_table("fund")
    fund_ids = {str(c): int(i) for i, c in ctx.session.execute(sa.select(f.c.id, f.c.code))}
    plan: list[NewCapital] = []
    for row in rows:
        ref = row.get("capital_ref")
        if ref is not None:
            checked.refs[row.number] = ref
        if not row.ok or row.number in dupes:
            continue
        amount: Money = row.get("amount")
        fund = row.get("fund") or default.get(amount.currency.code)
        problems: list[Problem] = []
        if fund is None or fund not in currencies:
            problems.append(Problem(row.number, "fund", row.get("fund") or "", (
                f"{fund!r} is not a fund in this ledger; funds: {', '.join(currencies)}"
                if fund else f"no fund in this ledger keeps {amount.currency.code}")))
        elif currencies[fund] != amount.currency.code:
            problems.append(Problem(row.number, "currency", amount.currency.code, (
                f"fund {fund} keeps {currencies[fund]}: write the amount in it")))
        if amount.amount <= 0:
            problems.append(Problem(row.number, "amount", str(amount),
                                    "capital received must be more than zero"))
        if row.get("received_on") > ctx.today:
            problems.append(Problem(row.number, "received_on", str(row.get("received_on")),
                                    "is in the future"))
        foreign, why = _foreign(row)
        problems.extend(why)
        if foreign is not None and foreign.amount.amount * foreign.rate != amount.amount:
            problems.append(Problem(row.number, "amount", str(amount), (
                f"{foreign.amount} at {foreign.rate} is "
                f"{foreign.amount.amount * foreign.rate:,f}, not {amount}")))
        if problems:
            checked.problems.extend(problems)
            continue
        assert fund is not None
        new = NewCapital(row.number, ref, fund, row.get("contributor"), row.get("received_on"),
                         amount, foreign, row.get("note") or "")
        if ref in stored:
            diff = _differences(new, stored[ref], fund_ids[fund])
            if diff:
                checked.problems.extend(conflict(row.number, "capital_ref", ref,
                                                 "capital receipt", diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        checked.status[row.number] = "new"
        plan.append(new)
    checked.plan = sorted(plan, key=lambda n: (n.on, n.row))
    return checked


def commit(plan: list[NewCapital], ctx: Context, progress: Progress) -> int:
    """Post every new receipt in date order, inside the caller's transaction."""
    with use_case(ctx.session):
        for done, new in enumerate(plan, start=1):
            try:
                receive_capital(ctx.session, actor=ctx.actor, fund_code=new.fund, ref=new.ref,
                                contributor=new.contributor, amount=new.amount,
                                received_on=new.on, memo=new.note, foreign=new.foreign)
            except ServiceError as exc:
                raise RowRefused(new.row, _COLUMN.get(exc.field or "", "capital_ref"), new.ref,
                                 exc.message) from exc
            progress(done, len(plan))
    return len(plan)
