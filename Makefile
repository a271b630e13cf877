# Two commands set everything up on a fresh machine: `make migrate` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install migrate test clean

# (Re)install when pyproject.toml changes; the stamp keeps repeated runs fast.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	@# pytest exits 5 when it collected nothing: CI must never pass empty.
	@$(PY) -m pytest; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; \
	  exit $$rc

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
