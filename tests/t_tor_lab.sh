#!/bin/bash
# t_tor_lab.sh - a private Tor network (tests/tor_lib.sh) in a namespace with
# no way out: confab bob behind an onion service, confab alice with --proxy at
# a lab client's SOCKS port connects to BOB.onion:7470 (the .onion name goes
# to tor as a name: remote DNS), they chat, and the lab comes down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tor_lib.sh"

check "no system tor runs" no_system_tor
t0=$SECONDS
check "the lab's authorities and relays agree on the network" tor_lab 3 ||
	{ sed 's/^/# /' "$T"/tor/auth1/notice.log | tail -20; done_testing; }
diag "network complete after $((SECONDS - t0)) s"
check "only loopback in the lab's namespace" \
	test "$(tor_in ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')" = "lo "
launch_peer bob ip netns exec "$(tor_ns)" -- --nick bob --no-discovery --no-nat --listen 127.0.0.1:7470
fb=$(fp_of bob)
check "an onion service for bob's port is up" tor_onion hs 7470 7470
check "a client tor bootstraps" tor_client client
diag "onion $TOR_ONION, SOCKS port $TOR_SOCKS, $((SECONDS - t0)) s"

launch_peer alice ip netns exec "$(tor_ns)" -- --nick alice --no-discovery --no-nat --listen 127.0.0.1:7471 \
	--proxy "socks5://127.0.0.1:$TOR_SOCKS"
fp_of alice >/dev/null
# the descriptor may not be on the HSDirs yet: try again until it is (60 s)
p="" tries=0 end=$((SECONDS + 60))
while [ -z "$p" ] && [ $SECONDS -lt $end ]; do
	tries=$((tries + 1))
	n0=$(count_events alice '.event=="error"')
	say alice "/connect $TOR_ONION:7470"
	p=$(wait_for alice ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fb\"" 2)
	[ -z "$p" ] && wait_count alice '.event=="error"' $((n0 + 1)) 15
done
check "alice reaches bob's onion service through the lab's SOCKS port" test -n "$p" ||
	events alice 'select(.event=="error") | .message' | tail -3 | sed 's/^/# /'
diag "reached after $tries attempt(s), $((SECONDS - t0)) s after the start"
check "path proxy" test "$(jq -r .path <<<"$p")" = proxy
check "the proxy was given the onion name" grep -q "trying $TOR_ONION:7470 through the proxy" "$T/alice.log"
say alice "/msg $fb over tor"
check "bob receives alice's message over tor" wait_for bob '.event=="message" and .text=="over tor"' 20
say alice "/connect notanonion.onion:7470"
e=$(wait_for alice '.event=="error" and (.message|contains("notanonion"))' 20)
check "a malformed onion address: tor's extended error, in words" grep -q "invalid onion address" <<<"$e" ||
	diag "got: $e"
[ -n "$e" ] && diag "$(jq -r .message <<<"$e")"
check "no system tor runs after the test" no_system_tor
done_testing
