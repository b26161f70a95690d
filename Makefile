# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: setup player demo test lint bench translations clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed translations player ## install everything (system packages, Python packages)
	./scripts/system-packages.sh

player: package-lock.json ## browser assets from the npm registry, served by the tool: hls.js (live player), tus-js-client (uploads)
	npm ci --no-audit --no-fund
	mkdir -p lti_tool/static/vendor
	cp node_modules/hls.js/dist/hls.min.js lti_tool/static/vendor/hls.min.js
	cp node_modules/tus-js-client/dist/tus.min.js lti_tool/static/vendor/tus.min.js

translations: $(VENV)/.installed
	$(BIN)/python scripts/compile_translations.py

demo: setup ## run the demo: development LMS on :5001, tool on :5000
	$(BIN)/lti-tool demo

lint: $(VENV)/.installed
	$(BIN)/ruff check lti_tool tests bench
	$(BIN)/ruff format --check lti_tool tests bench
	$(BIN)/mypy lti_tool
	$(BIN)/lint-imports

test: setup lint ## all checks and tests, on SQLite and on PostgreSQL
	$(BIN)/pytest -n 2 --db sqlite
	$(BIN)/pytest -n 2 --db postgresql --pg-url $(PG_URL) -m "not e2e"

BENCHES := launch hls_delivery stream_links publish_to_frame viewers consent_overview ledger_verify audit_search sweep upload playback

bench: setup ## the benchmarks (printed figures; see README.md "Benchmarks")
	set -e; for b in $(BENCHES); do echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py; done

clean:
	rm -rf $(VENV) instance .pytest_cache
