"""What every export shares: the session, who exports, the as-of date, and whether the copy is
pseudonymised (names become stable codes, private columns are left out)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exports.cells import Cell
from exports.workbook import Column
from ledger.actor import Actor
from ledger.db import is_postgresql
from ledger.db.tables import core_table, utc_now
from ledger.privacy import Pseudonyms
from ledger.reports.scope import village_filter
from ledger.services.places import villages_under

__all__ = ["STREAM_BATCH", "Dataset", "ExportContext", "narrowed", "stream"]

# Rows fetched per database round trip while streaming.
STREAM_BATCH = 2_000


@dataclass
class ExportContext:
    """One export run. When the actor sees only some villages (as in an auditor's workbook of
    one province), every table holds only their loans and those loans' postings; `place`
    names that scope on the Summary."""

    session: Session
    actor: Actor
    as_of: date
    pseudonyms: Pseudonyms | None = None
    include_sensitive: bool = False
    place: str | None = None
    exported_at: datetime = field(default_factory=utc_now)
    # Figures several sheets read (the trial balance), computed once per run.
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def pseudonymised(self) -> bool:
        """Whether names are replaced by codes in this copy."""
        return self.pseudonyms is not None

    def family(self, family_id: int | None, ref: str | None) -> str | None:
        """How a family is named in this copy: its ref, or its code when pseudonymised."""
        if family_id is None:
            return None
        return self.pseudonyms.family(int(family_id)) if self.pseudonyms else ref

    def scoped(self, loan_id: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
        """Conditions keeping rows whose `loan_id` is a loan of the actor's villages: none
        when the actor sees every village. A journal entry is kept or left whole by its loan,
        so each one kept still balances."""
        if self.actor.villages is None:
            return []
        ln, fam = core_table("loan"), core_table("family")
        loans = (sa.select(ln.c.id).join(fam, fam.c.id == ln.c.family_id)
                 .where(*self.in_villages(fam.c.village_id)))
        if is_postgresql(self.session.get_bind()):
            # One array of the ids, made first: as IN, the planner joined every repayment
            # to its loan before keeping the province's (13 s for Kep's at 1M).
            return [loan_id == sa.any_(sa.func.array(loans.scalar_subquery()))]
        return [loan_id.in_(loans)]

    def in_villages(self, village_id: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
        """Conditions keeping rows whose `village_id` is one of the actor's villages."""
        if self.actor.villages is None:
            return []
        return [village_filter(village_id, self.actor.villages)]

    def keep(self, columns: Sequence[Column]) -> tuple[Column, ...]:
        """The columns this copy carries."""
        return tuple(c for c in columns if not (c.private and self.pseudonymised))

    def mask(self, columns: Sequence[Column]) -> Callable[[Sequence[Cell]], tuple[Cell, ...]]:
        """A function cutting a full row down to the columns this copy carries."""
        keep = [i for i, c in enumerate(columns) if not (c.private and self.pseudonymised)]
        if len(keep) == len(columns):
            return tuple
        return lambda row: tuple(row[i] for i in keep)


@dataclass(frozen=True)
class Dataset:
    """A table an export writes: its title, columns, and a stream of full rows."""

    title: str
    columns: tuple[Column, ...]
    rows: Callable[[ExportContext], Iterator[Sequence[Cell]]]

    def stream(self, ctx: ExportContext) -> tuple[tuple[Column, ...], Iterator[tuple[Cell, ...]]]:
        """The columns and rows as `ctx`'s copy carries them."""
        cut = self.mask_for(ctx)
        if cut is tuple:  # every column kept: the rows as they come, not copied
            return ctx.keep(self.columns), (r if r.__class__ is tuple else tuple(r)
                                            for r in self.rows(ctx))
        return ctx.keep(self.columns), (cut(r) for r in self.rows(ctx))

    def mask_for(self, ctx: ExportContext) -> Callable[[Sequence[Cell]], tuple[Cell, ...]]:
        """The row cutter for `ctx`."""
        return ctx.mask(self.columns)


def stream(ctx: ExportContext, query: sa.Select[Any]) -> Iterator[sa.Row[Any]]:
    """Rows of a Core query fetched in batches, so memory stays flat at any ledger size."""
    yield from ctx.session.execute(query, execution_options={"yield_per": STREAM_BATCH})


def narrowed(session: Session, actor: Actor, places: Sequence[str]) -> tuple[Actor, str | None]:
    """`actor` seeing only the villages under `places` (gazetteer codes of any level), and the
    places named for the Summary; `actor` and None when no place is given."""
    if not places:
        return actor, None
    scope = villages_under(session, places)
    mine = scope.villages if actor.villages is None else scope.villages & actor.villages
    return replace(actor, villages=mine), scope.label
