# poolpilot: two commands on a fresh machine.
#   make demo   set up .venv, compare the seed designs, write results/demo/report.html
#   make test   set up .venv with dev extras (and Debian's chromium for report tests), run the suite

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

# The first Python >= 3.12 found: on PATH, then pyenv's versions (Mesa 3.5 needs 3.12+;
# on 3.11 pip silently picks an older Mesa).
PYTHON312 := $(shell for c in python3.12 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3 2>/dev/null | sort -rV) \
	python3.13 python3 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[3-9]*/bin/python3 2>/dev/null | sort -rV); do \
	  if $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
	    command -v $$c 2>/dev/null || echo $$c; break; fi; done)

.PHONY: demo test lint format validate benchmark baseline chromium clean

$(VENV)/.created:
	@if [ -z "$(PYTHON312)" ]; then \
	  echo "error: poolpilot needs Python 3.12 or newer (Mesa 3.5); none found on PATH or in pyenv." >&2; \
	  echo "       install one (e.g. 'pyenv install 3.12') and run make again." >&2; exit 1; fi
	@echo "creating $(VENV) with $(PYTHON312)"
	$(PYTHON312) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	@touch $@

$(VENV)/.installed: $(VENV)/.created pyproject.toml
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.created pyproject.toml
	$(PIP) install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

# Report tests run in Debian's chromium (Playwright cannot download a browser here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the report tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; fi

demo: $(VENV)/.installed
	$(VENV)/bin/poolpilot list
	$(VENV)/bin/poolpilot validate scenarios/[!_]*.yaml
	$(VENV)/bin/poolpilot compare $$($(VENV)/bin/poolpilot list --names) --replicates 20 --months 36 --out results/demo --overwrite --quiet
	@echo "report: results/demo/report.html"

test: $(VENV)/.installed-dev chromium
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check --quiet src tests benchmarks
	$(VENV)/bin/python -m pytest

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

# docs/validation.md: the claims table with measured effects, generated, never typed
validate: $(VENV)/.installed-dev
	$(VENV)/bin/python -m poolpilot.analysis.claims --out docs/validation.md

baseline: $(VENV)/.installed-dev
	$(VENV)/bin/python tests/baseline.py --refresh

benchmark: $(VENV)/.installed-dev
	$(VENV)/bin/python benchmarks/bench_model.py

clean:
	rm -rf $(VENV) results/demo
	find src -name '*.nb[ic]' -delete  # numba's compiled caches
