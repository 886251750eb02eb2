"""Command palette (ctrl+p) providers: open a family, a loan or a village, start a new loan
for a family or open its projection, export or import a file, switch user, or go to any area
(Approvals among them).
Candidates are read in a thread, never on the UI thread."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, cast

import sqlalchemy as sa
from textual.command import DiscoveryHit, Hit, Hits, Provider

from ledger.db.tables import core_table
from tui.screens.data.families import search_families
from tui.screens.data.scope import village_filters

if TYPE_CHECKING:
    from ledger.actor import Actor
    from tui.app import FsfApp

__all__ = ["PROVIDERS"]


class _LedgerProvider(Provider):
    @property
    def fsf(self) -> FsfApp:
        from tui.app import FsfApp

        return cast(FsfApp, self.app)

    async def _read(self, fn, *args):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            with self.fsf.read_session() as session:
                return fn(session, *args)

        return await asyncio.to_thread(run)


class AreasProvider(Provider):
    """Every area of the app."""

    async def discover(self) -> Hits:
        from tui.app import AREAS

        for mode, key, title, _, _ in AREAS:
            yield DiscoveryHit(f"Go to {title}", partial(self.app.switch_mode, mode),
                               help=f"key {key}")

    async def search(self, query: str) -> Hits:
        from tui.app import AREAS

        matcher = self.matcher(query)
        for mode, key, title, _, _ in AREAS:
            text = f"Go to {title}"
            if (score := matcher.match(text)) > 0:
                yield Hit(score, matcher.highlight(text), partial(self.app.switch_mode, mode),
                          help=f"key {key}")


# (text, app action, key): the pages that move files in and out of the ledger.
_TRANSFERS = (
    ("Export… (workbook, collection sheet, statement, CSV)", "export", "e"),
    ("Import… (families, loans, repayments)", "import", "i"),
)


class TransferProvider(Provider):
    """Export… and Import…: the file pages."""

    async def discover(self) -> Hits:
        for text, action, key in _TRANSFERS:
            yield DiscoveryHit(text, getattr(self.app, f"action_{action}"), help=f"key {key}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, action, key in _TRANSFERS:
            if (score := matcher.match(text)) > 0:
                yield Hit(score, matcher.highlight(text), getattr(self.app, f"action_{action}"),
                          help=f"key {key}")


_SWITCH = "Switch user… (sign in as another user, e.g. the approver)"


class SwitchUserProvider(Provider):
    """Switch user…: hand the keyboard to another user (maker-checker needs two)."""

    async def discover(self) -> Hits:
        yield DiscoveryHit(_SWITCH, self.app.action_switch_user, help="key u")  # type: ignore[attr-defined]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        if (score := matcher.match(_SWITCH)) > 0:
            yield Hit(score, matcher.highlight(_SWITCH),
                      self.app.action_switch_user, help="key u")  # type: ignore[attr-defined]


class FamilyProvider(_LedgerProvider):
    """Open family… / New loan for… / Projection for… (by name, Khmer or Latin, reference or
    village)."""

    def _project(self, family_id: int) -> None:
        """Push the family's projection (its grid, to edit and save) over the current area."""
        from tui.screens.projections import ProjectionsScreen

        self.app.push_screen(ProjectionsScreen(family_id=family_id))

    async def search(self, query: str) -> Hits:
        needle = query
        for prefix in ("open family", "new loan for", "projection for", "family", "new loan",
                       "projection"):
            if query.lower().startswith(prefix):
                needle = query[len(prefix):].strip()
                break  # "new loan for X" must not be cut again as "new loan" + "for X"
        if len(needle) < 2:
            return
        rows = await self._read(partial(search_families, actor=self.fsf.ledger.user, limit=10),
                                needle)
        matcher = self.matcher(query)
        for r in rows:
            label = f"{r.ref} {r.name_latin} ({r.village}) {r.name}"
            yield Hit(max(matcher.match(f"Open family {label}"), 0.5),
                      f"Open family… {label}", partial(self.fsf.open_family, r.id),
                      text=f"Open family {label}")
            yield Hit(max(matcher.match(f"New loan for {label}"), 0.4),
                      f"New loan for… {label}", partial(self.fsf.new_loan, r.id),
                      text=f"New loan for {label}")
            yield Hit(max(matcher.match(f"Projection for {label}"), 0.35),
                      f"Projection for… {label}", partial(self._project, r.id),
                      text=f"Projection for {label}")


def _loans(session, actor: Actor, text: str):  # type: ignore[no-untyped-def]
    loan, fam = core_table("loan"), core_table("family")
    like = f"%{text.lower()}%"
    return session.execute(
        sa.select(loan.c.id, loan.c.ref, loan.c.status, fam.c.head_name_latin)
        .join(fam, fam.c.id == loan.c.family_id)
        .where(sa.func.lower(loan.c.ref).like(like), *village_filters(actor, fam.c.village_id))
        .order_by(loan.c.id.desc()).limit(10)).all()


def _villages(session, actor: Actor, text: str):  # type: ignore[no-untyped-def]
    vil, fam = core_table("village"), core_table("family")
    like = f"%{text.lower()}%"
    return session.execute(
        sa.select(vil.c.id, vil.c.name_en, vil.c.name_kh)
        .where(sa.or_(sa.func.lower(vil.c.name_en).like(like), vil.c.name_kh.like(like)),
               sa.exists().where(fam.c.village_id == vil.c.id),
               *village_filters(actor, vil.c.id))
        .order_by(vil.c.name_en).limit(10)).all()


class LoanProvider(_LedgerProvider):
    """Open loan… by its reference."""

    async def search(self, query: str) -> Hits:
        needle = query.lower().removeprefix("open loan").strip()
        if len(needle) < 2:
            return
        for lid, ref, status, name in await self._read(_loans, self.fsf.ledger.user, needle):
            text = f"Open loan… {ref} ({status}) {name or ''}"
            yield Hit(0.6, text, partial(self.fsf.open_loan, int(lid)), text=text)


class VillageProvider(_LedgerProvider):
    """Open village… by its name (English or Khmer)."""

    async def search(self, query: str) -> Hits:
        needle = query.lower().removeprefix("open village").strip()
        if len(needle) < 2:
            return
        for vid, en, kh in await self._read(_villages, self.fsf.ledger.user, needle):
            text = f"Open village… {en} {kh}"
            yield Hit(0.55, text, partial(self.fsf.open_village, int(vid)), text=text)


PROVIDERS = (AreasProvider, TransferProvider, SwitchUserProvider, FamilyProvider, LoanProvider,
             VillageProvider)
