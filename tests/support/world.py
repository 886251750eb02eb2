"""A small real ledger for tests: Svay Rieng from the gazetteer, a riel fund with IOM capital,
the Foundation's product and a few families — made through the services, as an officer would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import SYSTEM, Actor
from ledger.db.places import load_gazetteer_province
from ledger.db.tables import Village
from ledger.money import Money
from ledger.services.families import FamilyInput, register_family
from ledger.services.funds import open_fund, receive_capital
from ledger.services.loans import apply_for_loan, approve_loan, disburse_loan
from ledger.services.products import ensure_foundation_product

TODAY = date(2009, 6, 30)
ACTOR: Actor = SYSTEM


def riel(n: int) -> Money:
    return Money.parse(n, "KHR")


@dataclass
class World:
    session: Session
    villages: list[int]
    families: list[int]

    def loan(self, family: int, principal: int = 200_000, *, repayments: int = 10,
             on: date = date(2008, 1, 15), ref: str | None = None, **kw: object) -> int:
        """Apply, approve and disburse a Foundation loan for a family on `on`."""
        loan = apply_for_loan(self.session, actor=ACTOR, ref=ref or f"L{family}-{on}",
                              family_id=family, product_code="FSF", fund_code="RIEL",
                              principal=riel(principal), repayments=repayments, applied_on=on,
                              today=TODAY, **kw)  # type: ignore[arg-type]
        assert loan.id is not None
        approve_loan(self.session, actor=ACTOR, loan_id=loan.id, on=on, today=TODAY)
        disburse_loan(self.session, actor=ACTOR, loan_id=loan.id, on=on, today=TODAY)
        return loan.id


def build_world(session: Session, families: int = 3) -> World:
    load_gazetteer_province(session, "Svay Rieng")
    session.commit()
    villages = [int(v) for v in session.execute(
        sa.select(Village.id).order_by(Village.id).limit(3)).scalars()]  # type: ignore[arg-type]
    open_fund(session, actor=ACTOR, code="RIEL", name="Riel loan fund")
    receive_capital(session, actor=ACTOR, fund_code="RIEL", ref="C1", contributor="IOM",
                    amount=riel(10_000_000), received_on=date(2007, 1, 8))
    ensure_foundation_product(session, actor=ACTOR)
    ids = []
    for n in range(families):
        fam = register_family(session, actor=ACTOR, today=TODAY, data=FamilyInput(
            ref=f"F{n + 1:03d}", head_name=f"សុខ {n}", head_name_latin=f"Sok {n}", sex="F",
            household_size=5, village_id=villages[n % len(villages)],
            registered_on=date(2007, 6, 1), birth_year=1970 + n))
        assert fam.id is not None
        ids.append(fam.id)
    return World(session, villages, ids)
