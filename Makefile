# Two commands on a fresh machine: `make run` (set up + offline pipeline) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install duckdb1 run run-live test test-fast lint lint-fix bench bench-national snapshots derive dev clean

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# DuckDB 1.x in its own virtualenv, to open the published file as a 1.x client would.
DUCKDB1_VENV ?= .venv-duckdb1
$(DUCKDB1_VENV)/.installed: requirements-duckdb1.txt
	$(PYTHON) -m venv $(DUCKDB1_VENV)
	$(DUCKDB1_VENV)/bin/pip install --quiet -r requirements-duckdb1.txt
	touch $@

duckdb1: $(DUCKDB1_VENV)/.installed

run: install
	$(BIN)/styringsdata run

run-live: install
	$(BIN)/styringsdata run --live

# The test files run on every core (pytest-xdist): a file's tests stay together in one worker, so a module's shared
# run is made once; the order they are handed out in is decided in tests/conftest.py.
PYTEST_PARALLEL ?= -n auto --dist loadfile --no-loadscope-reorder
test: install duckdb1 lint
	$(BIN)/pytest -q $(PYTEST_PARALLEL)

# Unit and model tests, no whole pipeline run (the `full_run` tier is decided in tests/conftest.py).
test-fast: install
	$(BIN)/pytest -q $(PYTEST_PARALLEL) -m "not full_run"

# ruff for Python, sqlfluff (dbt templater, DuckDB dialect) for the dbt models and tests; rules in pyproject.toml
# and .sqlfluff. sqlfluff compiles the dbt project against an empty in-memory database (profiles.yml target `lint`).
SQL_PATHS := dbt_project/models dbt_project/tests
# sqlfluff skips, with only a warning, a model dbt cannot compile: a skipped file fails the lint here.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy  # the package, configured in pyproject.toml [tool.mypy]
	@out=$$($(BIN)/sqlfluff lint $(SQL_PATHS) 2>&1); status=$$?; echo "$$out"; \
	if echo "$$out" | grep -q "Skipped file"; then echo "lint: sqlfluff skipped a file it could not compile (above)"; exit 1; fi; \
	exit $$status

# The mechanical fixes, then what is left; the marts' missing contract types from the built work file, if any.
lint-fix: install
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix $(SQL_PATHS)
	if [ -f data/work.duckdb ]; then $(BIN)/python -m tools.mart_contract_types --write; fi
	$(MAKE) lint

# All benchmarks (print tables, assert nothing). The national ones generate data/bench/national first;
# the whole target takes about 12 minutes on 2 cores. `make bench-national` runs only those.
bench: install
	$(BIN)/python -m bench.bench_jsonstat
	$(BIN)/python -m bench.bench_noop
	$(MAKE) bench-national

bench-national: install
	$(BIN)/python -m bench.bench_requests
	$(BIN)/python -m bench.bench_loaders
	$(BIN)/python -m bench.bench_pipeline --keep
	$(BIN)/python -m bench.bench_overhead
	$(BIN)/python -m bench.bench_postgres

# After editing src/styringsdata/sources/ssb_tables.yaml: re-record the bundled answers and write every derived file.
snapshots: install
	$(BIN)/python -m snapshots.build

# Only the files derived from src/styringsdata/sources/ssb_tables.yaml (seeds, dbt sources, catalogue), without re-recording.
derive: install
	$(BIN)/python -m tools.derive

dev: install
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/dagster_home} $(BIN)/dagster dev -h 127.0.0.1 -w workspace.yaml

clean:
	rm -rf data dbt_project/target dbt_project/logs
