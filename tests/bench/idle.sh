#!/bin/bash
# idle.sh - cost of a connected idle pair on loopback over 10 s: CPU time,
# wake-ups per second, threads and resident memory of each instance.
# BENCH_IDLE_SECS=N changes the window (default 10).
# Usage: tests/bench/idle.sh [path/to/confab]  (else $CONFAB, else ../../build/confab)
# Not part of make check.  Loopback only, --no-discovery --no-nat.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
confab=${1:-${CONFAB:-$here/../../build/confab}}
[ -x "$confab" ] || { echo "idle.sh: no executable confab at $confab" >&2; exit 2; }
confab=$(cd "$(dirname "$confab")" && pwd)/$(basename "$confab")

work=$(mktemp -d "${TMPDIR:-/tmp}/confab-bench.XXXXXX")
# Kill whatever the driver started (listed by pid), then remove the homes.
cleanup() {
	local pid
	if [ -f "$work/pids" ]; then
		while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$work/pids"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# confab idle bench: $confab ($("$confab" --version 2>&1 | head -n 1)), $(date -u +%FT%TZ), $(nproc) CPUs"
# In the background so that a signal to this script runs the trap at once.
python3 "$here/driver.py" idle "$confab" "$work" &
echo $! >>"$work/pids"
wait $!
