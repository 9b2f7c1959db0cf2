#!/bin/bash
# t_oneshot_ux.sh - confab send/recv as magic-wormhole users expect them: recv
# prints the command for the sender, send says what it waits for, shows
# progress with an ETA and a summary, --text sends a message, recv prints one
# path a line on stdout, Ctrl-C keeps the partial data for a resume, and a
# one-shot sender is not kept as a peer.
. "$(dirname "$0")/lib.sh"

COMMON="--no-discovery --no-nat"
mkdir -p "$T/src/dir/sub"
head -c 3000000 /dev/urandom >"$T/src/big.bin"
echo hello >"$T/src/hello.txt"
echo deep >"$T/src/dir/sub/f.txt"
fs=$("$CONFAB" id --home "$T/s")

# recv_bg HOME ARGS...: a receiver in the background; sets rpid, port and code
recv_bg() {
	local home=$1; shift
	port="" code=""
	: >"$T/recv.err"
	"$CONFAB" recv --home "$home" $COMMON --listen 127.0.0.1:0 "$@" \
		>"$T/recv.out" 2>"$T/recv.err" </dev/null &
	rpid=$!
	local up=0
	for _ in $(seq 300); do
		grep -q "waiting for an offer" "$T/recv.err" 2>/dev/null && up=$((up + 1))
		[ $up -gt 10 ] && break   # up, but no command printed
		if grep -q "confab send --to" "$T/recv.err" 2>/dev/null; then
			port=$(grep -Eo 'listening on 127\.0\.0\.1:[0-9]+' "$T/recv.err" | grep -Eo '[0-9]+$' | head -n 1)
			code=$(grep -Eo 'confab send --to [^ ]+' "$T/recv.err" | head -n 1 | awk '{print $4}')
			[ -n "$code" ] && return 0
		fi
		kill -0 "$rpid" 2>/dev/null || break
		sleep 0.1
	done
	diag "recv did not print the command for the sender: $(tr '\n' ' ' <"$T/recv.err")"
	port=$(grep -Eo 'listening on 127\.0\.0\.1:[0-9]+' "$T/recv.err" | grep -Eo '[0-9]+$' | head -n 1)
	return 1
}

# wait_exit PID [SECS]: its exit status, or 124 after killing it when it takes
# longer than SECS (default 30)
wait_exit() {
	local i
	for i in $(seq $((${2:-30} * 10))); do
		running "$1" || break
		sleep 0.1
	done
	running "$1" && { kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 124; }
	wait "$1"
}

# 1. recv prints the exact command for the sender, with its invite code
recv_bg "$T/r" --dir "$T/in" --from "$fs" --yes
check "recv prints the command for the sender (confab send --to CODE FILE...)" \
	grep -Eq '^ +confab send --to confab1[0-9a-z]+ FILE' "$T/recv.err"
check "the command is on a line of its own, nothing after the code but FILE..." \
	grep -Eqx ' +confab send --to confab1[0-9a-z]+ FILE\.\.\.' "$T/recv.err"
[ -n "$code" ] || code="127.0.0.1:$port"
"$CONFAB" send --home "$T/s" $COMMON --to "$code" "$T/src/dir" "$T/src/hello.txt" "$T/src/big.bin" \
	2>"$T/send.err"; src=$?
wait_exit $rpid; rrc=$?
check "send --to the code recv printed: exit 0" test $src -eq 0 ||
	diag "send: $(tail -n 3 "$T/send.err" | tr '\n' ' ')"
check "recv exits 0" test $rrc -eq 0
# 2. what send says, and the summary in the units of the screen (kB, MB)
check "send says it waits for the receiver to accept" grep -q "waiting for the receiver to accept" "$T/send.err"
check "send ends with a summary: size, time, average rate (MB, s, MB/s)" \
	grep -Eq '^done: sent [0-9.]+ MB in [0-9.]+ s \([0-9.]+ ([kMG]B|B)/s on average\)' "$T/send.err" ||
	diag "send said: $(tail -n 2 "$T/send.err" | tr '\n' ' ')"
check "recv ends with the same kind of summary" \
	grep -Eq '^done: received [0-9.]+ MB in [0-9.]+ s \([0-9.]+ ([kMG]B|B)/s on average\)' "$T/recv.err" ||
	diag "recv said: $(tail -n 2 "$T/recv.err" | tr '\n' ' ')"
check "no KiB/MiB (the screen says kB/MB)" test -z "$(grep -E 'KiB|MiB' "$T/send.err" "$T/recv.err")"
# 3. one received path a line on stdout, nothing else there
check "recv prints three paths on stdout, one a line" test "$(wc -l <"$T/recv.out")" -eq 3 ||
	diag "stdout: $(tr '\n' '|' <"$T/recv.out")"
check "each line is a path that exists" \
	test "$(while read -r l; do [ -e "$l" ] && echo y; done <"$T/recv.out" | wc -l)" -eq 3
check "the lines name dir, hello.txt and big.bin" \
	test "$(sort "$T/recv.out" | tr '\n' ' ')" = "$T/in/big.bin $T/in/dir $T/in/hello.txt "

# 4. progress with an ETA on a terminal (a rate cap makes it last)
recv_bg "$T/r" --dir "$T/in2" --from "$fs" --yes
script -qfec "$CONFAB send --home $T/s $COMMON --limit-rate 1m --to 127.0.0.1:$port $T/src/big.bin" \
	/dev/null >"$T/send.tty" 2>&1 </dev/null; src=$?
wait_exit $rpid 10
check "send on a terminal: exit 0" test $src -eq 0
check "the progress line shows bytes, percent, rate and ETA" \
	grep -Eaq '[0-9.]+ (kB|MB) of 3\.0 MB +[0-9]+% +[0-9.]+ (kB|MB)/s +ETA [0-9]+:[0-9]{2}' "$T/send.tty" ||
	diag "tty: $(tr '\r' '\n' <"$T/send.tty" | tail -n 4 | tr '\n' '|')"

# 5. --text: a message, printed on the receiver's stdout (as magic-wormhole does)
recv_bg "$T/r" --from "$fs"
"$CONFAB" send --home "$T/s" $COMMON --to "$code" --text "the door code is 4711" 2>"$T/send.err"; src=$?
wait_exit $rpid 10; rrc=$?
check "send --text exits 0 once the text is delivered" test $src -eq 0 ||
	diag "send: $(tail -n 3 "$T/send.err" | tr '\n' ' ')"
check "recv exits 0 after a text" test $rrc -eq 0 || diag "recv: $(tail -n 3 "$T/recv.err" | tr '\n' ' ')"
check "the text is on recv's stdout, alone" test "$(cat "$T/recv.out")" = "the door code is 4711"
recv_bg "$T/r" --from "$fs"
printf 'line one\n\nline three\n' | "$CONFAB" send --home "$T/s" $COMMON --to "$code" --text - 2>"$T/send.err"; src=$?
wait_exit $rpid 10; rrc=$?
check "send --text - reads the text from stdin (exit 0)" test $src -eq 0 -a $rrc -eq 0
check "and the receiver prints it whole, blank line kept" \
	test "$(cat "$T/recv.out")" = "$(printf 'line one\n\nline three')"
echo x | "$CONFAB" send --home "$T/s" $COMMON --to "$code" - 2>"$T/send.err"; rc=$?
check "send - (not a file) is a usage error that points to --text - (exit 2)" \
	test $rc -eq 2 -a -n "$(grep -e '--text -' "$T/send.err")" || diag "exit $rc: $(cat "$T/send.err")"
"$CONFAB" send --home "$T/s" $COMMON --to "$code" --text hi "$T/src/hello.txt" </dev/null 2>"$T/send.err"; rc=$?
check "send --text with a PATH too is a usage error (exit 2)" test $rc -eq 2
recv_bg "$T/r" --from "$("$CONFAB" id --home "$T/other")"
"$CONFAB" send --home "$T/s" $COMMON --to "$code" --text "not for you" 2>"$T/send.err"; src=$?
kill $rpid 2>/dev/null; wait $rpid 2>/dev/null
check "recv --from someone else does not print another's text" test ! -s "$T/recv.out"

# 6. Ctrl-C on the receiver keeps the partial data and says how to resume
recv_bg "$T/r" --dir "$T/in3" --from "$fs" --yes
"$CONFAB" send --home "$T/s" $COMMON --limit-rate 300k --to "127.0.0.1:$port" "$T/src/big.bin" \
	2>"$T/send.err" &
spid=$!
for _ in $(seq 100); do
	[ -n "$(find "$T/in3" -path '*partial*' -type f -size +200k 2>/dev/null)" ] && break
	sleep 0.1
done
kill -INT $rpid; wait_exit $rpid 10; rrc=$?
wait_exit $spid 10; src=$?
check "Ctrl-C on recv: exit 3" test $rrc -eq 3
check "recv says the partial data is kept for a resume" grep -q "kept .* for a resume" "$T/recv.err" ||
	diag "recv: $(tail -n 2 "$T/recv.err" | tr '\n' ' ')"
check "the partial data is still there" test -n "$(find "$T/in3" -path '*partial*' -type f -size +100k)"
check "the sender learns the receiver stopped and keeps what arrived (exit 1)" \
	test $src -eq 1 -a -n "$(grep "keeps what arrived" "$T/send.err")" ||
	diag "send exit $src: $(tail -n 2 "$T/send.err" | tr '\n' ' ')"
recv_bg "$T/r" --dir "$T/in3" --from "$fs" --yes
"$CONFAB" send --home "$T/s" $COMMON --to "127.0.0.1:$port" "$T/src/big.bin" 2>"$T/send.err"; src=$?
wait_exit $rpid; rrc=$?
check "sent again: both exit 0" test $src -eq 0 -a $rrc -eq 0
check "the receiver resumed (it says how much was already there)" grep -q "resuming: .* already there" "$T/recv.err"
check "the resumed file is identical" cmp -s "$T/src/big.bin" "$T/in3/big.bin"

# 7. Ctrl-C on the sender: the receiver keeps what arrived, and both say so
recv_bg "$T/r" --dir "$T/in4" --from "$fs" --yes
"$CONFAB" send --home "$T/s" $COMMON --limit-rate 300k --to "127.0.0.1:$port" "$T/src/big.bin" \
	2>"$T/send.err" &
spid=$!
for _ in $(seq 100); do
	[ -n "$(find "$T/in4" -path '*partial*' -type f -size +200k 2>/dev/null)" ] && break
	sleep 0.1
done
kill -INT $spid; wait_exit $spid 10; src=$?
wait_exit $rpid 10; rrc=$?
check "Ctrl-C on send: exit 3" test $src -eq 3
check "send says the receiver keeps what arrived, to resume" grep -q "keeps what arrived" "$T/send.err" ||
	diag "send: $(tail -n 2 "$T/send.err" | tr '\n' ' ')"
check "recv exits 1 and says the partial data is kept" \
	test $rrc -eq 1 -a -n "$(grep "kept .* for a resume" "$T/recv.err")" ||
	diag "recv exit $rrc: $(tail -n 2 "$T/recv.err" | tr '\n' ' ')"
check "the partial data is there" test -n "$(find "$T/in4" -path '*partial*' -type f -size +100k)"

# 8. a one-shot sender is not kept as a peer by a full confab that accepts its file
start_peer rx --nick rx --listen 127.0.0.1:0
say rx "/invite"
rxcode=$(wait_for rx '.event=="invite"' | jq -r .code)
"$CONFAB" send --home "$T/s2" $COMMON --nick oneshot --to "$rxcode" "$T/src/hello.txt" 2>"$T/send.err" &
spid=$!
off=$(wait_for rx '.event=="offer"' 20)
say rx "/accept $(jq -r .id <<<"$off") $T/in5"
wait_exit $spid; src=$?
check "a full confab accepts a one-shot's file (exit 0)" test $src -eq 0
stop_peer rx
check "the receiver's peers file does not name it" \
	test -z "$(grep -s "$("$CONFAB" id --home "$T/s2")" "$T/rx/peers")"
check "the sender's home keeps no peer either" test -z "$(grep -s . "$T/s2/peers" | grep -v '^confab-peers')"
done_testing
