"""The follow-up visits and household grids of an export bundle, and every kind's rows together.

Household grids a follow-up visit wrote are not rows of `households`: the followups kind
writes them again when it records the visit. A grid is taken as its visit's own when it is the
first grid naming a visit the followups file carries and is dated the visit's day.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exports.bundle_rows import (
    Row,
    _import_refs,
    _plain,
    _t,
    amount,
    capital,
    courses,
    enrollment_refs,
    enrollments,
    families,
    grants,
    loans,
    recoveries,
    repayments,
    reschedules,
    reversals,
    writeoffs,
)

__all__ = ["collect"]


def visit_refs(session: Session) -> dict[int, str]:
    """Every follow-up visit's ref: the one it was imported with, or family-V-id."""
    v, e, fam = _t("follow_up_visit"), _t("enrollment"), _t("family")
    known = _import_refs(session, "followups")
    return {int(i): known.get(int(i), f"{f}-V{i}") for i, f in session.execute(
        sa.select(v.c.id, fam.c.ref).join(e, e.c.id == v.c.enrollment_id)
        .join(fam, fam.c.id == e.c.family_id))}


def visit_grids(session: Session) -> tuple[dict[int, int], set[int]]:
    """visit id → the grid the visit wrote (see the module's doc) for visits the followups
    kind carries; and the visits it does not carry (corrections)."""
    v, g = _t("follow_up_visit"), _t("household_grid")
    own: dict[int, int] = {}
    for gid, vid, on, visited in session.execute(
            sa.select(g.c.id, g.c.follow_up_id, g.c.recorded_on, v.c.visited_on)
            .join(v, v.c.id == g.c.follow_up_id).where(v.c.corrects_id.is_(None))
            .order_by(g.c.id)):
        if int(vid) not in own and on == visited:
            own[int(vid)] = int(gid)
    return own, set(session.execute(sa.select(v.c.id).where(v.c.corrects_id.is_not(None)))
                    .scalars())


def households(session: Session, visits: dict[int, str], own: dict[int, int],
               corrections: set[int], left_out: list[dict[str, str]]) -> list[Row]:
    """Every household grid but those a carried follow-up visit wrote, one row per line."""
    from imports.kinds.households import MONTHS, stored_grids

    g, fam = _t("household_grid"), _t("family")
    skip = set(own.values())
    heads = [(int(i), str(f)) for i, f in session.execute(
        sa.select(g.c.id, fam.c.ref).join(fam, fam.c.id == g.c.family_id).order_by(g.c.id))
        if int(i) not in skip]
    grids, known = stored_grids(session, [i for i, _ in heads]), _import_refs(session,
                                                                              "households")
    out = []
    for gid, fref in heads:
        s, ref = grids[gid], known.get(gid, f"{fref}-G{gid}")
        visit = s.follow_up_id
        if visit in corrections:
            left_out.append({"kind": "households", "ref": ref, "why": (
                f"its link to follow-up visit {visits[visit]}, a correction the followups "
                "kind does not carry: the grid is carried without it")})
        head = {"grid_ref": ref, "family_ref": fref, "recorded_on": s.recorded_on,
                "usd_rate": _plain(s.usd_rate), "rate_on": s.rate_on,
                "savings": amount(s.savings_minor, "KHR") or None,
                "followup_ref": None if visit is None or visit in corrections else visits[visit],
                "note": s.note or None}
        for line in s.lines:
            cur, months = line.currency, line.months
            cells = ({m: amount(x, cur) for m, x in zip(MONTHS, months, strict=True)}
                     if line.seasonal else {"amount": amount(months[0], cur)})
            out.append(Row({**head, "kind": line.kind, "category": line.category,
                            "label": line.label or None, "currency": cur, **cells},
                           s.recorded_on, seq=gid))
    return out


def followups(session: Session, enrollment: dict[int, str], visits: dict[int, str],
              own: dict[int, int], left_out: list[dict[str, str]]) -> list[Row]:
    """Every follow-up visit as entered (amounts in the currency the officer wrote)."""
    v, e, fam = _t("follow_up_visit"), _t("enrollment"), _t("family")
    query = (sa.select(v, fam.c.ref.label("fref")).join(e, e.c.id == v.c.enrollment_id)
             .join(fam, fam.c.id == e.c.family_id).order_by(v.c.visited_on, v.c.id))
    out = []
    for m in (r._mapping for r in session.execute(query)):
        ref = visits[int(m["id"])]
        if m["corrects_id"] is not None:
            left_out.append({"kind": "followups", "ref": ref, "why": (
                "a correction of another visit: the followups kind records visits, not "
                "corrections")})
            continue
        cur = str(m["entered_currency"])
        out.append(Row({
            "followup_ref": ref, "enrollment_ref": enrollment[int(m["enrollment_id"])],
            "visited_on": m["visited_on"], "officer": m["officer"], "activity": m["activity"],
            "employer_or_business": m["activity_detail"] or None,
            "income": amount(m["entered_income_minor"], cur),
            "food": amount(m["entered_costs_minor"], cur), "currency": cur,
            "usd_rate": _plain(m["rate"]) if cur != "KHR" else None,
            "rate_on": m["rate_on"] if cur != "KHR" else None,
            "business_status": m["business_status"], "note": m["notes"] or None,
        }, m["visited_on"], seq=own.get(int(m["id"]), 0)))
    return out


def collect(session: Session) -> tuple[dict[str, list[Row]], list[dict[str, str]]]:
    """Every kind's rows, and what could not be carried (with why)."""
    left_out: list[dict[str, str]] = []
    refs, visits, (own, fixes) = (enrollment_refs(session), visit_refs(session),
                                  visit_grids(session))
    rows = {"capital": capital(session), "families": families(session, left_out),
            "courses": courses(session), "enrollments": enrollments(session, refs),
            "loans": loans(session, refs, left_out), "repayments": repayments(session),
            "reversals": reversals(session), "reschedules": reschedules(session),
            "writeoffs": writeoffs(session), "recoveries": recoveries(session),
            "grants": grants(session),
            "households": households(session, visits, own, fixes, left_out),
            "followups": followups(session, refs, visits, own, left_out)}
    return rows, left_out
