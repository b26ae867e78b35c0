# The two README commands: `make demo` (install + run the default record raid) and
# `make test` (install + lint + the whole test suite). CI runs `make test` (.ci/run).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-test system-deps lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python system-deps
	$(BIN)/pip install -q -e '.[test]'

# Debian packages and npm assets the tests need (browser tests, live map).
system-deps:
	@./scripts/system-deps.sh

demo: install
	$(BIN)/airwarn run --out runs/default

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install-test lint
	$(BIN)/python -m pytest
