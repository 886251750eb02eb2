"""FSF Ledger: tui."""
