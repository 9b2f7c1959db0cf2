#!/bin/bash
# t_memory.sh - history survives a restart; messages to an offline peer wait on
# disk and arrive exactly once, in order, even when the sender is killed -9 at
# random moments during delivery.
. "$(dirname "$0")/lib.sh"

# Below Linux's default ephemeral range (32768-60999), so that no port the
# kernel hands out (to other tests' connections and port-0 listeners) is ours.
base=$((20000 + (RANDOM % 120) * 100))
pa=$((base + 1)); pb=$((base + 2))
start_peer alice --nick alice --listen 127.0.0.1:$pa
start_peer bob --nick bob --listen 127.0.0.1:$pb
fa=$(fp_of alice); fb=$(fp_of bob)
check "alice and bob connect" connect_pair alice bob
say alice "/msg bob one"
wait_for bob '.event=="message" and .text=="one"' >/dev/null
say bob "/msg alice two"
wait_for alice '.event=="message" and .text=="two"' >/dev/null
say alice "/msg bob $(printf 'three\twith a tab')"
wait_count bob '.event=="message"' 2 10 >/dev/null
wait_count alice '.event=="delivered"' 2 10 >/dev/null

# history survives a restart
say alice "/quit"; stop_peer alice
check "the history file has mode 0600" test "$(stat -c %a "$T/alice/history/$fb")" = 600
: >"$T/alice.out"
start_peer alice --nick alice --listen 127.0.0.1:$pa
say alice "/history bob"
wait_count alice '.event=="history"' 3 10
h=$(events alice 'select(.event=="history") | "\(.kind) \(.text)"')
check "history after a restart: in order, both directions" \
	test "$h" = "$(printf '"out one"\n"in two"\n"out three\\twith a tab"')"
check "history marks our messages delivered" \
	test "$(events alice 'select(.event=="history" and .kind=="out") | .state' | sort -u)" = '"delivered"'
check "alice reconnects to bob by herself" \
	wait_for alice ".event==\"peer\" and .fingerprint==\"$fb\" and .state==\"online\"" 15

# 100 messages to an offline peer: on disk, delivered once each, in order
say bob "/quit"; stop_peer bob
wait_for alice ".event==\"peer\" and .fingerprint==\"$fb\" and .state==\"offline\"" 5 >/dev/null
for i in $(seq 100); do echo "/msg bob q-$i"; done >&"${PEER_FD[alice]}"
check "all 100 are queued" wait_count alice '.event=="sent" and .queued==true' 100 10
# the queue survives the sender's restart too
say alice "/quit"; stop_peer alice
check "the queue is on disk" test "$(grep -c '^Q ' "$T/alice/queue/$fb")" -eq 100
: >"$T/alice.out"
start_peer alice --nick alice --listen 127.0.0.1:$pa
: >"$T/bob.out"
start_peer bob --nick bob --listen 127.0.0.1:$pb
check "bob gets all 100 once he is back" wait_count bob '.event=="message" and (.text|startswith("q-"))' 100 30
got=$(events bob 'select(.event=="message" and (.text|startswith("q-"))) | .text')
check "exactly once each, in order" test "$got" = "$(for i in $(seq 100); do echo "\"q-$i\""; done)"
check "the queue file is emptied after the acknowledgements" poll_until 10 test ! -s "$T/alice/queue/$fb"

# kill -9 of the sender at random moments while the queue drains, many times
rounds=12
total=0
for r in $(seq $rounds); do
	say bob "/quit"; stop_peer bob
	n0=$(count_events alice '.event=="sent"')
	for i in $(seq 30); do echo "/msg bob k$r-$i"; done >&"${PEER_FD[alice]}"
	wait_count alice '.event=="sent"' $((n0 + 30)) 10 >/dev/null
	total=$((total + 30))
	start_peer bob --nick bob --listen 127.0.0.1:$pb
	sleep "$((RANDOM % 2)).$((RANDOM % 10))"
	kill_peer alice 9
	start_peer alice --nick alice --listen 127.0.0.1:$pa
	wait_for alice '.event=="ready"' 5 >/dev/null
done
check "after $rounds kill -9s of the sender, all $total arrive" \
	wait_count bob '.event=="message" and (.text|startswith("k"))' $total 60
got=$(events bob 'select(.event=="message" and (.text|startswith("k"))) | .text' | tr -d '"')
check "no message was shown twice" test -z "$(sort <<<"$got" | uniq -d)"
want=$(for r in $(seq $rounds); do for i in $(seq 30); do echo "k$r-$i"; done; done)
check "and they came in the order they were written" test "$got" = "$want"
check "bob's seen-id file has mode 0600" test "$(stat -c %a "$T/bob/seen/$fa")" = 600
done_testing
