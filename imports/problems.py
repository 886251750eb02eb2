"""What an import reports: problems a person can act on, never exceptions.

A `Problem` names the spreadsheet row (as the officer sees it, the header being row 1), the
column, the value found and what to do about it. File-level problems (a wrong file type, a
missing column) have row None.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_FILE_BYTES", "CellError", "FileRefused", "Problem"]

# Files above this are refused before any parsing: a province's records fit in a few MB, and a
# bigger file is almost always the wrong file. Split a genuinely larger file in two.
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the file: where (row, column), what was there, and what to do."""

    row: int | None
    column: str | None
    value: str
    message: str

    def as_dict(self) -> dict[str, object]:
        """The stable JSON shape: {"row", "column", "value", "message"}."""
        return {"row": self.row, "column": self.column, "value": self.value,
                "message": self.message}

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class FileRefused(Exception):
    """The file as a whole cannot be read (type, size, protection, layout)."""

    def __init__(self, message: str, *, column: str | None = None, row: int | None = None,
                 value: str = "") -> None:
        self.message, self.column, self.row, self.value = message, column, row, value
        super().__init__(message)

    def problem(self) -> Problem:
        """This refusal as a reportable problem."""
        return Problem(self.row, self.column, self.value, self.message)


class CellError(ValueError):
    """A cell that cannot be read as its column's type; the message says what to write."""
