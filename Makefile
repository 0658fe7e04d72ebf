# The two commands a new user needs:
#   make sandbox   bring everything up locally and show it working
#   make test      run every test (lint, types, unit, integration, end-to-end)
# Each installs what it needs: a virtualenv in .venv, and in .cache/ the API server binaries (and, for
# make test, the Go SDK contract program). pip and the Go builds run side by side: one mostly waits
# on the network while the other compiles.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install binaries cluster-binaries contract-binaries lint test test-fast sandbox bench generate crds clean

# The wheel carries controller/ only; a .pth puts the checkout on the dev venv's path so that
# sandbox/, tests/ and benchmarks/ import from any working directory (subprocesses too).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	echo '$(CURDIR)' > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/mlops-gitops-checkout.pth"
	touch $(STAMP)

install: $(STAMP)

binaries: cluster-binaries contract-binaries

# kube-apiserver, etcd and helm: what the sandbox and the e2e tests run.
cluster-binaries:
	bash tests/cluster/build.sh

# The Go SDK contract program: only the integration tests run it.
contract-binaries:
	bash tests/contract/go/build.sh

lint: install
	$(BIN)/ruff check controller sandbox tests benchmarks
	$(BIN)/ruff format --check controller sandbox tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/mlopsctl generate --check

test:
	$(MAKE) --no-print-directory -j3 install cluster-binaries contract-binaries
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest

test-fast: install lint
	$(BIN)/python -m pytest tests/unit

# Every generated file: CRDs (and the chart's copy), Argo CD health checks, the docs' reason tables.
generate: install
	$(BIN)/mlopsctl generate

crds: generate

sandbox:
	$(MAKE) --no-print-directory -j2 install cluster-binaries
	$(BIN)/python -m sandbox

# The controller under benchmark runs from an environment with the runtime dependencies only
# (mlflow-skinny, not the full mlflow the tests need), as it does in production.
RUNTIME := .cache/venv-runtime
$(RUNTIME)/.installed: pyproject.toml
	$(PYTHON) -m venv $(RUNTIME)
	$(RUNTIME)/bin/pip install --quiet --upgrade pip
	$(RUNTIME)/bin/pip install --quiet -e .
	touch $@

bench: install cluster-binaries $(RUNTIME)/.installed
	MLOPS_CONTROLLER_PYTHON=$(RUNTIME)/bin/python $(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .cache .sandbox
