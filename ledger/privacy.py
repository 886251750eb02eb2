"""Pseudonymised copies for donors: stable codes instead of names, and no sensitive facts.

A code is an HMAC-SHA256 of what it stands for (`family:42`) under a secret kept in this
ledger's `app_meta`, created on first use: the same family gets the same code in every export
of this ledger, and nobody without the secret can tell who a code stands for (guessing ids
and hashing them does not work without the key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import AppMeta
from ledger.services.errors import ServiceError
from ledger.services.unit import transactional

__all__ = [
    "SECRET_KEY",
    "Pseudonyms",
    "pseudonym",
    "pseudonym_secret",
    "sensitive_allowed",
]

SECRET_KEY = "pseudonym_secret"
CODE_LENGTH = 10
# What a code stands for -> the prefix people see.
PREFIXES = {"family": "F", "person": "P", "user": "U"}


def pseudonym(secret: bytes, kind: str, ident: int | str) -> str:
    """The stable code of one family, person or user, e.g. `F-7Q2KD9XW4M`."""
    prefix = PREFIXES.get(kind)
    if prefix is None:
        raise ValueError(f"no pseudonym kind {kind!r}; known: {', '.join(PREFIXES)}")
    digest = hmac.new(secret, f"{kind}:{ident}".encode(), hashlib.sha256).digest()
    return f"{prefix}-{base64.b32encode(digest).decode('ascii')[:CODE_LENGTH]}"


@transactional
def pseudonym_secret(session: Session) -> bytes:
    """This ledger's pseudonym key, made (and committed) the first time it is asked for."""
    row = session.get(AppMeta, SECRET_KEY)
    if row is None:
        row = AppMeta(key=SECRET_KEY, value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return bytes.fromhex(row.value)


class Pseudonyms:
    """Codes under one ledger's secret, remembered while an export runs."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._seen: dict[tuple[str, int | str], str] = {}

    def code(self, kind: str, ident: int | str) -> str:
        """The code of `ident` (a database id) of the given kind."""
        key = (kind, ident)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = pseudonym(self._secret, kind, ident)
        return found

    def family(self, family_id: int) -> str:
        """The code of a family."""
        return self.code("family", family_id)


def sensitive_allowed(*, actor: Actor, pseudonymised: bool, requested: bool) -> bool:
    """Whether an export may carry sensitive household facts: only when asked for, never in a
    pseudonymised copy, and only for roles allowed to see them (refused otherwise)."""
    if not requested:
        return False
    if pseudonymised:
        raise ServiceError("a pseudonymised export never carries sensitive facts",
                           field="include_sensitive")
    actor.require(Permission.VIEW_SENSITIVE, "exporting sensitive facts")
    return True
