# Two commands on a fresh Debian/Ubuntu machine: `make run` (the app) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast system-packages install lint clean

run: install
	$(BIN)/ast-studio $(ARGS)

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The unit tests not marked slow: the quick lane while working (under 2 minutes).
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest tests/unit -m "not slow" $(PYTEST_ARGS)

install: system-packages $(STAMP)

system-packages:
	@bash scripts/system-packages.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when the project's requirements change.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache test-artifacts
