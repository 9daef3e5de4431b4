# Gridline: the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
PYTEST_ARGS ?=

.PHONY: run test lint soak install bench bench-ingest bench-latency bench-classify bench-learn bench-intake clean

$(STAMP): setup.cfg pyproject.toml
	@test -n "$(PYTHON)" || { echo "Gridline needs Python 3.11 or newer (python3.11 not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# Virtualenv, install, migrate, demo data, then web + worker + scheduler on the embedded default.
run: install
	$(BIN)/gridline rules check
	$(BIN)/gridline db upgrade
	$(BIN)/gridline demo
	$(BIN)/gridline dev

# The whole suite. GRIDLINE_TEST_DATABASE_URL / GRIDLINE_TEST_REDIS_URL select PostgreSQL and
# Redis; without them the suite runs on SQLite and an embedded Redis.
test: install lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff (bug-finding rules, whole tree) and mypy (the typed core); settings in pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Two web servers, three workers and two schedulers on one machine under load while workers are
# killed and restarted; needs PostgreSQL and a TCP Redis (the variables above), PgBouncer if installed.
soak: install
	$(BIN)/python -m pytest -m soak $(PYTEST_ARGS)

bench: bench-classify bench-learn bench-ingest bench-latency bench-intake

bench-classify: install
	$(BIN)/python bench/classify.py

bench-learn: install
	$(BIN)/python bench/learn_vs_svm.py
	$(BIN)/python bench/learn_vs_svm.py --scale 5000

bench-ingest: install
	$(BIN)/python bench/ingest.py

bench-latency: install
	$(BIN)/python bench/latency.py

bench-intake: install
	$(BIN)/python bench/intake_cpu.py

clean:
	rm -rf $(VENV) instance .pytest_cache *.egg-info
