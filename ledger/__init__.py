"""FSF Ledger's domain and storage. Imports no UI or spreadsheet library (see ARCHITECTURE.md)."""
