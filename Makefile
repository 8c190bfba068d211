PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install test test-slow demo bench lint clean

$(BIN)/colorize: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e .[dev]
	touch $(BIN)/colorize

install: $(BIN)/colorize

test: install
	$(BIN)/python -m pytest -q

test-slow: install
	$(BIN)/python -m pytest -q --run-slow

bench: install
	$(BIN)/python benchmarks/bench_pipeline.py

lint: install
	$(BIN)/python -m compileall -q colorize tests examples benchmarks

clean:
	rm -rf build dist *.egg-info .pytest_cache
