# Two entry points for a fresh clone: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

# Every package comes from a hashed lock (pip install --require-hashes), which pip of any
# version reads; the dependency groups of pyproject.toml are their source (make lock).
# digsync itself goes in editable, without build isolation: setuptools and wheel come
# from requirements-build.lock too, so nothing is fetched unpinned.
# make run needs only digsync's own dependencies and the serve extra; make test adds the
# dev tools.
$(RUN_STAMP): pyproject.toml requirements.lock requirements-build.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --require-hashes -r requirements.lock -r requirements-build.lock
	$(PIP) install -q --no-deps --no-build-isolation -e .
	$(PIP) check
	touch $(RUN_STAMP)

$(DEV_STAMP): requirements-dev.lock $(RUN_STAMP)
	$(PIP) install -q --require-hashes -r requirements-dev.lock
	$(PIP) check
	touch $(DEV_STAMP)

setup: $(DEV_STAMP)

# Rewrite the locks from pyproject.toml after changing a dependency, then commit them.
# uv runs from a throwaway venv (build/lock-venv): it is no dependency of digsync. The
# dev lock is resolved first; the others take its versions (-c), so what the tests run
# is what the image ships. uv keeps the versions already locked where they still fit;
# make lock UPGRADE=--upgrade takes the newest that pyproject.toml allows.
UV_VERSION := 0.13.9
LOCK_VENV := build/lock-venv
COMPILE := $(LOCK_VENV)/bin/uv pip compile --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command 'make lock' --quiet
lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --disable-pip-version-check 'uv==$(UV_VERSION)'
	$(COMPILE) $(UPGRADE) pyproject.toml --extra serve --group dev -o requirements-dev.lock
	$(COMPILE) pyproject.toml --extra serve -c requirements-dev.lock -o requirements.lock
	$(COMPILE) --group pyproject.toml:build -c requirements-dev.lock -o requirements-build.lock
	$(COMPILE) --group pyproject.toml:e2e -o requirements-e2e.lock

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

# Every test: -m "" selects the slow and browser tests that pyproject.toml's addopts
# leave out of a bare pytest. CI runs this target (.ci/run); tests/test_markers.py
# checks that it selects every marker.
test: setup browser
	$(BIN)/ruff check digsync tests benchmarks tools
	$(BIN)/ruff format --check digsync tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/pytest -m ""

# The quick loop while editing: pytest's default selection, without the slow and browser
# tests (make test runs them too).
test-fast: setup
	$(BIN)/pytest

# The e2e tier: a real Digdag server (fetched from Maven Central into ~/.cache/digsync)
# runs the push contract, Digdag's scheduler as the oracle for schedule previews, the
# conformance corpus against lint, and the rendered workflow itself. It fails, never
# skips, when the server cannot be had.
E2E_STAMP := $(VENV)/.installed-e2e
$(E2E_STAMP): requirements-e2e.lock $(DEV_STAMP)
	$(PIP) install -q --require-hashes -r requirements-e2e.lock
	touch $(E2E_STAMP)

e2e: $(E2E_STAMP)
	DIGSYNC_E2E=1 $(BIN)/pytest -m "" tests/test_digdag_contract.py tests/e2e

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
