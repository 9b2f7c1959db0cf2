#!/bin/bash
# nat.sh - reachability figures in the home-router lab (tests/nat_lib.sh:
# network namespaces, Debian's miniupnpd, nothing leaves the machine):
#   - start to "reachable via NAT-PMP" (a router with only NAT-PMP),
#   - start to "reachable via UPnP" (a router with only UPnP),
#   - start to "not reachable" when the gateway answers neither (no
#     miniupnpd: it refuses with ICMP) and when it stays silent (drops),
#   - /connect INVITE-CODE to the handshake that proves the code's key, and
#     to the peer online, across both NATs (the code's LAN candidate is
#     unreachable from there and fails alongside).
# Times come from confab's own log (milliseconds) and the shell's clock at
# the moment it starts the process.  Usage:
#   tests/bench/nat.sh [path/to/confab] [--runs N] [--silent-runs N]
# Needs root (ip netns), miniupnpd-iptables, iptables, jq.  Not part of make check.
set -u
here=$(cd "$(dirname "$0")" && pwd)
CONFAB=${CONFAB:-$here/../../build/confab}
RUNS=10
SILENT_RUNS=3
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--silent-runs) SILENT_RUNS=$2; shift 2 ;;
	*) CONFAB=$1; shift ;;
	esac
done
[ -x "$CONFAB" ] || { echo "nat.sh: no executable confab at $CONFAB" >&2; exit 2; }
CONFAB=$(cd "$(dirname "$CONFAB")" && pwd)/$(basename "$CONFAB")
export CONFAB
. "$here/../lib.sh"
. "$here/../nat_lib.sh"

# summary LABEL: median, min and max of the numbers on stdin.
summary() {
	sort -n | awk -v l="$1" '{ a[NR] = $1 }
		END { if (NR == 0) { printf "%-46s no data\n", l; exit }
		      m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		      printf "%-46s median %6.0f ms  (min %d, max %d, n=%d)\n", l, m, a[1], a[NR], NR }'
}

# restart_upnpd MODE: miniupnpd on r1 again with another configuration.
restart_upnpd() {
	local pid
	pid=$(cat "$T/r1.miniupnpd.pid" 2>/dev/null)
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	mv "$T/r1.miniupnpd.log" "$T/r1.miniupnpd.log.$(date +%s%N)" 2>/dev/null
	rm -f "$T/r1.leases"
	upnpd r1 "$1"
}

# time_to NAME NS PATTERN RUNS [ARGS...]: start a fresh instance RUNS times;
# print the ms from starting the process, and from the first port mapping
# request (its log line), to its first log line matching PATTERN.
time_to() {
	local ns=$2 pat=$3 runs=$4 i name t0 tm t1
	shift 4
	for i in $(seq "$runs"); do
		name=$1$i
		t0=$(now_ms)
		start_nat "$name" "$ns" "${@:2}"
		if wait_for "$name" '.event=="nat"' 20 >/dev/null && t1=$(log_ms "$name" "$pat") &&
		    tm=$(log_ms "$name" "portmap: mapping TCP port"); then
			echo "$((t1 - t0)) $((t1 - tm))"
		else
			echo "nat.sh: $name: no \"$pat\" in its log" >&2
		fi
		stop_peer "$name"
	done
}

nat_lab || { echo "nat.sh: cannot build the lab" >&2; exit 1; }
echo "# confab $("$CONFAB" --version | awk '{print $2}'), $RUNS runs ($SILENT_RUNS for silent gateways)"

# both: the figures from process start, and from the first request
both() {
	cat >"$T/times"
	cut -d' ' -f1 "$T/times" | summary "$1 (process start)"
	cut -d' ' -f2 "$T/times" | summary "$1 (first request)"
}

upnpd r1 natpmp
time_to pmp a "portmap: reachable via natpmp" "$RUNS" pmp | both "-> reachable via NAT-PMP"
restart_upnpd upnp
time_to upnp a "portmap: reachable via upnp" "$RUNS" upnp | both "-> reachable via UPnP"
time_to none b "portmap: not reachable from outside" "$SILENT_RUNS" none | both "-> not reachable, router refuses"
ip netns exec "$(ns r2)" iptables-legacy -A INPUT -i eth0 -p udp -m multiport --dports 1900,5351 -j DROP
time_to silent b "portmap: not reachable from outside" "$SILENT_RUNS" silent | both "-> not reachable, silent gateway"

# connecting by invite code: alice behind r1 (UPnP), bobs behind r2
start_nat alice a
wait_for alice '.event=="nat" and .reachable' 20 >/dev/null || { echo "nat.sh: alice is not mapped" >&2; exit 1; }
code=$(invite_of alice)
echo "# invite code (${#code} characters): $code"
for i in $(seq "$RUNS"); do
	name=bob$i
	start_nat "$name" b --no-nat
	fp_of "$name" >/dev/null
	say "$name" "/connect $code"
	if wait_for "$name" '.event=="peer" and .state=="online"' 20 >/dev/null; then
		t0=$(log_ms "$name" "candidates: ")
		t1=$(log_ms "$name" " won$")
		t2=$(log_ms "$name" "online at")
		echo "$((t1 - t0)) $((t2 - t0))"
	else
		echo "nat.sh: $name did not reach alice" >&2
	fi
	stop_peer "$name"
done >"$T/invite.times"
cut -d' ' -f1 "$T/invite.times" | summary "/connect CODE -> handshake proved the key"
cut -d' ' -f2 "$T/invite.times" | summary "/connect CODE -> peer online (HELLO)"
