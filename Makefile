# Two entry points for a fresh clone: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

# make run needs only digsync's own dependencies; make test adds the dev tools.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e .
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml $(RUN_STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(DEV_STAMP)

setup: $(DEV_STAMP)

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
# It checks and renders the example, runs the sync demo on a local warehouse, then serves
# the Config API and web UI on a copy of the example (build/example/config.yaml).
EXAMPLE_COPY := build/example/config.yaml
run: $(RUN_STAMP)
	$(BIN)/digsync validate --config examples/config.yaml
	$(BIN)/digsync generate --config examples/config.yaml --project-dir build
	$(BIN)/digsync lint --profile td build/semantic_layer_sync
	$(BIN)/digsync schedule --config examples/config.yaml
	$(BIN)/digsync sync --demo --warehouse build/demo-warehouse
	@mkdir -p build/example
	@[ -f $(EXAMPLE_COPY) ] || cp examples/config.yaml $(EXAMPLE_COPY)
	$(BIN)/digsync push --config $(EXAMPLE_COPY) --target local
	$(BIN)/digsync serve --config $(EXAMPLE_COPY) --target local --port $(PORT)

PORT ?= 8000

test: setup browser
	$(BIN)/ruff check digsync tests benchmarks tools
	$(BIN)/ruff format --check digsync tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/pytest

# The e2e tier: a real Digdag server (fetched from Maven Central into ~/.cache/digsync)
# runs the push contract, Digdag's scheduler as the oracle for schedule previews, the
# conformance corpus against lint, and the rendered workflow itself. It fails, never
# skips, when the server cannot be had.
E2E_STAMP := $(VENV)/.installed-e2e
$(E2E_STAMP): pyproject.toml $(DEV_STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,e2e]'
	touch $(E2E_STAMP)

e2e: $(E2E_STAMP)
	DIGSYNC_E2E=1 $(BIN)/pytest tests/test_digdag_contract.py tests/e2e

bench: setup
	$(BIN)/python benchmarks/bench_render.py
	$(BIN)/python benchmarks/bench_generate_many.py
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_lint_corpus.py
	$(BIN)/python benchmarks/bench_push.py
	$(BIN)/python benchmarks/bench_sync.py
	$(BIN)/python benchmarks/bench_serve.py

clean:
	rm -rf $(VENV) build dist workflows examples/.digsync *.egg-info
