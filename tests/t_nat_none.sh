#!/bin/bash
# t_nat_none.sh - bob's router speaks neither UPnP nor NAT-PMP (no miniupnpd;
# then a router that drops those packets silently): bob is told he is not
# reachable from outside within a bounded time, and he can still connect out
# to alice, whose router maps her port.  All in network namespaces.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nat_lib.sh"

BOUND=10   # seconds: NAT-PMP gives up after 4, UPnP discovery after 4x1

check "the lab is built" nat_lab
check "miniupnpd runs on alice's router only" upnpd r1 both
start_nat alice a
check "alice is reachable" wait_for alice '.event=="nat" and .reachable' 15
code=$(invite_of alice)

# not_reachable_within NAME SECONDS: the first nat event says "not reachable"
# in time; prints the seconds it took.
not_reachable_within() {
	local t0=$1 name=$2 ev
	ev=$(nat_event "$name" "$3") || return 1
	echo "$(( $(date +%s%3N) - t0 )) ms: $(jq -r '.reason + ": " + .text' <<<"$ev")"
	jq -e '.reachable == false and .method == "none"' <<<"$ev" >/dev/null
}

t0=$(date +%s%3N)
start_nat bob b
out=$(not_reachable_within "$t0" bob $BOUND)
check "bob learns he is not reachable from outside within $BOUND s" test $? -eq 0
diag "$out"
check "because nothing answered (no-answer)" wait_for bob '.event=="nat" and .reason=="no-answer"' 1
check "the text says peers cannot connect to him but he can connect out" \
	wait_for bob '.event=="nat" and (.text|test("not reachable from outside.*you can still connect"))' 1
say bob "/connect $code"
check "bob connects out to alice" \
	wait_for bob ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$(fp_of alice)\"" 15
say bob "/msg alice outbound works"
check "and they chat" wait_for alice '.event=="message" and .text=="outbound works"' 10
say bob "/nat"
check "/nat answers with the state" wait_for bob '.event=="nat" and .command=="/nat" and .reachable==false' 5
check "and asks the router again, which still does not answer" \
	wait_count bob '.event=="nat" and .reason=="no-answer" and (.command|not)' 2 $BOUND
stop_peer bob

# a router that silently drops NAT-PMP and SSDP: no ICMP error to go by
ip netns exec "$(ns r2)" iptables-legacy -A INPUT -i eth0 -p udp -m multiport --dports 1900,5351 -j DROP
PEER_HOME[bob2]=$T/bob
t0=$(date +%s%3N)
start_nat bob2 b
out=$(not_reachable_within "$t0" bob2 $BOUND)
check "with a silent router too, not reachable within $BOUND s" test $? -eq 0
diag "$out"
check "the log says the gateway did not answer NAT-PMP in time" \
	grep -q "no NAT-PMP answer from the gateway 10.62.1.1 in 4000 ms" "$T/bob2.log"
done_testing
