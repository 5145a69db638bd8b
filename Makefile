# The commands a newcomer needs: `make serve` and `make test`; and the contributor's loop,
# `make check`. Each sets up .venv first, from the versions in requirements.lock.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
# uv installs in seconds what pip takes half a minute for; pip only bootstraps it.
UV_VERSION := 0.13.9
INSTALL := $(BIN)/uv pip install --quiet --python $(BIN)/python --constraint requirements.lock

.PHONY: serve test check lock

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)

# What `serve` needs, and nothing of the tests' tools.
$(VENV)/.runtime: pyproject.toml requirements.lock | $(BIN)/uv
	$(INSTALL) -e .
	touch $@

$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/uv
	$(INSTALL) -e ".[dev]"
	touch $@

serve: $(VENV)/.runtime
	$(BIN)/ten99-server serve --port $(PORT)

# Everything, the environments side by side (two at a time); tox prints each one's time at the
# end. The npm tools are installed first, once, for the environments that share them.
test: $(VENV)/.installed
	$(BIN)/python -m spec.node
	$(BIN)/tox run-parallel --parallel auto --parallel-no-spinner

# Lint, the spec's checks, the type check and the unit tests: a minute at most.
check: $(VENV)/.installed
	$(BIN)/tox run -e check

# requirements.lock again, from pyproject.toml, keeping every version it pins that still fits.
lock: | $(BIN)/uv
	grep -v '^#' requirements.lock > requirements.lock.new
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal \
		--no-header --annotation-style line --output-file requirements.lock.new
	{ grep '^#' requirements.lock; cat requirements.lock.new; } > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock
	rm requirements.lock.new
