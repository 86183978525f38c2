# nnplayground: `make run` serves the playground on http://127.0.0.1:8000; `make test` checks everything.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Installed only when the venv has no torch yet: an existing torch (a CUDA build, say) is kept.
TORCH_SPEC ?= torch==2.13.0
CHROMIUM := /usr/bin/chromium

export PIP_NO_INPUT := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install install-dev run test lint bench clean distclean help

help:
	@echo "make run          install (first time) and serve on http://127.0.0.1:8000"
	@echo "make test         install dev tools and Chromium, then ruff and every test (browser tests too)"
	@echo "make install      create $(VENV) and install the package (torch first, if missing)"
	@echo "make install-dev  install + dev extras + Debian chromium when $(CHROMIUM) is missing"
	@echo "make lint         ruff check"
	@echo "make bench        run the benchmarks in bench/"
	@echo "make clean        remove caches and build leftovers; distclean also removes $(VENV)"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "python3.11 (or python3 >= 3.11) not found" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Stamps make repeated `make run` instant; they live in the venv, so removing it starts over.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@if ! $(BIN)/python -c "import torch" 2>/dev/null; then \
		echo "installing $(TORCH_SPEC)"; \
		$(BIN)/python -m pip install -q "$(TORCH_SPEC)"; \
	fi
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then sudo=""; \
		elif command -v sudo >/dev/null; then sudo="sudo"; \
		else echo "$(CHROMIUM) is missing and neither root nor sudo is available:" \
			"install chromium yourself for the browser tests" >&2; exit 1; fi; \
		if ! command -v apt-get >/dev/null; then \
			echo "$(CHROMIUM) is missing and this is not Debian/Ubuntu (no apt-get):" \
				"install chromium at $(CHROMIUM) for the browser tests" >&2; exit 1; fi; \
		echo "installing Debian chromium for the browser tests"; \
		$$sudo apt-get update; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

run: install
	$(BIN)/nnplayground serve

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

bench: install
	@shopt -s nullglob; files=(bench/*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks in bench/"; exit 0; fi; \
	for f in "$${files[@]}"; do \
		case "$$(basename "$$f")" in _*|conftest.py) continue;; esac; \
		echo "== $$f"; $(BIN)/python "$$f"; \
	done

clean:
	rm -rf .pytest_cache .ruff_cache build dist test-artifacts backend/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
