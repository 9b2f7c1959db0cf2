#!/bin/bash
# rooms.sh - the room scale benchmark (issue 15): N hosts on one bridged
# segment in network namespaces (LAN discovery on), one room with all of
# them, A authors writing R messages a second; delivery count, latency,
# packets and bytes per message on the bridge, CPU and RSS per member.
# Usage: tests/bench/rooms.sh [path/to/confab] [--members 50] [--authors 5]
#        [--rate 10] [--seconds 60] [--mesh full|star] [--homes DIR] [--drain 30]
# (see rooms.py).  Needs root (ip netns).  Not part of make check.
# Everything runs in namespaces named cfr<pid>...; they and every process in
# them are removed at exit, also on failure.  Exit status 1 if a message did
# not reach every member exactly once.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
confab=${CONFAB:-$here/../../build/confab}
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then confab=$1; shift; fi
[ -x "$confab" ] || { echo "rooms.sh: no executable confab at $confab" >&2; exit 2; }
confab=$(cd "$(dirname "$confab")" && pwd)/$(basename "$confab")
[ "$(id -u)" -eq 0 ] || { echo "rooms.sh: needs root for network namespaces" >&2; exit 2; }

prefix="cfr$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/confab-rooms.XXXXXX")

# The kernel's neighbour (ARP/NDP) tables are shared by all namespaces, with a
# hard limit of 1024 entries by default: N hosts in a full mesh need N(N-1)
# entries (2450 for 50), which real hosts, each with its own table, never
# do.  Raise the limits for the run; restore them after.
gc_files=$(ls /proc/sys/net/ipv4/neigh/default/gc_thresh[123] /proc/sys/net/ipv6/neigh/default/gc_thresh[123])
gc_saved=$(cat $gc_files | tr '\n' ' ')
restore_gc() {
	local f v i=0
	set -- $gc_saved
	for f in $gc_files; do i=$((i + 1)); v=${!i}; echo "$v" >"$f"; done
}
# Kill what runs in our namespaces, delete them, remove the homes.
cleanup() {
	local ns pid
	restore_gc
	if [ -f "$work/pids" ]; then
		while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$work/pids"
	fi
	for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix" || true); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ -n "${KEEP:-}" ]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for f in $gc_files; do
	case $f in *thresh1) echo 1024 ;; *thresh2) echo 8192 ;; *thresh3) echo 16384 ;; esac >"$f"
done
echo "# neighbour table limits raised for the run (gc_thresh1/2/3 1024/8192/16384; restored at exit)"
echo "# confab room bench: $confab ($("$confab" --version 2>&1 | head -n 1)), $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
rc=0
python3 "$here/rooms.py" "$confab" "$work" "$prefix" "$@" &
echo $! >>"$work/pids"
wait $! || rc=$?
exit $rc
