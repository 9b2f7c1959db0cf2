#!/bin/bash
# t_rooms_flood.sh - a member that floods a room (issue 15, guarantee 7):
# thousands of events a second of the largest size, the same event replayed,
# forged events, each from a hostile client holding a real member's key
# (tests/hostile.c room-flood).  The victim's memory stays bounded, and a 1:1
# message and a message in another room still reach it within a bound while
# the flood goes on.  Headless peers on loopback.
. "$(dirname "$0")/lib.sh"
HOSTILE=${top_builddir:-$(dirname "$0")/..}/tests/hostile
# A sanitizer build keeps freed memory in quarantine; keep that small so that
# the memory bound below measures the program, not the allocator.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
# How much the victim's VmRSS may grow during a flood (KiB); more under a
# sanitizer (shadow memory, quarantine); either can be given from outside.
if [ -z "${RSS_GROWTH_KB:-}" ]; then
	RSS_GROWTH_KB=24576
	grep -q __asan_init "$CONFAB" 2>/dev/null && RSS_GROWTH_KB=$((RSS_GROWTH_KB * 4))
fi
: "${LATENCY_MS:=5000}"

start_peer victim --nick victim --listen 127.0.0.1:0
start_peer mallory --nick mallory --listen 127.0.0.1:0
start_peer friend --nick friend --listen 127.0.0.1:0
start_peer wendy --nick wendy --listen 127.0.0.1:0
va=$(addr_of victim); vpid=${PEER_PID[victim]}
for p in mallory friend wendy; do check "$p connects to the victim" connect_pair $p victim; done
say victim "/room create team"
rid=$(wait_for victim '.event=="room" and .name=="team"' | jq -r .room)
say victim "/room create other"
oid=$(wait_for victim '.event=="room" and .name=="other"' | jq -r .room)
say victim "/room invite team mallory"
say victim "/room invite other wendy"
check "mallory is invited to #team" wait_for mallory ".event==\"room_invite\" and .room==\"$rid\""
check "wendy is invited to #other" wait_for wendy ".event==\"room_invite\" and .room==\"$oid\""
say mallory "/room join team"
say wendy "/room join other"
check "mallory joins #team" wait_for victim ".event==\"room\" and .room==\"$rid\" and (.members|length)==2"
check "wendy joins #other" wait_for victim ".event==\"room\" and .room==\"$oid\" and (.members|length)==2"
mpriv=$(sed -n 's/^confab-identity-v1 //p' "$T/mallory/identity")
check "mallory's key is at hand" test ${#mpriv} -eq 64
stop_peer mallory
rss0=$(rss_kb "$vpid")

# ms_since T0: milliseconds since T0 (from now_ms)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# arrives NAME TEXT: poll (20 ms) until NAME printed a message with TEXT; prints the ms it took
arrives() {
	local t0 i
	t0=$(now_ms)
	for i in $(seq $((LATENCY_MS / 20 + 50))); do
		if grep -q "\"text\":\"$2\"" "$T/$1.out"; then
			echo $(( $(now_ms) - t0 ))
			return 0
		fi
		sleep 0.02
	done
	return 1
}
k=0
# flood_case HOW N SIZE: mallory's key floods #team; the friend and wendy get through
flood_case() {
	local how=$1 n=$2 size=$3 hp ms peak=0 r out log0
	log0=$(stat -c %s "$T/victim.log")
	FLOOD_T0=$(date +%s%N)
	HOSTILE_PRIV=$mpriv "$HOSTILE" room-flood "$va" "$rid" "$n" "$size" "$how" >"$T/flood-$how.out" 2>&1 &
	hp=$!
	poll_until 10 grep -q "from 127.0.0.1" "$T/victim.log"   # the flood's session is up
	sleep 0.5   # the flood is under way (a positive check follows, this only times it)
	k=$((k + 1))
	say friend "/msg victim still here $k"
	ms=$(arrives victim "still here $k")
	check "$how flood: the friend's 1:1 message gets through (${ms:-never} ms)" \
		test -n "$ms" -a "${ms:-999999}" -lt "$LATENCY_MS"
	say wendy "/msg #other other room $k"
	ms=$(arrives victim "other room $k")
	check "$how flood: wendy's message in #other gets through (${ms:-never} ms)" \
		test -n "$ms" -a "${ms:-999999}" -lt "$LATENCY_MS"
	check "$how flood: both came while the flood was still on" kill -0 "$hp"
	while kill -0 "$hp" 2>/dev/null; do
		r=$(rss_kb "$vpid"); [ "${r:-0}" -gt "$peak" ] && peak=$r
		sleep 0.1
	done
	wait "$hp"
	out=$(tr '\n' ' ' <"$T/flood-$how.out")
	diag "$how flood of $n events of $size bytes: hostile says '$out'; victim VmRSS peak $peak KiB (start $rss0 KiB)"
	check "$how flood: the flooder sent all $n" grep -q "^sent $n " "$T/flood-$how.out"
	check "$how flood: the victim is still running" alive victim
	check "$how flood: the victim's memory stays bounded (peak +$((peak - rss0)) KiB)" \
		test $((peak - rss0)) -lt "$RSS_GROWTH_KB"
	r=$(( $(stat -c %s "$T/victim.log") - log0 ))
	check "$how flood: the victim's log grew by $r bytes (bounded: under 1 MB)" test "$r" -lt 1048576
}

flood_case live 20000 4096
nshown=$(grep -c '"text":"flood ' "$T/victim.out")
el=$(( ($(date +%s%N) - FLOOD_T0) / 1000000000 + 1 ))
check "live flood: the victim showed some of them (mallory is a member)" test "$nshown" -gt 0
# What a member's own events may take (13.8): ROOM_RATE (50) a second live,
# at most ROOM_PUSH_MAX (512) as the answer to each HAVE the victim sends
# (one at the session's start, then its pulls: one WANT of at most 512 a
# second). So in el seconds: 2 * 512 + el * (50 + 512), rounded up.
secs=$(sed -n 's/^sent [0-9]* in \([0-9.]*\) s.*/\1/p' "$T/flood-live.out")
diag "live flood: the victim took $nshown of the 20000 in ${secs:-?} s (counted after $el s)"
check "live flood: the victim took $nshown, at most $((1024 + el * 600)) in $el s" \
	test "$nshown" -le $((1024 + el * 600))
check "live flood: the victim says mallory writes too fast" grep -q "writes faster than" "$T/victim.log"
flood_case replay 100000 4096
check "replay flood: nothing shown twice" \
	test "$(jq -r 'select(.event=="message" and .room=="'"$rid"'") | .id' "$T/victim.out" | sort | uniq -d | wc -l)" -eq 0
nshown=$(grep -c '"text":"flood ' "$T/victim.out")
flood_case forged 100000 4096
check "forged flood: the forged events are dropped as such" grep -q "bad signature: dropped" "$T/victim.log"
check "forged flood: none shown" test "$(grep -c '"text":"flood ' "$T/victim.out")" -eq "$nshown"
r=$(rss_kb "$vpid")
diag "after the floods: victim VmRSS $r KiB (start $rss0 KiB), its log $(stat -c %s "$T/victim.log") bytes"
check "every event line is valid JSON" jq -e . "$T/victim.out"
done_testing
