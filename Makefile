# Two commands matter: `make run` and `make test`. Both set everything up from a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench bench-national bench-smoke clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

DEMO_DB := .demo/ledger.sqlite

# Opens the app on the demo ledger, building it on first run (about 40 s).
run: $(STAMP)
	test -f $(DEMO_DB) || $(BIN)/fsf --db $(DEMO_DB) demo
	$(BIN)/fsf --db $(DEMO_DB) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check ledger tui imports exports tests bench

typecheck: $(STAMP)
	$(BIN)/mypy ledger

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 $(PYTEST_ARGS)

test: lint typecheck pytest

# The suite at 10,000 loans on SQLite and PostgreSQL; writes bench/RESULTS.md.
# Options: make bench BENCH_ARGS="--runs 5 --only spreadsheets,app" (see bench/README.md).
bench: $(STAMP)
	$(BIN)/python -m bench --loans 10000 --db both --out bench/RESULTS.md $(BENCH_ARGS)

# The national-scale ledger (1,000,000 loans, about an hour) is built once into
# NATIONAL_LEDGER, then the suite runs on a copy of it.
NATIONAL_LEDGER ?= .bench/national.sqlite
NATIONAL_LOANS ?= 1000000
# The auditor workbook is timed for one province's loans (Svay Rieng), as auditors export it.
NATIONAL_EXPORT_PLACE ?= 20
bench-national: $(STAMP)
	test -f $(NATIONAL_LEDGER) || $(BIN)/python -m bench --loans $(NATIONAL_LOANS) \
		--generate-only $(NATIONAL_LEDGER)
	$(BIN)/python -m bench --ledger $(NATIONAL_LEDGER) --out bench/RESULTS-national.md \
		--export-place $(NATIONAL_EXPORT_PLACE) $(BENCH_ARGS)

# A tiny run of every benchmark (no timing asserted; any benchmark's error fails it);
# `make test` runs it too.
bench-smoke: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_bench_smoke.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
