"""Empty import templates: the headers, an Instructions sheet (what each column means, its
format, an example) and drop-down lists for villages, products, skills, funds and fixed
choices."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from imports.api import KINDS, columns_of
from imports.reader import column_letter
from ledger.db.tables import SKILLS, core_table

__all__ = ["write_template"]

# Rows of the data sheet that get drop-down lists.
VALIDATED_ROWS = 5_000
_RULES = (
    "One row per record below the headers; do not merge cells or use formulas.",
    "Column names may be in any order; spaces and capitals in them do not matter.",
    "Amounts: 150000, 150,000 or 150 000 ៛ (Khmer digits welcome); whole riel only.",
    "Dates: date cells, 2008-03-15, or 15/03/2008 (day/month/year, four-digit year).",
    "Each row's ref is its identity: importing the same file again changes nothing.",
    "Import with: fsf import KIND FILE --dry-run (check), then without --dry-run.",
)
# What a kind's layout asks beyond the general rules.
_KIND_RULES = {
    "households": (
        "One row per line of a grid (an income or an expense); repeat grid_ref on each.",
        "The grid's fields (family_ref to note) go on every line of the grid or once; rows "
        "that give one must agree. The lines keep the order of their rows.",
        "A line is one amount (every month) or, for a seasonal line, the months jan … dec "
        "(a blank month is 0). Dollar lines (currency USD, e.g. 55.00) need usd_rate and "
        "rate_on; savings are riel.",
    ),
    "reversals": (
        "One row per reversed payment; a payment is reversed once, so payment_ref is the "
        "row's identity.",
        "A reversal more days after its payment than the ledger's limit names approved_by, "
        "another person than reversed_by, and is imported by a user with the approver role.",
    ),
}


def _lists(session: Session | None) -> dict[str, list[tuple[str, str]]]:
    """(value, label) lists from the ledger for the drop-downs."""
    out: dict[str, list[tuple[str, str]]] = {"village_code": [], "product": [], "skill": [],
                                              "fund": []}
    if session is None:
        return out
    v, p, f = core_table("village"), core_table("loan_product"), core_table("fund")
    out["village_code"] = [(str(c), f"{e} / {k}") for c, e, k in session.execute(
        sa.select(v.c.code, v.c.name_en, v.c.name_kh).where(v.c.code.is_not(None))
        .order_by(v.c.code))]
    out["product"] = [(str(c), str(n)) for c, n in session.execute(
        sa.select(p.c.code, p.c.name).where(p.c.active.is_(True)).order_by(p.c.code))]
    out["skill"] = [(s, s) for s in SKILLS]
    out["fund"] = [(str(c), f"{n} ({cur})") for c, n, cur in session.execute(
        sa.select(f.c.code, f.c.name, f.c.currency).order_by(f.c.code))]
    session.rollback()
    return out


def write_template(kind: str, out: Path, *, session: Session | None = None) -> Path:
    """Write the empty template of `kind` to `out` (.xlsx)."""
    import xlsxwriter

    if kind not in KINDS:
        raise ValueError(f"{kind!r} is not an import kind; kinds: {', '.join(KINDS)}")
    columns = columns_of(kind)
    lists = _lists(session)
    book = xlsxwriter.Workbook(str(out))
    try:
        bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        data = book.add_worksheet(kind)
        info = book.add_worksheet("Instructions")
        sheet_lists = book.add_worksheet("Lists")
        for c, column in enumerate(columns):
            data.write(0, c, column.name, bold)
            data.set_column(c, c, max(12, len(column.name) + 2),
                            book.add_format({"num_format": "yyyy-mm-dd"})
                            if column.type == "date" else None)
            source: list[str] | str | None = None
            if column.choices:
                source = list(column.choices)
            elif lists.get(column.name):
                n = len(lists[column.name])
                letter = column_letter(list(lists).index(column.name))
                source = f"=Lists!${letter}$2:${letter}${n + 1}"
            if source is not None:
                data.data_validation(1, c, VALIDATED_ROWS, c, {
                    "validate": "list", "source": source, "ignore_blank": True,
                    "error_type": "warning"})
        data.freeze_panes(1, 0)
        info.write_row(0, 0, ["column", "required", "type", "meaning", "example"], bold)
        for r, column in enumerate(columns, start=1):
            kind_text = column.type if not column.choices else "one of: " + ", ".join(
                column.choices)
            info.write_row(r, 0, [column.name, "yes" if column.required else "",
                                  kind_text, column.help, column.example])
        start = len(columns) + 2
        info.write(start, 0, "How to fill this workbook", bold)
        rules = (*_RULES, *_KIND_RULES.get(kind, ()))
        for n, rule in enumerate(rules, start=start + 1):
            info.write(n, 0, rule.replace("KIND", kind))
        info.set_column(0, 0, 26)
        info.set_column(3, 3, 70, wrap)
        info.set_column(4, 4, 22)
        for c, (name, items) in enumerate(lists.items()):
            sheet_lists.write(0, c, name, bold)
            for r, (value, _label) in enumerate(items, start=1):
                sheet_lists.write_string(r, c, value)
            sheet_lists.write(0, c + len(lists), f"{name} meaning", bold)
            for r, (_value, label) in enumerate(items, start=1):
                sheet_lists.write_string(r, c + len(lists), label)
            sheet_lists.set_column(c, c, 16)
    finally:
        book.close()
    return out
