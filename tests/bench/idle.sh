#!/bin/bash
# idle.sh - cost of a connected idle pair on loopback over 10 s: CPU time,
# wake-ups per second, threads and resident memory of each instance.
# BENCH_IDLE_SECS=N changes the window (default 10).
# Usage: tests/bench/idle.sh [path/to/confab]  (else $CONFAB, else ../../build/confab)
# Not part of make check.  Loopback only, --no-discovery --no-nat.
. "$(cd "$(dirname "$0")" && pwd)/driver.sh" idle idle "$@"
