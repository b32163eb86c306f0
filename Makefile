# Frontline: `make run` serves the app with demo data, `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_READY := $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)"

.PHONY: run test lint typecheck test-sqlite test-postgresql browser-deps postgres clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.deps

# The demo tells the FY20-21 story as of the Q2 review (January 2021);
# `make run DEMO_TODAY=` runs on the real date instead.
DEMO_TODAY ?= 2021-01-15

# `make run PORT=5055 HOST=0.0.0.0`: 5000 is taken by AirPlay on macOS.
PORT ?= 5000
HOST ?= 127.0.0.1

# The "Serving on" line is printed once the server answers its health check, not before.
run: $(VENV)/.deps
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo --if-empty
	@FRONTLINE_TODAY=$(DEMO_TODAY) $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT) & pid=$$!; \
	trap 'kill $$pid 2>/dev/null' INT TERM EXIT; \
	if $(BIN)/python scripts/wait_for_server.py "$(HOST)" "$(PORT)" $$pid; then \
		echo "Serving Frontline on http://$(HOST):$(PORT) (Ctrl-C to stop)"; \
	fi; \
	wait $$pid

# Chromium for the browser tests, from Debian's packages when we may install them.
browser-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/pdftoppm ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing chromium and poppler-utils for the browser and PDF tests..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver poppler-utils >/dev/null) || \
		echo "!!! could not install chromium: browser tests will be skipped (they fail under CI)"; \
	else \
		echo "!!! chromium is missing and cannot be installed here: browser tests will be skipped"; \
	fi

# Under CI the PostgreSQL leg is mandatory: start the server when it is down.
postgres:
	@if ! $(PG_READY) 2>/dev/null && [ -n "$$CI" ]; then \
		echo "Starting PostgreSQL..."; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in 1 2 3 4 5 6 7 8 9 10; do $(PG_READY) 2>/dev/null && break; sleep 1; done; \
	fi

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Strict on app/domain, the default elsewhere (pyproject.toml); 0 errors to pass.
typecheck: $(VENV)/.dev-deps
	$(BIN)/mypy

test-sqlite: $(VENV)/.dev-deps
	@echo "=== test suite on SQLite ==="
	TEST_DB=sqlite $(BIN)/pytest -q

test-postgresql: $(VENV)/.dev-deps postgres
	@if $(PG_READY) 2>/dev/null; then \
		echo "=== test suite on PostgreSQL ==="; \
		TEST_DB=postgresql $(BIN)/pytest -q; \
	elif [ -n "$$CI" ]; then \
		echo "PostgreSQL is required under CI and is not reachable on 127.0.0.1:5432"; exit 1; \
	else \
		echo "!!! PostgreSQL is not reachable on 127.0.0.1:5432: SKIPPING the PostgreSQL leg"; \
	fi

# The two engines' legs run side by side; each prints its report when it ends.
test: $(VENV)/.dev-deps browser-deps lint typecheck
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgresql

clean:
	rm -rf $(VENV)
