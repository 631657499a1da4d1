# Convive — the two commands are `make demo` and `make test` (see README.md).

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SYSTEM_PACKAGES := gdal-bin libsqlite3-mod-spatialite chromium gettext python3-venv libpango-1.0-0 libpangoft2-1.0-0
PYTEST_ARGS ?=
export DJANGO_SETTINGS_MODULE ?= cms.settings.dev
ifdef DATABASE_URL
export DATABASE_URL
endif

.PHONY: demo test system-deps venv messages node-tools lint format lock serve clean bench-data

demo: export WAGTAILADMIN_BASE_URL ?= http://$(HOST):$(PORT)

## demo: install what is missing, build the demo data and serve it on http://127.0.0.1:8000
demo: system-deps venv messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

## test: the whole suite (SpatiaLite by default; make test DATABASE_URL=postgis://… for PostGIS)
test: system-deps venv messages node-tools
	DJANGO_SETTINGS_MODULE=cms.settings.test $(PY) -m pytest $(PYTEST_ARGS)

## system-deps: Debian/Ubuntu packages (installed when root or sudo is available)
system-deps:
	@.ci/system-deps $(SYSTEM_PACKAGES)

## venv: a virtualenv from a Python whose sqlite3 can load SpatiaLite, with the locked packages
venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@set -e; \
	if [ ! -x "$(PY)" ] || ! $(PY) .ci/can-load-extensions.py 2>/dev/null; then \
	  rm -rf "$(VENV)"; \
	  base=$$(.ci/pick-python); \
	  echo "Creating $(VENV) with $$base"; \
	  "$$base" -m venv "$(VENV)"; \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	@touch $@

## node-tools: axe-core for the accessibility tests, pinned in package-lock.json (never served)
node-tools: node_modules/axe-core/axe.min.js

node_modules/axe-core/axe.min.js: package.json package-lock.json
	@command -v npm >/dev/null || .ci/system-deps nodejs npm
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

## messages: compile the gettext catalogues in locale/
messages: venv
	@cd locale && ../$(PY) ../manage.py compilemessages --ignore=.venv -v 0

lint: venv
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) manage.py makemigrations --check --dry-run

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## lock: refreeze requirements.lock from pyproject.toml's pins
lock:
	rm -rf /tmp/convive-lock && $$(.ci/pick-python) -m venv /tmp/convive-lock
	/tmp/convive-lock/bin/pip install --quiet --upgrade pip
	/tmp/convive-lock/bin/pip install --quiet ".[dev]"
	{ echo "# Frozen transitive set for Convive (Python 3.11). Regenerate with: make lock"; \
	  /tmp/convive-lock/bin/pip freeze --exclude convive; } > requirements.lock

## bench-data: a PostGIS database with 1,000,000 concerns for the benchmarks in bench/
BENCH_DATABASE_URL ?= postgis://postgres@127.0.0.1:5432/convive_bench
bench-data: venv
	$(PY) bench/generate_concerns.py --count 1000000 --database-url $(BENCH_DATABASE_URL)

serve: venv
	$(PY) manage.py runserver $(HOST):$(PORT)

clean:
	rm -rf $(VENV) var convive.sqlite3 node_modules
