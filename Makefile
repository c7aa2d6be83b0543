# zizhi — two commands do everything on a fresh machine:  make demo   and   make test
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Fonts the fixture generator renders with (Debian packages: Song/Ming, Kai, Hei).
FONT_PACKAGES := fonts-arphic-uming fonts-arphic-ukai fonts-wqy-zenhei fonts-wqy-microhei fonts-noto-cjk
TODAY ?= 2026-11-27

.PHONY: install system-packages demo test test-fast lint fixtures fixtures-check clean bench

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

test: install
	$(VENV)/bin/pytest -q -n 2 --dist loadfile

test-fast: install
	$(VENV)/bin/pytest -q -m "not ocr"

lint: install
	$(VENV)/bin/ruff check pipeline extractors validators rules fixtures tests flows.py benchmarks

fixtures: install
	$(PY) -m fixtures.generator --write

fixtures-check: install
	$(PY) -m fixtures.generator --check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info

bench: install
	$(PY) -m benchmarks.bench_pages --json benchmarks/results.json
