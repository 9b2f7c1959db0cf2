#!/bin/bash
# driver.sh - shared by chat.sh and idle.sh: run one mode of driver.py on two
# headless peers (loopback only, --no-discovery --no-nat) in a throwaway home,
# and kill whatever it started on the way out.
# Usage (from a bench script): . "$here/driver.sh" MODE DESCRIPTION [path/to/confab]
set -eu
mode=$1
what=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
confab=${1:-${CONFAB:-$here/../../build/confab}}
[ -x "$confab" ] || { echo "$mode.sh: no executable confab at $confab" >&2; exit 2; }
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

echo "# confab $what bench: $confab ($("$confab" --version 2>&1 | head -n 1)), $(date -u +%FT%TZ), $(nproc) CPUs"
# In the background so that a signal to this script runs the trap at once.
python3 "$here/driver.py" "$mode" "$confab" "$work" &
echo $! >>"$work/pids"
wait $!
