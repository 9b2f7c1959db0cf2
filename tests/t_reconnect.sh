#!/bin/bash
# t_reconnect.sh - a peer killed and restarted: reconnection, chat again,
# queued messages delivered once, retransmissions never shown twice, and a
# clean exit on SIGTERM seen by the other side at once.
. "$(dirname "$0")/lib.sh"
HOSTILE=${top_builddir:-$(dirname "$0")/..}/tests/hostile

start_peer alice --nick alice --listen 127.0.0.1:0
start_peer bob --nick bob --listen 127.0.0.1:0
fa=$(fp_of alice); fb=$(fp_of bob)
check "alice and bob connect" connect_pair alice bob
say alice "/msg bob before the crash"
check "bob gets the first message" wait_for bob '.event=="message" and .text=="before the crash"'

# kill -9: no goodbye, alice notices through the closed connection
kill_peer bob 9
check "alice sees bob offline after kill -9" \
	wait_for alice ".event==\"peer\" and .state==\"offline\" and .fingerprint==\"$fb\"" 5

# messages to an offline peer are queued
say alice "/msg bob while you were away"
q=$(wait_for alice '.event=="sent" and .queued==true')
check "a message to an offline peer is queued" test -n "$q"

# bob comes back with the same identity on a new port
: >"$T/bob.out"
start_peer bob --nick bob --listen 127.0.0.1:0
check "bob restarts with the same fingerprint" test "$(fp_of bob)" = "$fb"
say alice "/connect $(addr_of bob)"
check "alice sees bob online again" wait_count alice ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fb\"" 2 10
check "the queued message arrives after reconnecting" \
	wait_for bob '.event=="message" and .text=="while you were away"' 10
qid=$(jq -r .id <<<"$q")
check "and is acknowledged" wait_for alice ".event==\"delivered\" and .id==\"$qid\""
say bob "/msg alice chatting again"
check "chat works both ways after the restart" wait_for alice '.event=="message" and .text=="chatting again"'
check "the queued message was shown exactly once" test "$(count_events bob '.event=="message" and .text=="while you were away"')" -eq 1

# a retransmission of the same message id on a new session is not shown twice
out=$("$HOSTILE" resend "$(addr_of bob)" "said twice")
check "a resent message id is shown once" test "$(count_events bob '.event=="message" and .text=="said twice"')" -eq 1

# both connect to each other at once: they settle on one session and chat
start_peer carol --nick carol --listen 127.0.0.1:0
fc=$(fp_of carol)
ca=$(addr_of carol); ba=$(addr_of bob)
say bob "/connect $ca"; say carol "/connect $ba"
wait_for bob ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fc\"" 5 >/dev/null
wait_for carol ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fb\"" 5 >/dev/null
sleep 0.5
say bob "/msg carol after crossing connects"
check "§5.6 crossing connects (one session kept): chat works" wait_for carol '.event=="message" and .text=="after crossing connects"'
say carol "/msg bob reply"
check "crossing connects: the reply arrives" wait_for bob '.event=="message" and .text=="reply"'
check "crossing connects: carol is not shown offline" \
	test "$(count_events bob ".event==\"peer\" and .state==\"offline\" and .fingerprint==\"$fc\"")" -eq 0

# SIGTERM: a clean exit, and the other side sees it at once
t0=$(date +%s%N)
kill_peer bob TERM
check "§5.6 alice sees bob offline at once after SIGTERM (BYE 0)" \
	wait_for alice ".event==\"peer\" and .state==\"offline\" and .reason==\"peer quit\"" 2
t1=$(date +%s%N)
diag "offline seen $(( (t1 - t0) / 1000000 )) ms after SIGTERM"
check "the log of bob records a clean quit" grep -q "signal 15: quitting" "$T/bob.log"
# keepalive: a peer that stops answering (SIGSTOP) is dropped after 3 keepalives
start_peer dave --nick dave --listen 127.0.0.1:0 --keepalive 1
start_peer erin --nick erin --listen 127.0.0.1:0
check "dave and erin connect" connect_pair dave erin
sleep 2.5
check "an idle pair stays connected across keepalive pings" \
	test "$(count_events dave '.event=="peer" and .state=="offline"')" -eq 0
kill -STOP "${PEER_PID[erin]}"
t0=$(date +%s%N)
check "§5.5 dave drops the silent erin with a timeout" \
	wait_for dave '.event=="peer" and .state=="offline" and .reason=="peer timed out"' 8
t1=$(date +%s%N)
diag "silent peer dropped after $(( (t1 - t0) / 1000000 )) ms (keepalive 1 s, timeout 3 s)"
kill -CONT "${PEER_PID[erin]}"

say alice "/quit"
stop_peer alice
check "alice exits 0" test $? -eq 0
done_testing
