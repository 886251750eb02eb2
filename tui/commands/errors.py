"""How the command line reports a refusal: one line on stderr naming what was wrong, exit 2."""

from __future__ import annotations

import sys
from typing import NoReturn

EXIT_BAD_INPUT = 2
EXIT_FAILED_CHECK = 1


class CliError(Exception):
    """A bad option or value; `field` names the option the user must fix."""

    def __init__(self, field: str, reason: str, status: int = EXIT_BAD_INPUT) -> None:
        self.field = field
        self.reason = reason
        self.status = status
        super().__init__(f"{field}: {reason}")


def fail(command: str, error: CliError) -> NoReturn:
    """Print the error as one line and leave with its status."""
    print(f"fsf {command}: {error.field}: {error.reason}", file=sys.stderr)
    raise SystemExit(error.status)
