#!/bin/bash
# rooms_catchup.sh - catch-up speed of a group room (issue 15): a member back
# after missing N messages (10,000 by default) is current in < 5 s.  Three
# headless peers on loopback (--no-discovery --no-nat): alice writes N
# messages to #team while carol is offline, bob gets them, alice quits; carol
# comes back and meets only bob.  Prints the time from carol's start and from
# her session with bob coming online to carol holding all N, and checks that
# she got each exactly once and in order.  Not part of make check (timed).
# Usage: tests/bench/rooms_catchup.sh [BUILDDIR [N]]  (default ../../build, 10000)
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
N=${2:-10000}
CONFAB=$build/confab
. "$here/../lib.sh"

# now_ms: the monotonic-enough wall clock in milliseconds.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# nmsg NAME: how many m- room messages a peer printed.
nmsg() { grep -c '"event":"message".*"text":"m-' "$T/$1.out"; }
# wait_n NAME N SECS: poll (20 ms) until NAME printed N messages.
wait_n() {
	local end=$((SECONDS + $3))
	while [ "$(nmsg "$1")" -lt "$2" ]; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.02
	done
}

for p in alice bob carol; do
	mkdir -p "$T/$p"
	printf 'history_lines = %d\n' $((N * 2)) >"$T/$p/config"
done
start_peer alice --nick alice --listen 127.0.0.1:0
start_peer bob --nick bob --listen 127.0.0.1:0
start_peer carol --nick carol --listen 127.0.0.1:0
check "alice connects to bob" connect_pair alice bob
check "alice connects to carol" connect_pair alice carol
say alice "/room create team"
rid=$(wait_for alice '.event=="room" and .name=="team"' | jq -r .room)
say alice "/room invite team bob"
say alice "/room invite team carol"
check "bob is invited" wait_for bob ".event==\"room_invite\" and .room==\"$rid\""
check "carol is invited" wait_for carol ".event==\"room_invite\" and .room==\"$rid\""
say bob "/room join team"
say carol "/room join team"
check "alice sees three members" wait_for alice ".event==\"room\" and (.members|length)==3"
stop_peer carol
t0=$(now_ms)
for i in $(seq "$N"); do echo "/msg #team m-$i"; done >&"${PEER_FD[alice]}"
check "bob has alice's $N messages" wait_n bob "$N" 600
diag "alice wrote and bob got $N messages in $(( $(now_ms) - t0 )) ms"
stop_peer alice
mv "$T/carol.out" "$T/carol.out.old"
: >"$T/carol.out"
t0=$(now_ms)
start_peer carol --nick carol --listen 127.0.0.1:0
say carol "/connect $(addr_of bob)"
wait_for carol ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$(fp_of bob)\"" 30 >/dev/null
t1=$(now_ms)
check "carol holds all $N" wait_n carol "$N" 600
t2=$(now_ms)
diag "carol: start to online $((t1 - t0)) ms; online to all $N messages $((t2 - t1)) ms; start to all $((t2 - t0)) ms"
got=$(jq -r 'select(.event=="message" and (.text|startswith("m-"))) | .text' "$T/carol.out")
want=$(seq -f 'm-%g' "$N")
check "exactly once each, in order" test "$got" = "$want"
check "start to current in < 5 s ($((t2 - t0)) ms)" test $((t2 - t0)) -lt 5000
done_testing
