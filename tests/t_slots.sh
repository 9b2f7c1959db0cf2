#!/bin/bash
# t_slots.sh - one attacker must not take every session slot.  A hostile peer
# opens hundreds of authenticated sessions (fresh keys, HELLO sent, then idle):
# first all from one address, then from 32.  Meanwhile a friend (a peer the
# victim called) keeps chatting with a round trip under 200 ms, and a newcomer
# no one knows still gets a session; the victim holds at most 32 sessions from
# one address, evicts idle unverified sessions (never its friend's) to make
# room, and its resident memory stays under 64 MB.  The figures are printed
# as diagnostics.
. "$(dirname "$0")/lib.sh"
HOSTILE=${top_builddir:-$(dirname "$0")/..}/tests/hostile
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
: "${RTT_MAX_MS:=200}"
: "${RSS_MAX_KB:=65536}"
grep -q __asan_init "$CONFAB" 2>/dev/null && RSS_MAX_KB=$((RSS_MAX_KB * 4)) && RTT_MAX_MS=$((RTT_MAX_MS * 3))

start_peer victim --nick victim --listen 127.0.0.1:0 --handshake-timeout 2
start_peer friend --nick friend --listen 127.0.0.1:0
start_peer new1 --nick new1 --listen 127.0.0.1:0
start_peer new2 --nick new2 --listen 127.0.0.1:0
check "the victim calls its friend" connect_pair victim friend
va=$(addr_of victim)
vpid=${PEER_PID[victim]}
fv=$(fp_of victim)
diag "victim VmRSS at the start: $(rss_kb "$vpid") KiB"

# now_ms: the time in milliseconds.
now_ms() { date +%s%3N; }

# rtt: milliseconds from the friend's /msg to its "delivered" event (or 9999).
k=0
rtt() {
	local n0 t0 end
	k=$((k + 1))
	n0=$(grep -c '"event":"delivered"' "$T/friend.out")
	t0=$(now_ms); end=$((t0 + 10000))
	say friend "/msg victim rtt $k"
	while [ "$(grep -c '"event":"delivered"' "$T/friend.out")" -le "$n0" ]; do
		[ "$(now_ms)" -gt $end ] && { echo 9999; return; }
		sleep 0.01
	done
	echo $(($(now_ms) - t0))
}

# join NAME: milliseconds from NAME's /connect to the victim until it sees
# the victim online (or 9999).
join() {
	local t0 end
	t0=$(now_ms); end=$((t0 + 10000))
	say "$1" "/connect $va"
	until grep -q "\"event\":\"peer\".*\"state\":\"online\".*$fv\|$fv.*\"state\":\"online\"" "$T/$1.out"; do
		[ "$(now_ms)" -gt $end ] && { echo 9999; return; }
		sleep 0.01
	done
	echo $(($(now_ms) - t0))
}

# flood NAME N SECS NSRC: an open-flood in the background, waiting until it holds.
flood() {
	"$HOSTILE" open-flood "$va" "$2" "$3" "$4" >"$T/$1.flood" &
	hp=$!
	for _ in $(seq 600); do grep -q '^holding' "$T/$1.flood" && return 0; sleep 0.05; done
	return 1
}

# --- 300 sessions from one address ------------------------------------------
check "300 sessions from one address: the flooder opens them" flood one 300 12 1
diag "300 sessions from one address: $(head -n 1 "$T/one.flood")"
ms=$(rtt)
diag "300 sessions from one address: friend's round trip $ms ms"
check "300 sessions from one address: the friend's round trip stays under $RTT_MAX_MS ms" test "$ms" -lt "$RTT_MAX_MS"
ms=$(join new1)
diag "300 sessions from one address: a newcomer is online after $ms ms"
check "300 sessions from one address: a newcomer gets a session" test "$ms" -lt 9999
rss=$(rss_kb "$vpid")
diag "300 sessions from one address: victim VmRSS $rss KiB"
check "300 sessions from one address: victim VmRSS under $RSS_MAX_KB KiB" test "${rss:-999999}" -lt "$RSS_MAX_KB"
wait $hp
out=$(cat "$T/one.flood" | tail -n 1)
diag "300 sessions from one address: $out"
read -r _ opened _ refused _ evicted _ most _ most1 _ left <<<"$out"
check "300 sessions from one address: at most 32 held open at once (${most1:-?})" test "${most1:-999}" -le 32
check "300 sessions from one address: the log says why" \
	grep -Eq "evicting session .*127\.0\.0\.2|refusing 127\.0\.0\.2.* from (it|that address)" "$T/victim.log"

# --- 600 sessions from 32 addresses: every slot wanted -----------------------
check "600 sessions from 32 addresses: the flooder opens them" flood many 600 12 32
diag "600 sessions from 32 addresses: $(head -n 1 "$T/many.flood")"
ms=$(rtt)
diag "600 sessions from 32 addresses: friend's round trip $ms ms"
check "600 sessions from 32 addresses: the friend's round trip stays under $RTT_MAX_MS ms" test "$ms" -lt "$RTT_MAX_MS"
ms=$(join new2)
diag "600 sessions from 32 addresses: a newcomer is online after $ms ms"
check "600 sessions from 32 addresses: a newcomer gets a session" test "$ms" -lt 9999
ms=$(rtt)
diag "600 sessions from 32 addresses: friend's round trip $ms ms (after the newcomer)"
check "600 sessions from 32 addresses: the friend still gets through" test "$ms" -lt "$RTT_MAX_MS"
rss=$(rss_kb "$vpid")
diag "600 sessions from 32 addresses: victim VmRSS $rss KiB"
check "600 sessions from 32 addresses: victim VmRSS under $RSS_MAX_KB KiB" test "${rss:-999999}" -lt "$RSS_MAX_KB"
wait $hp
out=$(cat "$T/many.flood" | tail -n 1)
diag "600 sessions from 32 addresses: $out"
read -r _ opened _ refused _ evicted _ most _ most1 _ left <<<"$out"
check "600 sessions from 32 addresses: the victim kept to 256 sessions (${most:-?} held)" test "${most:-999}" -le 256
check "600 sessions from 32 addresses: the friend was never dropped" \
	test "$(count_events friend '.event=="peer" and .state=="offline"')" -eq 0
check "the victim still runs" alive victim
done_testing
