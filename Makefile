# lrlab: `make run` serves the app, `make test` runs every test (browser tests included).
#
# Installs into .venv (Python 3.11). torch is installed first and alone: `pip install torch==2.13.0`
# takes the CPU build; anything else could pull a multi-GB CUDA build. Stamp files in .venv record
# what was installed, so a second `make test` skips pip entirely until a requirements file changes.

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := PIP_DISABLE_PIP_VERSION_CHECK=1 $(PY) -m pip
TORCH  := torch==2.13.0

STAMP_APP := $(VENV)/.installed-app
STAMP_DEV := $(VENV)/.installed-dev

PORT ?= 8501
PYTEST_ARGS ?=
# A browser test that fails leaves a screenshot of the page in test-results/.
E2E_ARGS := --screenshot=only-on-failure --output=test-results

.PHONY: run test test-fast e2e lint install install-dev screenshot clean

# MALLOC_ARENA_MAX=2: fewer glibc arenas for the server's many session threads (RSS after 4 min of
# 30 students: 624 MB instead of 726 MB; docs/load-report.md).
run: $(STAMP_APP)
	MALLOC_ARENA_MAX=2 $(PY) -m streamlit run app.py --server.port=$(PORT)

test: $(STAMP_DEV)
	$(PY) -m pytest $(E2E_ARGS) $(PYTEST_ARGS)

# Everything but the browser tests, and only the browser tests.
test-fast: $(STAMP_DEV)
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

e2e: $(STAMP_DEV)
	$(PY) -m pytest tests/e2e $(E2E_ARGS) $(PYTEST_ARGS)

lint: $(STAMP_DEV)
	$(PY) -m ruff check .

screenshot: $(STAMP_DEV)
	$(PY) bench/screenshot.py

install: $(STAMP_APP)
install-dev: $(STAMP_DEV)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP_APP): requirements.txt requirements-nodeps.txt pyproject.toml | $(PY)
	$(PIP) install $(TORCH)
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -r requirements-nodeps.txt
	$(PIP) install -e . --no-deps
	touch $@

$(STAMP_DEV): requirements-dev.txt $(STAMP_APP)
	$(PIP) install -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-results *.egg-info
