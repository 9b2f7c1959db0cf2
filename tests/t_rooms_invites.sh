#!/bin/bash
# t_rooms_invites.sh - invitation spam (net/PROTOCOL.md 13.7): strangers who
# send bob room after room, each with an INVITE of him, must not push out a
# friend's invitation nor fill his rooms: at most ROOM_INVITES_PEER (3)
# unanswered invitations per inviter, ROOM_INVITES_STRANGERS (4) from
# strangers together, ROOM_INVITES_MAX (8) in all.
. "$(dirname "$0")/lib.sh"

H=$top_builddir/tests/hostile
start_peer alice --nick alice --listen 127.0.0.1:0
start_peer bob --nick bob --listen 127.0.0.1:0
fa=$(fp_of alice)
check "bob connects to alice (a friend now)" connect_pair bob alice
nrooms() { find "$T/bob/rooms" -name '*.log' 2>/dev/null | wc -l; }

out=$(HOSTILE_KEY=spam1 "$H" room-invites "$(addr_of bob)" 20 2>&1 </dev/null)
check "a stranger sends bob 20 invitations ($(head -n 1 <<<"$out")): the session stays open" grep -q open <<<"$out"
check "bob keeps at most 3 of them (on disk: $(nrooms))" poll_until 5 test "$(nrooms)" -eq 3
for k in 2 3; do
	HOSTILE_KEY=spam$k "$H" room-invites "$(addr_of bob)" 20 >/dev/null 2>&1 </dev/null
done
check "two more strangers' 40: bob keeps 4 from strangers in all ($(nrooms))" poll_until 5 test "$(nrooms)" -eq 4
check "bob says why he dropped the others" grep -q "invitation dropped to make room" "$T/bob.log"

say alice "/room create real"
rid=$(wait_for alice '.event=="room" and .name=="real"' | jq -r .room)
say alice "/room invite real bob"
check "alice's invitation reaches bob all the same" \
	wait_for bob ".event==\"room_invite\" and .room==\"$rid\" and .from==\"$fa\""
HOSTILE_KEY=spam4 "$H" room-invites "$(addr_of bob)" 20 >/dev/null 2>&1 </dev/null
check "after 20 more from a fourth stranger, bob holds 5 invitations ($(nrooms))" poll_until 5 test "$(nrooms)" -eq 5
check "alice's is still on disk" test -s "$T/bob/rooms/$rid.log"
say bob "/room join real"
check "bob joins alice's room" wait_for alice ".event==\"room\" and .room==\"$rid\" and (.members|length)==2"
say alice "/msg #real it worked"
check "and gets her message" wait_for bob '.event=="message" and .text=="it worked"'
say bob "/room create mine"
check "bob can still make a room of his own" wait_for bob '.event=="room" and .name=="mine" and .state=="joined"'
check "bob is still running" alive bob
check "every event line is valid JSON" jq -e . "$T/bob.out"
done_testing
