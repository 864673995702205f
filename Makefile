# safecity: make demo | make test | make bench | make lint
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export RAY_USAGE_STATS_ENABLED=0

.PHONY: install demo test test-unit lint typecheck bench fuzz clean help

help:
	@echo "make demo   install, then run the control room on the bundled Guro data and sample videos (+ a virtual PTZ)"
	@echo "make test   lint, mypy --strict and the whole test suite (starts PostgreSQL and mosquitto)"
	@echo "make bench  benchmarks; JSON results in bench/results/"
	@echo "make lint   ruff + mypy + deptry (declared = imported dependencies) only"
	@echo "make fuzz   long schemathesis run of the whole console API (FUZZ_EXAMPLES=400 cases per operation and mode)"

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==25.3
	$(PY) -m pip install -q -c constraints.txt -e ".[all,dev,scale]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) scripts/virtual_ptz/demo.py -- $(BIN)/safecity demo  # + a virtual PTZ on patrol, stopped with it

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/deptry src
	$(BIN)/deptry tests bench --exclude '(^|/)\.venv/' --ignore DEP002,DEP004

typecheck: lint

test: install lint
	scripts/test-services.sh $(PY) -m pytest -q tests

test-unit: install
	$(PY) -m pytest -q tests/unit

bench: install
	mkdir -p bench/results
	$(PY) bench/run.py --out bench/results

FUZZ_EXAMPLES ?= 400
fuzz: install
	SAFECITY_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -s -p no:cacheprovider --timeout 3600 tests/integration/test_api_fuzz.py

clean:
	rm -rf var bench/results .pytest_cache .mypy_cache .ruff_cache
