# The two commands of the contract: `make run` and `make test`. Each does all set-up.
VENV    := .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
MATCHER := $(VENV)/bin/matcher
STAMP   := .make

.PHONY: run test test-prep setup install model catalogs catalogs-update database run-prod browser clean

run: setup database
	$(VENV)/bin/flask --app wsgi run --host 127.0.0.1 --port 5000

# PYTEST_ARGS: extra pytest options (CI lists the slowest tests).
test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

setup: install model catalogs

install: $(STAMP)/installed

$(STAMP)/installed: pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch first, pinned: an unpinned torch would pull a multi-GB CUDA build.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev]'
	mkdir -p $(STAMP) && touch $@

model: install
	$(MATCHER) model build

# What the tests would otherwise compute in every run, computed once (kept in .make/): the language
# offsets of the float32 and int8 models, and the vectors of the quality slice.
test-prep: setup
	$(PY) -m tests.language_offsets
	$(PY) -m tests.quality_vectors

catalogs: install
	$(VENV)/bin/pybabel compile -d translations --statistics

# Extract new messages, merge them into every catalog and compile (then translate and commit the .po files).
catalogs-update: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output --width 120 --project "ESS Partner Matcher" .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete --width 120
	$(VENV)/bin/pybabel compile -d translations --statistics

# Debian's chromium for the end-to-end browser test (Playwright never downloads a browser here).
browser:
	test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)

database: install
	$(MATCHER) db upgrade
	$(MATCHER) examples load --if-empty
	$(MATCHER) index check --repair

# One thread per worker: torch and FAISS otherwise start one per core in every worker (6x slower under load).
# The int8 embedding backend (about 2x faster per query; quality within 0.01, docs/quality.md): set for
# the database step too, so that stored vectors are re-embedded by the same backend.
run-prod: export MATCHER_EMBED_BACKEND ?= onnx-int8
run-prod: setup database
	OMP_NUM_THREADS=1 $(VENV)/bin/gunicorn --bind 127.0.0.1:5000 --workers 2 wsgi:app

clean:
	rm -rf $(VENV) $(STAMP) instance
