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

# A bad command line is refused before anything touches the network (exit 2):
# a listener that accepts and never answers counts the connections it gets
# (the old code connected first, then waited for a handshake that never came).
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
n = 0
while True:
    c, _ = s.accept(); n += 1
    open(sys.argv[1], "w").write("%d\n" % n)
' "$T/sink.count" >"$T/sink.port" &
sinkpid=$!
cleanup_hooks+=("kill $sinkpid")
for _ in $(seq 50); do [ -s "$T/sink.port" ] && break; sleep 0.1; done
sink="127.0.0.1:$(cat "$T/sink.port")"
echo secret >"$T/unreadable"; chmod 000 "$T/unreadable"
mkdir -p "$T/tree/deep"; echo x >"$T/tree/deep/locked"; chmod 000 "$T/tree/deep/locked"
# argcase NAME EXPECTED-MESSAGE CMD...: exit 2 within 5 s, says why, no connection
argcase() {
	local name=$1 msg=$2 rc t0 t1; shift 2
	rm -f "$T/sink.count"
	t0=$(date +%s%N)
	timeout 10 $AS "$CONFAB" "$@" </dev/null >"$T/arg.out" 2>"$T/arg.err"; rc=$?
	t1=$(date +%s%N)
	check "$name: exit 2" test $rc -eq 2 || diag "exit $rc: $(head -c 300 "$T/arg.err")"
	check "$name: says \"$msg\"" grep -qF -- "$msg" "$T/arg.err" || diag "said: $(head -c 300 "$T/arg.err")"
	check "$name: returns at once ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 3000
	check "$name: no connection was made" test ! -s "$T/sink.count"
}
# root reads a mode 000 file: run those two cases as nobody, with a home of its own
AS=""
nbhome="$T/s"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod o+x "$T"
	mkdir -p "$T/nb" && chown 65534:65534 "$T/nb" && chmod o+rx "$T/tree" "$T/tree/deep"
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
	nbhome="$T/nb"
fi
if [ "$(id -u)" -eq 0 ] && [ -z "$AS" ]; then
	diag "running as root without setpriv: the unreadable-file cases are left out"
else
	argcase "send of an unreadable file" "unreadable: Permission denied" \
		send --home "$nbhome" $COMMON --to "$sink" "$T/unreadable"
	argcase "send of a tree with an unreadable file" "locked: Permission denied" \
		send --home "$nbhome" $COMMON --to "$sink" "$T/tree"
fi
AS=""
argcase "send of a missing file" "cannot send $T/src/missing: No such file or directory" \
	send --home "$T/s" $COMMON --to "$sink" "$T/src/hello.txt" "$T/src/missing"
argcase "send --to with a port out of range" "--to 127.0.0.1:99999" \
	send --home "$T/s" $COMMON --to 127.0.0.1:99999 "$T/src/hello.txt"
argcase "send --to a host with a bad port" "--to localhost:http" \
	send --home "$T/s" $COMMON --to localhost:http "$T/src/hello.txt"
argcase "send --to a cut-off invite code" "--to" \
	send --home "$T/s" $COMMON --to "${code:0:50}" "$T/src/hello.txt"
argcase "send --dir (an option of recv)" "--dir applies to confab recv, not to send" \
	send --home "$T/s" $COMMON --to "$sink" --dir "$T/in4" "$T/src/hello.txt"
argcase "send --from (an option of recv)" "--from applies to confab recv, not to send" \
	send --home "$T/s" $COMMON --to "$sink" --from "$fs" "$T/src/hello.txt"
argcase "send --yes (an option of recv)" "--yes applies to confab recv, not to send" \
	send --yes --home "$T/s" $COMMON --to "$sink" "$T/src/hello.txt"
argcase "recv --to (an option of send)" "--to applies to confab send, not to recv" \
	recv --home "$T/r" $COMMON --listen 127.0.0.1:0 --to "$sink"
argcase "--to without a subcommand" "--to applies to confab send" \
	--headless --home "$T/r" $COMMON --listen 127.0.0.1:0 --to "$sink"
if command -v strace >/dev/null; then
	# (LeakSanitizer does not run under ptrace: off for this one, in an ASAN build)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=connect,socket -o "$T/strace.out" \
		"$CONFAB" send --home "$T/s" $COMMON --to "$sink" "$T/src/missing" 2>/dev/null; rc=$?
	check "strace: send of a missing file opens no socket (exit $rc)" \
		test $rc -eq 2 -a "$(grep -cE '^[0-9]+ +(socket|connect)\(' "$T/strace.out")" -eq 0 ||
		diag "$(grep -E 'socket|connect' "$T/strace.out" | head -n 3)"
else
	diag "strace is not installed: the no-socket check by strace is left out"
fi

# per-subcommand --help: that subcommand's usage on stdout, exit 0
for sub in send recv; do
	out=$("$CONFAB" $sub --help); rc=$?
	check "confab $sub --help exits 0" test $rc -eq 0
	check "confab $sub --help prints the usage of $sub" grep -q "^usage: confab $sub" <<<"$out"
	check "confab $sub --help is not the general usage" test -z "$(grep -e '--headless' <<<"$out")"
	out=$("$CONFAB" --help $sub); rc=$?
	check "confab --help $sub is the same" test $rc -eq 0 -a -n "$(grep "^usage: confab $sub" <<<"$out")"
done
check "confab send --help documents --to" grep -q -e '--to' <<<"$("$CONFAB" send --help)"
check "confab recv --help documents --dir, --from and --yes" \
	test "$("$CONFAB" recv --help | grep -c -e '--dir\|--from\|--yes')" -ge 3
done_testing
