#!/bin/bash
# t_lan_routed.sh - two segments joined by a router (network namespaces): a
# host on the other subnet is not discovered, because beacons never cross a
# router, yet /connect ADDR:PORT reaches it.  A host on both segments (the
# router itself) lists everyone, on each of its interfaces.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lan_lib.sh"

lab_switch sw1
lab_switch sw2
lab_ns r
lab_link sw1 r eth0
lab_link sw2 r eth1
R=$(ns r)
ip -n "$R" addr add 10.81.1.1/24 dev eth0
ip -n "$R" addr add fd81:1::1/64 dev eth0 nodad
ip -n "$R" addr add 10.81.2.1/24 dev eth1
ip -n "$R" addr add fd81:2::1/64 dev eth1 nodad
ip -n "$R" link set eth0 up
ip -n "$R" link set eth1 up
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null

lab_host a sw1 10.81.1.2/24 fd81:1::2/64
lab_host b sw1 10.81.1.3/24 fd81:1::3/64
lab_host c sw2 10.81.2.2/24 fd81:2::2/64
for h in a b; do
	ip -n "$(ns $h)" route add default via 10.81.1.1
	ip -n "$(ns $h)" -6 route add default via fd81:1::1
done
ip -n "$(ns c)" route add default via 10.81.2.1
ip -n "$(ns c)" -6 route add default via fd81:2::1
check "alice's route to carol's subnet goes through the router" \
	bash -c "ip -n $(ns a) route get 10.81.2.2 | grep -q 'via 10.81.1.1'"

start_host alice a --discovery-refresh 1
start_host bob b --discovery-refresh 1
start_host carol c --discovery-refresh 1
start_host rita r --discovery-refresh 1
fp_learn alice bob carol rita
check "alice lists bob, on her segment" wait_lists alice 5 bob
check "carol lists rita, the router" wait_lists carol 5 rita
check "rita, on both segments, lists all three" wait_lists rita 5 alice bob carol
e=$(events rita "select(.event==\"peer\" and .fingerprint==\"${FP_CACHE[carol]}\")" | head -n 1)
check "rita sees carol at her address on the second segment" test "$(jq -r .addr <<<"$e")" = "10.81.2.2:7470"

# Several refresh intervals later, still nothing has crossed the router.
sleep 4
check "alice has not discovered carol" test "$(count_events alice ".event==\"peer\" and .fingerprint==\"${FP_CACHE[carol]}\"")" -eq 0
check "bob has not discovered carol" test "$(count_events bob ".event==\"peer\" and .fingerprint==\"${FP_CACHE[carol]}\"")" -eq 0
check "carol has discovered neither alice nor bob" \
	test "$(count_events carol ".event==\"peer\" and (.fingerprint==\"${FP_CACHE[alice]}\" or .fingerprint==\"${FP_CACHE[bob]}\")")" -eq 0
say alice "/msg carol hello?"
check "so alice cannot name carol" wait_for alice '.event=="error" and .command=="/msg carol hello?"' 5

# But an address typed by hand gets through the router.
say alice "/connect 10.81.2.2:7470"
check "alice reaches carol with /connect" wait_state alice carol online 10
check "carol sees alice online" wait_state carol alice online 10
e=$(events carol "select(.event==\"peer\" and .fingerprint==\"${FP_CACHE[alice]}\" and .state==\"online\")" | head -n 1)
check "carol knows alice directly, from 10.81.1.2" \
	test "$(jq -r '.via + " " + (.addr|split(":")[0])' <<<"$e")" = "direct 10.81.1.2"
say alice "/msg carol across the router"
check "a message goes across" wait_for carol '.event=="message" and .text=="across the router"' 10

say rita "/quit"
stop_peer rita
check "rita's goodbye reaches both segments: alice" wait_state alice rita offline 2
check "and carol" wait_state carol rita offline 2
check "every event line is valid JSON" jq -e . "$T/alice.out" "$T/bob.out" "$T/carol.out" "$T/rita.out"
done_testing
