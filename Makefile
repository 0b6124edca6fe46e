# Casework: the two commands a newcomer needs are `make run` and `make test`.
# Both create the virtualenv, install pinned dependencies, build the front-end assets from npm,
# and then either serve the app on SQLite with fictional demo data, or run the whole suite.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
ASSETS := casework/static/dist/build-info.json
ASSET_SOURCES := $(shell find assets -type f 2>/dev/null) scripts/build-assets.mjs package-lock.json
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
PORT ?= 5000

.PHONY: run test setup assets lint format clean

run: setup
	$(BIN)/casework db upgrade
	$(BIN)/casework demo-data --if-empty
	$(BIN)/casework serve --host $(HOST) --port $(PORT)

# PYTEST_ARGS: extra pytest options, e.g. PYTEST_ARGS="-n 2" (parallel; SQLite only: on
# PostgreSQL the workers would share one database).
test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

setup: $(STAMP) $(ASSETS)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Casework needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) {console.error("Casework needs Node 20.19 or newer"); process.exit(1)}'
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(ASSETS): $(NODE_STAMP) $(ASSET_SOURCES)
	npm run build

assets: $(NODE_STAMP)
	npm run build

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules casework/static/dist
