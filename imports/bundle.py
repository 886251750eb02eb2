"""`fsf import bundle DIR`: a folder `fsf export bundle` wrote, imported step by step in the
manifest's order inside ONE transaction: all of it is committed, or nothing.

Before the files, the manifest's setup is applied through the setup services: its provinces'
villages are loaded from the gazetteer, missing funds are opened and missing loan products
created (a product that exists with other terms is a problem, never overwritten). Each step is
then validated against the ledger as the earlier steps left it, and committed. The first step
with a problem stops the import and everything, setup included, is rolled back.

A bundle from a demo ledger holds invented families: it goes only into an empty ledger (which
then becomes a demo ledger, with the demo's "today") or into a demo ledger; a real bundle never
goes into a demo ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from imports.api import KINDS, PERMISSIONS, commit, validate
from imports.preview import ImportPreview, ImportResult
from imports.problems import Problem
from ledger.actor import Actor, Permission
from ledger.db.places import PlaceNotFound, load_gazetteer_province
from ledger.db.tables import AppMeta, LoanProduct, core_table
from ledger.services.errors import ServiceError
from ledger.services.funds import open_fund
from ledger.services.products import create_product
from ledger.services.setup import set_fact
from ledger.services.unit import use_case

__all__ = ["MANIFEST", "BundleResult", "StepOutcome", "import_bundle", "read_manifest"]

MANIFEST = "manifest.json"
FORMAT = "fsf-ledger-bundle"
# progress(step number, steps, kind): called before each step.
BundleProgress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """One step: its kind and file, how many rows, what it created or found unchanged, and
    its problems; `outcome` is the preview or commit result, for a feedback workbook."""

    step: int
    kind: str
    file: str
    rows: int
    created: int
    unchanged: int
    problems: tuple[Problem, ...] = ()
    outcome: ImportPreview | ImportResult | None = None

    def as_json(self) -> dict[str, Any]:
        """The step's part of `fsf import bundle --json`."""
        return {"step": self.step, "kind": self.kind, "file": self.file, "rows": self.rows,
                "created": self.created, "unchanged": self.unchanged,
                "problems": [p.as_dict() for p in self.problems]}


@dataclass(frozen=True, slots=True)
class BundleResult:
    """What a bundle import did: committed or not (nothing is written unless all is), the
    setup applied, every step reached, and problems of the bundle itself."""

    folder: Path
    committed: bool
    dry_run: bool
    setup: tuple[str, ...] = ()
    steps: tuple[StepOutcome, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def valid(self) -> bool:
        """True when no step and no part of the bundle has a problem."""
        return not self.problems and not any(s.problems for s in self.steps)

    @property
    def created(self) -> int:
        """Rows added to the ledger (or that would be, in a dry run)."""
        return sum(s.created for s in self.steps)

    @property
    def unchanged(self) -> int:
        """Rows already in the ledger as in the files."""
        return sum(s.unchanged for s in self.steps)

    def as_json(self) -> dict[str, Any]:
        """The stable `--json` shape of `fsf import bundle`."""
        return {"folder": str(self.folder), "valid": self.valid, "committed": self.committed,
                "dry_run": self.dry_run, "created": self.created, "unchanged": self.unchanged,
                "setup": list(self.setup), "steps": [s.as_json() for s in self.steps],
                "problems": [p.as_dict() for p in self.problems]}


class _Stop(Exception):
    """Ends the bundle's transaction without committing it."""


def read_manifest(folder: Path) -> tuple[dict[str, Any], list[Problem]]:
    """The manifest and every problem with it or with its files (missing, changed)."""
    path = folder / MANIFEST
    if not path.is_file():
        return {}, [Problem(None, "manifest", str(path), (
            f"there is no {MANIFEST} in {folder}: give the folder `fsf export bundle` wrote"))]
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {}, [Problem(None, "manifest", str(path), f"{MANIFEST} cannot be read: {exc}")]
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != 1:
        return {}, [Problem(None, "manifest", str(path), (
            f"{MANIFEST} is not a version-1 ledger bundle manifest"))]
    problems = []
    for n, step in enumerate(doc.get("steps", []), start=1):
        kind, name = step.get("kind"), str(step.get("file", ""))
        if kind not in KINDS:
            problems.append(Problem(None, "manifest", str(kind), (
                f"step {n} names {kind!r}, not an import kind")))
            continue
        file = folder / name
        if not file.is_file():
            problems.append(Problem(None, name, "", f"step {n}'s file {name} is missing"))
        elif hashlib.sha256(file.read_bytes()).hexdigest() != step.get("sha256"):
            problems.append(Problem(None, name, "", (
                f"{name} changed after it was exported: correct the source ledger and export "
                "the bundle again, so the books move exactly as they stand")))
    return doc, problems


def _empty(session: Session) -> bool:
    for table in ("family", "journal_entry"):
        t = core_table(table)
        if session.execute(sa.select(t.c.id).limit(1)).first() is not None:
            return False
    return True


def _demo(session: Session, source: dict[str, Any]) -> tuple[list[str], list[Problem]]:
    demo_here = (row := session.get(AppMeta, "demo")) is not None and row.value == "true"
    if not source.get("demo"):
        if demo_here:
            return [], [Problem(None, "manifest", "demo", (
                "this ledger is a demo ledger: import real books into a real ledger"))]
        return [], []
    if demo_here:
        return [], []
    if not _empty(session):
        return [], [Problem(None, "manifest", "demo", (
            "this bundle comes from a demo ledger (invented families): import it only into "
            "an empty ledger or a demo ledger, never beside real books"))]
    set_fact(session, "demo", "true")
    if source.get("demo_as_of"):
        set_fact(session, "demo_as_of", str(source["demo_as_of"]))
    return ["marked this empty ledger as a demo ledger"], []


def _setup(session: Session, actor: Actor, setup: dict[str, Any]
           ) -> tuple[list[str], list[Problem]]:
    """Apply the manifest's provinces, funds and products; report what was done."""
    done: list[str] = []
    problems: list[Problem] = []
    p, f, lp = core_table("province"), core_table("fund"), core_table("loan_product")
    for province in setup.get("provinces", []):
        code = str(province["code"])
        if session.execute(sa.select(p.c.code).where(p.c.code == code)).first() is None:
            actor.require(Permission.MANAGE_FUNDS, "loading a province for the bundle")
            try:
                load_gazetteer_province(session, code)
            except PlaceNotFound as exc:
                problems.append(Problem(None, "manifest", code, str(exc)))
                continue
            done.append(f"loaded the villages of {province.get('name', code)}")
    funds = {str(c): str(cur) for c, cur in session.execute(sa.select(f.c.code, f.c.currency))}
    for fund in setup.get("funds", []):
        code, currency = str(fund["code"]), str(fund["currency"])
        if code not in funds:
            open_fund(session, actor=actor, code=code, name=str(fund["name"]), currency=currency)
            done.append(f"opened fund {code} ({currency})")
        elif funds[code] != currency:
            problems.append(Problem(None, "manifest", code, (
                f"fund {code} keeps {funds[code]} here but {currency} in the bundle")))
    for product in setup.get("products", []):
        wanted = dict(product, rate=Decimal(str(product["rate"])))
        stored = session.execute(sa.select(lp).where(lp.c.code == wanted["code"])).first()
        if stored is None:
            create_product(session, actor=actor, product=LoanProduct(**wanted))
            done.append(f"created loan product {wanted['code']}")
            continue
        m = stored._mapping
        for name, value in wanted.items():
            have = Decimal(str(m[name])) if name == "rate" else m[name]
            if have != value:
                problems.append(Problem(None, "manifest", str(wanted["code"]), (
                    f"loan product {wanted['code']} has {name} {have} here but {value} in the "
                    "bundle: the loans would not be the same loans")))
    return done, problems


def import_bundle(folder: Path | str, *, session: Session, actor: Actor, today: date,
                  dry_run: bool = False, progress: BundleProgress | None = None
                  ) -> BundleResult:
    """Import every step of the bundle in one transaction; a dry run goes through every step
    the same way and then rolls back. Problems are returned, never raised; a role refusal
    raises `PermissionDenied` before anything is written."""
    folder = Path(folder)
    doc, problems = read_manifest(folder)
    if problems:
        return BundleResult(folder, False, dry_run, problems=tuple(problems))
    steps = doc.get("steps", [])
    for kind in dict.fromkeys(s["kind"] for s in steps):
        for permission in PERMISSIONS[kind]:
            actor.require(permission, "importing this bundle")
    if any(s["kind"] == "loans" for s in steps):
        actor.require(Permission.APPROVE_LOANS, "importing loans approves them")
    done: list[StepOutcome] = []
    setup: list[str] = []
    found: list[Problem] = []
    try:
        with use_case(session):
            did, found = _demo(session, doc.get("source", {}))
            setup.extend(did)
            if not found:
                did, found = _setup(session, actor, doc.get("setup", {}))
                setup.extend(did)
            if found:
                raise _Stop
            for n, step in enumerate(steps, start=1):
                if progress is not None:
                    progress(n, len(steps), step["kind"])
                outcome = _step(n, step, folder, session, actor, today)
                done.append(outcome)
                if outcome.problems:
                    raise _Stop
            if dry_run:
                raise _Stop
    except _Stop:
        return BundleResult(folder, False, dry_run, tuple(setup), tuple(done), tuple(found))
    except ServiceError as exc:
        return BundleResult(folder, False, dry_run, tuple(setup), tuple(done),
                            (Problem(None, exc.field or "manifest", "", exc.message),))
    return BundleResult(folder, True, dry_run, tuple(setup), tuple(done))


def _step(n: int, step: dict[str, Any], folder: Path, session: Session, actor: Actor,
          today: date) -> StepOutcome:
    kind, name = str(step["kind"]), str(step["file"])
    preview = validate(kind, folder / name, session=session, actor=actor, today=today)
    if not preview.valid:
        return StepOutcome(n, kind, name, len(preview.rows), 0, preview.unchanged,
                           preview.problems, preview)
    result = commit(preview, session=session, actor=actor)
    return StepOutcome(n, kind, name, len(preview.rows), result.created, result.unchanged,
                       result.problems, result)
