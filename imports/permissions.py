"""What importing each kind needs. Apart from `imports.api` so that the app can offer a user
only the kinds her roles allow without loading the readers."""

from __future__ import annotations

from ledger.actor import ROLE_PERMISSIONS, Actor, Permission, Role

__all__ = ["PERMISSIONS", "allowed_kinds", "importing_roles"]

_P = Permission
# What importing each kind needs, in the order the app lists them; the services called check
# the same again.
PERMISSIONS: dict[str, tuple[Permission, ...]] = {
    "families": (_P.ENTER_FAMILIES,), "loans": (_P.ENTER_LOANS,),
    "repayments": (_P.RECORD_REPAYMENTS,), "collection": (_P.RECORD_REPAYMENTS,),
    "courses": (_P.ENTER_TRAININGS,), "enrollments": (_P.ENTER_TRAININGS,),
    "followups": (_P.ENTER_TRAININGS,), "reschedules": (_P.ENTER_LOANS,),
    # maker-checker: only someone who may also approve write-offs brings approved ones in
    "writeoffs": (_P.WRITE_OFF, _P.APPROVE_WRITE_OFFS),
    "recoveries": (_P.RECORD_REPAYMENTS,), "capital": (_P.MANAGE_FUNDS,),
    "grants": (_P.PAY_GRANTS,),
    # an approved reversal also needs APPROVE_REVERSALS, asked row by row
    "reversals": (_P.REVERSE_REPAYMENTS,), "households": (_P.ENTER_FAMILIES,)}


def allowed_kinds(actor: Actor) -> list[str]:
    """The kinds `actor` may import, in `PERMISSIONS`' order."""
    return [kind for kind, needs in PERMISSIONS.items() if all(map(actor.can, needs))]


def importing_roles() -> list[Role]:
    """The roles that may import at least one kind, from the role table (so that the app's
    "may not import anything" names them as `ledger.actor` grants them)."""
    return [role for role in Role
            if any(all(p in ROLE_PERMISSIONS[role] for p in needs)
                   for needs in PERMISSIONS.values())]
