# Two commands set everything up on a fresh machine: `make migrate` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install migrate test lint clean chromium services

# (Re)install when pyproject.toml changes; the stamp keeps repeated runs fast. pip's own output (and the
# machine's pip configuration notices) goes to $(INSTALL_LOG); only a failed install shows its tail.
INSTALL_LOG := $(VENV)/install.log
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing teams-migrator and its dependencies into $(VENV) (log: $(INSTALL_LOG))"
	@{ $(PY) -m pip install --upgrade pip && $(PY) -m pip install -e '.[test]'; } >$(INSTALL_LOG) 2>&1 \
	  || { tail -n 30 $(INSTALL_LOG) >&2; echo "install failed: the whole log is $(INSTALL_LOG)" >&2; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

# The main job: the sample Slack export through analyse, transform, load and verify into the embedded
# Graph emulator (or the tenant named by MIGRATOR_* credentials). Re-running resumes; OUT keeps every report.
OUT ?= out
migrate: $(STAMP)
	$(PY) -m migrator migrate sample_data/slack --mappings mappings --out $(OUT) --directory sample_data/directory.json

# The analyse report's browser test needs Debian's chromium; install it when missing and possible.
# Never fatal: without it that test skips and says why.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make test: installing chromium (apt-get) for the report's browser test" >&2; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
	      || echo "make test: chromium could not be installed; the report's browser test will skip" >&2; \
	  else \
	    echo "make test: chromium is missing and apt-get needs root; the report's browser test will skip" >&2; \
	  fi; }

# Style and static checks (ruff, and mypy --strict over migrator/; configured in pyproject.toml); `make test`
# runs them first.
lint: $(STAMP)
	@$(PY) -m ruff check migrator tests bench
	@$(PY) -m ruff format --check --quiet migrator tests bench
	@$(PY) -m mypy

# With CI set, PostgreSQL and Redis (on their standard local ports) must answer first: the tests of large migrations
# skip without them on a laptop, and CI must never pass by skipping them.
services:
	@if [ -n "$$CI" ]; then $(PY) -m tests.services; fi

test: $(STAMP) chromium lint services
	@# pytest exits 5 when it collected nothing: CI must never pass empty.
	@$(PY) -m pytest; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; \
	  exit $$rc

.PHONY: bench bench-full reliability

# Speed and memory against Graph's limits (bench/results.json); the slow sizes only in bench-full.
# Bytecode is compiled first: Python caches it after a first run, unless PYTHONDONTWRITEBYTECODE is set
# (as on CI machines), and then every timed stage would recompile the package before doing any work.
bench: $(STAMP)
	@$(PY) -m compileall -q migrator bench
	$(PY) -m bench.run

bench-full: $(STAMP)
	@$(PY) -m compileall -q migrator bench
	$(PY) -m bench.run --full

# Faults, kill -9, an emulator restart, bad input and secrets; a short version runs in `make test`.
reliability: $(STAMP)
	$(PY) -m bench.reliability

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
