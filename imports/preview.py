"""The shapes an import hands to its callers: the preview after validation, the result after
commit, and what each kind's checker returns."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from itertools import repeat
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from imports.problems import Problem
from ledger.actor import Actor

__all__ = ["Checked", "Context", "ImportPreview", "ImportResult", "Progress", "RowOutcome",
           "made_many"]

# progress(done, total): called while committing, e.g. to move a progress bar.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Context:
    """Where and as whom an import runs, and what day it is."""

    session: Session
    actor: Actor
    today: date


@dataclass(slots=True)
class Checked:
    """A kind checker's answer: per row its ref and status ("new" or "unchanged"), problems,
    and the plan `commit` carries out."""

    refs: dict[int, str] = field(default_factory=dict)
    status: dict[int, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    plan: Any = None


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """One data row after validation: "new", "unchanged" or "error", with the reasons."""

    row: int
    ref: str
    status: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class ImportPreview:
    """Everything validation found. Only a preview with no problems can be committed."""

    kind: str
    path: Path
    sheet: str
    file_hash: str
    headers: tuple[str, ...]
    rows: tuple[RowOutcome, ...]
    problems: tuple[Problem, ...]
    today: date
    plan: Any = None

    @property
    def valid(self) -> bool:
        """True when nothing stops the commit."""
        return not self.problems

    @property
    def created(self) -> int:
        """Rows that would be added to the ledger."""
        return sum(1 for r in self.rows if r.status == "new")

    @property
    def unchanged(self) -> int:
        """Rows already in the ledger exactly as in the file."""
        return sum(1 for r in self.rows if r.status == "unchanged")

    def as_json(self, *, committed: bool = False) -> dict[str, Any]:
        """The stable `--json` shape of `fsf import`."""
        return {"kind": self.kind, "file": str(self.path), "rows": len(self.rows),
                "valid": self.valid, "committed": committed,
                "created": self.created if committed or self.valid else 0,
                "unchanged": self.unchanged,
                "problems": [p.as_dict() for p in self.problems]}


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What a commit did; `committed` is False when anything was refused (nothing written)."""

    preview: ImportPreview
    committed: bool
    created: int
    unchanged: int
    problems: tuple[Problem, ...] = ()
    batch_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The stable `--json` shape of `fsf import`."""
        return {"kind": self.preview.kind, "file": str(self.preview.path),
                "rows": len(self.preview.rows), "valid": not self.problems,
                "committed": self.committed, "created": self.created,
                "unchanged": self.unchanged,
                "problems": [p.as_dict() for p in self.problems]}


def made_many(cls: type[Any], *columns: Sequence[Any]) -> list[Any]:
    """`[cls(*values) for values in zip(*columns)]` for a frozen slots dataclass given every
    field, a column at a time: its generated `__init__` sets each field through
    `object.__setattr__`, which costs more than the object (a plan or preview holds one per
    row of the file). A class with a `__post_init__`, or not given every field, is called."""
    names = [f.name for f in fields(cls)]
    slots = getattr(cls, "__slots__", ())
    if (len(names) != len(columns) or hasattr(cls, "__post_init__")
            or any(name not in slots for name in names)):
        return list(map(cls, *columns))
    count = len(columns[0]) if columns else 0
    if any(len(column) != count for column in columns):
        raise ValueError("columns of different lengths")
    made = list(map(object.__new__, repeat(cls, count)))
    for name, column in zip(names, columns, strict=True):
        deque(map(getattr(cls, name).__set__, made, column), maxlen=0)
    return made
