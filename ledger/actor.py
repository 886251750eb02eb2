"""Who is acting, and what their roles allow. Every service takes an `Actor` and asks it first.

Roles are enforced here, in the domain, so the command line, the terminal app and any script
are held to the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ROLE_PERMISSIONS",
    "SYSTEM",
    "Actor",
    "Permission",
    "PermissionDenied",
    "Role",
    "SecondPersonRequired",
    "WholeFundOnly",
    "roles_allowing",
]


class Role(StrEnum):
    """The five kinds of user of the ledger."""

    ADMINISTRATOR = "administrator"  # products, users, reserve rates, funds
    OFFICER = "officer"  # families, loans, repayments, trainings, follow-ups
    APPROVER = "approver"  # approves loans, write-offs and old reversals; often also an officer
    TREASURER = "treasurer"  # read-only, her villages only; collection sheets
    AUDITOR = "auditor"  # read-only everywhere; exports and verification


class Permission(StrEnum):
    """One thing a service may refuse."""

    READ = "read"
    VIEW_SENSITIVE = "view sensitive facts"
    MANAGE_PRODUCTS = "manage loan products"
    MANAGE_USERS = "manage users"
    MANAGE_FUNDS = "manage funds and capital"
    SET_RESERVE_RATES = "set reserve rates"
    ENTER_FAMILIES = "enter families"
    ENTER_LOANS = "enter loans"
    RECORD_REPAYMENTS = "record repayments"
    REVERSE_REPAYMENTS = "reverse repayments"
    ENTER_TRAININGS = "enter trainings and follow-ups"
    APPROVE_LOANS = "approve loans"
    APPROVE_WRITE_OFFS = "approve write-offs"
    APPROVE_REVERSALS = "approve reversals of old repayments"
    SET_APPROVAL_LIMITS = "set approval limits"
    WRITE_OFF = "write off loans"
    PAY_GRANTS = "pay grants"
    COLLECTION_SHEETS = "produce collection sheets"
    EXPORT = "export"
    VERIFY = "verify the ledger"


_P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(
        {_P.READ, _P.MANAGE_PRODUCTS, _P.MANAGE_USERS, _P.MANAGE_FUNDS, _P.SET_RESERVE_RATES,
         _P.SET_APPROVAL_LIMITS, _P.PAY_GRANTS, _P.EXPORT, _P.VERIFY, _P.COLLECTION_SHEETS}
    ),
    Role.OFFICER: frozenset(
        {_P.READ, _P.VIEW_SENSITIVE, _P.ENTER_FAMILIES, _P.ENTER_LOANS, _P.RECORD_REPAYMENTS,
         _P.REVERSE_REPAYMENTS, _P.ENTER_TRAININGS, _P.WRITE_OFF, _P.PAY_GRANTS,
         _P.COLLECTION_SHEETS, _P.EXPORT, _P.VERIFY}
    ),
    Role.APPROVER: frozenset(
        {_P.READ, _P.VIEW_SENSITIVE, _P.APPROVE_LOANS, _P.APPROVE_WRITE_OFFS,
         _P.APPROVE_REVERSALS, _P.VERIFY}
    ),
    Role.TREASURER: frozenset({_P.READ, _P.COLLECTION_SHEETS}),
    Role.AUDITOR: frozenset({_P.READ, _P.EXPORT, _P.VERIFY}),
}


def roles_allowing(permission: Permission) -> tuple[Role, ...]:
    """The roles that grant `permission`, for refusal messages."""
    return tuple(r for r in Role if permission in ROLE_PERMISSIONS[r])


class PermissionDenied(PermissionError):
    """The acting user's roles do not allow this; the message names the role that would."""

    def __init__(self, actor: Actor, permission: Permission, detail: str = "") -> None:
        self.actor = actor
        self.permission: Permission | None = permission
        needed = " or ".join(r.value for r in roles_allowing(permission))
        held = ", ".join(sorted(r.value for r in actor.roles)) or "no role"
        msg = f"{actor.name} ({held}) may not {permission.value}: needs the {needed} role"
        super().__init__(msg + (f" ({detail})" if detail else ""))


class SecondPersonRequired(PermissionDenied):
    """Maker-checker: the acting user entered this, so a different user must approve it."""

    def __init__(self, actor: Actor, message: str) -> None:
        self.actor = actor
        self.permission = None
        PermissionError.__init__(self, f"{actor.name} may not approve this: {message}")


class WholeFundOnly(PermissionDenied):
    """A user limited to some villages asked for something that covers every village."""

    def __init__(self, actor: Actor, what: str) -> None:
        self.actor = actor
        self.permission = None
        mine = ", ".join(sorted(actor.villages or ())) or "none"
        PermissionError.__init__(self, (
            f"{actor.name} sees only villages {mine}, and {what} covers every village: "
            "ask an officer or administrator"))


@dataclass(frozen=True, slots=True)
class Actor:
    """The person a service acts for. `villages` None means every village."""

    name: str
    roles: frozenset[Role]
    villages: frozenset[str] | None = None
    user_id: int | None = None
    demo: bool = False

    def can(self, permission: Permission) -> bool:
        """Whether any of the actor's roles grants `permission`."""
        return any(permission in ROLE_PERMISSIONS[r] for r in self.roles)

    def require(self, permission: Permission, detail: str = "") -> None:
        """Refuse with `PermissionDenied` unless a role grants `permission`."""
        if not self.can(permission):
            raise PermissionDenied(self, permission, detail)

    @property
    def is_system(self) -> bool:
        """Whether this is the internal `SYSTEM` actor (never a login, never a user)."""
        return self == SYSTEM

    def sees_village(self, code: str) -> bool:
        """Treasurers see only their named villages; everyone else sees all."""
        return self.villages is None or code in self.villages


# Internal jobs (migrations, the demo builder) act as this; it is never a login.
SYSTEM = Actor("system", frozenset({Role.ADMINISTRATOR, Role.OFFICER, Role.APPROVER}))
