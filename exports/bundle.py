"""`fsf export bundle --out DIR`: a whole ledger as import files, one .xlsx per kind in the
order they import, and `manifest.json` (what each file is, the setup an empty ledger needs:
provinces, funds, loan products; and what could not be carried, with why).

Order: capital, families, courses and enrollments first; grants, household grids and
follow-up visits last; loans, repayments, reversals, reschedules, write-offs and recoveries in
rounds of consecutive days. A round ends when the next day needs something a later kind of the
same round brings: a disbursement paid from repayments received earlier in the round, a payment
after a reschedule in the round (a reschedule is made from the payments up to its day), a
payment recorded after a reversal in the round on the same loan (the reversal re-allocates the
payments standing when it was made, and only those), or a family's next loan while its previous
one is closed in the round. The one order a round cannot keep: a payment recorded after a
reversal on the same loan and the same day is booked before it (the same balances; that
reversal's re-allocation then includes the payment).

Household grids and follow-up visits alternate in the order they were recorded, because a
visit writes its grid from the family's grid as it stood (`bundle_rows` says which grids the
visits write); visits without a grid in the source come last, and write one on import.
`fsf import bundle DIR` applies the steps in order in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exports.bundle_rows import Row
from exports.bundle_visits import collect
from ledger.actor import Actor, Permission
from ledger.db.tables import core_table
from ledger.services.setup import ledger_facts

__all__ = ["BUNDLE_FORMAT", "FIRST", "LAST", "MANIFEST", "ROUNDS", "BundleExport",
           "export_bundle"]

MANIFEST = "manifest.json"
BUNDLE_FORMAT = "fsf-ledger-bundle"
FIRST = ("capital", "families", "courses", "enrollments")
ROUNDS = ("loans", "repayments", "reversals", "reschedules", "writeoffs", "recoveries")
LAST = ("grants", "households", "followups")
_PRODUCT_FIELDS = ("code", "name", "currency", "min_principal_minor", "max_principal_minor",
                   "rate", "rate_period", "method", "amortization", "min_repayments",
                   "max_repayments", "allowed_units", "allowed_every", "multiple_minor",
                   "max_grace_principal", "max_grace_interest")


@dataclass(frozen=True, slots=True)
class BundleExport:
    """What was written: the folder, each step (kind, file, rows), what was left out."""

    folder: Path
    steps: tuple[tuple[str, str, int], ...]
    left_out: tuple[dict[str, str], ...]


def _loan_ends(session: Session) -> dict[str, tuple[str, date | None]]:
    """loan ref → (family ref, the day it closed or was written off)."""
    ln, fam = core_table("loan"), core_table("family")
    return {str(r): (str(f), c or w) for r, f, c, w in session.execute(
        sa.select(ln.c.ref, fam.c.ref, ln.c.closed_on, ln.c.written_off_on)
        .join(fam, fam.c.id == ln.c.family_id))}


def plan_rounds(rows: dict[str, list[Row]],
                loan_ends: dict[str, tuple[str, date | None]]) -> list[date]:
    """The first day of every round after the first (see the module's doc for when a round
    ends); ValueError when even a round of its own cannot carry a day."""
    by_day: dict[date, list[tuple[str, Row]]] = defaultdict(list)
    for kind in ROUNDS:
        for row in rows[kind]:
            assert row.on is not None
            by_day[row.on].append((kind, row))
    capital = sorted((r.on, r.fund, r.cash) for r in rows["capital"] if r.on and r.fund)
    previous: dict[str, str] = {}  # loan ref → the family's loan before it
    last: dict[str, str] = {}
    for row in rows["loans"]:  # in disbursement order
        family = loan_ends.get(str(row.loan), ("", None))[0]
        if family in last:
            previous[str(row.loan)] = last[family]
        last[family] = str(row.loan)
    starts: list[date] = []
    start: date | None = None
    inflow_before: dict[str, int] = defaultdict(int)  # cash brought by earlier rounds
    inflow_now: dict[str, int] = defaultdict(int)
    lent: dict[str, int] = defaultdict(int)
    rescheduled: dict[str, date] = {}
    reversed_: dict[str, int] = {}  # loan ref → the latest reversal of the round, by entry
    for day in sorted(by_day):
        events = by_day[day]
        new_loans = [r for k, r in events if k == "loans"]
        for r in new_loans:
            assert r.fund is not None
            lent[r.fund] -= r.cash

        def short(funds: set[str], day: date = day) -> str | None:
            for fund in sorted(funds):
                held = sum(c for on, f, c in capital if f == fund and on <= day)
                if held + inflow_before[fund] - lent[fund] < 0:
                    return fund
            return None

        ends = [loan_ends.get(previous.get(str(r.loan), ""), ("", None))[1] for r in new_loans]
        cut = any(e is not None and (start is None or e >= start) for e in ends)
        cut = cut or any(k == "repayments" and r.loan in rescheduled
                         and rescheduled[str(r.loan)] < day for k, r in events)
        cut = cut or any(k == "repayments" and r.seq > reversed_.get(str(r.loan), r.seq)
                         for k, r in events)
        funds = {str(r.fund) for r in new_loans}
        cut = cut or short(funds) is not None
        if cut and start != day:
            starts.append(day)
            start = day
            for code, cash in inflow_now.items():
                inflow_before[code] += cash
            inflow_now.clear()
            rescheduled.clear()
            reversed_.clear()
            lacking = short(funds)
            if lacking is not None:
                raise ValueError(f"on {day} fund {lacking} paid out loans with money received "
                                 "the same day; the bundle cannot order that day's records")
        for kind, r in events:
            if kind in ("repayments", "reversals", "recoveries") and r.fund is not None:
                inflow_now[r.fund] += r.cash  # a reversal's cash is negative
            if kind == "reschedules":
                rescheduled[str(r.loan)] = day
            if kind == "reversals":
                reversed_[str(r.loan)] = max(r.seq, reversed_.get(str(r.loan), 0))
        if start is None:
            start = day
    return starts


def _steps(rows: dict[str, list[Row]], starts: list[date]) -> list[tuple[str, list[Row]]]:
    rounds: list[dict[str, list[Row]]] = [defaultdict(list) for _ in range(len(starts) + 1)]
    for kind in ROUNDS:
        for row in rows[kind]:
            assert row.on is not None
            rounds[bisect_right(starts, row.on)][kind].append(row)
    steps = [(k, rows[k]) for k in FIRST]
    for items in rounds:
        steps.extend((k, items[k]) for k in ROUNDS)
    steps.append(("grants", rows["grants"]))
    steps.extend(_grid_steps(rows["households"], rows["followups"]))
    return [(k, r) for k, r in steps if r]


def _grid_steps(grids: list[Row], visits: list[Row]) -> list[tuple[str, list[Row]]]:
    """Household grids and the visits that write grids, alternating in the order the source
    recorded their grids; visits without a grid last (see the module's doc)."""
    ordered = sorted([("households", r) for r in grids] + [("followups", r) for r in visits
                                                           if r.seq], key=lambda t: t[1].seq)
    steps: list[tuple[str, list[Row]]] = []
    for kind, row in ordered:  # sorted() is stable: a grid's lines keep their order
        if not steps or steps[-1][0] != kind:
            steps.append((kind, []))
        steps[-1][1].append(row)
    rest = [r for r in visits if not r.seq]
    if rest and steps and steps[-1][0] == "followups":
        steps[-1][1].extend(rest)
    elif rest:
        steps.append(("followups", rest))
    return steps


def _write(path: Path, kind: str, rows: list[Row]) -> None:
    import xlsxwriter

    from imports.api import columns_of

    present = set().union(*(r.values for r in rows))
    names = [c.name for c in columns_of(kind) if c.name in present]
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        bold = book.add_format({"bold": True})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet = book.add_worksheet(kind)
        sheet.write_row(0, 0, names, bold)
        for n, row in enumerate(rows, start=1):
            for c, name in enumerate(names):
                value = row.values.get(name)
                if value is None or value == "":
                    continue
                if isinstance(value, date):
                    sheet.write_datetime(n, c, datetime(value.year, value.month, value.day), day)
                elif isinstance(value, int) and not isinstance(value, bool):
                    sheet.write_number(n, c, value)
                else:
                    sheet.write_string(n, c, str(value))
        sheet.freeze_panes(1, 0)
    finally:
        book.close()


def _setup(session: Session) -> dict[str, Any]:
    """What an empty ledger needs before the files: provinces, funds and loan products."""
    v, c, d, p = (core_table(n) for n in ("village", "commune", "district", "province"))
    fam, f, lp = core_table("family"), core_table("fund"), core_table("loan_product")
    provinces = session.execute(
        sa.select(p.c.code, p.c.name_en).distinct()
        .select_from(fam.join(v, v.c.id == fam.c.village_id)
                     .join(c, c.c.code == v.c.commune_code).join(d, d.c.code == c.c.district_code)
                     .join(p, p.c.code == d.c.province_code)).order_by(p.c.code)).all()
    products = [{k: (str(m[k]) if k == "rate" else m[k]) for k in _PRODUCT_FIELDS}
                for m in (r._mapping for r in session.execute(sa.select(lp).order_by(lp.c.id)))]
    return {"provinces": [{"code": str(code), "name": str(name)} for code, name in provinces],
            "funds": [{"code": str(code), "name": str(name), "currency": str(cur)}
                      for code, name, cur in session.execute(
                          sa.select(f.c.code, f.c.name, f.c.currency).order_by(f.c.id))],
            "products": products}


def _grid_note(rows: dict[str, list[Row]]) -> dict[str, Any]:
    """How the household grids that follow-up visits wrote travel (not in `households`)."""
    written = sum(1 for r in rows["followups"] if r.seq)
    return {"grids": written, "visits_without_grid": len(rows["followups"]) - written,
            "why": "a follow-up visit writes the family's grid as the visit leaves it: the "
                   "followups step writes these grids again, so the households file leaves "
                   "them out; a visit with no grid in the source writes one on import"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_bundle(session: Session, *, actor: Actor, out: Path, today: date) -> BundleExport:
    """Write the bundle of the whole ledger into the new or empty folder `out`."""
    actor.require(Permission.EXPORT)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} is not an empty folder: give a new one")
    rows, left_out = collect(session)
    starts = plan_rounds(rows, _loan_ends(session))
    facts = ledger_facts(session)
    setup = _setup(session)
    session.rollback()  # everything is read: no transaction is held while writing files
    out.mkdir(parents=True, exist_ok=True)
    steps: list[dict[str, Any]] = []
    written: list[tuple[str, str, int]] = []
    for n, (kind, items) in enumerate(_steps(rows, starts), start=1):
        path = out / f"{n:02d}-{kind}.xlsx"
        _write(path, kind, items)
        steps.append({"step": n, "kind": kind, "file": path.name, "rows": len(items),
                      "sha256": _sha256(path)})
        written.append((kind, path.name, len(items)))
    manifest = {
        "format": BUNDLE_FORMAT, "version": 1, "exported_on": today.isoformat(),
        "exported_by": actor.name,
        "source": {"ledger_name": facts.get("ledger_name", ""),
                   "province": facts.get("province", ""),
                   "demo": facts.get("demo") == "true", "demo_as_of": facts.get("demo_as_of")},
        "setup": setup, "steps": steps, "left_out": left_out,
        "not_carried": ["users and their roles", "sensitive household facts",
                        "family members' details other than the names of people enrolled in "
                        "trainings", "cash boxes", "who recorded each household grid and who "
                        "posted each reversal (the importing user does; a reversal's reason "
                        "keeps who reversed it)"],
        "grids_from_followups": _grid_note(rows),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                encoding="utf-8")
    return BundleExport(out, tuple(written), tuple(left_out))
