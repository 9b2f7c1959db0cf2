#!/bin/bash
# t_oneshot.sh - "confab send" and "confab recv": one transfer, then exit
# with a status that says how it went.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/src/dir/sub" "$T/src/dir/empty"
head -c 2000000 /dev/urandom >"$T/src/dir/sub/data.bin"
echo hello >"$T/src/hello.txt"
fs=$("$CONFAB" id --home "$T/s")
COMMON="--no-discovery --no-nat"

# recv_bg ARGS...: start a receiver in the background on a port of its own
# choosing (a fixed one could be taken by another test's connection); sets
# rpid and port, or fails when it does not come up within 30 s.
recv_bg() {
	port=""
	: >"$T/recv.err"
	"$CONFAB" recv --home "$T/r" $COMMON --listen 127.0.0.1:0 "$@" \
		>"$T/recv.out" 2>"$T/recv.err" </dev/null &
	rpid=$!
	for _ in $(seq 300); do
		if grep -q "waiting for an offer" "$T/recv.err" 2>/dev/null; then
			port=$(grep -Eo 'listening on 127\.0\.0\.1:[0-9]+' "$T/recv.err" | grep -Eo '[0-9]+$' | head -n 1)
			[ -n "$port" ] && return 0
		fi
		kill -0 "$rpid" 2>/dev/null || break
		sleep 0.1
	done
	diag "recv did not come up: $(tr '\n' ' ' <"$T/recv.err")"
	return 1
}

# why NAME STATUS: on a failed check, show the sender's exit status and both sides' last words.
why() {
	diag "$1: send exited $2; send: $(tail -n 3 "$T/send.err" | tr '\n' ' '); recv: $(tail -n 3 "$T/recv.err" | tr '\n' ' ')"
}

recv_bg --dir "$T/in" --from "$fs" --yes
"$CONFAB" send --home "$T/s" $COMMON --to "127.0.0.1:$port" "$T/src/dir" "$T/src/hello.txt" 2>"$T/send.err"
src=$?
wait $rpid; rrc=$?
check "send exits 0 when every file arrived verified" test $src -eq 0 || why verified $src
check "recv --yes --from exits 0 after the transfer" test $rrc -eq 0
check "recv prints where the files landed" grep -q "^$T/in/dir" "$T/recv.out"
check "the tree arrived identical, empty folder kept" diff -r "$T/src/dir" "$T/in/dir"
check "the second file arrived" cmp -s "$T/src/hello.txt" "$T/in/hello.txt"

# without --yes and without a terminal, recv refuses and both sides say so
recv_bg --dir "$T/in2"
"$CONFAB" send --home "$T/s" $COMMON --to "127.0.0.1:$port" "$T/src/hello.txt" 2>"$T/send.err"
src=$?
wait $rpid; rrc=$?
check "recv without --yes and no terminal rejects (exit 3)" test $rrc -eq 3
check "send learns it was rejected (exit 3)" test $src -eq 3 || why rejected $src
check "nothing arrived" test ! -e "$T/in2/hello.txt"

# --yes only ever accepts from the peer named with --from
recv_bg --dir "$T/in3" --from "$("$CONFAB" id --home "$T/other")" --yes
"$CONFAB" send --home "$T/s" $COMMON --to "127.0.0.1:$port" "$T/src/hello.txt" 2>"$T/send.err"
src=$?
kill $rpid 2>/dev/null; wait $rpid 2>/dev/null
check "an offer from someone else is rejected even with --yes" test $src -eq 3 || why "someone else" $src
check "nothing from them arrived" test ! -e "$T/in3/hello.txt"

# A third party that reaches the sender's listener before the receiver answers
# gets nothing: the receiver is stopped (its kernel still completes the TCP
# connect) while a thief connects to every port the sender listens on; then
# the receiver goes on and gets the file.
start_peer thief --nick thief --listen 127.0.0.1:0
fthief=$(fp_of thief)
recv_bg --dir "$T/in5" --from "$fs" --yes
kill -STOP "$rpid"
"$CONFAB" send --home "$T/s" $COMMON --to "127.0.0.1:$port" "$T/src/hello.txt" 2>"$T/send.err" &
spid=$!
sports=""
for _ in $(seq 30); do
	sports=$(ss -Hltnp 2>/dev/null | grep "pid=$spid," | awk '{print $4}' | grep -Eo '[0-9]+$' | sort -u)
	[ -n "$sports" ] && break
	sleep 0.1
done
diag "the sender listens on port(s): ${sports:-none}"
for sp in $sports; do say thief "/connect 127.0.0.1:$sp"; done
# the thief's attempt ends one way or the other before the receiver goes on
[ -n "$sports" ] && wait_for thief ".event==\"peer\" and .state==\"online\"" 3 >/dev/null
kill -CONT "$rpid"
for _ in $(seq 150); do running "$spid" || break; sleep 0.1; done
running "$spid" && kill "$spid"
wait "$spid"; src=$?
kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
check "a thief at the sender's listener gets no offer" test "$(count_events thief '.event=="offer"')" -eq 0
check "a thief at the sender's listener never sees the sender online" \
	test "$(count_events thief '.event=="peer" and .state=="online"')" -eq 0
check "the receiver the sender asked for gets the file" cmp -s "$T/src/hello.txt" "$T/in5/hello.txt" ||
	why thief $src
check "send exits 0 (sent to the receiver, not to the thief)" test $src -eq 0
check "the thief's key is not the one that got the file" test "$(grep -c "$fthief" "$T/send.err")" -eq 0

# a --dir that cannot be used: said at start-up (exit 2), not after the sender waited
echo x >"$T/afile"
for d in "$T/afile/sub" /proc/sys/confab-test; do
	timeout 20 "$CONFAB" recv --home "$T/r" $COMMON --listen 127.0.0.1:0 --dir "$d" --from "$fs" --yes \
		</dev/null >/dev/null 2>"$T/recv.err"; rc=$?
	check "recv --dir $d (unusable) exits 2 at once" test $rc -eq 2 || diag "exit $rc: $(cat "$T/recv.err")"
	check "and says why" grep -q "cannot receive into $d" "$T/recv.err"
done
# a directory that fails later: the offer is rejected, recv exits 1, send 3
recv_bg --dir "$T/later/in" --from "$fs" --yes
echo x >"$T/later"
timeout 30 "$CONFAB" send --home "$T/s" $COMMON --to "127.0.0.1:$port" "$T/src/hello.txt" 2>"$T/send.err"; src=$?
timeout 10 tail --pid=$rpid -f /dev/null; kill $rpid 2>/dev/null; wait $rpid; rrc=$?
check "a download directory that fails later: recv rejects and exits 1" test $rrc -eq 1 ||
	diag "recv exit $rrc: $(tail -n 3 "$T/recv.err" | tr '\n' ' ')"
check "and the sender learns it was rejected (exit 3)" test $src -eq 3 || why "dir fails later" $src

"$CONFAB" recv --home "$T/r" $COMMON --yes </dev/null >/dev/null 2>&1; rc=$?
check "--yes without --from is a usage error (exit 2)" test $rc -eq 2
"$CONFAB" send --home "$T/s" $COMMON --to 127.0.0.1:1 "$T/src/hello.txt" 2>/dev/null; rc=$?
check "send to a closed port exits 4" test $rc -eq 4
"$CONFAB" send --home "$T/s" $COMMON "$T/src/hello.txt" 2>/dev/null; rc=$?
check "send without --to is a usage error (exit 2)" test $rc -eq 2
# an invite code copied off a screen, with a line break and an indent in it
start_peer rx --nick rx --listen 127.0.0.1:0
say rx "/invite"
code=$(wait_for rx '.event=="invite"' | jq -r .code)
"$CONFAB" send --home "$T/s" $COMMON --to "${code:0:40}
          ${code:40}" "$T/src/hello.txt" 2>"$T/send.err" &
spid=$!
off=$(wait_for rx '.event=="offer"' 20)
say rx "/accept $(jq -r .id <<<"$off") $T/in5"
wait $spid; rc=$?
check "send --to a code with a line break and blanks in it reaches the peer (exit 0)" test $rc -eq 0 ||
	diag "send: $(tail -n 3 "$T/send.err" | tr '\n' ' ')"
start_peer cx --nick cx --listen 127.0.0.1:0
say cx "/connect ${code:0:30}   ${code:30}"
check "/connect takes a code with blanks in it" wait_for cx '.event=="peer" and .state=="online" and .nick=="rx"'
stop_peer cx
stop_peer rx

recv_bg --dir "$T/in4" --from "$fs" --yes
"$CONFAB" send --home "$T/s" $COMMON --to "127.0.0.1:$port" "$T/src/missing" 2>"$T/send.err"; rc=$?
kill $rpid 2>/dev/null; wait $rpid 2>/dev/null
check "send of a missing file fails (exit 1) and says why" test $rc -eq 1 -a -n "$(grep missing "$T/send.err")"
done_testing
