# The two commands of the README: `make run` and `make test`. Each installs what it needs.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
CHROMIUM := /usr/bin/chromium
WRK      := /usr/bin/wrk
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test stop status lint bench drill

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

## Debian's Chromium (and fonts with Vietnamese letters) for the web app's browser tests;
## Playwright drives it, it downloads no browser of its own.
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core

## Lint, types, then every test against a real Kafka broker and PostgreSQL server, and
## the web app in a real headless Chromium.
test: lint $(CHROMIUM)
	$(PY) -m pytest

## wrk, the load generator of bench.http_recording (Debian's package).
$(WRK):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk

bench: $(VENV)/.installed $(WRK)
	$(PY) -m bench.outbox_relay
	$(PY) -m bench.http_recording
	$(PY) -m bench.registry_queries
	$(PY) -m bench.activities_throughput
	$(PY) -m bench.reporting_projection
	$(PY) -m bench.report_latency
	$(PY) -m bench.web_pages

## Fault drills: the broker stopped, a service killed, two replicas; prints a table.
drill: $(VENV)/.installed
	$(PY) -m shared.devstack up
	$(PY) -m bench.drills broker
	$(PY) -m bench.drills postgres
	$(PY) -m bench.drills kill replicas
