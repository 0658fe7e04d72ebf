# The two commands a new user needs:
#   make sandbox   bring everything up locally and show it working
#   make test      run every test (lint, types, unit, integration, end-to-end)
# Each installs what it needs: a virtualenv in .venv, and in .cache/ the API server binaries and the
# Go SDK contract program.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install binaries lint test test-fast sandbox bench crds clean

# The wheel carries controller/ only; a .pth puts the checkout on the dev venv's path so that
# sandbox/, tests/ and benchmarks/ import from any working directory (subprocesses too).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	echo '$(CURDIR)' > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/mlops-gitops-checkout.pth"
	touch $(STAMP)

install: $(STAMP)

binaries:
	bash tests/cluster/build.sh
	bash tests/contract/go/build.sh

lint: install
	$(BIN)/ruff check controller sandbox tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/mlopsctl crds --check

test: install binaries lint
	$(BIN)/python -m pytest

test-fast: install lint
	$(BIN)/python -m pytest tests/unit

crds: install
	$(BIN)/mlopsctl crds

sandbox: install binaries
	$(BIN)/python -m sandbox

# The controller under benchmark runs from an environment with the runtime dependencies only
# (mlflow-skinny, not the full mlflow the tests need), as it does in production.
RUNTIME := .cache/venv-runtime
$(RUNTIME)/.installed: pyproject.toml
	$(PYTHON) -m venv $(RUNTIME)
	$(RUNTIME)/bin/pip install --quiet --upgrade pip
	$(RUNTIME)/bin/pip install --quiet -e .
	touch $@

bench: install binaries $(RUNTIME)/.installed
	MLOPS_CONTROLLER_PYTHON=$(RUNTIME)/bin/python $(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .cache .sandbox
