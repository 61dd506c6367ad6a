# Disputes: developer and operator entry points. Needs only Python >= 3.11 and make.
#   make run     serve the API on http://$(HOST):$(PORT) (SQLite in ./var/ unless DISPUTES_DATABASE_URL)
#   make test    run the whole suite (PostgreSQL tests: see README.md)

PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
# Test processes: most tests wait on a database, a server or a child process, so a few more than
# the cores keep them busy (TEST_WORKERS=0 runs in this process, e.g. for pdb).
TEST_WORKERS ?= 3

BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv migrate run test test-quick lint imports clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

venv: $(STAMP) ## create .venv and install the project with its dev tools and the tracing extra

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python >= 3.11 is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml is newer than the stamp (or the venv was just created).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev,otel]'
	touch $(STAMP)

migrate: venv ## apply the database migrations
	mkdir -p var
	$(BIN)/disputes migrate

run: venv ## migrate, then serve the API
	mkdir -p var
	$(BIN)/disputes migrate
	$(BIN)/disputes serve --host $(HOST) --port $(PORT)

test: imports ## check the import contracts, then run the test suite (PYTEST_ARGS="-k ..." to narrow it)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

test-quick: venv ## the tests that need no PostgreSQL and no server or process of their own
	$(BIN)/python -m pytest -m "not slow and not postgres" $(PYTEST_ARGS)

imports: venv ## the dependency rule: the import contracts in pyproject.toml
	$(BIN)/lint-imports

lint: imports ## ruff, mypy and the import contracts
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean: ## remove caches and build output (keeps .venv and var/)
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -print \
		| xargs rm -rf

distclean: clean ## clean, and remove .venv too (never var/)
	rm -rf $(VENV)
