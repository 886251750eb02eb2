"""FSF Ledger: exports."""
