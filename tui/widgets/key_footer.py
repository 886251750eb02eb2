"""The footer: the current screen's keys on one line, drawn as text by a single widget.

Textual's `Footer` mounts a widget per key and rebuilds them all whenever the screen's
bindings may have changed (focus moved, an area shown again), which made switching areas
slow. This one looks the same (the same theme colours, grouped keys, the command palette
key docked right) but only redraws its line, and only when the keys shown changed. A click
on a key presses it; the mouse wheel scrolls a line wider than the terminal; hovering a key
highlights it and shows its tooltip.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen

__all__ = ["KeyFooter"]

_PALETTE_BORDER = "▏"


@dataclass(frozen=True, slots=True)
class _Part:
    """A run of the line: its text, component class, and the key it presses if any."""

    text: str
    component: str
    key: str = ""
    enabled: bool = True
    tooltip: str = ""
    item: int = -1  # which key this run belongs to (hover highlights the whole key)


class KeyFooter(Widget, can_focus=False):
    """The keys of the current screen, as Textual's `Footer` shows them."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-footer--key", "key-footer--description", "key-footer--label",
        "key-footer--gap", "key-footer--border", "key-footer--hover",
    }
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom; height: 1; width: 1fr;
        color: $footer-foreground; background: $footer-background;
    }
    KeyFooter > .key-footer--key {
        color: $footer-key-foreground; background: $footer-key-background; text-style: bold;
    }
    KeyFooter > .key-footer--description {
        color: $footer-description-foreground; background: $footer-description-background;
    }
    KeyFooter > .key-footer--label {
        color: $footer-description-foreground; background: $footer-description-background;
    }
    KeyFooter > .key-footer--border { color: $foreground 20%; }
    KeyFooter > .key-footer--hover { background: $block-hover-background; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._parts: tuple[_Part, ...] = ()
        self._palette: tuple[_Part, ...] = ()
        self._offset = 0  # columns scrolled off on the left (a line wider than the screen)
        self._hover = -1

    # --- what is shown -------------------------------------------------------------------

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        parts, palette = self._layout()
        if (parts, palette) != (self._parts, self._palette):
            self._parts, self._palette = parts, palette
            self.refresh()

    @property
    def keys_shown(self) -> list[str]:
        """The keys on the line, in order (the command palette's last)."""
        return [p.key for p in (*self._parts, *self._palette) if p.key and p.component
                == "key-footer--key"]

    def _layout(self) -> tuple[tuple[_Part, ...], tuple[_Part, ...]]:
        """The line's runs, grouped and ordered as Textual's `Footer` composes its keys."""
        active = self.screen.active_bindings
        by_action: defaultdict[str, list[tuple[str, str, str, bool, str, object]]]
        by_action = defaultdict(list)
        for _node, binding, enabled, tooltip in active.values():
            if binding.show:
                by_action[binding.action].append(
                    (binding.key, self.app.get_key_display(binding), binding.description,
                     enabled, tooltip, binding.group))
        parts: list[_Part] = []
        item = 0
        for group, members in groupby(by_action.values(), lambda m: m[0][5]):
            many = list(members)
            if group is not None and len(many) > 1:
                compact = getattr(group, "compact", False)
                parts.append(_Part(" " if compact else "", "key-footer--gap"))
                for m in many:
                    key, shown, desc, enabled, tooltip, _ = m[0]
                    text = shown if compact else f" {shown} "
                    parts.append(_Part(text, "key-footer--key", key, enabled,
                                       tooltip or desc, item))
                    item += 1
                parts.append(_Part(" ", "key-footer--gap"))
                parts.append(_Part(f"{getattr(group, 'description', '')} ",
                                   "key-footer--label"))
                continue
            for m in many:
                key, shown, desc, enabled, tooltip, _ = m[0]
                if desc:
                    parts.append(_Part(f" {shown} ", "key-footer--key", key, enabled, tooltip,
                                       item))
                    parts.append(_Part(f"{desc} ", "key-footer--description", key, enabled,
                                       tooltip, item))
                else:
                    parts.append(_Part(shown, "key-footer--key", key, enabled, tooltip, item))
                item += 1
        palette: list[_Part] = []
        if self.app.ENABLE_COMMAND_PALETTE and self.app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, tooltip = active[self.app.COMMAND_PALETTE_BINDING]
            tip = binding.tooltip or binding.description
            palette = [_Part(_PALETTE_BORDER, "key-footer--border"),
                       _Part(self.app.get_key_display(binding), "key-footer--key", binding.key,
                             enabled, tip, item),
                       _Part(f" {binding.description} ", "key-footer--description",
                             binding.key, enabled, tip, item)]
        return tuple(parts), tuple(palette)

    # --- drawing -------------------------------------------------------------------------

    def _style(self, part: _Part) -> Style:
        style = self.get_component_rich_style(part.component)
        if part.item >= 0 and part.item == self._hover:
            style += self.get_component_rich_style("key-footer--hover", partial=True)
        if not part.enabled:
            style += Style(dim=True)
        return style

    def render(self) -> Text:
        width = self.size.width
        right = Text.assemble(*((p.text, self._style(p)) for p in self._palette))
        room = max(width - right.cell_len, 0)
        left = Text.assemble(*((p.text, self._style(p)) for p in self._parts))
        self._offset = max(0, min(self._offset, left.cell_len - room))
        if self._offset:
            left = left[self._offset:]
        left.truncate(room, pad=True)
        return Text.assemble(left, right, no_wrap=True, end="")

    # --- the mouse -----------------------------------------------------------------------

    def _part_at(self, x: int) -> _Part | None:
        room = self.size.width - sum(cell_len(p.text) for p in self._palette)
        if x >= room:
            at, runs = room, self._palette
        else:
            at, runs = -self._offset, self._parts
        for part in runs:
            if at <= x < at + cell_len(part.text):
                return part if part.key else None
            at += cell_len(part.text)
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        part = self._part_at(event.x)
        hover = part.item if part is not None else -1
        if hover != self._hover:
            self._hover = hover
            self.tooltip = part.tooltip or None if part is not None else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover != -1:
            self._hover = -1
            self.tooltip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        part = self._part_at(event.x)
        if part is None:
            return
        if part.enabled:
            self.app.simulate_key(part.key)
        else:
            self.app.bell()

    def _scroll_by(self, step: int) -> None:
        self._offset = max(0, self._offset + step)
        self.refresh()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._scroll_by(4)
        event.stop()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._scroll_by(-4)
        event.stop()
