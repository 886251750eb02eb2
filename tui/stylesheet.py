"""A stylesheet that parses each CSS source once per theme.

Textual parses the whole stylesheet again, every widget's default CSS and the theme's
variables included, whenever it refreshes the CSS: on the first visit of each area twice
(`App._init_mode`, then `App.switch_mode`), and on a later visit to an area whose screen missed
a refresh. On a slow laptop that was about 190 ms of the 260 ms between key 3 and the loans
list's first page, for a stylesheet that had not changed. `ParsedOnce` keeps what it parsed
while the variables stay the same: a refresh with nothing new costs a lookup a source, a new
source is parsed alone, and a theme change parses everything again as before.
"""

from __future__ import annotations

from textual.cache import LRUCache
from textual.css.stylesheet import Stylesheet

__all__ = ["ParsedOnce"]

# Sources kept parsed: the app's own files and every widget class's default CSS (about 90),
# with room; Textual's 64 would be emptied by each full pass over more than 64 sources.
_KEPT = 1024


class ParsedOnce(Stylesheet):
    """A `Stylesheet` whose refreshes reuse the rules parsed from unchanged sources."""

    def __init__(self, *, variables: dict[str, str] | None = None) -> None:
        super().__init__(variables=variables)
        self._parse_cache = LRUCache(_KEPT)

    def set_variables(self, variables: dict[str, str]) -> None:
        """Take the theme's variables; the same ones again keep every parsed source."""
        if variables == self._variables:
            return
        super().set_variables(variables)

    def reparse(self) -> None:
        """Parse the sources again (as Textual's `reparse`, into a fresh sheet so an error
        leaves this one as it was), reusing the rules of those parsed with these variables."""
        fresh = ParsedOnce(variables=self._variables)
        fresh._parse_cache = self._parse_cache
        fresh._Stylesheet__variable_tokens = self._variable_tokens  # type: ignore[attr-defined]
        for read_from, (css, is_defaults, tie_breaker, scope) in self.source.items():
            fresh.add_source(css, read_from=read_from, is_default_css=is_defaults,
                             tie_breaker=tie_breaker, scope=scope)
        try:
            fresh.parse()
        except Exception:
            self._invalid_css.update(fresh._invalid_css)
            raise
        self._rules = fresh.rules
        self._rules_map = None
        self.source = fresh.source
        self._require_parse = False
