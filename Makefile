# The two commands: `make run` serves the demo on the embedded defaults, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 5000

.PHONY: install run test fuzz bench docs screens translations clean

$(STAMP): requirements.txt requirements-dev.txt requirements-face.txt
	@echo "make: installing the requirements into $(VENV) (about a minute the first time; again only when a requirements file changes)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@echo "make: installing requirements-dev.txt (with requirements.txt)"
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@echo "make: installing requirements-face.txt"
	$(BIN)/python -m pip install -q --no-deps -r requirements-face.txt
	touch $(STAMP)
	@echo "make: installed"

install: $(STAMP)

run: install
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo seed
	PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: install
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

# Requests generated from /api/openapi.json against the app in process (SQLite and the
# in-process Redis, demo data seeded): no 5xx, and every answer as the document says.
# FUZZ_EXAMPLES (cases per operation, default 100), FUZZ_SECONDS (time box of the requests,
# 120), FUZZ_SEED (1). Under a minute at the defaults.
fuzz: install
	$(BIN)/python -m pytest -p no:xdist -q fuzz

bench: install
	$(BIN)/python bench/run_all.py

# The generated parts of docs/ (the claims of each credential type, from the catalogue);
# tests/app/test_docs.py fails when they are out of date.
docs: install
	$(BIN)/python tools/claims_table.py

# A screenshot of each page in docs/screens/ (the README shows them): the demo data on the
# embedded defaults, Debian's Chromium (apt-get install chromium fonts-noto-cjk).
screens: install
	$(BIN)/python -m tests.web.screens

# The Chinese catalogue of the pages and problem answers: extract the English message ids
# (web/babel.cfg), merge them into web/translations/*/messages.po, compile the .mo files.
translations: install
	PYTHONPATH=. $(BIN)/pybabel extract -F web/babel.cfg -k _l -k lazy_gettext --no-location --omit-header \
	  --sort-output --width 100 -o web/translations/messages.pot \
	  core identity codes wallet enterprises signatures delegation materials catalog partners \
	  mobile_api web app
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching \
	  --width 100 --ignore-obsolete
	$(BIN)/pybabel compile -d web/translations --statistics

clean:
	rm -rf $(VENV) instance .pytest_cache
