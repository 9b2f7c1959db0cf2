#!/bin/bash
# t_lan_ident.sh - LAN beacons are hints, never identity (network namespaces;
# tests/lanprobe forges the beacons).  While bob, whom alice knows and
# verified, is away, a forged beacon with bob's key and another nick neither
# renames him nor moves his stored address; a new key calling itself "bob" on
# the LAN is not shown as plain bob; and a forged address for bob is dialled
# once, not again and again.  Carol's chat with alice keeps flowing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lan_lib.sh"
PROBE=${top_builddir:-$(dirname "$0")/..}/tests/lanprobe

lab_switch sw
lab_host a sw 10.79.0.1/24
lab_host b sw 10.79.0.2/24
lab_host c sw 10.79.0.3/24
lab_host p sw 10.79.0.9/24
# probe NS ARGS...: run lanprobe in a lab namespace
probe() { local n=$1; shift; ip netns exec "$(ns "$n")" "$PROBE" "$@"; }

start_host alice a --discovery-refresh 1
start_host bob b --discovery-refresh 1
start_host carol c --discovery-refresh 1
fp_learn alice bob carol
fb=${FP_CACHE[bob]}
check "alice lists bob and carol" wait_lists alice 5 bob carol
say alice "/msg bob hello bob"
check "alice reaches bob" wait_for bob '.event=="message" and .text=="hello bob"' 10
say alice "/trust bob"
check "alice verifies bob" wait_for alice ".event==\"peer\" and .fingerprint==\"$fb\" and .trust==\"verified\""
k=0
# still_serving: carol's message reaches alice, and alice's reaches carol.
still_serving() {
	k=$((k + 1))
	say carol "/msg alice still here $k"
	wait_for alice ".event==\"message\" and .text==\"still here $k\"" 10 >/dev/null || return 1
	say alice "/msg carol back at you $k"
	wait_for carol ".event==\"message\" and .text==\"back at you $k\"" 10 >/dev/null
}
check "carol chats with alice" still_serving
# bob_line: bob's line in alice's peers file (fields: fp trust renamed nick announced addr seen).
bob_line() { grep "^$fb" "$T/alice/peers"; }
check "alice stores bob at 10.79.0.2" bash -c "grep '^$fb' '$T/alice/peers' | cut -f6 | grep -qx '10.79.0.2:7470'"

say bob "/quit"; stop_peer bob
check "bob is away" wait_state alice bob offline 10
# --- a forged beacon: bob's key, another nick, another address ----------------
# (port 7470 on the probe's host: nobody listens there)
probe p -4 -I eth0 -F "$fb" -n bob-old-laptop -p 7470 -c 3 -w 300
sleep 1
last=$(events alice "select(.event==\"peer\" and .fingerprint==\"$fb\")" | tail -n 1)
diag "alice's last word on bob: $last"
check "forged beacon: bob is still called bob" test "$(jq -r .nick <<<"$last")" = bob
check "forged beacon: bob is still verified" test "$(jq -r .trust <<<"$last")" = verified
check "forged beacon: no event ever named bob bob-old-laptop" \
	test "$(count_events alice ".event==\"peer\" and .fingerprint==\"$fb\" and .nick==\"bob-old-laptop\"")" -eq 0
say alice "/peers"; sleep 0.5
line=$(bob_line)
diag "alice's peers file on bob: $line"
check "forged beacon: the peers file keeps bob's nick" test "$(cut -f4,5 <<<"$line")" = "$(printf 'bob\tbob')"
check "forged beacon: the peers file keeps bob's proven address" test "$(cut -f6 <<<"$line")" = "10.79.0.2:7470"
check "forged beacon: carol's chat keeps flowing" still_serving

# --- a new key calling itself bob on the LAN -----------------------------------
fake=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
probe p -4 -I eth0 -k "$fake" -n bob -p 7471
e=$(wait_for alice ".event==\"peer\" and .fingerprint!=\"$fb\" and .state==\"discovered\" and .addr==\"10.79.0.9:7471\"" 5)
diag "the new key is shown as: $e"
check "new key as bob: listed" test -n "$e"
check "new key as bob: not shown as plain bob" test "$(jq -r .nick <<<"$e")" != bob
check "new key as bob: flagged" test "$(jq -r .warning <<<"$e")" = nick-clash
n0=$(count_events alice ".event==\"sent\" and .to==\"$fb\"")
say alice "/msg bob for the real bob"
check "new key as bob: /msg bob is queued for the real bob" \
	wait_count alice ".event==\"sent\" and .to==\"$fb\"" $((n0 + 1)) 5
check "new key as bob: carol's chat keeps flowing" still_serving
# a message to that stranger: alice dials the address its beacon gave (nobody there)
ffp=$(jq -r .fingerprint <<<"$e")
say alice "/msg $ffp hello stranger"

# --- a forged address is not dialled again and again ----------------------------
# The forged beacon made alice try 10.79.0.9:7470 for bob; a spoofed hint the
# handshake never proved is worth one try, not a retry loop.  (Before: retries
# at 2, 4, 8 s ...)
sleep 8
n=$(grep -c 'cannot reach.*10\.79\.0\.9:7470' "$T/alice.log")
diag "alice dialled the forged address for bob $n times in about 10 s"
check "forged address: dialled at most once ($n)" test "$n" -le 1
n=$(grep -c 'cannot reach.*10\.79\.0\.9:7471' "$T/alice.log")
diag "alice dialled the stranger's announced address $n times"
check "a stranger's announced address: dialled at most once ($n)" test "$n" -le 1
probe p -4 -I eth0 -F "$fb" -n bob -p 7472 -c 3 -w 300
sleep 3
n=$(grep -c 'cannot reach.*10\.79\.0\.9:7472' "$T/alice.log")
diag "a second forged address right after: dialled $n times"
check "forged address: another one right after is not dialled at once ($n)" test "$n" -eq 0
check "forged address: carol's chat keeps flowing" still_serving

# --- bob comes back: his beacon from his proven address is taken -----------------
start_host bob b --discovery-refresh 1
check "bob back: alice reconnects to him" wait_state alice bob online 15
check "bob back: the queued message arrives" wait_for bob '.event=="message" and .text=="for the real bob"' 10
last=$(events alice "select(.event==\"peer\" and .fingerprint==\"$fb\")" | tail -n 1)
check "bob back: still bob, verified" test "$(jq -r '.nick + " " + .trust' <<<"$last")" = "bob verified"
check "every event line is valid JSON" jq -e . "$T/alice.out"
done_testing
