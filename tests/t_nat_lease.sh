#!/bin/bash
# t_nat_lease.sh - port mapping leases against Debian's miniupnpd, in network
# namespaces: a 3-second lease is renewed (NAT-PMP and UPnP), so bob can still
# use the invite code after several leases would have run out; when alice
# quits (/quit, SIGTERM, SIGINT) the mapping is gone from the router; after
# kill -9 the finite lease cleans it up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nat_lib.sh"

LEASE=3

# mapped_port NAME: the external port from NAME's first nat event ("" if none).
mapped_port() {
	nat_event "$1" 15 | jq -r 'select(.reachable) | .external | split(":")[1]'
}

# renewals NAME: the renewals count of NAME's latest nat event.
renewals() {
	events "$1" 'select(.event=="nat") | .renewals' | tail -n 1
}

# gone_within ROUTER SECONDS: wait until ROUTER forwards nothing.
gone_within() {
	local i
	for i in $(seq $(($2 * 20))); do
		router_empty "$1" && return 0
		sleep 0.05
	done
	return 1
}

# lab_reset TAG: tear the lab down, keeping the files under TAG.
lab_reset() {
	local n f
	for n in "${!PEER_PID[@]}"; do kill_peer "$n" 9; done
	lab_cleanup
	LAB_NS=()
	for f in "$T"/*.out "$T"/*.log "$T/r1.leases"; do
		case $(basename "$f") in natpmp-* | upnp-*) continue ;; esac
		[ -e "$f" ] && mv "$f" "$T/$1-$(basename "$f")"
	done
	FP_CACHE=()
}

for mode in natpmp upnp; do
	diag "--- $mode, lease $LEASE s"
	check "$mode: the lab is built" nat_lab
	check "$mode: miniupnpd runs on alice's router" upnpd r1 "$mode"
	start_nat alice a --nat-lease $LEASE
	port=$(mapped_port alice)
	check "$mode: alice is mapped" test -n "$port"
	check "$mode: by $mode, with the short lease" \
		wait_for alice ".event==\"nat\" and .method==\"$mode\" and .lease==$LEASE" 1
	check "$mode: the router forwards port $port to alice" router_maps r1 "$port" 10.61.1.2:7470
	code=$(invite_of alice)
	# three leases' time: without renewals the router drops the mapping after one
	sleep $((LEASE * 3))
	check "$mode: the lease was renewed at least 4 times ($(renewals alice))" test "$(renewals alice)" -ge 4
	check "$mode: after 3 leases the router still forwards $port" router_maps r1 "$port" 10.61.1.2:7470
	start_nat bob b --no-nat
	say bob "/connect $code"
	check "$mode: bob still reaches alice through it" \
		wait_for bob ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$(fp_of alice)\"" 15
	say bob "/msg alice still here"
	check "$mode: and they chat" wait_for alice '.event=="message" and .text=="still here"' 10

	if [ "$mode" = natpmp ]; then
		kill_peer alice TERM
		check "natpmp: after SIGTERM the mapping is gone from the router" gone_within r1 1
	else
		stop_peer alice   # EOF on stdin: /quit
		check "upnp: after /quit the mapping is gone from the router" gone_within r1 1
	fi
	check "$mode: and from miniupnpd's lease file" bash -c "! grep -q '^TCP:$port:' '$T/r1.leases'"

	# SIGINT, with the other method's port in the lease file no more
	PEER_HOME[alice2]=$T/alice
	start_nat alice2 a --nat-lease $LEASE
	port=$(mapped_port alice2)
	check "$mode: alice maps again" router_maps r1 "$port" 10.61.1.2:7470
	kill_peer alice2 INT
	check "$mode: after SIGINT the mapping is gone" gone_within r1 1

	# a crash: nobody deletes the mapping, the finite lease does
	PEER_HOME[alice3]=$T/alice
	start_nat alice3 a --nat-lease $LEASE
	port=$(mapped_port alice3)
	kill_peer alice3 9
	check "$mode: after kill -9 the mapping is still there" router_maps r1 "$port" 10.61.1.2:7470
	check "$mode: the lease runs out within $((LEASE + 2)) s and the router drops it" gone_within r1 $((LEASE + 2))
	lab_reset "$mode"
done
done_testing
