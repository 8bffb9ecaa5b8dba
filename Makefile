# 台账 Taizhang — the two set-up commands (demo, test) and the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UV := var/tools/bin/uv
PY := $(VENV)/bin/python
MANAGE := $(PY) -m taizhang.manage
export DJANGO_SETTINGS_MODULE ?= taizhang.config.settings.local

.PHONY: demo test env lint typecheck contracts migrations-check e2e serve clean

$(UV):
	$(PYTHON) -m venv var/tools
	var/tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.5,<1"

ECHARTS := src/taizhang/dashboards/static/dashboards/vendor/echarts.min.js

# Create or update the environment from the committed lock files (Python: uv.lock; browser assets: package-lock.json).
env: $(UV) $(ECHARTS)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --python $(PYTHON) --quiet

# ECharts for the dashboards, from npm (no CDN; not committed): installed from the lock file, copied where
# Django's static files finder serves it.
$(ECHARTS): package.json package-lock.json
	npm ci --omit=dev --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $@)
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE $(dir $@)

demo: env
	$(MANAGE) migrate --no-input
	$(MANAGE) collectstatic --no-input --verbosity 0
	$(MANAGE) demo
	$(MANAGE) serve

serve: env
	$(MANAGE) serve

# The whole suite: unit and architecture tests in parallel, then the browser tests (Debian's Chromium;
# skipped with a notice where it is not installed, required in CI).
test: env
	DJANGO_SETTINGS_MODULE=taizhang.config.settings.test $(PY) -m pytest -q -n 2 -m "not e2e"
	DJANGO_SETTINGS_MODULE=taizhang.config.settings.test $(PY) -m pytest -q -m e2e -p no:xdist -rs

e2e: env
	DJANGO_SETTINGS_MODULE=taizhang.config.settings.test $(PY) -m pytest -q -m e2e -p no:xdist

lint: env
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: env
	DJANGO_SETTINGS_MODULE=taizhang.config.settings.test $(VENV)/bin/mypy src

contracts: env
	$(VENV)/bin/lint-imports

# Benchmarks (bench/): the transfer engine against its baselines, measured in the same run on SQLite and on
# PostgreSQL (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres; BENCH_ROWS, default 200000).
# Prints a table and writes var/bench/results.json. Not part of `make test`.
bench: env
	DJANGO_SETTINGS_MODULE=taizhang.config.settings.local $(PY) -m bench

migrations-check: env
	DJANGO_SETTINGS_MODULE=taizhang.config.settings.test $(MANAGE) makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var/tools var/static node_modules $(ECHARTS) $(dir $(ECHARTS))LICENSE
