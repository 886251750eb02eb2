"""The command line signs users in and holds them to their roles: `fsf init --admin`, `fsf user
…`, refusals with exit status 3 naming the role needed, a wrong password, the demo ledger that
opens without one and says DEMO, the maker-checker queue and backup/restore."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner, Result

from ledger import users
from ledger.db import make_engine
from ledger.services.setup import set_fact
from tui.cli import build_app

ADMIN_PW, OFFICER_PW = "admin pass 1", "officer pass"


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                         parallelism=1))
    monkeypatch.delenv("FSF_USER", raising=False)
    monkeypatch.delenv("FSF_PASSWORD", raising=False)


def fsf(db: Path, *args: str, user: str | None = None, password: str | None = None,
        new_password: str | None = None) -> Result:
    env = {"FSF_PASSWORD": password, "FSF_NEW_PASSWORD": new_password}
    root = ["--db", str(db)] + (["--user", user] if user else [])
    return CliRunner().invoke(build_app(), [*root, *args],
                              env={k: v for k, v in env.items() if v is not None})


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    db = tmp_path / "ledger.sqlite"
    made = fsf(db, "init", "--admin", "ana", password=ADMIN_PW)
    assert made.exit_code == 0, made.output
    added = fsf(db, "user", "add", "oli", "--role", "officer", user="ana", password=ADMIN_PW,
                new_password=OFFICER_PW)
    assert added.exit_code == 0, added.output
    return db


def test_init_needs_an_admin_and_the_admin_adds_users(ledger: Path, tmp_path: Path) -> None:
    assert fsf(tmp_path / "other.sqlite", "init").exit_code == 2
    listed = fsf(ledger, "user", "list", user="ana", password=ADMIN_PW)
    assert listed.exit_code == 0 and "oli" in listed.output and "officer" in listed.output


def test_forbidden_actions_exit_3_and_name_the_role(ledger: Path) -> None:
    refused = fsf(ledger, "user", "add", "eve", "--role", "administrator", user="oli",
                  password=OFFICER_PW, new_password="whatever1")
    assert refused.exit_code == 3
    assert "needs the administrator role" in refused.output
    limits = fsf(ledger, "approval-limits", "--reversal-after", "1", user="oli",
                 password=OFFICER_PW)
    assert limits.exit_code == 3 and "administrator" in limits.output
    assert fsf(ledger, "user", "disable", "ana", user="oli",
               password=OFFICER_PW).exit_code == 3


def test_a_wrong_password_or_no_user_exits_3(ledger: Path) -> None:
    wrong = fsf(ledger, "verify", user="oli", password="not it at all")
    assert wrong.exit_code == 3 and "wrong user name or password" in wrong.output
    assert fsf(ledger, "verify").exit_code == 3
    disabled = fsf(ledger, "user", "disable", "oli", user="ana", password=ADMIN_PW)
    assert disabled.exit_code == 0
    after = fsf(ledger, "verify", user="oli", password=OFFICER_PW)
    assert after.exit_code == 3 and "disabled" in after.output


def test_only_a_demo_ledger_opens_without_a_password_and_it_says_demo(ledger: Path) -> None:
    ok = fsf(ledger, "verify", user="oli", password=OFFICER_PW)
    assert ok.exit_code == 0 and "DEMO" not in ok.output
    engine = make_engine(f"sqlite:///{ledger}")
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        set_fact(s, "demo", "true")
        s.commit()
    engine.dispose()
    demo = fsf(ledger, "verify")
    assert demo.exit_code == 0 and demo.output.startswith("DEMO")
    assert '"demo": true' in fsf(ledger, "verify", "--json").output


def test_backup_and_restore_on_the_command_line(ledger: Path, tmp_path: Path) -> None:
    taken = fsf(ledger, "backup", "--to", str(tmp_path), user="oli", password=OFFICER_PW)
    assert taken.exit_code == 0, taken.output
    copy = next(tmp_path.glob("fsf-backup-*.sqlite"))
    assert fsf(ledger, "restore", str(copy), user="oli", password=OFFICER_PW).exit_code == 3
    back = fsf(ledger, "restore", str(copy), "--force", user="ana", password=ADMIN_PW)
    assert back.exit_code == 0 and "verified" in back.output
    fresh = fsf(tmp_path / "fresh.sqlite", "restore", str(copy))
    assert fresh.exit_code == 0, fresh.output
    assert fsf(tmp_path / "fresh.sqlite", "verify", user="ana",
               password=ADMIN_PW).exit_code == 0
