"""The rows of an export bundle, one query per import kind, in that kind's columns.

Refs: a row keeps the ref it has in the ledger (its own column, or the `import_ref` it was
imported with); rows that never had one get a ref made from their parent's ref and their id
(`L0001-P17` for repayment 17 of loan L0001), which stays the same on every export.

Follow-up visits and household grids are in `exports.bundle_visits`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.accounts import AccountRole
from ledger.db.tables import core_table
from ledger.money import Money, get_currency

__all__ = ["Row", "amount"]


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a kind's file: its cells, and for ordering the day it happened, the loan it
    belongs to and the cash it moved (minor units, + in, - out) in which fund."""

    values: dict[str, Any]
    on: date | None = None
    loan: str | None = None
    cash: int = 0
    fund: str | None = None
    seq: int = 0  # the order it was made in: journal entry id, or household grid id


def _t(name: str) -> sa.Table:
    return core_table(name)


def amount(minor: int, currency: str) -> int | str:
    """A cell for an amount: a whole number for riel, exact text for other currencies."""
    money = Money.from_minor(int(minor), currency)
    return int(money.amount) if get_currency(currency).digits == 0 else money.plain()


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(str(value)).normalize():f}"


def _import_refs(session: Session, kind: str) -> dict[int, str]:
    t = _t("import_ref")
    return {int(i): str(r) for i, r in session.execute(
        sa.select(t.c.target_id, t.c.ref).where(t.c.kind == kind))}


def families(session: Session, left_out: list[dict[str, str]]) -> list[Row]:
    """Every family, its village by gazetteer code, its moneylender debt."""
    fam, v, debt = _t("family"), _t("village"), _t("informal_debt")
    debts: dict[int, list[Any]] = defaultdict(list)
    for r in session.execute(sa.select(debt).order_by(debt.c.id)):
        debts[int(r._mapping["family_id"])].append(r._mapping)
    out = []
    for r in session.execute(sa.select(fam, v.c.code.label("vcode"), v.c.name_en.label("vname"))
                             .join(v, v.c.id == fam.c.village_id).order_by(fam.c.id)):
        m = r._mapping
        if m["vcode"] is None:
            raise ValueError(f"family {m['ref']} lives in {m['vname']}, a village without a "
                             "gazetteer code: the families kind names villages by code")
        mine = debts.get(int(m["id"]), [])
        lender = next((d for d in mine if d["lender_kind"] == "moneylender"), None)
        for d in mine:
            if d is not lender:
                left_out.append({"kind": "families", "ref": str(m["ref"]), "why": (
                    f"a {d['lender_kind']} debt: the families kind carries one moneylender "
                    "debt")})
        out.append(Row({
            "family_ref": m["ref"], "head_name": m["head_name"],
            "head_name_latin": m["head_name_latin"], "sex": m["sex"],
            "birth_year": m["birth_year"], "household_size": m["household_size"],
            "dependants": m["dependants"], "village_code": m["vcode"],
            "village_name": m["vname"], "phone": m["phone"], "id_number": m["id_number"],
            "registered_on": m["registered_on"],
            "informal_debt": amount(lender["outstanding_minor"], lender["currency"])
            if lender else None,
            "informal_rate_monthly_pct": _plain(lender["monthly_rate_pct"]) if lender else None,
        }, m["registered_on"]))
    return out


def courses(session: Session) -> list[Row]:
    """Every training course."""
    c = _t("course")
    return [Row({"course_ref": m["ref"], "skill": m["skill"], "provider": m["provider"],
                 "place": m["place"], "starts_on": m["starts_on"], "ends_on": m["ends_on"],
                 "capacity": m["capacity"], "cost": amount(m["cost_minor"], m["currency"]),
                 "currency": m["currency"]}, m["starts_on"])
            for m in (r._mapping for r in session.execute(sa.select(c).order_by(c.c.id)))]


def enrollment_refs(session: Session) -> dict[int, str]:
    """Every enrollment's ref: the one it was imported with, or family-course-id."""
    e, fam, c = _t("enrollment"), _t("family"), _t("course")
    known = _import_refs(session, "enrollments")
    return {int(i): known.get(int(i), f"{f}-{cr}-E{i}") for i, f, cr in session.execute(
        sa.select(e.c.id, fam.c.ref, c.c.ref).join(fam, fam.c.id == e.c.family_id)
        .join(c, c.c.id == e.c.course_id))}


def enrollments(session: Session, refs: dict[int, str]) -> list[Row]:
    """Every enrollment, the person by name (blank: the head)."""
    e, fam, c, fm = _t("enrollment"), _t("family"), _t("course"), _t("family_member")
    query = (sa.select(e, fam.c.ref.label("fref"), c.c.ref.label("cref"),
                       fm.c.name.label("member"))
             .join(fam, fam.c.id == e.c.family_id).join(c, c.c.id == e.c.course_id)
             .outerjoin(fm, fm.c.id == e.c.family_member_id).order_by(e.c.id))
    return [Row({"enrollment_ref": refs[int(m["id"])], "family_ref": m["fref"],
                 "member": m["member"], "course_ref": m["cref"],
                 "requested_skill": m["asked_skill"], "enrollment_status": m["status"],
                 "enrolled_on": m["enrolled_on"], "completed_on": m["completed_on"],
                 "left_on": m["dropped_on"]}, m["enrolled_on"])
            for m in (r._mapping for r in session.execute(query))]


def loans(session: Session, enrollment: dict[int, str],
          left_out: list[dict[str, str]]) -> list[Row]:
    """Every loan paid out, with its terms and the days it was applied for and approved."""
    ln, fam, p, f = _t("loan"), _t("family"), _t("loan_product"), _t("fund")
    query = (sa.select(ln, fam.c.ref.label("fref"), p.c.code.label("pcode"),
                       f.c.code.label("fcode"))
             .join(fam, fam.c.id == ln.c.family_id).join(p, p.c.id == ln.c.product_id)
             .join(f, f.c.id == ln.c.fund_id).order_by(ln.c.disbursed_on, ln.c.id))
    out = []
    for m in (r._mapping for r in session.execute(query)):
        if m["disbursed_on"] is None:
            left_out.append({"kind": "loans", "ref": str(m["ref"]), "why": (
                f"{m['status']}, never paid out: the loans kind brings in paid-out loans")})
            continue
        cur = str(m["currency"])
        out.append(Row({
            "loan_ref": m["ref"], "family_ref": m["fref"], "product": m["pcode"],
            "principal": amount(m["principal_minor"], cur), "currency": cur,
            "rate": _plain(m["rate"]), "rate_per": m["rate_period"], "method": m["method"],
            "amortization": m["amortization"], "repayments": m["repayments"],
            "every": m["every"], "unit": m["unit"], "disbursed_on": m["disbursed_on"],
            "first_due_on": m["first_due_on"],
            "multiple": amount(m["multiple_minor"], cur) if m["multiple_minor"] else None,
            "grace_principal": m["grace_principal"], "grace_interest": m["grace_interest"],
            "enrollment_ref": enrollment.get(m["enrollment_id"]) if m["enrollment_id"] else None,
            "applied_on": m["applied_on"], "approved_on": m["approved_on"],
        }, m["disbursed_on"], str(m["ref"]), -int(m["principal_minor"]), str(m["fcode"])))
    return out


def repayments(session: Session) -> list[Row]:
    """Every repayment, reversed or not (its reversal is a row of `reversals`)."""
    rp, ln, f = _t("repayment"), _t("loan"), _t("fund")
    query = (sa.select(rp, ln.c.ref.label("lref"), f.c.code.label("fcode"))
             .join(ln, ln.c.id == rp.c.loan_id).join(f, f.c.id == ln.c.fund_id)
             .order_by(rp.c.paid_on, rp.c.id))
    return [Row({"payment_ref": m["ref"] or f"{m['lref']}-P{m['id']}", "loan_ref": m["lref"],
                 "paid_on": m["paid_on"], "amount": amount(m["amount_minor"], m["currency"]),
                 "currency": m["currency"], "received_by": m["received_by"],
                 "note": m["note"] or None}, m["paid_on"], str(m["lref"]),
                int(m["amount_minor"]), str(m["fcode"]), int(m["entry_id"]))
            for m in (r._mapping for r in session.execute(query))]


def reversals(session: Session) -> list[Row]:
    """Every reversed repayment: the payment's ref, the day, why and the people behind it."""
    from imports.kinds.reversals import stored_reversals

    rv, rp, ln, f = _t("repayment_reversal"), _t("repayment"), _t("loan"), _t("fund")
    found = session.execute(
        sa.select(rp.c.id, rp.c.ref, ln.c.ref, rp.c.amount_minor, f.c.code, rv.c.entry_id)
        .join(rp, rp.c.id == rv.c.repayment_id).join(ln, ln.c.id == rp.c.loan_id)
        .join(f, f.c.id == ln.c.fund_id)).all()
    told = stored_reversals(session, [int(r[0]) for r in found])
    out = [Row({"payment_ref": ref or f"{lref}-P{rid}",
                **{k: v or None for k, v in told[int(rid)].items()}},
               told[int(rid)]["reversed_on"], str(lref), -int(minor), str(fund), int(entry))
           for rid, ref, lref, minor, fund, entry in found]
    return sorted(out, key=lambda r: (r.on, r.seq))


def reschedules(session: Session) -> list[Row]:
    """Every reschedule: its day, new installments, first due date and the reason given."""
    ls, si, ln, ev = _t("loan_schedule"), _t("schedule_installment"), _t("loan"), _t("loan_event")
    known = _import_refs(session, "reschedules")
    reasons: dict[tuple[int, date], list[str]] = defaultdict(list)
    for lid, on, note in session.execute(sa.select(ev.c.loan_id, ev.c.occurred_on, ev.c.note)
                                         .where(ev.c.event == "rescheduled").order_by(ev.c.id)):
        reasons[(int(lid), on)].append(str(note).split("): ", 1)[-1])
    query = (sa.select(ls.c.id, ls.c.loan_id, ls.c.version, ls.c.created_on, ln.c.ref,
                       sa.func.count(si.c.id), sa.func.min(si.c.due_date))
             .join(si, si.c.schedule_id == ls.c.id).join(ln, ln.c.id == ls.c.loan_id)
             .where(ls.c.version > 1)
             .group_by(ls.c.id, ls.c.loan_id, ls.c.version, ls.c.created_on, ln.c.ref)
             .order_by(ls.c.created_on, ls.c.id))
    out = []
    for sid, lid, version, on, lref, n, first in session.execute(query):
        why = reasons.get((int(lid), on), [])
        out.append(Row({"reschedule_ref": known.get(int(sid), f"{lref}-S{version}"),
                        "loan_ref": lref, "rescheduled_on": on, "repayments": int(n),
                        "first_due_on": first, "reason": why.pop(0) if why else "rescheduled"},
                       on, str(lref)))
    return out


def writeoffs(session: Session) -> list[Row]:
    """Every write-off with the two people behind it (from its approval when it has one)."""
    ln, pa, ev = _t("loan"), _t("pending_approval"), _t("loan_event")
    known = _import_refs(session, "writeoffs")
    approvals = {int(m["loan_id"]): m for m in (r._mapping for r in session.execute(
        sa.select(pa).where(pa.c.kind == "write_off", pa.c.decision == "approved")
        .order_by(pa.c.id)))}
    events = {int(lid): (str(by), str(note)) for lid, by, note in session.execute(
        sa.select(ev.c.loan_id, ev.c.recorded_by, ev.c.note).where(ev.c.event == "written_off"))}
    out = []
    for lid, ref, on in session.execute(sa.select(ln.c.id, ln.c.ref, ln.c.written_off_on).where(
            ln.c.written_off_on.is_not(None)).order_by(ln.c.written_off_on, ln.c.id)):
        a = approvals.get(int(lid))
        if a is not None:
            values = {"writeoff_ref": known.get(int(a["id"]), f"{ref}-W"), "reason": a["reason"],
                      "proposed_by": a["requested_by"], "approved_by": a["decided_by"]}
        else:  # posted without a queued approval: the person who posted it is all we know
            by, note = events.get(int(lid), ("", ""))
            values = {"writeoff_ref": f"{ref}-W", "reason": note.split(": ", 1)[-1],
                      "proposed_by": by, "approved_by": by}
        out.append(Row({"loan_ref": ref, "written_off_on": on, **values}, on, str(ref)))
    return out


def recoveries(session: Session) -> list[Row]:
    """Every recovery on a written-off loan."""
    je, post, acct, ln, f = (_t("journal_entry"), _t("posting"), _t("account"), _t("loan"),
                             _t("fund"))
    known = _import_refs(session, "recoveries")
    query = (sa.select(je.c.id, je.c.occurred_on, je.c.memo, ln.c.ref, post.c.amount_minor,
                       post.c.currency, f.c.code)
             .join(post, post.c.entry_id == je.c.id).join(acct, acct.c.id == post.c.account_id)
             .join(ln, ln.c.id == je.c.loan_id).join(f, f.c.id == ln.c.fund_id)
             .where(je.c.kind == "recovery",
                    acct.c.role == AccountRole.RECOVERIES_INCOME.value)
             .order_by(je.c.occurred_on, je.c.id))
    out = []
    for eid, on, memo, lref, minor, cur, fund in session.execute(query):
        head = f"Recovery on written-off loan {lref}"
        note = str(memo)[len(head) + 2:] if str(memo).startswith(head + ": ") else None
        out.append(Row({"recovery_ref": known.get(int(eid), f"{lref}-RC{eid}"),
                        "loan_ref": lref, "recovered_on": on, "amount": amount(-int(minor), cur),
                        "currency": cur, "note": note}, on, str(lref), -int(minor), str(fund)))
    return out


def capital(session: Session) -> list[Row]:
    """Every capital receipt, with the foreign amount and rate it was converted at."""
    cr, f, je = _t("capital_receipt"), _t("fund"), _t("journal_entry")
    query = (sa.select(cr, f.c.code.label("fcode"), je.c.memo)
             .join(f, f.c.id == cr.c.fund_id).join(je, je.c.id == cr.c.entry_id)
             .order_by(cr.c.received_on, cr.c.id))
    out = []
    for m in (r._mapping for r in session.execute(query)):
        foreign = m["foreign_amount_minor"] is not None
        memo = str(m["memo"])
        if foreign:
            memo = memo.rsplit(" (", 1)[0]
        out.append(Row({
            "capital_ref": m["ref"], "fund": m["fcode"], "contributor": m["contributor"],
            "received_on": m["received_on"], "amount": amount(m["amount_minor"], m["currency"]),
            "currency": m["currency"],
            "foreign_amount": str(Money.from_minor(m["foreign_amount_minor"],
                                                   m["foreign_currency"]).plain())
            if foreign else None,
            "foreign_currency": m["foreign_currency"], "rate": _plain(m["rate"]),
            "note": None if memo == f"Capital from {m['contributor']}" else memo,
        }, m["received_on"], None, int(m["amount_minor"]), str(m["fcode"])))
    return out


def grants(session: Session) -> list[Row]:
    """Every grant paid."""
    g, f, je, fam = _t("grant_payment"), _t("fund"), _t("journal_entry"), _t("family")
    query = (sa.select(g, f.c.code.label("fcode"), je.c.memo, fam.c.ref.label("fref"))
             .join(f, f.c.id == g.c.fund_id).join(je, je.c.id == g.c.entry_id)
             .outerjoin(fam, fam.c.id == g.c.family_id).order_by(g.c.paid_on, g.c.id))
    return [Row({"grant_ref": m["ref"], "purpose": m["purpose"], "family_ref": m["fref"],
                 "paid_on": m["paid_on"], "amount": amount(m["amount_minor"], m["currency"]),
                 "currency": m["currency"], "fund": m["fcode"],
                 "note": None if m["memo"] == f"Grant: {m['purpose']}" else m["memo"]},
                m["paid_on"], None, -int(m["amount_minor"]), str(m["fcode"]))
            for m in (r._mapping for r in session.execute(query))]
