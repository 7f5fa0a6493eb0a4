# The two commands of the README: `make run` and `make test`. Each installs what it needs.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run test stop status lint bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

## Start Kafka, PostgreSQL and the three services (detached), load the administrative
## units and the demo data of the published cases; print where to look.
run: $(VENV)/.installed
	$(PY) -m shared.devstack up --services
	$(VENV)/bin/ketnghia demo

## Stop what `make run` started (data is kept under .local/stack).
stop: $(VENV)/.installed
	$(PY) -m shared.devstack down

status: $(VENV)/.installed
	$(PY) -m shared.devstack status

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## Lint, types, then every test against a real Kafka broker and PostgreSQL server.
test: lint
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m bench.outbox_relay
	$(PY) -m bench.registry_queries
	$(PY) -m bench.activities_throughput
	$(PY) -m bench.reporting_projection
	$(PY) -m bench.report_latency
