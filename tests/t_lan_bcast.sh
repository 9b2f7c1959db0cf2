#!/bin/bash
# t_lan_bcast.sh - the IPv4 broadcast fallback (network namespaces): on a
# segment whose switch drops all multicast (as some access points do), hosts
# still find each other through the broadcast copy of the start-up query, then
# keep announcing by broadcast, so nobody expires.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lan_lib.sh"
command -v ebtables >/dev/null 2>&1 || skip_all "no ebtables to filter multicast on the bridge"

lab_switch sw
SW=$(ns sw)
# drop IPv4 (01:00:5e/25) and IPv6 (33:33/16) multicast frames between ports
ip netns exec "$SW" ebtables -A FORWARD -d 01:00:5e:00:00:00/ff:ff:ff:80:00:00 -j DROP &&
ip netns exec "$SW" ebtables -A FORWARD -d 33:33:00:00:00:00/ff:ff:00:00:00:00 -j DROP ||
	skip_all "ebtables cannot filter this bridge"
check "the bridge drops IPv4 and IPv6 multicast" \
	test "$(ip netns exec "$SW" ebtables -L FORWARD | grep -c DROP)" -eq 2
lab_host a sw 10.79.0.1/24
lab_host b sw 10.79.0.2/24

start_host alice a --discovery-refresh 1
sleep 0.3
start_host bob b --discovery-refresh 1
fp_learn alice bob
check "alice lists bob" wait_lists alice 5 bob
check "bob lists alice" wait_lists bob 5 alice
check "alice heard bob by broadcast" grep -qE "new peer .* \(broadcast\)" "$T/alice.log"
check "and never by multicast" test "$(grep -cE 'new peer .* \(multicast\)' "$T/alice.log")" -eq 0

# Expiry is 3 * 1 s + 2 s = 5 s: after 8 s both must still be listed.
sleep 8
check "alice still lists bob after 8 s" test "$(state_of alice bob)" = discovered
check "bob still lists alice after 8 s" test "$(state_of bob alice)" = discovered
check "no offline event on either side" \
	test "$(count_events alice '.event=="peer" and .state=="offline"') $(count_events bob '.event=="peer" and .state=="offline"')" = "0 0"

say alice "/msg bob through a multicast-deaf switch"
check "a message goes through" wait_for bob '.event=="message" and .text=="through a multicast-deaf switch"' 10
say bob "/quit"
stop_peer bob
check "bob's goodbye (broadcast too) shows him offline at once" wait_state alice bob offline 2
check "every event line is valid JSON" jq -e . "$T/alice.out" "$T/bob.out"
done_testing
