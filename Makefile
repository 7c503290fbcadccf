# Two entry points for a fresh clone: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The browser tests drive Debian's chromium; install it when missing (needs root).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
	  fi; \
	fi

# The main job on the bundled example: no account, no credentials, local files only.
run: setup
	$(BIN)/digsync validate --config examples/config.yaml
	$(BIN)/digsync generate --config examples/config.yaml --project-dir build
	$(BIN)/digsync lint --profile td build/semantic_layer_sync/semantic_layer_sync.dig
	$(BIN)/digsync schedule --config examples/config.yaml
	$(BIN)/digsync plan --config examples/config.yaml --target local || true
	$(BIN)/digsync push --config examples/config.yaml --target local

test: setup browser
	$(BIN)/ruff check digsync tests benchmarks
	$(BIN)/ruff format --check digsync tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/bench_render.py
	$(BIN)/python benchmarks/bench_generate_many.py
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_lint_corpus.py
	$(BIN)/python benchmarks/bench_push.py

clean:
	rm -rf $(VENV) build dist workflows examples/.digsync *.egg-info
