#!/usr/bin/env bash
# thidua against the naive scripts at three scales (bench/bench.py; --help for options).
# `bench/run.sh pipeline` times the pure pipeline instead (bench/bench_pipeline.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
if [ "${1:-}" = intake ]; then
  shift
  exec .venv/bin/python bench/bench_intake.py "$@"
fi
if [ "${1:-}" = slow-mail ]; then
  shift
  exec .venv/bin/python bench/bench_slow_mail.py "$@"
fi
if [ "${1:-}" = pipeline ]; then
  shift
  exec .venv/bin/python bench/bench_pipeline.py "$@"
fi
exec .venv/bin/python bench/bench.py "$@"
