#!/bin/bash
# t_rooms_send.sh - /send #ROOM PATH... (issue 15): the files go to every
# other member of the room, each its own transfer: at once to those online,
# to the others when they are back, also after the sender restarts (the
# offers are saved); a member kicked before it comes back gets nothing.
# Transfer and offer events name the room.  Headless peers on loopback.
. "$(dirname "$0")/lib.sh"

head -c 200000 /dev/urandom >"$T/plan.bin"
start_peer alice --nick alice --listen 127.0.0.1:0 --download-dir "$T/alice-dl"
start_peer bob --nick bob --listen 127.0.0.1:0
start_peer carol --nick carol --listen 127.0.0.1:0 --download-dir "$T/carol-dl"
start_peer dave --nick dave --listen 127.0.0.1:0 --download-dir "$T/dave-dl"
fa=$(fp_of alice); fb=$(fp_of bob); fc=$(fp_of carol); fd=$(fp_of dave)
for p in bob carol dave; do check "alice connects to $p" connect_pair alice $p; done
check "bob connects to carol" connect_pair bob carol
check "bob connects to dave" connect_pair bob dave
say alice "/room create team"
rid=$(wait_for alice '.event=="room" and .name=="team"' | jq -r .room)
for p in bob carol dave; do say alice "/room invite team $p"; done
for p in bob carol dave; do
	check "$p is invited" wait_for $p ".event==\"room_invite\" and .room==\"$rid\""
	say $p "/room join team"
done
check "bob sees the four members" wait_for bob ".event==\"room\" and .room==\"$rid\" and (.members|length)==4"
say alice "/room create other"
check "alice has a second room, bob not in it" wait_for alice '.event=="room" and .name=="other"'

stop_peer carol
stop_peer dave
check "carol and dave are offline for bob" wait_for bob ".event==\"peer\" and .state==\"offline\" and .fingerprint==\"$fd\""
say bob "/send #nosuch $T/plan.bin"
check "/send to a room one is not in: an error" wait_for bob '.event=="error" and (.message|test("nosuch"))'
say alice "/send #other $T/plan.bin"
check "/send to a room with nobody else: an error" wait_for alice '.event=="error" and (.message|test("nobody else"))'
say bob "/send #team $T/plan.bin"
off=$(wait_for alice ".event==\"offer\" and .from==\"$fb\"")
check "alice, online, gets bob's offer at once, naming the room" test "$(jq -r .room <<<"$off")" = "$rid"
say alice "/accept $(jq -r .id <<<"$off")"
check "alice gets the file" wait_for alice ".event==\"transfer\" and .id==\"$(jq -r .id <<<"$off")\" and .state==\"done\""
check "alice's copy is bob's file" cmp -s "$T/plan.bin" "$T/alice-dl/plan.bin"
for p in carol dave; do
	f=$(fp_of $p)
	check "bob's transfer to $p (offline) waits, in the room" \
		wait_for bob ".event==\"transfer\" and .to==\"$f\" and .room==\"$rid\" and .state==\"waiting\""
done
check "bob's transfer to alice is in the room too" \
	wait_for bob ".event==\"transfer\" and .to==\"$fa\" and .room==\"$rid\" and .state==\"done\""

# The sender restarts: the waiting offers survive, with their room.
stop_peer bob
mv "$T/bob.out" "$T/bob.out.old"
start_peer bob --nick bob --listen 127.0.0.1:0
check "bob restarts" fp_of bob
check "bob's saved transfers name the room" \
	test "$(grep -rl --include='*.out' "^room $rid" "$T/bob" | wc -l)" -eq 2
check "bob meets alice again" connect_pair bob alice

# dave is kicked while offline: bob's offer to him is off.
say alice "/room kick team dave"
check "bob sees dave kicked" wait_for bob ".event==\"room\" and .room==\"$rid\" and (.members|length)==3"
check "bob's transfer to dave is cancelled" \
	wait_for bob ".event==\"transfer\" and .to==\"$fd\" and .room==\"$rid\" and .state==\"cancelled\""

# carol comes back and meets bob: she gets the offer, with the room.
: >"$T/carol.out"
start_peer carol --nick carol --listen 127.0.0.1:0 --download-dir "$T/carol-dl"
say carol "/connect $(addr_of bob)"
off=$(wait_for carol ".event==\"offer\" and .from==\"$fb\"" 20)
check "carol, back, gets bob's offer, naming the room" test "$(jq -r .room <<<"$off")" = "$rid"
say carol "/accept $(jq -r .id <<<"$off")"
check "carol gets the file" wait_for carol ".event==\"transfer\" and .id==\"$(jq -r .id <<<"$off")\" and .state==\"done\"" 20
check "carol's copy is bob's file" cmp -s "$T/plan.bin" "$T/carol-dl/plan.bin"
check "bob sees it done" wait_for bob ".event==\"transfer\" and .to==\"$fc\" and .room==\"$rid\" and .state==\"done\""

# dave comes back and meets bob: he learns he was kicked, and gets no offer.
start_peer dave --nick dave --listen 127.0.0.1:0 --download-dir "$T/dave-dl"
say dave "/connect $(addr_of bob)"
check "dave meets bob" wait_for dave ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fb\"" 10
check "dave learns he was kicked" wait_for dave ".event==\"room\" and .room==\"$rid\" and .state==\"kicked\"" 10
check "dave got no offer" test "$(count_events dave '.event=="offer"')" -eq 0
check "nothing landed in dave's download directory" test -z "$(ls -A "$T/dave-dl" 2>/dev/null)"
check "every event line is valid JSON" jq -e . "$T/bob.out" "$T/carol.out" "$T/dave.out"
done_testing
