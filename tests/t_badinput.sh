#!/bin/bash
# t_badinput.sh - hostile peers are cut off with a logged reason while a
# well-behaved peer connected at the same time keeps chatting.
. "$(dirname "$0")/lib.sh"
HOSTILE=${top_builddir:-$(dirname "$0")/..}/tests/hostile

start_peer victim --nick victim --listen 127.0.0.1:0 --handshake-timeout 2
start_peer friend --nick friend --listen 127.0.0.1:0
check "friend connects to victim" connect_pair friend victim
va=$(addr_of victim)
k=0

# still_serving: the victim is alive and a message from friend still arrives.
still_serving() {
	k=$((k + 1))
	say friend "/msg victim still here $k"
	alive victim && wait_for victim ".event==\"message\" and .text==\"still here $k\"" 5 >/dev/null
}

# case_closed NAME REASON-REGEX HOSTILE-ARGS...: the victim hangs up and logs why.
case_closed() {
	local name=$1 reason=$2; shift 2
	local out
	out=$("$HOSTILE" "$1" "$va" "${@:2}")
	check "$name: the victim closes the connection" test "$out" = closed
	check "$name: the log says why" grep -Eq "$reason" "$T/victim.log"
	check "$name: the victim keeps serving its friend" still_serving
}

case_closed "garbage" "bad preamble" garbage
case_closed "an SSH client" "bad preamble" bad-preamble
case_closed "an oversized handshake length" "oversized handshake message" oversize-hs
case_closed "a truncated handshake" "closed during handshake" truncated-hs
case_closed "a stalled handshake (slowloris)" "handshake timed out" stall 6
case_closed "a frame that fails authentication" "failed authentication" badauth
case_closed "a malformed record" "malformed record" malformed
case_closed "a replayed frame" "failed authentication" replay
case_closed "a record before HELLO" "record before HELLO" no-hello

# A frame that declares 64 KiB and stops: the victim waits (bounded buffer) and
# the keepalive or peer close ends it; the connection must not break the victim.
out=$("$HOSTILE" oversize-frame "$va")
check "a half-sent maximal frame does not hurt the victim" still_serving

# Forward compatibility: an unknown record type is ignored, the next one works.
out=$("$HOSTILE" unknown-then-msg "$va" "after the unknown record")
check "an unknown record type leaves the session open" test "$out" = open
check "a message after an unknown record is delivered" \
	wait_for victim '.event=="message" and .text=="after the unknown record"'

# Hundreds of connections at once: refused beyond the limits, memory bounded.
rss0=$(rss_kb "${PEER_PID[victim]}")
out=$("$HOSTILE" flood "$va" 500 3)
diag "flood: $out"
check "a flood of 500 connections is cut off (most closed by the victim)" \
	test "$(awk '{print $4}' <<<"$out")" -ge 400
check "the log says the flood was refused" grep -q "too many handshakes in progress" "$T/victim.log"
check "the victim keeps serving during and after the flood" still_serving
rss1=$(rss_kb "${PEER_PID[victim]}")
diag "victim RSS before flood ${rss0} KiB, after ${rss1} KiB"
check "memory stays bounded (grew less than 16 MiB)" test $((rss1 - rss0)) -lt 16384

out=$("$HOSTILE" churn 300 "$va")
check "300 connect/close loops: still serving" still_serving
check "the victim never exited" alive victim
done_testing
