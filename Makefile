# PinCEX Perf Lab: the two commands are `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BOOK   := $(VENV)/.book-built

.PHONY: demo test check lint typecheck sysdeps venv clean

demo: venv sysdeps
	$(BIN)/pincex demo

test: venv sysdeps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: venv sysdeps lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy common pincex exchange_ref collectors planning dashboard

venv: $(STAMP) $(BOOK)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found; install Python 3.11" >&2; exit 1; }
	@test -x $(BIN)/python || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# The order book compiled with mypyc; optional: without it the same code runs as Python.
$(BOOK): $(STAMP) exchange_ref/engine/_book_core.py exchange_ref/engine/_book_build.py
	$(BIN)/python -m exchange_ref.engine._book_build || echo "make: order book not compiled; using the pure-Python book" >&2
	@touch $(BOOK)

# System packages the tests start for real: PostgreSQL (initdb, pg_ctl), Prometheus (promtool),
# Chromium (browser tests, PDF charts) and poppler-utils (pdftotext).
sysdeps:
	@scripts/sysdeps.sh

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
