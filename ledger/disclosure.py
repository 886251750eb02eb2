"""Price disclosure: APR and EIR from the borrower's cash flows, compliance warnings, and
the same loan priced by an informal moneylender for comparison.

The method is MFTransparency's: take the cash flows the borrower actually sees (the net
disbursement after any upfront fee, then every installment including its fees), solve for the
periodic internal rate of return r, and report

    APR = r × periods per year          EIR = (1 + r) ^ periods per year − 1

Rates are fractions (0.12 is 12 %) held as `Decimal`; `percent` is the one place that turns
them into the two-decimal strings people read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from ledger.loan_terms import (
    Amortization,
    InterestMethod,
    LoanTerms,
    RatePeriod,
    Schedule,
)
from ledger.schedule import build_schedule

__all__ = [
    "APR_CAP",
    "Disclosure",
    "DisclosureError",
    "InformalOffer",
    "cash_flows",
    "compare_informal",
    "compliance_warnings",
    "disclose",
    "informal_terms",
    "percent",
    "periodic_irr",
    "xirr",
]

# NBC Prakas B7.017.109 of 13 March 2017: at most 18 % a year (1.5 % a month).
APR_CAP = Decimal("0.18")

# Working precision for the solver. Bisection to _TOLERANCE leaves the rate correct to far more
# digits than a two-decimal percent needs, so results never straddle a rounding boundary by
# solver error alone.
_PRECISION = 50
_TOLERANCE = Decimal("1e-30")
# Rates searched: up to 2^40 per period above, down to within 2^-100 of −100 % below. A loan
# outside that range is not a loan.
_MAX_DOUBLINGS = 40
_MAX_HALVINGS = 100
_DAYS_PER_YEAR = Decimal(365)


class DisclosureError(ValueError):
    """Cash flows that have no rate of return (e.g. no repayment at all)."""


def percent(x: Decimal) -> str:
    """A fraction as a percent with exactly two decimals, ROUND_HALF_UP: 0.126825 → "12.68"."""
    shown = (x * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if shown == 0:
        shown = abs(shown)  # never print "-0.00"
    return f"{shown:f}"


# --- the solver -------------------------------------------------------------------------------


def _oriented(amounts: Sequence[Decimal]) -> list[Decimal]:
    """The flows with the first non-zero one negative; refuse flows with no sign change.

    An IRR does not change when every sign flips, so both the lender's and the borrower's
    view are accepted; orienting them one way lets the bracket search go in a known direction.
    """
    for value in amounts:
        if isinstance(value, float) or not isinstance(value, Decimal):
            raise TypeError(f"cash flows must be Decimal, not {type(value).__name__}")
    if len(amounts) < 2:
        raise DisclosureError("a rate of return needs at least two cash flows")
    first = next((v for v in amounts if v != 0), Decimal(0))
    flows = [-v for v in amounts] if first > 0 else list(amounts)
    if not any(v > 0 for v in flows) or not any(v < 0 for v in flows):
        raise DisclosureError(
            "the cash flows never change sign (money only goes one way), so they have no rate"
        )
    return flows


def _same_sign(a: Decimal, b: Decimal) -> bool:
    return (a > 0) == (b > 0)


_Bracket = tuple[Decimal, Decimal, Decimal, Decimal]  # lo, npv(lo), hi, npv(hi)


def _bracket_up(npv: Callable[[Decimal], Decimal], f0: Decimal) -> _Bracket | None:
    """Double the rate from 100 % until npv changes sign from its value at 0."""
    lo, f_lo, hi = Decimal(0), f0, Decimal(1)
    for _ in range(_MAX_DOUBLINGS):
        f_hi = npv(hi)
        if f_hi == 0 or not _same_sign(f_lo, f_hi):
            return lo, f_lo, hi, f_hi
        lo, f_lo, hi = hi, f_hi, hi * 2
    return None


def _bracket_down(npv: Callable[[Decimal], Decimal], f0: Decimal) -> _Bracket | None:
    """Halve the distance to −100 % from −50 % until npv changes sign from its value at 0."""
    lo, hi, f_hi = Decimal("-0.5"), Decimal(0), f0
    for _ in range(_MAX_HALVINGS):
        f_lo = npv(lo)
        if f_lo == 0 or not _same_sign(f_lo, f_hi):
            return lo, f_lo, hi, f_hi
        hi, f_hi, lo = lo, f_lo, (lo - 1) / 2
    return None


def _bisect(npv: Callable[[Decimal], Decimal]) -> Decimal:
    """The rate where `npv` is zero, found by bracketing and bisection.

    Newton's method overshoots into r ≤ −100 % or diverges at the 25–100 % a month that
    informal lenders charge; a bracket cannot be lost, and each halving surely gains a bit.
    For a loan (money out first, repayments after) npv falls as the rate rises, so when the
    borrower repays more than received (npv(0) > 0) the root is above zero: search there
    first, then the other side.
    """
    f0 = npv(Decimal(0))
    if f0 == 0:
        return Decimal(0)
    searches = (_bracket_up, _bracket_down) if f0 > 0 else (_bracket_down, _bracket_up)
    bracket = searches[0](npv, f0) or searches[1](npv, f0)
    if bracket is None:
        raise DisclosureError("these cash flows have no rate of return between −100 % and 2^40")
    lo, f_lo, hi, f_hi = bracket
    if f_lo == 0:
        return lo
    if f_hi == 0:
        return hi
    while hi - lo > _TOLERANCE * max(Decimal(1), abs(lo)):
        mid = (lo + hi) / 2
        f_mid = npv(mid)
        if f_mid == 0:
            return mid
        if _same_sign(f_mid, f_lo):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return (lo + hi) / 2


def periodic_irr(flows: Sequence[Decimal]) -> Decimal:
    """The internal rate of return per period of equally spaced cash flows, as a fraction.

    Convention: the lender's view, as in spreadsheets and numpy-financial: flows[0] is the net
    disbursement as a negative number, the repayments positive. Borrower's-view flows (all
    signs flipped) give the same rate. Robust at any rate a loan can have (bracket and bisect
    in 50-digit Decimal); raises DisclosureError when the flows never change sign.
    """
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        values = _oriented(flows)

        def npv(rate: Decimal) -> Decimal:
            # Horner's scheme on v = 1/(1+r): one division per evaluation, exact enough.
            v = 1 / (1 + rate)
            acc = Decimal(0)
            for value in reversed(values):
                acc = acc * v + value
            return acc

        rate = _bisect(npv)
    return +rate  # back to the caller's precision


def xirr(flows: Sequence[tuple[date, Decimal]]) -> Decimal:
    """The annual internal rate of return of dated cash flows (days/365), as a fraction.

    Each flow is discounted by (1 + rate) ^ (days since the earliest flow / 365), as in a
    spreadsheet's XIRR; the flows may come in any order. Same sign convention (the earliest
    flow is the disbursement) and robustness as `periodic_irr`.
    """
    if len(flows) < 2:
        raise DisclosureError("a rate of return needs at least two cash flows")
    # In date order, so that orienting makes the earliest flow (the disbursement) negative.
    ordered = sorted(flows, key=lambda flow: flow[0])
    start = ordered[0][0]
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        values = _oriented([amount for _, amount in ordered])
        years = [Decimal((day - start).days) / _DAYS_PER_YEAR for day, _ in ordered]

        def npv(rate: Decimal) -> Decimal:
            log_growth = (1 + rate).ln()
            return sum(
                (value * (-t * log_growth).exp() for value, t in zip(values, years, strict=True)),
                Decimal(0),
            )

        rate = _bisect(npv)
    return +rate


# --- disclosure -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Disclosure:
    """What a borrower is told about a loan's price. Rates are fractions (0.12 = 12 %)."""

    periodic_rate: Decimal
    apr: Decimal
    eir: Decimal
    periods_per_year: Decimal
    warnings: tuple[str, ...] = ()


def cash_flows(schedule: Schedule, fee: Decimal = Decimal(0)) -> list[Decimal]:
    """The loan's cash flows, lender's view: −(principal − upfront fee), then each installment."""
    received = schedule.terms.principal - fee
    return [-received, *(inst.total for inst in schedule.installments)]


def disclose(schedule: Schedule, *, fee: Decimal = Decimal(0)) -> Disclosure:
    """APR, EIR and compliance warnings of a schedule, by MFTransparency's method.

    `fee` is charged at disbursement, so the borrower receives principal − fee; fees inside
    installments are already part of each installment's total.
    """
    terms = schedule.terms
    r = periodic_irr(cash_flows(schedule, fee))
    periods = terms.periods_per_year
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        apr = r * periods
        growth = (1 + r) ** periods
        eir = growth - 1
    apr, eir = +apr, +eir
    return Disclosure(
        periodic_rate=r,
        apr=apr,
        eir=eir,
        periods_per_year=periods,
        warnings=compliance_warnings(terms, apr),
    )


def compliance_warnings(terms: LoanTerms, apr: Decimal) -> tuple[str, ...]:
    """Short warnings a loan officer can act on when a loan breaks Cambodian rules.

    Sources:
    - Flat interest: the National Bank of Cambodia's Prakas on the Calculation of Interest
      Rate on Microfinance Loans (2001) prohibits the flat method on microfinance loans and
      requires interest on the declining balance; it binds banks, licensed MFIs, registered
      and unregistered NGOs alike (MFTransparency, "Cambodian Law on the Calculation of
      Interest Rate on Microfinance Loans", 2012). Every loan in this ledger is microfinance.
    - Rate cap: NBC Prakas B7.017.109 on the interest rate cap, 13 March 2017: at most 18 %
      a year (1.5 % a month). The APR is compared as shown (two decimals), so a loan is never
      flagged while its printed APR reads 18.00 %.
    """
    out: list[str] = []
    if terms.method == InterestMethod.FLAT:
        out.append(
            "Flat interest: the National Bank of Cambodia requires the declining-balance "
            "method for microfinance (Prakas 2001)."
        )
    shown = percent(apr)
    if Decimal(shown) > APR_CAP * 100:
        out.append(
            f"APR {shown} % is above the 18 % a year cap (NBC Prakas B7.017.109, 13 March 2017)."
        )
    return tuple(out)


# --- the informal-lender comparison -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InformalOffer:
    """The same loan priced by a moneylender, and what borrowing from the Foundation saves.

    `monthly_rate` is in percent (10 = 10 % a month); `apr` and `eir` are fractions.
    `installment` is the regular payment (for interest-only, the monthly interest) and
    `last_installment` the final one (for interest-only, interest plus all the principal).
    """

    label: str
    monthly_rate: Decimal
    form: str
    installment: Decimal
    last_installment: Decimal
    total_interest: Decimal
    apr: Decimal
    eir: Decimal
    saving: Decimal


_INFORMAL_FORMS = (
    ("interest-only", InterestMethod.INTEREST_ONLY),
    ("flat", InterestMethod.FLAT),
)


def _cost(schedule: Schedule, fee: Decimal) -> Decimal:
    """What the borrower pays beyond the principal: interest, installment fees, upfront fee."""
    fees = sum((inst.fee for inst in schedule.installments), Decimal(0))
    return schedule.total_interest + fees + fee


def informal_terms(terms: LoanTerms, monthly_rate: Decimal, method: InterestMethod) -> LoanTerms:
    """The same loan as a moneylender prices it: same principal, currency, number and frequency
    of repayments and dates; no grace; amounts rounded to the currency's digits only."""
    return LoanTerms(
        principal=terms.principal,
        currency=terms.currency,
        rate=monthly_rate,
        rate_period=RatePeriod.MONTH,
        method=method,
        amortization=Amortization.EQUAL_INSTALLMENTS,
        repayments=terms.repayments,
        disbursed_on=terms.disbursed_on,
        every=terms.every,
        unit=terms.unit,
        first_due_on=terms.first_due_on,
        multiple=None,
    )


def compare_informal(
    schedule: Schedule,
    *,
    fee: Decimal = Decimal(0),
    monthly_rates: Sequence[Decimal] = (Decimal(10), Decimal(15)),
) -> tuple[InformalOffer, ...]:
    """The Foundation's loan against a moneylender's at each monthly rate (percent).

    For each rate, the two common informal forms in order: interest-only (principal repaid at
    the end) and flat amortised. `saving` is the informal cost minus the Foundation's (interest,
    fees and the upfront `fee`), in the loan's currency.
    """
    foundation_cost = _cost(schedule, fee)
    offers: list[InformalOffer] = []
    for rate in monthly_rates:
        for form, method in _INFORMAL_FORMS:
            informal = build_schedule(informal_terms(schedule.terms, rate, method))
            priced = disclose(informal)
            offers.append(
                InformalOffer(
                    label=f"{rate.normalize():f} % a month, {form}",
                    monthly_rate=rate,
                    form=form,
                    installment=informal.installments[0].total,
                    last_installment=informal.installments[-1].total,
                    total_interest=informal.total_interest,
                    apr=priced.apr,
                    eir=priced.eir,
                    saving=_cost(informal, Decimal(0)) - foundation_cost,
                )
            )
    return tuple(offers)
