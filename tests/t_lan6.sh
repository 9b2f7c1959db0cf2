#!/bin/bash
# t_lan6.sh - LAN discovery on an IPv6-only segment (network namespaces): the
# hosts have link-local addresses only, no IPv4 at all; they find each other
# on ff12::7470 and chat over link-local TCP, with no address typed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lan_lib.sh"

lab_switch sw
lab_host a sw
lab_host b sw
for h in a b; do
	check "host $h has no IPv4 address" test -z "$(ip -n "$(ns $h)" -4 -o addr show dev eth0)"
	check "host $h has an IPv6 link-local address" ip -n "$(ns $h)" -6 -o addr show dev eth0 scope link
done

start_host alice a
start_host bob b
fp_learn alice bob
check "alice lists bob" wait_lists alice 5 bob
check "bob lists alice" wait_lists bob 5 alice
e=$(events alice "select(.event==\"peer\" and .fingerprint==\"${FP_CACHE[bob]}\")" | head -n 1)
check "as discovered, via lan" test "$(jq -r '.state + " " + .via' <<<"$e")" = "discovered lan"
bob_ll=$(ip -n "$(ns b)" -6 -o addr show dev eth0 scope link | awk '{print $4}' | cut -d/ -f1)
check "at bob's link-local address and port ($(jq -r .addr <<<"$e"))" \
	test "$(jq -r .addr <<<"$e")" = "[$bob_ll%eth0]:7470"
grep -q "IPv4 on" "$T/alice.log"; rc=$?
check "discovery never turned IPv4 on" test $rc -ne 0

say alice "/msg bob hello over ipv6"
check "bob gets the message" wait_for bob '.event=="message" and .text=="hello over ipv6"' 10
check "alice sees it delivered" wait_for alice '.event=="delivered"' 10
check "bob shows alice online" wait_state bob alice online 5
say bob "/msg alice and back"
check "alice gets the answer" wait_for alice '.event=="message" and .text=="and back"' 10

say bob "/quit"
stop_peer bob
check "bob's quit shows him offline on alice at once" wait_state alice bob offline 2
check "every event line is valid JSON" jq -e . "$T/alice.out" "$T/bob.out"
done_testing
