"""FSF Ledger: imports."""
