"""`fsf export ledger|csv|collection|family|bundle`: workbooks and CSV files for auditors,
donors, treasurers and families, and the whole ledger as import files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from tui.commands.context import acting_actor, get_cli, ledger_session, run
from tui.commands.errors import CliError, fail
from tui.commands.parsing import iso_date
from tui.widgets.cells import counted

Opt = typer.Option
# The places an export is narrowed to, by gazetteer code; the same option on every table export.
Places = Annotated[list[str] | None, Opt(
    "--place", help="Only this province, district, commune or village (its gazetteer code: 20, "
    "2001, 200103, 20010301); repeat for several.")]


def register(app: typer.Typer) -> None:
    """Attach the `export` command group."""
    group = typer.Typer(help="Export the ledger as Excel workbooks or CSV.", no_args_is_help=True)
    app.add_typer(group, name="export")

    _bundle(group)

    @group.command("ledger")
    def ledger(
        ctx: typer.Context,
        out: Annotated[Path, Opt("--out", help="The .xlsx file to write.")],
        as_of: Annotated[str | None, Opt("--as-of", help="YYYY-MM-DD (default today).")] = None,
        pseudonymise: Annotated[bool, Opt(
            "--pseudonymise", help="Codes instead of names; no private columns.")] = False,
        place: Places = None,
    ) -> None:
        """The auditor workbook: registers, journal, ledgers, reports and a Checks sheet; with
        --place, of one province's (district's, …) loans, as a national ledger needs."""
        from exports.ledger_book import export_ledger

        cli = get_cli(ctx)
        day = _day("--as-of", as_of, cli.today)
        with ledger_session(cli, "export ledger", reading=True) as session:
            actor = acting_actor(cli, session, "export ledger")
            result = run("export ledger", lambda: export_ledger(
                session, actor=actor, as_of=day, path=out, pseudonymise=pseudonymise,
                places=place or ()))
        rows = sum(n for _, n in result.sheets)
        scope = f" of {result.covers}" if result.covers else ""
        typer.echo(f"Wrote {out}{scope}: {len(result.sheets)} sheets, {rows:,} rows, as of {day}; "
                   f"checks {'hold' if result.checks_hold else 'FAIL'}")
        if not result.checks_hold:
            fail("export ledger", CliError("checks", "a check on the Checks sheet is FALSE",
                                           status=1))

    @group.command("csv")
    def csv_table(
        ctx: typer.Context,
        table: Annotated[str, Opt("--table", help="families, loans, installments, payments, "
                                  "journal, postings, accounts or villages.")],
        out: Annotated[Path, Opt("--out", help="The .csv file to write.")],
        as_of: Annotated[str | None, Opt("--as-of", help="YYYY-MM-DD (default today).")] = None,
        pseudonymise: Annotated[bool, Opt("--pseudonymise")] = False,
        include_sensitive: Annotated[bool, Opt(
            "--include-sensitive", help="Add sensitive facts (roles that may see them).")] = False,
        place: Places = None,
    ) -> None:
        """One table as UTF-8 CSV, text guarded against formula injection; with --place, of
        the villages there (and their loans' journal entries) only."""
        from exports.csv_export import CSV_TABLES, export_csv

        if table not in CSV_TABLES:
            fail("export csv", CliError("--table", f"{table!r} is not one of: "
                                        f"{', '.join(CSV_TABLES)}"))
        cli = get_cli(ctx)
        day = _day("--as-of", as_of, cli.today)
        with ledger_session(cli, "export csv", reading=True) as session:
            actor = acting_actor(cli, session, "export csv")
            count = run("export csv", lambda: export_csv(
                session, actor=actor, table=table, path=out, as_of=day,
                pseudonymise=pseudonymise, include_sensitive=include_sensitive,
                places=place or ()))
        where = f" in {', '.join(place)}" if place else ""
        typer.echo(f"Wrote {out}: {counted(count, 'row')} of {table}{where}")

    @group.command("collection")
    def collection(
        ctx: typer.Context,
        village: Annotated[str, Opt("--village", help="The village code.")],
        month: Annotated[str, Opt("--month", help="YYYY-MM.")],
        out: Annotated[Path, Opt("--out", help="The .xlsx file to write.")],
    ) -> None:
        """A village's printable collection sheet for a month, with a blank Collected
        column to fill in and import back."""
        from exports.printables import export_collection_sheet

        cli = get_cli(ctx)
        with ledger_session(cli, "export collection", reading=True) as session:
            actor = acting_actor(cli, session, "export collection")
            done = run("export collection", lambda: export_collection_sheet(
                session, actor=actor, village_code=village, month=month, path=out,
                as_of=cli.today))
        typer.echo(f"Wrote {out}: {counted(done.rows, 'loan')} to collect in {village}, {month}")

    @group.command("family")
    def family(
        ctx: typer.Context,
        ref: Annotated[str, typer.Argument(help="The family's ref.")],
        out: Annotated[Path, Opt("--out", help="The .xlsx file to write.")],
        as_of: Annotated[str | None, Opt("--as-of", help="YYYY-MM-DD (default today).")] = None,
    ) -> None:
        """A printable statement of one family's loans, installments and payments."""
        from exports.printables import export_family_statement

        cli = get_cli(ctx)
        day = _day("--as-of", as_of, cli.today)
        with ledger_session(cli, "export family", reading=True) as session:
            actor = acting_actor(cli, session, "export family")
            done = run("export family", lambda: export_family_statement(
                session, actor=actor, family_ref=ref, path=out, as_of=day))
        typer.echo(f"Wrote {out}: statement of {ref} as of {day} ({counted(done.rows, 'row')})")


def _bundle(group: typer.Typer) -> None:
    @group.command("bundle")
    def bundle(
        ctx: typer.Context,
        out: Annotated[Path, Opt("--out", help="A new or empty folder to write into.")],
    ) -> None:
        """The whole ledger as import files, one per kind in import order, and a manifest:
        `fsf import bundle DIR` brings it into another (e.g. the national) ledger."""
        from exports.bundle import export_bundle

        cli = get_cli(ctx)
        with ledger_session(cli, "export bundle", reading=True) as session:
            actor = acting_actor(cli, session, "export bundle")
            try:
                done = run("export bundle", lambda: export_bundle(
                    session, actor=actor, out=out, today=cli.today))
            except ValueError as exc:
                fail("export bundle", CliError("--out", str(exc)))
        rows = sum(n for _, _, n in done.steps)
        typer.echo(f"Wrote {out}: {len(done.steps)} files, {rows:,} rows, and manifest.json")
        for kind, name, n in done.steps:
            typer.echo(f"  {name}: {n:,} {kind}")
        if done.left_out:
            typer.echo(f"Left out ({len(done.left_out)}, listed in manifest.json):")
            for item in done.left_out[:20]:
                typer.echo(f"  {item['kind']} {item['ref']}: {item['why']}")


def _day(option: str, text: str | None, today: date) -> date:
    if text is None:
        return today
    try:
        return iso_date(option, text)
    except CliError as exc:
        fail("export", exc)
