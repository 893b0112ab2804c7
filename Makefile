# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates or reuses .venv and installs the project with what it needs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test bench lint format browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(INSTALLED)

## demo: migrate a local SQLite database, load the demo base, start the bot and the sandbox web chat
demo: $(INSTALLED)
	$(BIN)/crmbot demo

## test: the whole suite (SQLite, PostgreSQL when reachable, end-to-end, browser)
test: $(INSTALLED) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy services ui scheduler webapp
	$(BIN)/python -m pytest -rs

## browser: Debian's Chromium for the web chat test (needs root and apt; skipped otherwise)
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser test..."; \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || \
		 (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); \
	else echo "note: /usr/bin/chromium missing and cannot be installed here; the browser test will be skipped"; fi

## bench: speed and memory figures (see benchmarks/README.md)
bench: $(INSTALLED)
	$(BIN)/python -m benchmarks

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
