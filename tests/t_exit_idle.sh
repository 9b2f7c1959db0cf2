#!/bin/bash
# t_exit_idle.sh - headless --exit-when-idle SECS: at the end of input, wait
# until every queued message is delivered and every transfer has ended, then
# exit 0; exit 3 if that takes longer than SECS.
. "$(dirname "$0")/lib.sh"

head -c 2000000 /dev/urandom >"$T/file.bin"

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
# end_input NAME: close the peer's stdin (its end of input) without waiting
end_input() {
	local fd=${PEER_FD[$1]}
	exec {fd}>&-
}

start_peer bob --nick bob --listen 127.0.0.1:0
bobaddr=$(wait_for bob '.event=="ready"' | jq -r '.listen[0]')
# alice meets bob once, so that she knows him (and calls him at her next start)
start_peer alice --nick alice --listen 127.0.0.1:0
say alice "/connect $bobaddr"
check "alice meets bob" wait_for alice '.event=="peer" and .state=="online" and .nick=="bob"'
stop_peer alice

# a message and a (slow) file at once, then the end of input: alice stays until both are through
: >"$T/alice.out"
start_peer alice --nick alice --listen 127.0.0.1:0 --limit-rate 1m --exit-when-idle 60
apid=${PEER_PID[alice]}
say alice "/msg bob hello from a script"
say alice "/send bob $T/file.bin"
end_input alice
off=$(wait_for bob '.event=="offer"' 20)
say bob "/accept $(jq -r .id <<<"$off") $T/in"
t0=$(date +%s%N)
wait_exit "$apid" 60; rc=$?
t1=$(date +%s%N)
check "--exit-when-idle: exit 0 once everything is through" test $rc -eq 0 ||
	diag "exit $rc: $(tail -n 3 "$T/alice.out" | tr '\n' ' ') $(tail -n 2 "$T/alice.err")"
check "the message was delivered before the exit" test "$(count_events alice '.event=="delivered"')" -eq 1
check "the transfer was done before the exit" \
	test "$(count_events alice '.event=="transfer" and .state=="done"')" -eq 1
check "bob got the message" wait_for bob '.event=="message" and .text=="hello from a script"' 5
check "bob got the file" cmp -s "$T/file.bin" "$T/in/file.bin"
diag "alice exited $(( (t1 - t0) / 1000000 )) ms after bob accepted (2 MB at 1 MB/s)"
check "alice waited for the transfer (it takes over a second at 1 MB/s)" test $(( (t1 - t0) / 1000000 )) -ge 1000
unset "PEER_PID[alice]"

# bob is gone: the message stays queued, and alice gives up after the time given (exit 3)
stop_peer bob
: >"$T/alice.out"
start_peer alice --nick alice --listen 127.0.0.1:0 --exit-when-idle 2
apid=${PEER_PID[alice]}
say alice "/msg bob are you there"
end_input alice
t0=$(date +%s%N)
wait_exit "$apid" 20; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "--exit-when-idle 2 with a message that cannot be delivered: exit 3" test $rc -eq 3 ||
	diag "exit $rc after $ms ms"
check "after the 2 s given, not long after ($ms ms)" test $ms -ge 1500 -a $ms -lt 6000
check "it says why, as an error event" \
	test -n "$(events alice 'select(.event=="error") | .message' | grep 'exit-when-idle: .*1 message')" ||
	diag "$(tail -n 2 "$T/alice.out")"
unset "PEER_PID[alice]"

# nothing to wait for: exit 0 at the end of input, at once
t0=$(date +%s%N)
"$CONFAB" --headless --home "$T/carol" --no-discovery --no-nat --listen 127.0.0.1:0 --exit-when-idle 30 \
	</dev/null >"$T/carol.out" 2>&1; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "nothing queued: exit 0 at the end of input ($ms ms)" test $rc -eq 0 -a $ms -lt 3000

# usage
"$CONFAB" --home "$T/carol" --no-discovery --no-nat --exit-when-idle 5 </dev/null >/dev/null 2>"$T/err"; rc=$?
check "--exit-when-idle without --headless is a usage error (exit 2)" test $rc -eq 2
check "and says it applies to --headless" grep -q -- "--exit-when-idle applies to --headless" "$T/err"
for v in 0 86401 x; do
	"$CONFAB" --headless --home "$T/carol" --no-discovery --no-nat --exit-when-idle $v </dev/null >/dev/null 2>&1; rc=$?
	check "--exit-when-idle $v is a usage error (exit 2)" test $rc -eq 2
done
check "--help documents --exit-when-idle" grep -q -- "--exit-when-idle SECS" <<<"$("$CONFAB" --help)"
done_testing
