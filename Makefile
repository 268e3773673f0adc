# Tijori: the two commands a new machine needs are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
TOOLS := .venv-tools
SAM_CLI_VERSION := 1.170.0
SAM := $(TOOLS)/bin/sam
export TZ := UTC
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: test lint demo bench cost-baseline build validate venv tools clean

# The project venv: runtime + test dependencies, pinned in pyproject.toml.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# aws-sam-cli pins boto3 and pydantic exactly, so it lives in its own tool venv.
$(TOOLS)/.installed:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

venv: $(VENV)/.installed
tools: $(TOOLS)/.installed

# The template tests transform template.yaml with the tool venv's SAM (tests/sam_transform.py).
# The report's browser test needs Debian's chromium: installed here when missing and root (CI).
test: $(VENV)/.installed $(TOOLS)/.installed
	command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	$(VENV)/bin/pytest

lint: $(VENV)/.installed $(TOOLS)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(SAM) validate --lint

validate: $(TOOLS)/.installed
	$(SAM) validate --lint

build: $(TOOLS)/.installed
	$(SAM) build

bench: $(VENV)/.installed
	mkdir -p reports
	$(VENV)/bin/python -m bench --output reports/bench.json

# Re-measure the cost regression baseline (bench/cost_baseline.json) on purpose; commit it.
cost-baseline: $(VENV)/.installed
	$(VENV)/bin/python -m bench.cost_bench --update-baseline

# The main job: 200+ payouts through the local runtime and the Paytm simulator, reconciled.
demo: $(VENV)/.installed
	mkdir -p reports
	$(VENV)/bin/python -m tijori_local.demo --output reports/demo.json

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam reports .pytest_cache .mypy_cache .ruff_cache .hypothesis
