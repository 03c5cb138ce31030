#!/bin/bash
# run.sh: the benchmarks (bench.py), side by side with guestfish when it is
# installed. BENCH_RUNS sets how many runs each median is taken over.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 bench/bench.py
