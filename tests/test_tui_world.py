"""Helpers for the terminal app's pilot tests: a small real ledger and a way to wait for the
app's thread workers. (No tests here.)"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, ParamSpec

import sqlalchemy as sa
from sqlmodel import Session
from textual.pilot import Pilot
from textual.screen import ModalScreen

from ledger.actor import Actor, Role
from ledger.db import make_engine
from tests.support.world import World, build_world
from tui.app import FsfApp, make_app

P = ParamSpec("P")
TODAY = date(2009, 6, 30)
OFFICER = Actor("officer", frozenset({Role.OFFICER, Role.APPROVER, Role.ADMINISTRATOR}))


@contextmanager
def small_ledger(url: str, families: int = 3) -> Iterator[tuple[sa.Engine, World]]:
    """A migrated ledger at `url` with the test world in it (fund, capital, product,
    families)."""
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session, families=families)
        session.commit()
    try:
        yield engine, world
    finally:
        engine.dispose()


def app_on(engine: sa.Engine, actor: Actor | None = OFFICER) -> FsfApp:
    """The app on `engine` as of the test world's today."""
    return make_app(engine=engine, today=TODAY, actor=actor, name="Test ledger")


async def settle(pilot: Pilot[None], rounds: int = 2) -> None:
    """Let workers finish (those not started yet too) and their messages be handled. A
    worker waiting on a dialog is left waiting: every wait in the app is on a `ModalScreen`,
    so an async worker unfinished while none is shown is working (saving, say, once its
    dialog closed), and is waited for."""
    for _ in range(rounds):
        await pilot.pause()
        busy = [w for w in pilot.app.workers
                if not w.is_finished and getattr(w, "_thread_worker", False)]
        if busy:
            await asyncio.wait_for(pilot.app.workers.wait_for_complete(busy), 30)
        await until(pilot, lambda: isinstance(pilot.app.screen, ModalScreen) or not any(
            not w.is_finished and not getattr(w, "_thread_worker", False)
            for w in pilot.app.workers))
        await pilot.pause()


async def until(pilot: Pilot[None], ready: Callable[[], bool], seconds: float = 30) -> None:
    """Pause until `ready()` holds: what an async worker does once its dialog closes runs as
    a task, not a message, so `settle` may return before it; fails after `seconds`, with what
    the screen shows then (a failure dialog, say)."""
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() >= deadline:
            app = pilot.app
            shown = screen_text(app) if isinstance(app, FsfApp) else ""
            raise AssertionError(f"still not ready after {seconds} s on "
                                 f"{type(app.screen).__name__}; the screen shows:\n{shown}")
        await pilot.pause(0.02)


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Type `text` key by key, as a person would."""
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


def scalar(engine: sa.Engine, sql: str, **params: object) -> object:
    """One value from the ledger, read afresh."""
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def sync(fn: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an async test body with asyncio (no async pytest plugin is needed)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


def screen_text(app: FsfApp) -> str:
    """What the screen shows now, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
