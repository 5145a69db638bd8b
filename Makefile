# The two commands a newcomer needs: `make serve` and `make test`. Both set up .venv first, from
# the versions in requirements.lock.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --constraint requirements.lock

.PHONY: serve test lock

$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# What `serve` needs, and nothing of the tests' tools.
$(VENV)/.runtime: pyproject.toml requirements.lock | $(BIN)/pip
	$(PIP) -e .
	touch $@

$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/pip
	$(PIP) -e ".[dev]"
	touch $@

serve: $(VENV)/.runtime
	$(BIN)/ten99-server serve --port $(PORT)

test: $(VENV)/.installed
	$(BIN)/tox

# requirements.lock again, from pyproject.toml (uv, fetched for the purpose, resolves it).
lock: | $(BIN)/pip
	$(BIN)/pip install --quiet uv==0.13.9
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal \
		--no-header --annotation-style line --output-file requirements.lock.new
	{ sed -n '1,3p' requirements.lock; cat requirements.lock.new; } > requirements.lock
	rm requirements.lock.new
