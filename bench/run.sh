#!/usr/bin/env bash
# Runs the benchmarks in .venv (created by scripts/bootstrap.sh if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python bench/bench_pipeline.py "$@"
