#!/bin/bash
# t_rooms_heal.sh - a room split in two and healed (issue 15, guarantee 5;
# net/PROTOCOL.md 13.5): a room of four (alice the creator, bob, carol, dave)
# is cut into {alice,bob} and {carol,dave} (all four stop, each forgets the
# other half's addresses, and restarts on a new port and meets only its half
# again, so that nobody can reconnect across); while
# split, each half changes the membership and talks: alice invites erin, who
# joins, and kicks bob; dave invites fred, who joins, and carol leaves.  Then
# one link heals it (alice connects to dave) and every remaining member must
# show the same members and hold the same messages, each exactly once, and
# bob (kicked) and carol (left) get nothing written after.  A second room,
# #edge (alice, carol, dave), has its creator kick dave across the split
# while dave writes on in his half: once healed, dave is out everywhere and
# his messages that sort after the kick are not valid (13.5).
. "$(dirname "$0")/lib.sh"

# halt NAME: stop a peer (its events so far go to $T/NAME.out.old).
halt() {
	stop_peer "$1"
	cat "$T/$1.out" >>"$T/$1.out.old"; : >"$T/$1.out"
}

# relaunch NAME: start a halted peer again on a new port.
relaunch() {
	start_peer "$1" --nick "$1" --listen 127.0.0.1:0
	fp_of "$1" >/dev/null
}

# forget_addrs NAME FP...: while NAME is stopped, blank the address its
# peers file keeps for each FP (field 6; the key and trust stay known), so
# that its reconnect timers have nowhere to call them.  (A peer that never
# dialled anyone may have no peers file: then it knows no address.)
forget_addrs() {
	local f=${PEER_HOME[$1]}/peers fp
	shift
	test -e "$f" || return 0
	for fp in "$@"; do
		awk -F '\t' -v OFS='\t' -v fp="$fp" '$1 == fp { $6 = "-" } { print }' "$f" >"$f.new" &&
			cat "$f.new" >"$f" && rm -f "$f.new" || return 1
	done
}

# no_addr NAME FP...: NAME's peers file (if any) holds no address for any FP.
no_addr() {
	local f=${PEER_HOME[$1]}/peers fp
	shift
	test -e "$f" || return 0
	for fp in "$@"; do
		awk -F '\t' -v fp="$fp" '$1 == fp && $6 != "-" { bad = 1 } END { exit bad }' "$f" || return 1
	done
}

# ids NAME: the ids of every room message NAME showed or wrote, since it first
# started, sorted.
ids() {
	cat "$T/$1.out.old" "$T/$1.out" 2>/dev/null |
		jq -r "select((.event==\"message\" or .event==\"sent\") and .room==\"$rid\") | .id" | sort
}

# room_order NAME [ROOM]: NAME's room log (default: #team's) (rooms/ID.log: u16 length, record, ...;
# the record as in net/PROTOCOL.md 13.2), one event a line in the room's
# total order (13.3: lamport, author key, seq): "lamport author seq kind
# text" (text: a MSG's, else empty).
room_order() {
	od -An -v -tx1 "${PEER_HOME[$1]}/rooms/${2:-$rid}.log" | tr -s ' \n' '\n' | grep . | awk '
	function num(i, k,   v, j) { v = 0; for (j = 0; j < k; j++) v = v * 256 + h[b[i + j]]; return v }
	BEGIN { for (i = 0; i < 256; i++) h[sprintf("%02x", i)] = i }
	{ b[n++] = $1 }
	END {
		off = 0
		while (off + 2 <= n) {
			len = num(off, 2); r = off + 2
			if (len < 1 + 16 + 32 + 24 + 1 + 2 + 64 || r + len > n) { print "bad record at " off; exit 1 }
			author = ""; for (j = 0; j < 32; j++) author = author b[r + 17 + j]
			seq = num(r + 49, 8); lamport = num(r + 57, 8); kind = h[b[r + 73]]
			blen = num(r + 74, 2); text = ""
			if (kind == 2) for (j = 0; j < blen; j++) text = text sprintf("%c", h[b[r + 76 + j]])
			printf "%d %s %d %d %s\n", lamport, author, seq, kind, text
			off = r + len
		}
	}' | LC_ALL=C sort -k1,1n -k2,2 -k3,3n
}

# members NAME: the members NAME's latest room event lists, sorted, one line.
members() {
	events "$1" "select(.event==\"room\" and .room==\"$rid\")" | tail -n 1 | jq -c '.members | sort'
}

# agreed: alice, dave, erin and fred all list WANT as the members.
agreed() {
	local p
	for p in alice dave erin fred; do
		[ "$(members $p)" = "$want" ] || return 1
	done
}

# have_all: the four remaining members hold the same N message ids.
have_all() {
	local p
	for p in alice dave erin fred; do
		[ "$(ids $p | wc -l)" -eq "$1" ] || return 1
	done
}

for p in alice bob carol dave; do start_peer $p --nick $p --listen 127.0.0.1:0; done
fa=$(fp_of alice); fb=$(fp_of bob); fc=$(fp_of carol); fd=$(fp_of dave)
for p in bob carol dave; do check "alice connects to $p" connect_pair alice $p; done
check "bob connects to carol" connect_pair bob carol
check "carol connects to dave" connect_pair carol dave

say alice "/room create team"
rid=$(wait_for alice '.event=="room" and .name=="team" and .state=="joined"' | jq -r .room)
check "alice creates #team" test -n "$rid"
for p in bob carol dave; do say alice "/room invite team $p"; done
for p in bob carol dave; do
	check "$p is invited" wait_for $p ".event==\"room_invite\" and .room==\"$rid\""
	say $p "/room join team"
done
for p in alice bob carol dave; do
	check "$p sees the four members" wait_for $p ".event==\"room\" and .room==\"$rid\" and (.members|length)==4"
done
say alice "/msg #team before the split"
for p in bob carol dave; do
	check "$p gets the message written before the split" wait_for $p '.event=="message" and .text=="before the split"'
done

# A second room, #edge (alice, carol, dave), for a kick across the split.
say alice "/room create edge"
eid=$(wait_for alice '.event=="room" and .name=="edge" and .state=="joined"' | jq -r .room)
check "alice creates #edge" test -n "$eid"
for p in carol dave; do
	say alice "/room invite edge $p"
	check "$p is invited to #edge" wait_for $p ".event==\"room_invite\" and .room==\"$eid\""
	say $p "/room join edge"
done
check "alice sees carol and dave in #edge" wait_for alice ".event==\"room\" and .room==\"$eid\" and (.members|length)==3"
check "dave sees the three in #edge" wait_for dave ".event==\"room\" and .room==\"$eid\" and (.members|length)==3"

# The split: all four stop before any starts again (were one still running
# at its old address, a restarted peer's reconnect timer could reach it
# there), and while stopped each forgets where the other half listened, so
# that no reconnect timer can cross; then everyone starts on a new port and
# each half meets again.
for p in alice bob carol dave; do halt $p; done
for p in alice bob; do forget_addrs $p "$fc" "$fd"; done
for p in carol dave; do forget_addrs $p "$fa" "$fb"; done
check "split: alice and bob hold no address of carol or dave" \
	eval 'no_addr alice "$fc" "$fd" && no_addr bob "$fc" "$fd"'
check "split: carol and dave hold no address of alice or bob" \
	eval 'no_addr carol "$fa" "$fb" && no_addr dave "$fa" "$fb"'
for p in alice bob carol dave; do relaunch $p; done
check "alice meets bob again" connect_pair alice bob
check "carol meets dave again" connect_pair carol dave
sleep 1   # give a stray cross-half reconnect the time it would need to show
check "split: alice is not connected to carol or dave" \
	test "$(count_events alice ".event==\"peer\" and .state==\"online\" and (.fingerprint==\"$fc\" or .fingerprint==\"$fd\")")" -eq 0
check "split: bob is not connected to carol or dave" \
	test "$(count_events bob ".event==\"peer\" and .state==\"online\" and (.fingerprint==\"$fc\" or .fingerprint==\"$fd\")")" -eq 0

start_peer erin --nick erin --listen 127.0.0.1:0
start_peer fred --nick fred --listen 127.0.0.1:0
fe=$(fp_of erin); ff=$(fp_of fred)
check "erin connects to alice" connect_pair erin alice
check "fred connects to dave" connect_pair fred dave

# While split: membership changes on both sides, messages on both sides.
say alice "/room invite team erin"
say dave "/room invite team fred"
check "erin is invited by alice" wait_for erin ".event==\"room_invite\" and .room==\"$rid\" and .from==\"$fa\""
check "fred is invited by dave" wait_for fred ".event==\"room_invite\" and .room==\"$rid\" and .from==\"$fd\""
say erin "/room join team"
say fred "/room join team"
check "alice sees erin join (5 members on her side)" \
	wait_for alice ".event==\"room\" and .room==\"$rid\" and (.members|index(\"$fe\"))!=null"
check "dave sees fred join (5 members on his side)" \
	wait_for dave ".event==\"room\" and .room==\"$rid\" and (.members|index(\"$ff\"))!=null"
say carol "/msg #team carol before leaving"
check "dave gets carol's message" wait_for dave '.event=="message" and .text=="carol before leaving"'
say carol "/room leave team"
check "carol has left" wait_for carol ".event==\"room\" and .room==\"$rid\" and .state==\"left\""
say bob "/msg #team bob in the split"
check "alice gets bob's message" wait_for alice '.event=="message" and .text=="bob in the split"'
say alice "/room kick team bob"
check "bob learns he was kicked" wait_for bob ".event==\"room\" and .room==\"$rid\" and .state==\"kicked\""
check "erin sees bob kicked" wait_for erin ".event==\"room\" and .room==\"$rid\" and (.members|index(\"$fb\"))==null"
check "dave and fred see carol gone" wait_for fred ".event==\"room\" and .room==\"$rid\" and (.members|index(\"$fc\"))==null"
for i in 1 2 3; do
	say alice "/msg #team alice split $i"
	say erin "/msg #team erin split $i"
	say dave "/msg #team dave split $i"
	say fred "/msg #team fred split $i"
done
check "erin has alice's split messages" wait_count erin '.event=="message" and (.text|startswith("alice split"))' 3
check "fred has dave's split messages" wait_count fred '.event=="message" and (.text|startswith("dave split"))' 3
check "split: erin has nothing of the other half" \
	test "$(count_events erin '.event=="message" and (.text|test("^(dave|fred) split"))')" -eq 0
check "split: fred has nothing of the other half" \
	test "$(count_events fred '.event=="message" and (.text|test("^(alice|erin) split"))')" -eq 0
# #edge: alice writes twice and kicks dave, who does not know it and writes
# on in his half, where carol reads him.
say alice "/msg #edge edge a1"
say alice "/msg #edge edge a2"
say alice "/room kick edge dave"
check "alice kicked dave from #edge" wait_for alice ".event==\"room\" and .room==\"$eid\" and (.members|length)==2"
for i in 1 2 3 4 5 6; do say dave "/msg #edge edge d$i"; done
check "carol reads dave's six in #edge" wait_count carol '.event=="message" and (.text|startswith("edge d"))' 6
diag "alice's side: $(members alice)"
diag "dave's side:  $(members dave)"

# The heal: one link across.
want=$(jq -cn --arg a "$fa" --arg d "$fd" --arg e "$fe" --arg f "$ff" '[$a,$d,$e,$f] | sort')
t0=$(date +%s%N)
say alice "/connect $(addr_of dave)"
check "alice and dave meet across the split" \
	wait_for alice ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fd\"" 10
for p in alice dave erin fred; do say $p "/room members team"; done
ok=0
poll_until 20 agreed && ok=1
t1=$(date +%s%N)
if [ $ok = 1 ]; then
	# 1 before the split, bob's, carol's, 12 split messages
	poll_until 20 have_all 15 || true
fi
t2=$(date +%s%N)
for p in alice dave erin fred; do say $p "/room members team"; done
poll_until 5 agreed || true
for p in alice dave erin fred; do diag "$p lists $(members $p)"; done
check "healed: alice, dave, erin and fred list the same four members" agreed
diag "members agreed $(( (t1 - t0) / 1000000 )) ms after the heal's /connect"
check "members agree within 5 s of the heal" test $(( (t1 - t0) / 1000000 )) -lt 5000
for p in alice dave erin fred; do diag "$p holds $(ids $p | wc -l) messages ($(ids $p | uniq -d | wc -l) twice)"; done
check "healed: every remaining member holds the same 15 messages" have_all 15
diag "messages agreed $(( (t2 - t0) / 1000000 )) ms after the heal's /connect"
check "each message exactly once everywhere" \
	test "$(for p in alice dave erin fred; do ids $p | uniq -d; done | wc -l)" -eq 0
check "the same messages everywhere" \
	test "$(ids alice)" = "$(ids dave)" -a "$(ids alice)" = "$(ids erin)" -a "$(ids alice)" = "$(ids fred)"
for p in alice dave erin fred; do
	for a in alice erin dave fred; do
		[ $a = $p ] && continue
		got=$(cat "$T/$p.out.old" "$T/$p.out" 2>/dev/null | jq -r "select(.event==\"message\" and (.text|startswith(\"$a split\"))) | .text" | tr '\n' ' ')
		check "$p shows $a's split messages in $a's order" test "$got" = "$a split 1 $a split 2 $a split 3 "
	done
done
diag "erin marked $(count_events erin '.event=="message" and .late==true') of the other half's messages late, fred $(count_events fred '.event=="message" and .late==true')"

# #edge healed: the creator's kick across the split is final; dave's
# messages that sort after it are not valid (13.5) and no member shows them.
ekick=$(room_order alice "$eid" | awk '$4 == 7 { print $1; exit }')
ek=$(room_order alice "$eid" | awk '$4 == 2 && $5 == "edge" && $6 ~ /^d/ { print $2; exit }')
check "carol learns in the heal that dave was kicked from #edge" \
	wait_for carol ".event==\"room\" and .room==\"$eid\" and (.members|length)==2 and (.members|index(\"$fd\"))==null"
check "dave learns it too" wait_for dave ".event==\"room\" and .room==\"$eid\" and .state==\"kicked\""
poll_until 5 cmp -s <(room_order alice "$eid") <(room_order carol "$eid") || true
check "alice and carol hold #edge's events in the same order" cmp -s <(room_order alice "$eid") <(room_order carol "$eid")
after=$(room_order alice "$eid" | awk -v d="$ek" '$4 == 7 { kicked = 1 } kicked && $4 == 2 && $2 == d { print $6 }' | tr '\n' ' ')
diag "the kick has lamport $ekick; dave's messages that sort after it: $after"
check "some of dave's #edge messages sort after his kick" test -n "$after"
check "alice shows none of them" \
	test "$(count_events alice ".event==\"message\" and .room==\"$eid\" and (.text|startswith(\"edge d\"))")" -eq "$(( 6 - $(wc -w <<<"$after") ))"
ncar=$(cat "$T/carol.out.old" "$T/carol.out" | jq -c "select(.room==\"$eid\" and .event==\"message\" and (.text|startswith(\"edge d\")))" | wc -l)
diag "carol showed $ncar of dave's six during the split"
# 13.5: the ones the heal made invalid are withdrawn from carol's view, with
# an event per message (the ids carol was shown them under), and no others.
want_w=$(for w in $after; do cat "$T/carol.out.old" "$T/carol.out" 2>/dev/null |
	jq -r "select(.event==\"message\" and .room==\"$eid\" and .text==\"edge $w\") | .id"; done | sort)
got_w() { cat "$T/carol.out.old" "$T/carol.out" 2>/dev/null |
	jq -r "select(.event==\"withdrawn\" and .room==\"$eid\") | .id" | sort; }
withdrawn_ok() { [ -n "$want_w" ] && [ "$(got_w)" = "$want_w" ]; }
poll_until 5 withdrawn_ok || true
diag "carol: withdrawn $(got_w | tr '\n' ' ')(want $(tr '\n' ' ' <<<"$want_w"))"
check "carol is told that dave's messages after the kick are withdrawn (PROTOCOL.md 13.5)" \
	withdrawn_ok
check "alice withdraws nothing (she never showed them)" \
	test "$(count_events alice '.event=="withdrawn"')" -eq 0
check "carol meets alice again (dave, kicked, no longer carries #edge)" connect_pair carol alice
say alice "/msg #edge edge after the heal"
check "carol gets alice's #edge message after the heal" wait_for carol '.event=="message" and .text=="edge after the heal"'
check "dave gets nothing of #edge written after the heal" \
	test "$(count_events dave '.event=="message" and .text=="edge after the heal"')" -eq 0

# After the heal: bob (kicked) and carol (left) get nothing written after,
# whoever writes and whatever link it takes.
check "carol still meets dave" wait_for dave ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fc\"" 1
for p in alice dave erin fred; do say $p "/msg #team $p after the heal"; done
for p in alice dave erin fred; do
	check "$p gets the other three messages written after the heal" \
		wait_count $p '.event=="message" and (.text|endswith("after the heal"))' 3
done
# The same order everywhere: the events each member logged, in the room's
# total order, are the same list on the four.
for p in alice dave erin fred; do room_order $p >"$T/$p.order"; done
check "alice's room log parses: its events in the room's order" test -s "$T/alice.order"
diag "the healed room: $(wc -l <"$T/alice.order") events, $(awk '$4 == 2' "$T/alice.order" | wc -l) messages"
diag "its messages in order: $(awk '$4 == 2 { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); printf "%s | ", $0 }' "$T/alice.order")"
check "alice's log holds the 19 messages once each" test "$(awk '$4 == 2' "$T/alice.order" | sort -u | wc -l)" -eq 19
for p in dave erin fred; do
	check "$p holds the same events as alice, in the same order" cmp -s "$T/alice.order" "$T/$p.order"
done
# nothing_after NAME KIND: no message in NAME's log sorts after its event of KIND.
nothing_after() {
	room_order "$1" | awk -v k="$2" '$4 == k { seen = 1 } seen && $4 == 2 { bad = 1 } END { exit !(seen && !bad) }'
}
check "bob's log: the kick, and no message that sorts after it" nothing_after bob 7
check "carol's log: her leave, and no message that sorts after it" nothing_after carol 6
check "bob got nothing written after his kick" \
	test "$(count_events bob ".event==\"message\" and .room==\"$rid\" and (.text|test(\"^(alice|erin|dave|fred) split|heal\"))")" -eq 0
check "carol got nothing written after she left" \
	test "$(count_events carol ".event==\"message\" and .room==\"$rid\" and (.text|test(\"^(alice|erin|dave|fred) split|heal\"))")" -eq 0
check "every event line is valid JSON" jq -e . "$T"/*.out
done_testing
