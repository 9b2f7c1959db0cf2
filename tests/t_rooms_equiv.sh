#!/bin/bash
# t_rooms_equiv.sh - equivocation in a room (net/PROTOCOL.md 13.4): whoever
# holds bob's key signs two different messages with one seq and gives one to
# alice, the other to carol.  Both must find it, keep the same one, withdraw
# what they showed, show nothing more of bob, and still know it after a
# restart; the rest of the room goes on.
. "$(dirname "$0")/lib.sh"

H=$top_builddir/tests/hostile
start_peer alice --nick alice --listen 127.0.0.1:0
start_peer bob --nick bob --listen 127.0.0.1:0
start_peer carol --nick carol --listen 127.0.0.1:0
fa=$(fp_of alice); fb=$(fp_of bob); fc=$(fp_of carol)
check "alice connects to bob" connect_pair alice bob
check "alice connects to carol" connect_pair alice carol
check "bob connects to carol" connect_pair bob carol
say alice "/room create team"
rid=$(wait_for alice '.event=="room" and .name=="team"' | jq -r .room)
say alice "/room invite team bob"
say alice "/room invite team carol"
check "bob is invited" wait_for bob ".event==\"room_invite\" and .room==\"$rid\""
check "carol is invited" wait_for carol ".event==\"room_invite\" and .room==\"$rid\""
say bob "/room join team"
say carol "/room join team"
check "alice sees the three joined" wait_for alice ".event==\"room\" and .room==\"$rid\" and (.members|length)==3"
check "carol sees the three joined" wait_for carol ".event==\"room\" and .room==\"$rid\" and (.members|length)==3"
say bob "/msg #team before"
check "alice gets bob's first message" wait_for alice '.event=="message" and .text=="before"'
check "carol gets it too" wait_for carol '.event=="message" and .text=="before"'

# bob goes; a forger with his key writes message 2 twice, differently
bpriv=$(sed -n 's/^confab-identity-v1 //p' "$T/bob/identity")
stop_peer bob
check "bob's private key is at hand" test "${#bpriv}" -eq 64
out=$(HOSTILE_PRIV=$bpriv "$H" room-say "$(addr_of alice)" "$rid" 2 1000 "to alice only" 2>&1 </dev/null)
check "the forger, as bob, gives alice message 2 ($(head -n 1 <<<"$out"))" grep -q '^sent 1' <<<"$out"
out=$(HOSTILE_PRIV=$bpriv "$H" room-say "$(addr_of carol)" "$rid" 2 1000 "to carol only" 2>&1 </dev/null)
check "and carol another message 2" grep -q '^sent 1' <<<"$out"
check "alice logs that bob equivocates" poll_until 10 grep -q "$fb equivocates" "$T/alice.log"
check "carol logs it too" poll_until 10 grep -q "$fb equivocates" "$T/carol.log"
mid=$(events alice 'select(.event=="message" and .from=="'"$fb"'" and (.text|startswith("to "))) | .id' | head -n 1 | tr -d '"')
check "alice had shown her message 2 (id $mid)" test -n "$mid"
check "alice withdraws it" wait_for alice ".event==\"withdrawn\" and .room==\"$rid\" and .id==\"$mid\""
check "carol withdraws hers (the same id)" wait_for carol ".event==\"withdrawn\" and .room==\"$rid\" and .id==\"$mid\""
la=$(grep -o "$fb equivocates.*frozen from lamport [0-9]*" "$T/alice.log" | grep -o '[0-9]*$')
lc=$(grep -o "$fb equivocates.*frozen from lamport [0-9]*" "$T/carol.log" | grep -o '[0-9]*$')
check "both froze bob at the same lamport ($la, $lc)" test -n "$la" -a "$la" = "$lc"

# what bob's key writes from now on counts nowhere; the others go on
HOSTILE_PRIV=$bpriv "$H" room-say "$(addr_of alice)" "$rid" 3 1001 "after the proof" >/dev/null 2>&1 </dev/null
say carol "/msg #team carol goes on"
check "alice gets carol's next message" wait_for alice '.event=="message" and .text=="carol goes on"'
check "alice showed nothing of bob's after the proof" \
	test "$(count_events alice '.event=="message" and .text=="after the proof"')" -eq 0
check "before stays shown: nothing of bob's earlier was withdrawn" \
	test "$(count_events alice '.event=="withdrawn"')" -eq 1

# the proof is on disk: after a restart alice still refuses bob's key
stop_peer alice
: >"$T/alice.out.old"; mv "$T/alice.out" "$T/alice.out.old"
start_peer alice --nick alice --listen 127.0.0.1:0
say alice "/connect $(addr_of carol)"
check "alice meets carol again" wait_for alice ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fc\"" 10
HOSTILE_PRIV=$bpriv "$H" room-say "$(addr_of alice)" "$rid" 4 1002 "after the restart" >/dev/null 2>&1 </dev/null
say carol "/msg #team still here"
check "alice gets carol's message after her restart" wait_for alice '.event=="message" and .text=="still here"'
check "alice, restarted, shows nothing of bob's key either" \
	test "$(count_events alice '.event=="message" and .from=="'"$fb"'"')" -eq 0
check "no member was dropped as forged" test "$(cat "$T"/alice.log "$T"/carol.log | grep -c 'bad signature')" -eq 0
check "every event line is valid JSON" jq -e . "$T/alice.out" "$T/carol.out"
done_testing
