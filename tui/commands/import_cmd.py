"""`fsf import KIND FILE`: spreadsheets into the ledger, validated first, all or nothing;
`fsf import template KIND --out FILE.xlsx` writes an empty template; `fsf import bundle DIR`
imports a folder `fsf export bundle` wrote, every step in one transaction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import sqlalchemy as sa
import typer

from ledger.db import resolve_url
from tui.commands.context import acting_actor, get_cli, ledger_session, run
from tui.commands.errors import EXIT_BAD_INPUT, CliError, fail

if TYPE_CHECKING:
    from imports import ImportPreview, ImportResult, Problem
    from imports.bundle import BundleResult, StepOutcome

Opt = typer.Option
Arg = typer.Argument
# Problems printed in text mode before "... and N more" (all are in the feedback workbook).
SHOWN_PROBLEMS = 50


def _template(ctx: typer.Context, kind: str, out: Path | None) -> None:
    from imports import KINDS
    from imports.template import write_template

    if kind not in KINDS:
        fail("import template", CliError("KIND", f"{kind!r} is not one of: {', '.join(KINDS)}"))
    if out is None:
        fail("import template", CliError("--out", "say where to write it: --out FILE.xlsx"))
    cli = get_cli(ctx)
    url = sa.make_url(resolve_url(cli.db))
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        write_template(kind, out)  # no ledger yet: the template without its drop-down lists
    else:
        with ledger_session(cli, "import template", reading=True) as session:
            write_template(kind, out, session=session)
    typer.echo(f"Wrote the {kind} template to {out}")


def _bundle(ctx: typer.Context, folder: Path, dry_run: bool, as_json: bool) -> None:
    """`fsf import bundle DIR`: every step of the bundle in one transaction."""
    from imports.bundle import import_bundle
    from imports.feedback import write_feedback

    cli = get_cli(ctx)
    with ledger_session(cli, "import bundle") as session:
        actor = acting_actor(cli, session, "import bundle")

        def step(n: int, total: int, kind: str) -> None:
            if not as_json:
                typer.echo(f"  step {n}/{total}: {kind}", err=True)

        result = run("import bundle", lambda: import_bundle(
            folder, session=session, actor=actor, today=cli.today, dry_run=dry_run,
            progress=step))
    failed = next((s for s in result.steps if s.problems), None)
    feedback = None
    if failed is not None and failed.outcome is not None:
        feedback = folder / f"{Path(failed.file).stem}.feedback.xlsx"
        try:
            write_feedback(failed.outcome, feedback)
        except OSError as exc:
            typer.echo(f"Could not write the feedback workbook {feedback}: {exc}", err=True)
            feedback = None
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        _print_bundle(result, failed, feedback)
    if not result.valid:
        raise SystemExit(EXIT_BAD_INPUT)


def _print_bundle(result: BundleResult, failed: StepOutcome | None,
                  feedback: Path | None) -> None:
    for line in result.setup:
        typer.echo(f"Setup: {line}")
    for s in result.steps:
        typer.echo(f"{s.step:>3}. {s.file}: {s.rows:,} {s.kind}, {s.created:,} new, "
                   f"{s.unchanged:,} already in the ledger"
                   + (f", {len(s.problems):,} problem(s)" if s.problems else ""))
    problems = list(result.problems) + list(failed.problems if failed else ())
    if problems:
        where = f" in {failed.file}" if failed else ""
        typer.echo(f"{len(problems)} problem(s){where}; nothing was imported (the bundle is "
                   "one transaction).")
        for p in problems[:SHOWN_PROBLEMS]:
            typer.echo(f"  {p}" + (f" [{p.value}]" if p.value else ""))
        if len(problems) > SHOWN_PROBLEMS:
            typer.echo(f"  ... and {len(problems) - SHOWN_PROBLEMS:,} more")
    elif result.dry_run:
        typer.echo(f"Valid: {result.created:,} new rows would be imported, {result.unchanged:,} "
                   "are already in the ledger (dry run: nothing written).")
    elif result.created == 0:
        typer.echo(f"All {result.unchanged:,} rows are already in the ledger exactly as in the "
                   "bundle; nothing to import.")
    else:
        typer.echo(f"Imported {result.created:,} new rows in one transaction; "
                   f"{result.unchanged:,} were already in the ledger. Run `fsf verify` next.")
    if feedback is not None:
        typer.echo(f"Feedback workbook: {feedback}")


def register(app: typer.Typer) -> None:
    """Attach `fsf import` to the command line."""

    @app.command("import")
    def import_(
        ctx: typer.Context,
        kind: Annotated[str, Arg(help="An import kind (families, loans, repayments, …), "
                                 "`template` or `bundle`.")],
        file: Annotated[str, Arg(help="The .xlsx or .csv file (after `template`, the kind; "
                                 "after `bundle`, the folder).")],
        dry_run: Annotated[bool, Opt("--dry-run", help="Validate only; write nothing.")] = False,
        as_json: Annotated[bool, Opt("--json", help="Print one JSON object.")] = False,
        feedback: Annotated[Path | None, Opt(
            help="Write the annotated workbook here (default: FILE.feedback.xlsx when "
                 "there are problems).")] = None,
        out: Annotated[Path | None, Opt(help="Where `import template` writes.")] = None,
    ) -> None:
        """Import a spreadsheet: every problem is reported with its row and column, and only a
        file without problems is committed, in one transaction."""
        from imports import KINDS, commit, validate
        from imports.feedback import default_feedback_path, write_feedback

        if kind == "template":
            _template(ctx, file, out)
            return
        if kind == "bundle":
            _bundle(ctx, Path(file), dry_run, as_json)
            return
        if kind not in KINDS:
            fail("import", CliError("KIND", f"{kind!r} is not one of: {', '.join(KINDS)}, "
                                    "template, bundle"))
        cli = get_cli(ctx)
        path = Path(file)
        with ledger_session(cli, "import") as session:
            actor = acting_actor(cli, session)
            preview = run("import", lambda: validate(kind, path, session=session, actor=actor,
                                                     today=cli.today))
            outcome: ImportPreview | ImportResult = preview
            result = None
            if preview.valid and not dry_run:
                result = run("import", lambda: commit(preview, session=session, actor=actor))
                outcome = result
        problems = result.problems if result is not None else preview.problems
        target = feedback or (default_feedback_path(path) if problems else None)
        if target is not None:
            try:
                write_feedback(outcome, target)
            except OSError as exc:
                typer.echo(f"Could not write the feedback workbook {target}: {exc}", err=True)
                target = None
        if as_json:
            doc = result.as_json() if result is not None else preview.as_json()
            typer.echo(json.dumps(doc, ensure_ascii=False))
        else:
            _print(kind, path, preview, result, problems, target, dry_run)
        if problems:
            raise SystemExit(EXIT_BAD_INPUT)


def _print(kind: str, path: Path, preview: ImportPreview, result: ImportResult | None,
           problems: tuple[Problem, ...], target: Path | None, dry_run: bool) -> None:
    rows = len(preview.rows)
    if problems:
        typer.echo(f"{path.name}: {len(problems):,} problem(s) in {rows:,} {kind} row(s); nothing "
                   "was imported.")
        for p in problems[:SHOWN_PROBLEMS]:
            typer.echo(f"  {p}" + (f" [{p.value}]" if p.value else ""))
        if len(problems) > SHOWN_PROBLEMS:
            typer.echo(f"  ... and {len(problems) - SHOWN_PROBLEMS:,} more")
    elif result is not None and result.committed:
        typer.echo(f"{path.name}: imported {result.created:,} new {kind}; {result.unchanged:,} "
                   "already in the ledger unchanged.")
    elif preview.created == 0:
        typer.echo(f"{path.name}: all {preview.unchanged:,} {kind} are already in the ledger "
                   "exactly as in the file; nothing to import.")
    elif dry_run:
        typer.echo(f"{path.name}: valid. {preview.created:,} new {kind} would be imported, "
                   f"{preview.unchanged:,} are already in the ledger (dry run: nothing written).")
    if target is not None:
        typer.echo(f"Feedback workbook: {target}")
