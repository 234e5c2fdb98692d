# Two commands do all the set-up on a fresh Debian machine with Python 3.11:
#   make up    -> .venv, install, run the whole platform embedded (broker + chdb + worker + API + simulator)
#   make test  -> .venv, install test tools and system test peers (mosquitto, clickhouse-server, chromium), run pytest
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: up test venv sysdeps lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

up: $(STAMP)
	$(BIN)/citybrain up $(ARGS)

# Test peers come from Debian: mosquitto (MQTT adapter), clickhouse-server (server backend plumbing),
# chromium (+driver) for the browser test. Installed only when missing; needs root (CI is root).
sysdeps:
	@bash deploy/scripts/install-test-deps.sh

test: $(STAMP) sysdeps
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check ingest streams brain_api deploy benchmarks tests

bench: $(STAMP)
	$(BIN)/citybrain bench $(ARGS)

clean:
	rm -rf $(VENV) .citybrain .pytest_cache
