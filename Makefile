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

# Create or update the environment from the committed lock file.
env: $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --python $(PYTHON) --quiet

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
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

typecheck: env
	DJANGO_SETTINGS_MODULE=taizhang.config.settings.test $(VENV)/bin/mypy src

contracts: env
	$(VENV)/bin/lint-imports

migrations-check: env
	DJANGO_SETTINGS_MODULE=taizhang.config.settings.test $(MANAGE) makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var/tools var/static
