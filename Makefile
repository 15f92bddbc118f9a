# Every target creates or reuses .venv itself: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=
# The editable install of a flat layout makes setuptools print a page of advice we follow.
PIP := PYTHONWARNINGS=ignore $(BIN)/pip

.PHONY: run test demo lint bench eval clean

# `make` alone runs the bot, like `make run`.
run:

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "briefbot needs Python 3.11 or newer; set PYTHON=python3.11 (or newer) and run make again")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	@touch $@

$(BIN)/.dev-installed: $(BIN)/.installed
	$(PIP) install --quiet -e '.[dev]'
	@touch $@

run: $(BIN)/.installed
	$(BIN)/briefbot run $(ARGS)

demo: $(BIN)/.installed
	$(BIN)/briefbot demo $(ARGS)

test: $(BIN)/.dev-installed
	$(BIN)/python -m pytest

lint: $(BIN)/.dev-installed
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(BIN)/.dev-installed
	$(BIN)/python bench/replay_bench.py
	$(BIN)/python bench/parse_bench.py
	$(BIN)/python bench/answer_bench.py

eval: $(BIN)/.dev-installed
	$(BIN)/python bench/eval.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
