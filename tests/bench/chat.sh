#!/bin/bash
# chat.sh - throughput and latency of two headless peers on loopback:
# (a) 10,000 messages A->B fed as fast as A takes them, (b) 1,000 one at a time.
# Usage: tests/bench/chat.sh [path/to/confab]  (else $CONFAB, else ../../build/confab)
# Not part of make check.  Loopback only, --no-discovery --no-nat.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
confab=${1:-${CONFAB:-$here/../../build/confab}}
[ -x "$confab" ] || { echo "chat.sh: no executable confab at $confab" >&2; exit 2; }
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

echo "# confab chat bench: $confab ($("$confab" --version 2>&1 | head -n 1)), $(date -u +%FT%TZ), $(nproc) CPUs"
# In the background so that a signal to this script runs the trap at once.
python3 "$here/driver.py" chat "$confab" "$work" &
echo $! >>"$work/pids"
wait $!
