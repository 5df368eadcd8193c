# make run  : create the virtual environment if needed and start the bot
# make test : create the virtual environment if needed, lint, type-check and run the tests
# make demo : the bot against a local Bot API emulator with a web chat page (no token)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The demo needs only the bot (aiohttp, its web page's server, is the bot's own transport), not
# the dev tools: a fresh clone's first `make demo` installs that much and no more. The dev install covers it too.
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: run demo screenshots report-samples test test-fast lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,demo]'
	touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $(DEMO_STAMP)

run: $(STAMP)
	$(BIN)/python -m bot

demo: $(DEMO_STAMP)
	$(BIN)/python -m bot demo

# Re-take the demo screenshots in docs/ (needs chromium and fonts-noto-color-emoji; README.md,
# "Run it, test it").
screenshots: $(STAMP)
	DEMO_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/browser/test_demo_browser.py

# Re-make the sample report page and /plan picture in docs/ from the scripted titration of
# tests/chat/test_report.py (needs pdftoppm, from poppler-utils, to draw the PDF page).
report-samples: $(STAMP)
	REPORT_SAMPLES=docs $(BIN)/python -m pytest -q -p no:cacheprovider tests/chat/test_report.py \
		-k "holds_every_step or plan_picture or russian_report_reads"
	pdftoppm -png -r 90 -f 1 -l 1 -singlefile docs/report-sample.pdf docs/report-page
	pdftoppm -png -r 90 -f 1 -l 1 -singlefile docs/report-sample-ru.pdf docs/report-page-ru

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Tests run on every core (pytest-xdist): none depends on another's timing or files.
WORKERS ?= auto

test: lint typecheck
	$(BIN)/python -m pytest -q -n $(WORKERS)

# The fast lane for local work: no lint, no process or browser tests, none of the tests that
# take real seconds by design (the `slow` marker in pyproject.toml), stop at the first failure.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -n $(WORKERS) -m "(unit or chat) and not process and not slow"

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
