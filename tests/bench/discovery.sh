#!/bin/bash
# discovery.sh - LAN discovery figures in network namespaces: the 2-peer time
# to mutual discovery (median of 20 runs), 50 hosts started at once (time until
# every host lists all 49 others; beacon packets/s at start), and beacon
# packets/s at rest for 2, 10 and 50 hosts, counted by tcpdump on the bridge.
# Usage: tests/bench/discovery.sh [path/to/confab] [--runs N] [--rest SECS]
#        [--settle SECS] [--sizes 2,10,50] [--big 50]
# Needs root (ip netns) and tcpdump.  Not part of make check (about 11 minutes
# with the defaults).  Everything runs in namespaces named cfb<pid>...; they
# and every process in them are removed at exit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
confab=${CONFAB:-$here/../../build/confab}
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then confab=$1; shift; fi
[ -x "$confab" ] || { echo "discovery.sh: no executable confab at $confab" >&2; exit 2; }
confab=$(cd "$(dirname "$confab")" && pwd)/$(basename "$confab")
[ "$(id -u)" -eq 0 ] || { echo "discovery.sh: needs root for network namespaces" >&2; exit 2; }
command -v tcpdump >/dev/null || { echo "discovery.sh: needs tcpdump" >&2; exit 2; }

prefix="cfb$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/confab-bench.XXXXXX")

# The kernel's neighbour (ARP/NDP) tables are shared by all namespaces, with a
# hard limit of 1024 entries by default: 50 simulated hosts that each know 49
# others overflow it ("neighbor table overflow!"), which real hosts, each with
# its own table, never do.  Raise the limits for the run; restore them after.
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
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for f in $gc_files; do
	case $f in *thresh1) echo 1024 ;; *thresh2) echo 8192 ;; *thresh3) echo 16384 ;; esac >"$f"
done
echo "# neighbour table limits raised for the run (gc_thresh1/2/3 1024/8192/16384; restored at exit)"
echo "# confab discovery bench: $confab ($("$confab" --version 2>&1 | head -n 1)), $(date -u +%FT%TZ), $(nproc) CPUs"
python3 "$here/discovery.py" "$confab" "$work" "$prefix" "$@" &
echo $! >>"$work/pids"
wait $!
