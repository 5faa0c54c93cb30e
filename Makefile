# The two commands a newcomer needs: `make demo` and `make test`. Only python3 is required.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# The extras `make install` installs (pyproject.toml): dev is the tests' tools and Spark; CI
# installs test first and Spark beside its other preparing (.ci/run).
EXTRAS ?= dev
# The demo's log channel writes every message here, so the portal's one-time codes can be read.
DEMO_MESSAGES ?= $(CURDIR)/var/demo-messages.jsonl

.PHONY: install demo serve test test-quick lint format audit clean

# The venv's packages are installed by uv (pinned below, itself installed by the venv's pip):
# it downloads and unpacks in parallel, 7 s against pip's 27 s for the `test` extra on a new
# machine. Like `pip --no-compile` it leaves bytecode to first use (pip compiled every module
# one file at a time, two thirds of them never imported); CI's first collection of the suite
# compiles what it imports (.ci/run).
UV_VERSION := 0.13.8
UV := $(BIN)/uv
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(BIN)/python -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

## Set up, seed the demo portfolio, compute today's state and serve the web app.
demo: $(STAMP)
	$(BIN)/arrears migrate --no-input
	ARREARS_CHANNEL_LOG=$(DEMO_MESSAGES) $(BIN)/arrears demo
	ARREARS_CHANNEL_LOG=$(DEMO_MESSAGES) $(BIN)/arrears runserver $(HOST):$(PORT)

serve: $(STAMP)
	ARREARS_CHANNEL_LOG=$(DEMO_MESSAGES) $(BIN)/arrears runserver $(HOST):$(PORT)

## Set up and run the whole suite (lint first: a style error fails like a test).
test: $(STAMP)
	bash scripts/ensure-browser
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

## The suite without the tests marked slow (child processes, Spark, browsers): a quick loop
## while working; `make test` (and CI) still run everything.
test-quick: $(STAMP)
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

## Known vulnerabilities in the pinned dependencies (pip-audit; .pip-audit-ignore lists the
## accepted ones with a reason). Missing vulnerability data is reported, not failed on
## (ARREARS_AUDIT_STRICT=1 fails then too): scripts/audit_deps.py.
audit: $(STAMP)
	$(BIN)/python scripts/audit_deps.py

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis .mypy_cache .ruff_cache
