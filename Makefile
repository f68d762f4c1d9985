# Dossier — `make run` and `make test` work on a machine with only Python 3.11+ and make:
# they install a pinned uv into .tools/ and the locked dependencies into .venv/.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help install run test test-postgres lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced ## Create .venv with the locked dependencies

run: $(VENV)/.synced ## Apply migrations and serve the API on DOSSIER_HOST:DOSSIER_PORT
	$(VENV)/bin/dossier migrate
	exec $(VENV)/bin/dossier serve

test: $(VENV)/.synced ## Run the whole test suite (PostgreSQL/Redis too when DOSSIER_TEST_* are set)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.synced ## The suite against the local PostgreSQL and Redis
	DOSSIER_TEST_DATABASE_URL=$${DOSSIER_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
	DOSSIER_TEST_REDIS_URL=$${DOSSIER_TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.synced ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check src tests migrations bench deploy
	$(VENV)/bin/ruff format --check src tests migrations bench deploy
	$(VENV)/bin/mypy

format: $(VENV)/.synced ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix src tests migrations bench deploy
	$(VENV)/bin/ruff format src tests migrations bench deploy

bench: $(VENV)/.synced ## Run the benchmarks, or BENCH="jobs" (writes docs/performance.md)
	$(VENV)/bin/python -m bench.run $(BENCH)

clean: ## Remove the virtualenvs and caches (keeps var/ data)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
