# kmeans-scratch: `make test` and `make demo` set everything up themselves on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test lint bench demo clean

install: $(STAMP)

# (Re)install when pyproject.toml changes; the stamp records a finished install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check kmeans_scratch tests benchmarks examples
	$(BIN)/ruff format --check kmeans_scratch tests benchmarks examples

# The whole suite, then the benchmark suite once in smoke mode (untimed, small data).
test: lint
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest benchmarks --benchmark-disable -q

# The timed benchmark suite; writes benchmarks/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks --benchmark-columns=min,median,max,rounds -q

demo: $(STAMP)
	$(BIN)/python examples/core_demo.py

# Numba's cache does not notice when a kernel it inlined changed in another file.
clean:
	find kmeans_scratch -name '*.nbi' -delete -o -name '*.nbc' -delete
