# Two commands on a fresh machine: `make run` (set up + offline pipeline) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run run-live test bench snapshots dev clean

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/styringsdata run

run-live: install
	$(BIN)/styringsdata run --live

test: install
	$(BIN)/pytest -q

bench: install
	$(BIN)/python bench/bench_jsonstat.py

snapshots: install
	$(BIN)/python snapshots/build.py

dev: install
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/dagster_home} $(BIN)/dagster dev -h 127.0.0.1 -w workspace.yaml

clean:
	rm -rf data dbt_project/target dbt_project/logs
