# The two commands of the README: `make run` and `make test`. Everything else is a step.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
STAMP := $(VENV)/.synced

.PHONY: run test lint typecheck pytest install assets locales clean bench

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

-include mk/node.mk

$(STAMP): pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet $(UV_SYNC_GROUPS)
	@touch $(STAMP)

install: $(STAMP)

-include mk/assets.mk

run: install assets locales
	$(VENV)/bin/m3crm run

lint: install
	$(VENV)/bin/ruff check src tests scripts migrations bench
	$(VENV)/bin/ruff format --check src tests scripts bench
	$(VENV)/bin/python scripts/check_tenant_scope.py

typecheck: install
	$(VENV)/bin/mypy

pytest: install assets locales
	$(VENV)/bin/pytest

test: lint typecheck pytest

BENCHES := kernel floor notify identity search shell

# Every benchmark an issue names; each prints its numbers (docs/PERFORMANCE.md keeps them).
bench: install assets locales
	@for b in $(BENCHES); do echo "== bench/$$b.py"; $(VENV)/bin/python bench/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) $(TOOLS) var
