"""Typed modal dialogs: each only gathers an answer and `dismiss(result)`es it; none touches
the database (the screen that opened it calls the services)."""

from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.entry import EntryDialog, EntryField
from tui.dialogs.error import ErrorDialog

__all__ = ["ConfirmDialog", "EntryDialog", "EntryField", "ErrorDialog"]
