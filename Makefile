# Two commands do all the set-up on a fresh machine:
#   make demo   installs dxrx in .venv and prints the work-up of the worked example
#   make test   installs dxrx with its development tools and runs lint, types, KB lint and tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check install lint typecheck kblint pytest bench speed clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dxrx analyze examples/seed-case.json

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

kblint: $(STAMP)
	$(BIN)/dxrx kb lint

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck kblint pytest

bench: $(STAMP)
	$(BIN)/dxrx bench tests/data/dev.jsonl

speed: $(STAMP)
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
