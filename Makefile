# The README's two commands: `make demo` and `make test`. Both build the virtualenv first.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test mutants lint typecheck contracts bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel
	$(BIN)/pip install --quiet -e '.[test]'
	if [ -e /usr/include/PCSC/winscard.h ] && command -v swig >/dev/null; then \
	  $(BIN)/pip install --quiet -e '.[card]'; fi
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tohyo demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check mixnet

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

test: lint typecheck contracts
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

# Disable each check of each verifier in turn (scripts/mutate_verifiers.py); fails if the tests
# let one through. MUTANT_ARGS="--paths mixnet/shuffle" runs a subset.
mutants: $(STAMP)
	$(BIN)/python scripts/mutate_verifiers.py $(MUTANT_ARGS)

bench: $(STAMP)
	$(BIN)/tohyo bench mixnet

clean:
	rm -rf $(VENV) demo-output test-output .pytest_cache .mypy_cache .ruff_cache .hypothesis
