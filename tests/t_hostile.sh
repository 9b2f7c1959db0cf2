#!/bin/bash
# t_hostile.sh - more hostile peers (tests/hostile): handshakes that stall at
# each step, on either side of the connection; 1,000 idle connections; a flood
# of 20,000 messages from one authenticated peer; offers with absurd sizes;
# reordered frames; escape sequences and invalid UTF-8 in nicks, messages and
# file names.  After every case the victim still runs, a friend connected all
# along still gets a message through, and the victim's resident memory stays
# under a bound (the figures are printed as diagnostics).
. "$(dirname "$0")/lib.sh"
HOSTILE=${top_builddir:-$(dirname "$0")/..}/tests/hostile
# A sanitizer build keeps freed memory in quarantine; keep that small so that
# the memory bound below measures the program, not the allocator.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"

HS_TIMEOUT=2
# How much the victim's VmRSS may grow over its size once connected (KiB).  A
# sanitizer build (shadow memory, quarantine) or valgrind needs more; either
# can be given from outside.
if [ -z "${RSS_GROWTH_KB:-}" ]; then
	RSS_GROWTH_KB=16384
	grep -q __asan_init "$CONFAB" 2>/dev/null && RSS_GROWTH_KB=$((RSS_GROWTH_KB * 4))
fi

mkdir -p "$T/dl"
start_peer victim --nick victim --listen 127.0.0.1:0 --handshake-timeout $HS_TIMEOUT \
	--download-dir "$T/dl"
start_peer friend --nick friend --listen 127.0.0.1:0
check "friend connects to victim" connect_pair friend victim
va=$(addr_of victim)
vpid=${PEER_PID[victim]}
rss0=$(rss_kb "$vpid")
diag "victim VmRSS at the start: $rss0 KiB (bound: start + $RSS_GROWTH_KB KiB)"
k=0

# still_serving: a message from friend reaches the victim.
still_serving() {
	k=$((k + 1))
	say friend "/msg victim still here $k"
	alive victim && wait_for victim ".event==\"message\" and .text==\"still here $k\"" 10 >/dev/null
}

# after_case NAME: the victim runs, serves its friend, and its memory is bounded.
after_case() {
	local rss
	check "$1: the victim keeps serving its friend" still_serving
	rss=$(rss_kb "$vpid")
	diag "$1: victim VmRSS ${rss:-gone} KiB (start $rss0 KiB)"
	check "$1: the victim's memory stays bounded" test "$((${rss:-999999999} - rss0))" -lt $RSS_GROWTH_KB
}

# timeouts: how many handshakes the victim has dropped for taking too long.
timeouts() { grep -c "dropped during handshake: handshake timed out" "$T/victim.log"; }

# elapsed_ok MS: whether MS is about one handshake timeout (not far less, not far more).
elapsed_ok() { [ "$1" -ge $((HS_TIMEOUT * 1000 - 300)) ] && [ "$1" -le $((HS_TIMEOUT * 1000 + 2500)) ]; }

# --- handshakes that stall, the victim answering --------------------------
for step in "silent:after the TCP connect, before any preamble" \
	"stall:after the preamble" \
	"stall-msg1:after msg1 (msg3 never comes)"; do
	mode=${step%%:*}; what=${step#*:}
	n0=$(timeouts)
	t0=$(date +%s%3N)
	out=$("$HOSTILE" "$mode" "$va" 8)
	ms=$(($(date +%s%3N) - t0))
	diag "stall $what: '$out' after $ms ms"
	check "stall $what: the victim hangs up" test "$out" = closed
	check "stall $what: after the handshake timeout (${ms} ms)" elapsed_ok "$ms"
	check "stall $what: the log says why" test "$(timeouts)" -gt "$n0"
	after_case "stall $what"
done

# --- handshakes that stall, the victim calling (a fake listener) ------------
for step in silent preamble msg1; do
	"$HOSTILE" listen-stall "$step" 127.0.0.1:0 10 >"$T/ls.out" &
	hp=$!
	for i in $(seq 50); do grep -q '^listening' "$T/ls.out" && break; sleep 0.1; done
	la=$(awk '/^listening/ {print $2}' "$T/ls.out")
	say victim "/connect $la"
	wait $hp
	out=$(tail -n 1 "$T/ls.out")
	diag "responder stalls ($step): $out"
	check "responder stalls ($step): the victim gives up by itself" grep -q '^closed after' <<<"$out"
	check "responder stalls ($step): within the handshake timeout" \
		elapsed_ok "$(awk '{printf "%d", $3 * 1000}' <<<"$out")"
	check "responder stalls ($step): the victim reports the failed connect" \
		wait_for victim "(.event==\"error\") and (.message|test(\"$la.*handshake timed out\"))" 5
	after_case "responder stalls ($step)"
done

# --- 1,000 connections opened and left idle ------------------------------------
# from 50 loopback source addresses, so that both the per-address limit (8)
# and the overall limit on pending handshakes (64) come into play
"$HOSTILE" idle-flood "$va" 1000 $((HS_TIMEOUT + 8)) 50 >"$T/idle.out" &
hp=$!
sleep 1
check "1,000 idle connections: the victim serves its friend meanwhile" still_serving
rss_mid=$(rss_kb "$vpid")
wait $hp
out=$(cat "$T/idle.out")
diag "1,000 idle connections: $out; victim VmRSS during: $rss_mid KiB"
read -r _ opened _ refused _ most _ most1 _ timedout _ wmin wmax _ left <<<"$out"
check "1,000 idle connections: all opened" test "${opened:-0}" -eq 1000
check "1,000 idle connections: at most 64 waiting for a handshake at once" test "${most:-999}" -le 64
check "1,000 idle connections: at most 8 waiting from one address" test "${most1:-999}" -le 8
check "1,000 idle connections: most refused at once (no preamble, closed)" \
	test "$((${refused:-0} * 2))" -gt "${opened:-0}"
check "1,000 idle connections: the victim closed every one of them" \
	test "${left:-1}" -eq 0 -a "$((refused + timedout))" -eq "${opened:-0}"
# (the longest wait is exact; shorter ones may be seen late by the flooder while
# its connect() waits for a SYN retry, so only the upper bound is checked)
check "1,000 idle connections: none waited past the handshake timeout (longest ${wmax:-?} ms)" \
	test "${wmax:-99999}" -le $((HS_TIMEOUT * 1000 + 2500))
check "1,000 idle connections: the log says they were refused" \
	grep -q "too many handshakes in progress" "$T/victim.log"
after_case "1,000 idle connections"
# and 100 from a single address: its own limit of 8 applies
out=$("$HOSTILE" idle-flood "$va" 100 $((HS_TIMEOUT + 4)) 1)
diag "100 idle connections from one address: $out"
read -r _ opened _ refused _ most _ most1 _ timedout _ wmin wmax _ left <<<"$out"
check "100 idle connections from one address: at most 8 let wait" test "${most:-999}" -le 8
check "100 idle connections from one address: the rest refused, all closed" \
	test "${refused:-0}" -ge 92 -a "${left:-1}" -eq 0 -a "$((refused + timedout))" -eq "${opened:-0}"
after_case "100 idle connections from one address"

# --- a flood of 20,000 messages from one authenticated peer ---------------------
# (1 KB each, so that the victim is busy with them for a while)
"$HOSTILE" msg-flood "$va" 20000 1000 >"$T/flood.out" &
hp=$!
wait_for victim '.event=="message" and (.text|startswith("flood "))' 10 >/dev/null
check "message flood: the friend gets through during the flood" still_serving
during=$k
rss_mid=$(rss_kb "$vpid")
wait $hp
diag "message flood: hostile says '$(tr '\n' ' ' <"$T/flood.out")'; victim VmRSS during: $rss_mid KiB"
check "message flood: the flooder sent all 20,000" grep -q '^sent 20000' "$T/flood.out"
nflood() { grep -c '"text":"flood [0-9]*\.*"' "$T/victim.out"; }
# wait while the victim works through them (slowly under valgrind): until all
# are there, or nothing more came for 5 s
last=-1
while [ "$(nflood)" -lt 20000 ] && [ "$(nflood)" -gt "$last" ]; do
	last=$(nflood)
	sleep 5
done
diag "message flood: the victim printed $(nflood) of them"
check "message flood: the victim took every message (throttled, not dropped)" test "$(nflood)" -eq 20000
f_line=$(grep -n "\"still here $during\"" "$T/victim.out" | cut -d: -f1)
l_line=$(grep -n '"text":"flood 20000\.*"' "$T/victim.out" | cut -d: -f1)
diag "message flood: the friend's message is line ${f_line:-none}, the flood's last is line ${l_line:-none}"
check "message flood: the friend's message was shown before the flood's end" \
	test "${f_line:-999999}" -lt "${l_line:-0}"
after_case "message flood"

# --- offers with absurd sizes -----------------------------------------------------
# offer_then_accept NAME:SIZE: the victim sees the offer, /accept fails for
# lack of space, /reject tells the hostile peer; prints what the peer heard.
offer_then_accept() {
	local n0 id
	n0=$(count_events victim '.event=="offer" and (.nick|startswith("hostile"))')
	"$HOSTILE" offer "$va" "$1" >"$T/offer.out" &
	hp=$!
	wait_count victim '.event=="offer" and (.nick|startswith("hostile"))' $((n0 + 1)) 10 || return 1
	id=$(events victim 'select(.event=="offer" and (.nick|startswith("hostile"))) | .id' | tail -n 1 | tr -d '"')
	say victim "/accept $id"
	wait_for victim ".event==\"error\" and (.message|test(\"not enough space\"))" 10 >/dev/null &&
		sleep 0.3 &&
		say victim "/reject $id"
	wait $hp
	cat "$T/offer.out"
}
nospace0=$(count_events victim '.event=="error" and (.message|test("not enough space"))')
out=$(offer_then_accept "big:4611686018427387904")
diag "an offer of 2^62 bytes: hostile heard '$out'"
check "an offer of 2^62 bytes: /accept refuses it for space, /reject tells the sender" \
	grep -q '^cancelled' <<<"$out"
check "an offer of 2^62 bytes: the error names the space" \
	test "$(count_events victim '.event=="error" and (.message|test("not enough space"))')" -gt "$nospace0"
after_case "an offer of 2^62 bytes"
nospace0=$(count_events victim '.event=="error" and (.message|test("not enough space"))')
out=$(offer_then_accept "huge:18446744073709551615")
diag "an entry of 2^64-1 bytes: hostile heard '$out'"
check "an entry of 2^64-1 bytes: refused for space at /accept (no overflow)" grep -q '^cancelled' <<<"$out"
check "an entry of 2^64-1 bytes: the error names the space" \
	test "$(count_events victim '.event=="error" and (.message|test("not enough space"))')" -gt "$nospace0"
after_case "an entry of 2^64-1 bytes"
out=$("$HOSTILE" offer "$va" "a:18446744073709551615" "b:2")
diag "sizes that overflow 64 bits: '$out'"
check "sizes that add up past 2^64: refused at once as a bad offer" grep -q '^cancelled 5 bad offer' <<<"$out"
after_case "sizes that overflow 64 bits"
check "nothing was written for the absurd offers" test -z "$(ls -A "$T/dl")"

# --- reordered frames ---------------------------------------------------------------
n0=$(grep -c "failed authentication" "$T/victim.log")
out=$("$HOSTILE" reorder "$va")
check "two frames swapped: the victim closes the session" test "$out" = closed
check "two frames swapped: logged as an authentication failure" \
	test "$(grep -c "failed authentication" "$T/victim.log")" -gt "$n0"
check "two frames swapped: neither message was shown" \
	test "$(count_events victim '.event=="message" and (.text|startswith("sealed "))')" -eq 0
after_case "reordered frames"

# --- escape sequences and invalid UTF-8 in a nick and a message ---------------------
nick=$(printf '\033]0;pwned\007\033[31mevil\377\376\302\233')
text=$(printf 'a\033[2Jb\033]52;c;cHduZWQ=\007c \300\257 \355\240\200 \364\220\200\200 \302\2332J d\r\033P+q\033\\ e\bf\177g')
out=$("$HOSTILE" chat "$va" "$nick" "$text")
check "escapes: the session stays open" test "$out" = open
m=$(wait_for victim '.event=="message" and .nick!="friend" and (.text|startswith("a"))' 10)
diag "escapes: the message event: $m"
check "escapes: the message arrives" test -n "$m"
check "escapes: the text has no control characters left" \
	test "$(jq -r '.text | test("[\u0000-\u001f\u007f-\u009f]")' <<<"$m")" = false
check "escapes: the nick has no control characters left" \
	test "$(jq -r '.nick | test("[\u0000-\u001f\u007f-\u009f]")' <<<"$m")" = false
check "escapes: invalid UTF-8 became U+FFFD" grep -q $'\xef\xbf\xbd' <<<"$(jq -r .text <<<"$m")"
check "escapes: the printable text is kept" \
	test "$(jq -r '.text | test("^ab.*c .* d.* e.*f.*g$")' <<<"$m")" = true
check "escapes: the victim's whole output is valid UTF-8" iconv -f UTF-8 -t UTF-8 "$T/victim.out"
check "escapes: the victim's whole output is valid JSON" jq -e . "$T/victim.out"
check "escapes: no ESC byte in the victim's output" test "$(grep -c $'\033' "$T/victim.out")" -eq 0
check "escapes: no ESC byte in the victim's log" test "$(grep -c $'\033' "$T/victim.log")" -eq 0
after_case "escapes in nick and text"

# --- invalid UTF-8 and overlong names in offers --------------------------------------
for name in "$(printf '\200lone continuation')" "$(printf 'cut\342\202')" \
	"$(printf 'surrogate\355\240\200')" "$(printf 'beyond\364\220\200\200')" \
	"$(printf 'overlong\300\257slash')" "$(printf 'e\314\201%.0s' $(seq 100))" \
	"$(printf 'n%.0s' $(seq 4000))"; do
	out=$("$HOSTILE" offer "$va" "$name")
	check "offered name $(printf '%q' "$name" | head -c 40): refused" grep -q "^cancelled 5" <<<"$out"
done
check "no file was created for the bad names" test -z "$(ls -A "$T/dl")"
check "the output is still valid UTF-8" iconv -f UTF-8 -t UTF-8 "$T/victim.out"
after_case "bad names in offers"

check "the victim never exited" alive victim
done_testing
