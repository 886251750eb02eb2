"""`loans`: historic loans, each applied for, approved and paid out on its real disbursement
date through the loan services, so the schedule and the journal are the ledger's own."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from imports.columns import Column, ParsedRow
from imports.kinds.common import by_refs, conflict, duplicate_refs, fetch_in
from imports.preview import Checked, Context, Progress
from imports.problems import Problem
from imports.refs import RowRefused
from ledger.accounts import AccountRole, account_for
from ledger.db.tables import LoanProduct, core_table
from ledger.journal import balance
from ledger.loan_terms import (
    Amortization,
    FrequencyUnit,
    InterestMethod,
    LoanTerms,
    RatePeriod,
    TermsError,
)
from ledger.money import Money, format_amount
from ledger.services.errors import ServiceError
from ledger.services.loans import OPEN_STATUSES, apply_for_loan, approve_loan, disburse_loan
from ledger.services.products import terms_problems
from ledger.services.unit import use_case

__all__ = ["COLUMNS", "check", "commit"]

COLUMNS = (
    Column("loan_ref", required=True, max_length=40, example="L0001",
           help="The loan's reference: its identity in the ledger, unique."),
    Column("family_ref", required=True, max_length=40, example="F001",
           help="The borrowing family (already in the ledger)."),
    Column("product", required=True, max_length=20, example="FSF",
           help="Loan product code (see the Lists sheet)."),
    Column("principal", "amount", required=True, example="150,000",
           help="Amount lent, within the product's limits."),
    Column("currency", "currency", choices=("KHR", "USD"), example="KHR",
           help="KHR or USD; blank means the product's currency."),
    Column("rate", "rate", example="1", help="Interest rate in percent; blank: the product's."),
    Column("rate_per", "choice", choices=tuple(r.value for r in RatePeriod), example="month",
           help="month or year; blank: the product's."),
    Column("method", "choice", choices=tuple(m.value for m in InterestMethod),
           example="declining", help="declining, flat or interest-only; blank: the product's."),
    Column("amortization", "choice", choices=tuple(a.value for a in Amortization),
           example="equal-installments", help="blank: the product's."),
    Column("repayments", "whole", required=True, minimum=1, maximum=600, example="10",
           help="Number of repayments."),
    Column("every", "whole", minimum=1, maximum=12, example="1",
           help="Repay every N units; blank: 1."),
    Column("unit", "choice", choices=tuple(u.value for u in FrequencyUnit), example="month",
           help="month or week; blank: month."),
    Column("disbursed_on", "date", required=True, example="2008-03-15",
           help="The real date the money was paid out."),
    Column("first_due_on", "date", example="2008-04-15",
           help="First repayment date; blank: one period after disbursement."),
    Column("multiple", "amount", example="100",
           help="Installments in multiples of; blank: the product's."),
    Column("grace_principal", "whole", maximum=60, example="0",
           help="Periods without principal."),
    Column("grace_interest", "whole", maximum=60, example="0",
           help="Periods with interest deferred."),
    Column("enrollment_ref", max_length=40, example="",
           help="The training enrollment this loan starts a business from, optional."),
    Column("applied_on", "date", example="2008-03-01",
           help="The day the family applied; blank: the disbursement date."),
    Column("approved_on", "date", example="2008-03-10",
           help="The day the loan was approved; blank: the disbursement date."),
)
_COLUMN = {"rate_period": "rate_per", "grace": "grace_principal", "currency": "currency"}


@dataclass(frozen=True, slots=True)
class NewLoan:
    """A loan to create: who, what, and its disbursement date."""

    row: int
    ref: str
    family_id: int
    product: str
    fund: str
    principal: Money
    terms: LoanTerms
    enrollment_id: int | None
    applied_on: date | None = None
    approved_on: date | None = None


def _terms(row: ParsedRow, product: LoanProduct) -> LoanTerms:
    principal: Money = row.get("principal")
    multiple: Money | None = row.get("multiple")
    default_multiple = (Money.from_minor(product.multiple_minor, principal.currency).amount
                        if product.multiple_minor else None)
    return LoanTerms(
        principal=principal.amount, currency=principal.currency,
        rate=row.get("rate", product.rate),
        rate_period=RatePeriod(row.get("rate_per", product.rate_period)),
        method=InterestMethod(row.get("method", product.method)),
        amortization=Amortization(row.get("amortization", product.amortization)),
        repayments=row.get("repayments"), disbursed_on=row.get("disbursed_on"),
        every=row.get("every", 1), unit=FrequencyUnit(row.get("unit", "month")),
        first_due_on=row.get("first_due_on"),
        multiple=multiple.amount if multiple is not None else default_multiple,
        grace_principal=row.get("grace_principal", 0),
        grace_interest=row.get("grace_interest", 0))


def _funds(ctx: Context) -> dict[str, str]:
    """Per currency, the fund loans are paid from (the riel fund RIEL first)."""
    f = core_table("fund")
    out: dict[str, str] = {}
    for code, currency in ctx.session.execute(
            sa.select(f.c.code, f.c.currency).order_by(f.c.code != "RIEL", f.c.id)):
        out.setdefault(str(currency), str(code))
    return out


def _differences(row: ParsedRow, terms: LoanTerms, stored: Any, family_id: int,
                 product: LoanProduct, present: set[str]) -> list[tuple[str, Any, Any]]:
    m = stored._mapping
    cur = terms.currency
    pairs: list[tuple[str, Any, Any]] = [
        ("family_ref", family_id, m["family_id"]), ("product", product.id, m["product_id"]),
        ("principal", Money(terms.principal, cur).minor, m["principal_minor"]),
        ("currency", cur.code, m["currency"]), ("rate", terms.rate, m["rate"]),
        ("rate_per", terms.rate_period.value, m["rate_period"]),
        ("method", terms.method.value, m["method"]),
        ("amortization", terms.amortization.value, m["amortization"]),
        ("repayments", terms.repayments, m["repayments"]), ("every", terms.every, m["every"]),
        ("unit", terms.unit.value, m["unit"]), ("first_due_on", terms.first_due_on,
                                                 m["first_due_on"]),
        ("multiple", Money(terms.multiple, cur).minor if terms.multiple else None,
         m["multiple_minor"]),
        ("grace_principal", terms.grace_principal, m["grace_principal"]),
        ("grace_interest", terms.grace_interest, m["grace_interest"]),
        ("disbursed_on", terms.disbursed_on, m["disbursed_on"]),
        ("applied_on", row.get("applied_on") or terms.disbursed_on, m["applied_on"]),
        ("approved_on", row.get("approved_on") or terms.disbursed_on, m["approved_on"]),
    ]
    return [(n, a, b) for n, a, b in pairs if n in present and a != b]


def _enrollments(ctx: Context, rows: list[ParsedRow]) -> dict[str, int]:
    from imports.refs import known_refs

    wanted = [r.get("enrollment_ref") for r in rows if r.get("enrollment_ref")]
    return known_refs(ctx.session, "enrollments", wanted) if wanted else {}


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every loan row: references, product limits, dates, cash, conflicts."""
    checked = Checked()
    dupes = duplicate_refs(rows, "loan_ref", checked)
    fam, loan = core_table("family"), core_table("loan")
    families = by_refs(ctx.session, fam, [r.get("family_ref") for r in rows if r.get("family_ref")])
    stored = by_refs(ctx.session, loan, [r.get("loan_ref") for r in rows if r.get("loan_ref")])
    products = {p.code: p for p in ctx.session.execute(sa.select(LoanProduct)).scalars()}
    funds = _funds(ctx)
    enrollments = _enrollments(ctx, rows)
    open_loans: dict[int, list[str]] = defaultdict(list)
    for fid, ref in fetch_in(ctx.session, sa.select(loan.c.family_id, loan.c.ref).where(
            loan.c.status.in_(OPEN_STATUSES)), loan.c.family_id,
            [int(f._mapping["id"]) for f in families.values()]):
        open_loans[int(fid)].append(str(ref))
    plan: list[NewLoan] = []
    for row in rows:
        ref = row.get("loan_ref")
        if ref is not None:
            checked.refs[row.number] = ref
        if not row.ok or row.number in dupes:
            continue
        family = families.get(row.get("family_ref"))
        product = products.get(row.get("product"))
        problems = []
        if family is None:
            problems.append(Problem(row.number, "family_ref", row.get("family_ref"), (
                f"family {row.get('family_ref')!r} is not in the ledger: import the families "
                "file first, or correct the ref")))
        if product is None:
            problems.append(Problem(row.number, "product", row.get("product"), (
                f"{row.get('product')!r} is not a loan product here; products: "
                + ", ".join(sorted(products)))))
        if problems:
            checked.problems.extend(problems)
            continue
        assert family is not None and product is not None
        try:
            terms = _terms(row, product)
        except TermsError as exc:
            checked.problems.extend(Problem(row.number, _COLUMN.get(f, f),
                                            str(row.raw.get(_COLUMN.get(f, f)) or ""), why)
                                    for f, why in exc.problems)
            continue
        issues = terms_problems(product, terms)
        day: date = terms.disbursed_on
        registered = family._mapping["registered_on"]
        if day > ctx.today:
            issues.append(("disbursed_on", f"{day} is in the future"))
        applied, approved = row.get("applied_on") or day, row.get("approved_on") or day
        if applied < registered:
            issues.append(("applied_on" if row.get("applied_on") else "disbursed_on",
                           f"family {row.get('family_ref')} was registered only on "
                           f"{registered}"))
        if not applied <= approved <= day:
            issues.append(("approved_on", f"applied {applied}, approved {approved} and paid "
                                          f"out {day} must be in that order"))
        enrollment = row.get("enrollment_ref")
        if enrollment and enrollment not in enrollments:
            issues.append(("enrollment_ref", f"enrollment {enrollment!r} is not in the ledger"))
        if product.currency not in funds:
            issues.append(("currency", f"no fund in this ledger lends {product.currency}"))
        if issues:
            checked.problems.extend(Problem(row.number, _COLUMN.get(f, f),
                                            str(row.raw.get(_COLUMN.get(f, f)) or ""), why)
                                    for f, why in issues)
            continue
        family_id = int(family._mapping["id"])
        if ref in stored:
            diff = _differences(row, terms, stored[ref], family_id, product,
                                present | {"family_ref", "product", "principal", "repayments",
                                           "disbursed_on"})
            if diff:
                checked.problems.extend(conflict(row.number, "loan_ref", ref, "loan", diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        if open_loans[family_id]:
            checked.problems.append(Problem(row.number, "family_ref", row.get("family_ref"), (
                f"family {row.get('family_ref')} still has loan {open_loans[family_id][0]} "
                "open; a family repays one loan before the next: import the repayments that "
                "close it first, then this loan")))
            continue
        open_loans[family_id].append(ref)
        checked.status[row.number] = "new"
        plan.append(NewLoan(row.number, ref, family_id, product.code, funds[product.currency],
                            Money(terms.principal, terms.currency), terms,
                            enrollments.get(enrollment) if enrollment else None,
                            row.get("applied_on"), row.get("approved_on")))
    _check_cash(ctx, plan, checked)
    checked.plan = sorted(plan, key=lambda n: (n.terms.disbursed_on, n.row))
    return checked


def _check_cash(ctx: Context, plan: list[NewLoan], checked: Checked) -> None:
    """Each fund must hold the cash for every loan on its date, the file's earlier ones paid."""
    fund = core_table("fund")
    paid: dict[str, Decimal] = defaultdict(Decimal)
    held: dict[tuple[str, date], Money] = {}
    for new in sorted(plan, key=lambda n: (n.terms.disbursed_on, n.row)):
        day = new.terms.disbursed_on
        if (new.fund, day) not in held:
            fund_id = ctx.session.execute(sa.select(fund.c.id).where(
                fund.c.code == new.fund)).scalar_one()
            cash = account_for(ctx.session, AccountRole.CASH, fund_id=int(fund_id))
            assert cash.id is not None
            held[(new.fund, day)] = balance(ctx.session, cash.id, as_of=day)
        paid[new.fund] += new.principal.amount
        left = held[(new.fund, day)].amount - paid[new.fund]
        if left < 0:
            checked.status.pop(new.row, None)
            short = format_amount(-left, new.principal.currency)
            checked.problems.append(Problem(new.row, "principal", str(new.principal), (
                f"fund {new.fund} holds {held[(new.fund, day)]} on {day}, not enough to pay out "
                f"this loan after the file's earlier ones ({short} short): record the capital "
                "received first")))
    plan[:] = [n for n in plan if n.row in checked.status]


def commit(plan: list[NewLoan], ctx: Context, progress: Progress) -> int:
    """Apply for, approve and pay out every new loan on its disbursement date, in date order."""
    with use_case(ctx.session):
        for done, new in enumerate(plan, start=1):
            day = new.terms.disbursed_on
            try:
                loan = apply_for_loan(
                    ctx.session, actor=ctx.actor, ref=new.ref, family_id=new.family_id,
                    product_code=new.product, fund_code=new.fund, principal=new.principal,
                    repayments=new.terms.repayments, applied_on=new.applied_on or day,
                    today=ctx.today,
                    every=new.terms.every, unit=new.terms.unit.value,
                    first_due_on=new.terms.first_due_on,
                    grace_principal=new.terms.grace_principal,
                    grace_interest=new.terms.grace_interest, enrollment_id=new.enrollment_id)
                assert loan.id is not None
                approve_loan(ctx.session, actor=ctx.actor, loan_id=loan.id,
                             on=new.approved_on or day, today=ctx.today)
                disburse_loan(ctx.session, actor=ctx.actor, loan_id=loan.id, on=day,
                              today=ctx.today)
            except ServiceError as exc:
                raise RowRefused(new.row, exc.field or "loan_ref", new.ref, exc.message) from exc
            progress(done, len(plan))
    return len(plan)
