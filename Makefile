# Two commands matter: `make run` and `make test`. Both set everything up from a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench bench-smoke clean

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
bench: $(STAMP)
	$(BIN)/python -m bench --loans 10000 --db both --out bench/RESULTS.md

# A tiny run of every benchmark (no timing asserted); `make test` runs it too.
bench-smoke: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_bench_smoke.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
