"""The app's stylesheet parses each source once per theme (`tui.stylesheet.ParsedOnce`): the
rules it keeps are the ones a fresh parse gives, a refresh that changes nothing parses nothing,
a new source is parsed alone, a theme change parses everything again, and a bad source leaves
the rules as they were. On the real app: the first visit of an area parses nothing already
parsed, light and dark still differ, and the heap is frozen before the first area is drawn."""

from __future__ import annotations

import gc
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import pytest
import textual.css.stylesheet as textual_stylesheet
from textual.css.stylesheet import Stylesheet, StylesheetParseError

from tests.test_tui_world import app_on, settle, small_ledger, sync
from tui.app import FsfApp
from tui.screens.loans import LoansScreen
from tui.stylesheet import ParsedOnce

DARK = {"primary": "#004578", "panel": "#202020"}
LIGHT = {"primary": "#0178D4", "panel": "#f0f0f0"}
APP_CSS = "Screen { background: $panel; }\n.title { color: $primary; }"
WIDGET_CSS = "Label { margin: 1; color: $primary 50%; }"


@contextmanager
def parses() -> Iterator[list[str]]:
    """The sources Textual's parser is given while inside (their CSS text)."""
    seen: list[str] = []
    real = textual_stylesheet.parse

    def counted(scope: str, css: str, *args: object, **kwargs: object) -> object:
        seen.append(css)
        return real(scope, css, *args, **kwargs)  # type: ignore[arg-type]

    with patch.object(textual_stylesheet, "parse", counted):
        yield seen


def sheet(variables: dict[str, str]) -> ParsedOnce:
    made = ParsedOnce(variables=variables)
    made.add_source(APP_CSS, read_from=("app.tcss", ""))
    made.add_source(WIDGET_CSS, read_from=("label.py", "Label.DEFAULT_CSS"), is_default_css=True)
    made.parse()
    return made


def rules(of: Stylesheet) -> list[tuple[object, ...]]:
    """A stylesheet's rules, comparable: selectors, origin and every declared value (as text:
    some values, layouts, compare by identity)."""
    return [(r.selectors, r.is_default_rules, r.tie_breaker,
             sorted((name, repr(value)) for name, value in r.styles.get_rules().items()))
            for r in of.rules]


def fresh(of: Stylesheet) -> list[tuple[object, ...]]:
    """The rules Textual's own stylesheet makes of the same sources and variables."""
    plain = Stylesheet(variables=dict(of._variables))
    for read_from, (css, defaults, tie_breaker, scope) in of.source.items():
        plain.add_source(css, read_from=read_from, is_default_css=defaults,
                         tie_breaker=tie_breaker, scope=scope)
    plain.parse()
    return rules(plain)


def test_a_refresh_that_changes_nothing_parses_nothing_and_keeps_the_same_rules() -> None:
    styles = sheet(DARK)
    before = rules(styles)
    with parses() as seen:
        styles.set_variables(dict(DARK))  # an equal dict, as App.get_css_variables gives
        styles.reparse()
    assert seen == []
    assert rules(styles) == before == fresh(styles)
    assert "#004578" in styles.css


def test_a_new_source_is_parsed_alone() -> None:
    styles = sheet(DARK)
    extra = "Button { color: $panel; }"
    styles.add_source(extra, read_from=("button.py", "Button.DEFAULT_CSS"), is_default_css=True)
    with parses() as seen:
        styles.reparse()
    assert seen == [extra]
    assert rules(styles) == fresh(styles)
    assert "Button" in styles.css


def test_a_theme_change_parses_every_source_with_the_new_variables() -> None:
    styles = sheet(DARK)
    with parses() as seen:
        styles.set_variables(dict(LIGHT))
        styles.reparse()
    assert sorted(seen) == sorted([APP_CSS, WIDGET_CSS])
    assert "#0178D4".lower() in styles.css.lower() and "#004578" not in styles.css
    assert rules(styles) == fresh(styles)
    with parses() as seen:  # and back: the dark rules are parsed again, right
        styles.set_variables(dict(DARK))
        styles.reparse()
    assert len(seen) == 2 and rules(styles) == fresh(styles) and "#004578" in styles.css


def test_a_bad_source_is_refused_and_the_rules_stay_as_they_were() -> None:
    styles = sheet(DARK)
    before = rules(styles)
    styles.add_source("Label { colour: nope; }", read_from=("bad.tcss", ""))
    with pytest.raises(StylesheetParseError):
        styles.reparse()
    assert rules(styles) == before


@sync
async def test_the_first_visit_of_an_area_parses_no_source_twice(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert isinstance(app.stylesheet, ParsedOnce)
            with parses() as seen:
                for key in "393":  # Loans, Journal, Loans again
                    await pilot.press(key)
                    await settle(pilot)
            assert isinstance(app.screen, LoansScreen)
            assert len(seen) == len(set(seen))  # the Loans and Journal areas' widgets, once
            assert rules(app.stylesheet) == fresh(app.stylesheet)


@sync
async def test_light_and_dark_still_differ(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            dark = app.screen.styles.background
            await pilot.press("ctrl+t")
            await settle(pilot)
            light = app.screen.styles.background
            assert app.theme == "textual-light" and light != dark
            assert rules(app.stylesheet) == fresh(app.stylesheet)
            await pilot.press("ctrl+t")
            await settle(pilot)
            assert app.screen.styles.background == dark


class _NoArea(FsfApp):
    """Opens no area (as the loans-list benchmark runs the app)."""

    # Textual finds CSS_PATH beside the file of the class that sets it.
    CSS_PATH = str(Path(inspect.getfile(FsfApp)).with_name(str(FsfApp.CSS_PATH)))

    def _start(self) -> None:
        pass


@sync
async def test_the_heap_is_frozen_before_the_first_area_is_drawn(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = _NoArea(app_on(engine).ledger)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert not isinstance(app.screen, LoansScreen)
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() == 0
