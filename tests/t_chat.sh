#!/bin/bash
# t_chat.sh - two headless peers on loopback: connect, 1,000 messages each way,
# every one shown exactly once, in order, and acknowledged.
. "$(dirname "$0")/lib.sh"

start_peer alice --nick alice --listen 127.0.0.1:0
start_peer bob --nick bob --listen 127.0.0.1:0
fa=$(fp_of alice); fb=$(fp_of bob)
check "alice is ready with a 52-character fingerprint" test "${#fa}" -eq 52
check "bob's fingerprint differs from alice's" test "$fa" != "$fb"
check "confab id prints the same fingerprint" test "$("$CONFAB" id --home "$T/alice")" = "$fa"

check "alice connects to bob; both see each other online" connect_pair alice bob
peer_line=$(wait_for alice ".event==\"peer\" and .state==\"online\"")
check "alice sees bob's nick from HELLO" test "$(jq -r .nick <<<"$peer_line")" = bob

# One message, then 1,000 each way at once.
say alice "/msg bob hello bob"
m=$(wait_for bob '.event=="message" and .text=="hello bob"')
check "bob receives a message with sender and id" test "$(jq -r .from <<<"$m")" = "$fa"
sent_id=$(wait_for alice '.event=="sent"' | jq -r .id)
check "the sent id matches the received id" test "$sent_id" = "$(jq -r .id <<<"$m")"
check "alice sees it delivered" wait_for alice ".event==\"delivered\" and .id==\"$sent_id\""

N=1000
for i in $(seq $N); do echo "/msg bob a-$i"; done >&"${PEER_FD[alice]}" &
w1=$!
for i in $(seq $N); do echo "/msg $fa b-$i"; done >&"${PEER_FD[bob]}" &
w2=$!
wait $w1 $w2
check "alice sees all $N+1 of hers delivered" wait_count alice '.event=="delivered"' $((N + 1)) 60
check "bob sees all $N of his delivered" wait_count bob '.event=="delivered"' $N 60

got_b=$(events bob 'select(.event=="message" and (.text|startswith("a-"))) | .text')
want=$(for i in $(seq $N); do echo "\"a-$i\""; done)
check "bob got a-1..a-$N exactly once each, in order" test "$got_b" = "$want"
got_a=$(events alice 'select(.event=="message" and (.text|startswith("b-"))) | .text')
want=$(for i in $(seq $N); do echo "\"b-$i\""; done)
check "alice got b-1..b-$N exactly once each, in order" test "$got_a" = "$want"

dup=$(events bob 'select(.event=="message") | .id' | sort | uniq -d | wc -l)
check "no message id shown twice" test "$dup" -eq 0
sent=$(events alice 'select(.event=="sent") | .id' | sort)
deliv=$(events alice 'select(.event=="delivered") | .id' | sort)
check "every sent id is delivered exactly once" test "$sent" = "$deliv"

# Errors answer the command that caused them.
say alice "/msg nobody hi"
e=$(wait_for alice '.event=="error" and .command=="/msg nobody hi"')
check "an unknown peer gives an error naming the command" test -n "$e"
say alice "/frobnicate"
check "an unknown command gives an error" wait_for alice '.event=="error" and .command=="/frobnicate"'
say alice "/msg bo"
check "a bad usage gives an error" wait_for alice '.event=="error" and .command=="/msg bo"'

# Nick change reaches the peer.
say alice "/nick alicia"
check "bob sees alice's new nick" wait_for bob '.event=="peer" and .nick=="alicia"'

# A fingerprint prefix names a peer; a 3-character one is refused.
say bob "/msg ${fa:0:6} by prefix"
check "a 6-character fingerprint prefix names a peer" wait_for alice '.event=="message" and .text=="by prefix"'
say bob "/msg ${fa:0:3} too short"
check "a 3-character prefix is refused" wait_for bob '.event=="error" and (.message|test("too short"))'

# /quit: bob sees alice go offline at once, and alice exits 0.
say alice "/quit"
stop_peer alice; rc=$?
check "alice exits 0 after /quit" test $rc -eq 0
check "bob sees alice offline" wait_for bob ".event==\"peer\" and .state==\"offline\" and .fingerprint==\"$fa\"" 3
check "every event line is valid JSON" jq -e . "$T/alice.out" "$T/bob.out"
done_testing
