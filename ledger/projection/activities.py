"""Income-generating activities a loan can finance, as editable models with cited defaults.

Every activity is one model: a cycle of `cycle_months` months that buys `stock_cost` of input
at its start (piglets, chicks, seed, cloth, goods), pays `running_cost` every month (feed,
rent, materials) and sells `quantity` × (1 − `loss`) units at `price` at its end. A shop is a
one-month cycle whose quantity is 1 and whose price is its monthly takings. `equipment` is
bought once, before month 1. No cycle starts or sells in an `idle_months` calendar month (a
hard rainy season for vegetables): the cycle waits for the next good month. Each sale is
rounded HALF_EVEN to whole riel.

Cash timing: the equipment and the first cycle's stock are paid before month 1 (the start-up
outlay, financed by the loan); each later cycle's stock is paid in the month the previous one
sells, out of the sale.

Default figures (all riel; edit them for the family's village):
- Pig fattening, Svay Rieng: pork fell from 11,000 to 6,000 riel/kg live weight when imported
  pigs arrived (2017–18; the Foundation's field research, also reported in the Cambodian
  press at the time); a 4–6 month fattening cycle. Piglet, feed, sale weight and mortality are
  planning assumptions typical of Cambodian smallholder pig raising (a weaned piglet about
  US$50, about 60,000 riel of feed a head a month, 90 kg sold, 5 % lost), to be replaced by
  local prices.
- Chicken raising, vegetable growing, motorcycle repair, small grocery: planning assumptions of
  the same kind; vegetables grow in about 1.5 months (two-month cycles with bed preparation),
  harvest-glut prices can halve within two weeks, and the heaviest rainy-season months
  (September, October) stop production (the Foundation's field research).
- Tailor shop: the research recorded tailor shops earning US$65–75 a month (takings net of
  cloth ~ US$70 = 287,000 riel at 4,100 riel/US$) with food US$21–30 and housing US$35–50.
- Hairdresser: a small village salon, planning assumptions of the same order as the tailor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from ledger.money import KHR, round_half_even

__all__ = [
    "DEFAULTS",
    "Activity",
    "ActivityFlows",
    "ActivityKind",
    "activity_flows",
    "default_activity",
]

_ZERO = Decimal(0)


class ActivityKind(StrEnum):
    """The activities the Foundation finances."""

    PIGS = "pig-fattening"
    CHICKENS = "chicken-raising"
    VEGETABLES = "vegetables"
    TAILOR = "tailor"
    HAIRDRESSER = "hairdresser"
    MOTO_REPAIR = "motorcycle-repair"
    GROCERY = "grocery"


@dataclass(frozen=True, slots=True)
class Activity:
    """An activity's editable parameters (riel); `loss` is the share of output lost (0–1)."""

    kind: ActivityKind
    equipment: Decimal
    stock_cost: Decimal
    running_cost: Decimal
    cycle_months: int
    quantity: Decimal
    price: Decimal
    loss: Decimal = _ZERO
    unit: str = "month"
    idle_months: tuple[int, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        if self.cycle_months < 1:
            raise ValueError("an activity's cycle lasts at least one month")
        if not _ZERO <= self.loss <= 1:
            raise ValueError("loss is a share between 0 and 1")
        if len(set(self.idle_months)) >= 12:
            raise ValueError("an activity needs at least one month in which it can work")

    @property
    def sale(self) -> Decimal:
        """What one cycle sells for: quantity × (1 − loss) × price."""
        return self.quantity * (1 - self.loss) * self.price

    @property
    def cycle_cost(self) -> Decimal:
        """What one cycle costs: its stock and its running costs."""
        return self.stock_cost + self.running_cost * self.cycle_months

    @property
    def monthly_profit(self) -> Decimal:
        """Profit of a cycle spread over its months (equipment not depreciated)."""
        return (self.sale - self.cycle_cost) / self.cycle_months

    @property
    def break_even_price(self) -> Decimal:
        """The price per unit at which a cycle just pays its costs (its cost if nothing sells)."""
        sold = self.quantity * (1 - self.loss)
        return self.cycle_cost / sold if sold > 0 else self.cycle_cost


def _riel(text: str) -> Decimal:
    return Decimal(text)


DEFAULTS: dict[ActivityKind, Activity] = {
    ActivityKind.PIGS: Activity(
        kind=ActivityKind.PIGS,
        equipment=_riel("150000"),
        stock_cost=_riel("400000"),
        running_cost=_riel("120000"),
        cycle_months=5,
        quantity=_riel("180"),
        price=_riel("9000"),
        loss=Decimal("0.05"),
        unit="kg",
        source="Svay Rieng pork 11,000→6,000 riel/kg (field research); 2 pigs, 5-month cycle",
    ),
    ActivityKind.CHICKENS: Activity(
        kind=ActivityKind.CHICKENS,
        equipment=_riel("100000"),
        stock_cost=_riel("150000"),
        running_cost=_riel("60000"),
        cycle_months=3,
        quantity=_riel("75"),
        price=_riel("12000"),
        loss=Decimal("0.10"),
        unit="kg",
        source="planning assumption: 50 chicks, 1.5 kg each, 3-month cycle",
    ),
    ActivityKind.VEGETABLES: Activity(
        kind=ActivityKind.VEGETABLES,
        equipment=_riel("80000"),
        stock_cost=_riel("50000"),
        running_cost=_riel("20000"),
        cycle_months=2,
        quantity=_riel("250"),
        price=_riel("1500"),
        unit="kg",
        idle_months=(9, 10),
        source="field research: ~1.5-month cycles, glut prices halve, hard rainy season",
    ),
    ActivityKind.TAILOR: Activity(
        kind=ActivityKind.TAILOR,
        equipment=_riel("400000"),
        stock_cost=_riel("60000"),
        running_cost=_riel("20000"),
        cycle_months=1,
        quantity=Decimal(1),
        price=_riel("367000"),
        source="field research: tailor shops earn US$65–75 a month after cloth",
    ),
    ActivityKind.HAIRDRESSER: Activity(
        kind=ActivityKind.HAIRDRESSER,
        equipment=_riel("300000"),
        stock_cost=_riel("30000"),
        running_cost=_riel("20000"),
        cycle_months=1,
        quantity=Decimal(1),
        price=_riel("300000"),
        source="planning assumption: village salon",
    ),
    ActivityKind.MOTO_REPAIR: Activity(
        kind=ActivityKind.MOTO_REPAIR,
        equipment=_riel("600000"),
        stock_cost=_riel("150000"),
        running_cost=_riel("30000"),
        cycle_months=1,
        quantity=Decimal(1),
        price=_riel("450000"),
        source="planning assumption: roadside repair stand",
    ),
    ActivityKind.GROCERY: Activity(
        kind=ActivityKind.GROCERY,
        equipment=_riel("100000"),
        stock_cost=_riel("400000"),
        running_cost=_riel("20000"),
        cycle_months=1,
        quantity=Decimal(1),
        price=_riel("480000"),
        source="planning assumption: goods turned monthly at 20 % margin",
    ),
}


def default_activity(kind: ActivityKind | str, **changes: object) -> Activity:
    """The default model of `kind`, with any parameters replaced (`price=Decimal(6000)`)."""
    base = DEFAULTS[ActivityKind(kind)]
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ActivityFlows:
    """An activity's cash over a horizon: `outlay` before month 1, then revenue and costs."""

    outlay: Decimal
    revenue: tuple[Decimal, ...]
    costs: tuple[Decimal, ...]

    @property
    def net(self) -> tuple[Decimal, ...]:
        """Revenue minus costs, month by month."""
        return tuple(r - c for r, c in zip(self.revenue, self.costs, strict=True))

    @property
    def sale_months(self) -> tuple[int, ...]:
        """Months (1-based) in which the activity sells."""
        return tuple(k + 1 for k, r in enumerate(self.revenue) if r > 0)


def activity_flows(
    activity: Activity, months: int, calendar: tuple[int, ...] | None = None
) -> ActivityFlows:
    """The activity's cash month by month; `calendar` names each month (1–12) for idle months.

    A cycle runs `cycle_months` working months in a row; if it would start or sell in an idle
    month it waits. Stock for the next cycle is bought in the sale month if that cycle can sell
    within the horizon (no restocking for a sale that would fall after the last month).
    """
    cal = calendar or tuple((k % 12) + 1 for k in range(months))
    idle = set(activity.idle_months)
    revenue = [_ZERO] * months
    costs = [_ZERO] * months
    outlay = activity.equipment + activity.stock_cost
    k = 0  # index of the month the current cycle starts in
    stocked = True
    while k < months and stocked:
        while k < months and cal[k] in idle:
            k += 1  # the stock waits (bought already) until the season allows a start
        end = k + activity.cycle_months - 1
        while end < months and cal[end] in idle:
            end += 1
        if end >= months:
            for m in range(k, months):
                costs[m] += activity.running_cost
            break
        for m in range(k, end + 1):
            if cal[m] not in idle:
                costs[m] += activity.running_cost
        revenue[end] += round_half_even(activity.sale, KHR)
        k = end + 1
        next_end = k + activity.cycle_months - 1
        stocked = next_end < months
        if stocked:
            costs[end] += activity.stock_cost
    return ActivityFlows(outlay=outlay, revenue=tuple(revenue), costs=tuple(costs))
