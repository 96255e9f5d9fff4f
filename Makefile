# The README's two commands: `make demo` and `make test`. Both build the virtualenv first.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test mutants lint typecheck contracts bench clean card system

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# pyscard (the card extra) builds against the PC/SC headers: installed whenever the system has
# them, whenever the virtualenv was made, so `make demo` before the system packages is harmless
card: $(STAMP)
	@if ! $(BIN)/python -c 'import smartcard' 2>/dev/null; then \
	  if [ -e /usr/include/PCSC/winscard.h ] && command -v swig >/dev/null; then \
	    $(BIN)/pip install --quiet -e '.[card]'; \
	  else echo "note: no PC/SC headers or swig: the card extra (pyscard) is not installed"; fi; fi

# the Debian packages the tests use (installs them as root, else prints the sudo command)
system:
	sh scripts/system-packages.sh

demo: card
	$(BIN)/tohyo demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

# `make test` brings up what its tests use (scripts/test-services.sh): pcscd with vpcd, a
# throwaway PostgreSQL unless TOHYO_TEST_PG_DSN names one, axe-core for the browser scans.
# The PC/SC tests share one xdist group (--dist loadgroup), so no two take the reader at once.
test: system card lint typecheck contracts
	services="$$(PYTHON=$(BIN)/python sh scripts/test-services.sh)" && eval "$$services" && \
	  $(BIN)/python -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

# Disable each check of each verifier in turn (scripts/mutate_verifiers.py); fails if the tests
# let one through. MUTANT_ARGS="--paths mixnet/shuffle" runs a subset.
mutants: $(STAMP)
	$(BIN)/python scripts/mutate_verifiers.py $(MUTANT_ARGS)

bench: $(STAMP)
	$(BIN)/tohyo bench mixnet

clean:
	rm -rf $(VENV) demo-output test-output .pytest_cache .mypy_cache .ruff_cache .hypothesis
