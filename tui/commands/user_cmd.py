"""`fsf user add|passwd|disable|roles|list`: who may use the ledger (administrators).

New passwords come from FSF_NEW_PASSWORD or are asked twice; the acting administrator signs in
as every command does (--user, FSF_PASSWORD or a prompt).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ledger.actor import Role
from ledger.users import (
    add_user,
    change_password,
    create_first_admin,
    disable_user,
    has_users,
    list_users,
    set_roles,
)
from tui.commands.auth import read_new_password
from tui.commands.context import acting_actor, echo_demo_banner, get_cli, ledger_session, run
from tui.commands.errors import CliError, fail

Opt = typer.Option
Arg = typer.Argument


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def register(app: typer.Typer) -> None:
    """Attach `fsf user …`."""
    user_app = typer.Typer(help="Users, their roles and passwords (administrators).",
                           no_args_is_help=True)
    app.add_typer(user_app, name="user")

    @user_app.command("add")
    def add(
        ctx: typer.Context,
        name: Annotated[str, Arg(help="The new user's sign-in name.")],
        role: Annotated[list[str], Opt("--role", help="administrator, officer, approver, "
                                       "treasurer or auditor (repeat or comma-separate).")],
        villages: Annotated[str | None, Opt(help="Village codes a treasurer sees, "
                                            "comma-separated.")] = None,
        display_name: Annotated[str, Opt(help="The person's full name.")] = "",
    ) -> None:
        """Add a user with one or more roles. On a ledger with no users yet, the first one
        must be an administrator and needs no sign-in."""
        cli = get_cli(ctx)
        roles = _split(role)
        codes = _split([villages]) if villages else None
        with ledger_session(cli, "user add") as session:
            if not has_users(session) and not cli.user:
                session.rollback()
                if Role.ADMINISTRATOR.value not in roles or len(roles) != 1:
                    fail("user add", CliError("--role", "this ledger has no users yet: the "
                                              "first must be an administrator alone"))
                password = read_new_password("user add", name)
                run("user add", lambda: create_first_admin(
                    session, name=name, password=password, display_name=display_name))
            else:
                actor = acting_actor(cli, session, "user add")
                password = read_new_password("user add", name)
                run("user add", lambda: add_user(
                    session, actor=actor, name=name, roles=roles, password=password,
                    villages=codes, display_name=display_name))
            echo_demo_banner(session)
        typer.echo(f"Added {name} ({', '.join(sorted(roles))})")

    @user_app.command("passwd")
    def passwd(
        ctx: typer.Context,
        name: Annotated[str, Arg(help="Whose password to change.")],
    ) -> None:
        """Set a new password (administrators for anyone, each user for herself)."""
        cli = get_cli(ctx)
        with ledger_session(cli, "user passwd") as session:
            actor = acting_actor(cli, session, "user passwd")
            password = read_new_password("user passwd", name)
            run("user passwd", lambda: change_password(session, actor=actor, name=name,
                                                       password=password))
            echo_demo_banner(session)
        typer.echo(f"Password of {name} changed")

    @user_app.command("disable")
    def disable(
        ctx: typer.Context,
        name: Annotated[str, Arg(help="Who may no longer sign in.")],
        reason: Annotated[str, Opt(help="Why, for the user log.")] = "",
    ) -> None:
        """Stop a user from signing in; their past entries stay theirs."""
        cli = get_cli(ctx)
        with ledger_session(cli, "user disable") as session:
            actor = acting_actor(cli, session, "user disable")
            run("user disable", lambda: disable_user(session, actor=actor, name=name,
                                                     reason=reason))
            echo_demo_banner(session)
        typer.echo(f"Disabled {name}")

    @user_app.command("roles")
    def roles_cmd(
        ctx: typer.Context,
        name: Annotated[str, Arg(help="Whose roles to set.")],
        role: Annotated[list[str], Opt("--role", help="The roles the user will hold.")],
        villages: Annotated[str | None, Opt(help="Village codes, comma-separated.")] = None,
    ) -> None:
        """Replace a user's roles (and villages)."""
        cli = get_cli(ctx)
        codes = _split([villages]) if villages else None
        with ledger_session(cli, "user roles") as session:
            actor = acting_actor(cli, session, "user roles")
            run("user roles", lambda: set_roles(session, actor=actor, name=name,
                                                roles=_split(role), villages=codes))
            echo_demo_banner(session)
        typer.echo(f"Roles of {name}: {', '.join(sorted(_split(role)))}")

    @user_app.command("list")
    def list_cmd(
        ctx: typer.Context,
        as_json: Annotated[bool, Opt("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Every user with roles, villages and whether disabled."""
        cli = get_cli(ctx)
        with ledger_session(cli, "user list", reading=True) as session:
            actor = acting_actor(cli, session, "user list")
            users = run("user list", lambda: list_users(session, actor=actor))
            if as_json:
                typer.echo(json.dumps({"demo": actor.demo, "users": [
                    {"name": u.name, "display_name": u.display_name, "roles": list(u.roles),
                     "villages": list(u.villages) if u.villages is not None else None,
                     "disabled": u.disabled} for u in users]}, ensure_ascii=False))
                return
            echo_demo_banner(session)
        for u in users:
            where = ",".join(u.villages) if u.villages else "all villages"
            state = "  DISABLED" if u.disabled else ""
            typer.echo(f"{u.name:<20} {','.join(u.roles):<30} {where}{state}")

