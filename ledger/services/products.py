"""Loan products: their limits, the Foundation's own product, and checking terms against them."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import Actor, Permission
from ledger.db.tables import LoanProduct
from ledger.loan_terms import Amortization, InterestMethod, LoanTerms, RatePeriod
from ledger.money import Money, get_currency
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.unit import transactional, use_case

__all__ = [
    "FOUNDATION_PRODUCT",
    "create_product",
    "ensure_foundation_product",
    "find_product",
    "terms_problems",
]

# The Family Support Foundation's loan: 100,000-200,000 riel at 1 % a month on the declining
# balance, 6-12 monthly installments in multiples of 100 riel.
FOUNDATION_PRODUCT = LoanProduct(
    code="FSF", name="Family Support Foundation loan", currency="KHR",
    min_principal_minor=100_000, max_principal_minor=200_000, rate=Decimal(1),
    rate_period=RatePeriod.MONTH.value, method=InterestMethod.DECLINING.value,
    amortization=Amortization.EQUAL_INSTALLMENTS.value, min_repayments=6, max_repayments=12,
    allowed_units="month", allowed_every="1", multiple_minor=100, max_grace_principal=2,
    max_grace_interest=0,
)


def find_product(session: Session, code: str) -> LoanProduct:
    """The product with this code, or NotFound."""
    query = sa.select(LoanProduct).where(col(LoanProduct.code) == code)
    product = session.execute(query).scalars().first()
    if product is None:
        raise NotFound(f"{code!r} is not a loan product in this ledger", field="product")
    return product


@transactional
def create_product(session: Session, *, actor: Actor, product: LoanProduct) -> LoanProduct:
    """Add a loan product (administrators only)."""
    actor.require(Permission.MANAGE_PRODUCTS)
    if product.min_principal_minor > product.max_principal_minor:
        raise ServiceError("the minimum principal is above the maximum", field="min_principal")
    if product.min_repayments > product.max_repayments:
        raise ServiceError("the minimum term is above the maximum", field="min_repayments")
    get_currency(product.currency)
    exists = sa.select(col(LoanProduct.id)).where(col(LoanProduct.code) == product.code)
    if session.execute(exists).first():
        raise Conflict(f"a product with code {product.code!r} already exists", field="code")
    with use_case(session):
        session.add(product)
        session.flush()
    return product


@transactional
def ensure_foundation_product(session: Session, *, actor: Actor) -> LoanProduct:
    """The Foundation's product, created on first use."""
    try:
        return find_product(session, FOUNDATION_PRODUCT.code)
    except NotFound:
        return create_product(session, actor=actor,
                              product=LoanProduct.model_validate(FOUNDATION_PRODUCT.model_dump()))


def terms_problems(product: LoanProduct, terms: LoanTerms) -> list[tuple[str, str]]:
    """Every (field, reason) the terms break the product's limits; empty when they fit."""
    out: list[tuple[str, str]] = []
    cur = get_currency(product.currency)
    if terms.currency != cur:
        out.append(("currency", f"{product.code} lends {cur.code}, not {terms.currency.code}"))
        return out
    low = Money.from_minor(product.min_principal_minor, cur)
    high = Money.from_minor(product.max_principal_minor, cur)
    if not low.amount <= terms.principal <= high.amount:
        shown = Money(terms.principal, cur)
        out.append(("principal", f"{shown} is outside {product.code}'s limits {low}-{high}"))
    if terms.rate != product.rate or terms.rate_period.value != product.rate_period:
        out.append(("rate", f"{product.code} lends at {product.rate:f} % a {product.rate_period}"))
    if terms.method.value != product.method:
        out.append(("method", f"{product.code} uses the {product.method} method"))
    if terms.amortization.value != product.amortization:
        out.append(("amortization", f"{product.code} uses {product.amortization}"))
    if not product.min_repayments <= terms.repayments <= product.max_repayments:
        out.append(("repayments", f"must be {product.min_repayments}-{product.max_repayments}"))
    if terms.unit.value not in product.allowed_units.split(","):
        out.append(("unit", f"{product.code} allows {product.allowed_units}"))
    if str(terms.every) not in product.allowed_every.split(","):
        out.append(("every", f"{product.code} allows every {product.allowed_every}"))
    if terms.grace_principal > product.max_grace_principal:
        out.append(("grace_principal", f"at most {product.max_grace_principal} periods"))
    if terms.grace_interest > product.max_grace_interest:
        out.append(("grace_interest", f"at most {product.max_grace_interest} periods"))
    expected = (Money.from_minor(product.multiple_minor, cur).amount
                if product.multiple_minor else None)
    if terms.multiple != expected:
        out.append(("multiple", f"{product.code} rounds installments to {expected or 'none'}"))
    return out
