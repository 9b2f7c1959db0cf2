#!/bin/bash
# t_protocol.sh - protocol conformance: a hand-written peer (tests/hostile
# proto CASE) drives a real confab through raw preambles and records, one case
# per MUST of net/PROTOCOL.md.  Every check starts with the section it proves.
# After each case the victim still serves a friend connected all along.
. "$(dirname "$0")/lib.sh"
HOSTILE=${top_builddir:-$(dirname "$0")/..}/tests/hostile

mkdir -p "$T/dl" "$T/src"
start_peer victim --nick victim --listen 127.0.0.1:0 --download-dir "$T/dl"
start_peer friend --nick friend --listen 127.0.0.1:0
check "friend connects to victim" connect_pair friend victim
va=$(addr_of victim)
k=0

# proto CASE [ARG...]: run one case against the victim; its lines on stdout.
proto() {
	local cs=$1; shift
	"$HOSTILE" proto "$cs" "$va" "$@" 2>&1
}

# still_serving: the victim is alive and a message from friend still arrives.
still_serving() {
	k=$((k + 1))
	say friend "/msg victim still here $k"
	alive victim && wait_for victim ".event==\"message\" and .text==\"still here $k\"" 10 >/dev/null
}

# has OUT REGEX: a line of OUT matches.
has() { grep -Eq "$2" <<<"$1"; }

# sessions_closed: how many sessions the victim has ended itself so far (not
# counting those the hostile peer hung up).
sessions_closed() { grep "closed: " "$T/victim.log" | grep -vc "closed by peer"; }

# --- §2 preamble --------------------------------------------------------------
out=$("$HOSTILE" bad-preamble "$va")
check "§2: a preamble that does not start with CONFAB is closed" test "$out" = closed
aes=0
out=$(proto preamble 0x02)
diag "AESGCM-only preamble: $(tr '\n' ' ' <<<"$out")"
has "$out" '^cipher AESGCM' && aes=1
out=$(proto preamble 0x01)
check "§2.1: a ChaChaPoly-only preamble gets a ChaChaPoly session" has "$out" '^cipher ChaChaPoly'
check "§2.1: ... which chats" has "$out" '^acked'
if [ $aes = 1 ]; then
	out=$(proto preamble 0x02)
	check "§2.1: a preamble with bit 1 only (no ChaChaPoly) gets an AESGCM session that chats" has "$out" '^acked'
	check "§2.1: the victim announces both ciphers (0x03)" has "$out" '^flags 0x03 version 1'
	start_peer aesonly --nick aesonly --listen 127.0.0.1:0 --cipher aesgcm
	aa=$(addr_of aesonly)
	out=$("$HOSTILE" proto preamble "$aa" 0x03)
	check "§2.1: confab --cipher aesgcm announces bit 1 alone (0x02)" has "$out" '^flags 0x02 '
	check "§2.1: ... and runs AESGCM with a peer offering both" has "$out" '^acked'
	out=$("$HOSTILE" proto preamble "$aa" 0x01)
	check "§2.1: no cipher in common: closed without a session" has "$out" '^closed'
	stop_peer aesonly
else
	diag "no AES-GCM hardware: the AESGCM cases are skipped"
	out=$(proto preamble 0x01)
	check "§2.1: the victim announces ChaChaPoly (bit 0)" has "$out" '^flags 0x01 version 1'
fi
out=$(proto preamble 0x00)
check "§2.1: a preamble with no cipher bit is closed" has "$out" '^closed'
out=$(proto preamble 0xf1)
check "§2.1: reserved cipher bits are ignored" has "$out" '^acked'
out=$(proto version 0)
check "§2.2: preamble version 0 is closed" has "$out" '^closed'
out=$(proto version 2)
check "§2.2: a peer announcing version 2 gets a version-1 session" has "$out" '^acked'
check "§2.2: ... and the victim announced version 1" has "$out" 'version 1$'
check "§2: the victim keeps serving its friend" still_serving

# --- §4 handshake -------------------------------------------------------------
out=$(proto hs-payload)
check "§4: payloads in handshake messages are ignored" has "$out" '^acked'
t0=$(date +%s%N)
out=$("$HOSTILE" stall "$va" 14)
ms=$((($(date +%s%N) - t0) / 1000000))
diag "a handshake that stalls after the preamble: closed after $ms ms"
check "§4: the responder closes a handshake not complete after 10 s" test "$out" = closed
check "§4: ... not long after 10 s ($ms ms)" test "$ms" -ge 9500 -a "$ms" -le 13000

# the initiator that expected a key: a known peer's address now answered by
# another key.  bob is known to the victim at a fixed port; bob dies; a
# hostile responder takes the port and proves its own key in frame 2.
bport=$((20000 + (RANDOM % 120) * 100 + 47))
start_peer bob --nick bob --listen "127.0.0.1:$bport"
check "§4: (setup) the victim connects to bob by address" connect_pair victim bob
say victim "/msg bob hello bob"
wait_for bob '.event=="message" and .text=="hello bob"' 10 >/dev/null
kill_peer bob
"$HOSTILE" listen-stall msg2 "127.0.0.1:$bport" 20 >"$T/imp2.out" 2>&1 &
ip2=$!
wait $ip2
diag "the impostor at bob's address saw: $(tr '\n' ' ' <"$T/imp2.out")"
check "§4: an initiator that expected another key closes before frame 3" \
	grep -qx closed "$T/imp2.out"
check "§4: ... and says why in its log" grep -q "does not match" "$T/victim.log"
# a peer that finds its own static key on the other side
vpriv=$(sed -n 's/^confab-identity-v1 //p' "$T/victim/identity")
n0=$(grep -c "connected to ourselves" "$T/victim.log")
out=$(HOSTILE_PRIV=$vpriv "$HOSTILE" chat "$va" mirror "hello me" 2>&1 </dev/null)
diag "the victim's own key as a peer: $out"
check "§4: a responder that finds its own key on the other side closes" \
	poll_until 5 test "$(grep -c "connected to ourselves" "$T/victim.log")" -gt "$n0"
check "§4: ... before any record (the message is not shown)" \
	test "$(count_events victim '.event=="message" and .text=="hello me"')" -eq 0
check "§4: ... and lists no peer with its own key" \
	test "$(count_events victim ".event==\"peer\" and .fingerprint==\"$(fp_of victim)\"")" -eq 0

# --- §3, §5.1, §5.2 framing and session errors --------------------------------------
out=$("$HOSTILE" oversize-hs "$va")
check "§3: a handshake frame over 256 bytes is closed" test "$out" = closed
out=$("$HOSTILE" badauth "$va")
check "§5: a frame that fails authentication ends the session" test "$out" = closed
check "§5.2: ... without a BYE (closed, nothing said)" grep -q "closed: frame failed authentication" "$T/victim.log"
out=$(proto empty-frame)
check "§3: a frame of length 0 ends the session with BYE 2" has "$out" '^bye 2 '
out=$(proto empty-record)
check "§5.1: an empty record ends the session with BYE 2" has "$out" '^bye 2 '
out=$(proto malformed)
check "§5.1: a record of a known type with bytes missing ends the session with BYE 2" has "$out" '^bye 2 '
out=$(proto unknown-first)
check "§5.1: a record of unknown type is ignored, even before HELLO" has "$out" '^acked'
out=$(proto known-first)
check "§5.3: a known record before HELLO ends the session with BYE 2" has "$out" '^bye 2 '
check "§5.2: the victim keeps serving its friend" still_serving

# --- §5.3 HELLO ---------------------------------------------------------------
out=$(proto hello 0 1 proto)
check "§5.3: HELLO version 0 ends the session with BYE 2" has "$out" '^bye 2 '
out=$(proto hello 7 1 proto)
check "§5.3: HELLO version 7 is accepted" has "$out" '^acked'
out=$(proto hello 1 0xfffffff1 proto)
check "§5.3: unknown capability bits are ignored" has "$out" '^acked'
out=$(proto hello 1 1 "")
check "§5.3: an empty nick is accepted" has "$out" '^acked'
out=$(proto hello 1 1 proto 090003616263)
check "§5.3: an unknown extension is skipped" has "$out" '^acked'
out=$(proto hello 1 1 proto 010003001f90)
check "§5.3: a port extension of the wrong size is ignored" has "$out" '^acked'
out=$(proto hello 1 1 proto 0100)
check "§5.3: an extension cut short ends the session with BYE 2" has "$out" '^bye 2 '
out=$(proto hello 1 1 proto 090005616263)
check "§5.3: an extension longer than the record ends the session with BYE 2" has "$out" '^bye 2 '

# a peer that takes no files (capability bit 1) gets no OFFER
head -c 100 /dev/urandom >"$T/src/small"
"$HOSTILE" proto nofiles "$va" 6 >"$T/nofiles.out" 2>&1 &
hp=$!
wait_for victim '.event=="peer" and .nick=="nofiles" and .state=="online"' 5 >/dev/null
say victim "/send nofiles $T/src/small"
wait "$hp"
check "§5.3: no OFFER to a peer whose HELLO has CAP_NOFILES" has "$(cat "$T/nofiles.out")" '^timeout'
check "§5.3: ... and the user is told it takes no files" \
	wait_for victim '.event=="error" and (.message|test("takes no files"))' 5
check "§5.3: the victim keeps serving its friend" still_serving

# --- §5.4 to §5.6 -------------------------------------------------------------
out=$(proto msg-twice)
check "§5.4: every MSG is answered with an ACK, a repeated id and an empty text too" \
	test "$(grep -c '^acked' <<<"$out")" -eq 3
check "§5.4: a repeated id is shown once" \
	test "$(count_events victim '.event=="message" and .text=="said twice"')" -eq 1
out=$(proto ping)
check "§5.5: PING is answered with PONG carrying its nonce" has "$out" '^pong 1122334455667788$'
out=$(proto bye-long)
check "§5.6: a BYE with 200 bytes of text is still a BYE: the victim closes" has "$out" '^closed'
check "§5.6: ... as a quit (reason 0)" grep -q "said goodbye (reason 0)" "$T/victim.log"

# --- §6 file transfer: errors end the transfer, not the session ----------------
c0=$(sessions_closed)
for kind in type2 empty sizeddir; do
	out=$(proto bad-entry $kind)
	check "§6.3: an offer with a bad entry ($kind) is answered with CANCEL 5" has "$out" '^cancelled 5 1 '
	check "§6.3: ... and the session goes on ($kind)" has "$out" '^acked'
done
out=$(proto reoffer 5)
diag "a sender that re-offers after every reconnect: $(tr '\n' ' ' <<<"$out")"
check "§6.3: a re-offering buggy sender gets its answer on the first connection" has "$out" '^connections 1$'
check "§6.7: a bad entry never closes the session" test "$(sessions_closed)" -eq "$c0"
out=$(proto unknown-handle)
check "§6.1: transfer records for an unknown handle are ignored" has "$out" '^acked'
check "§6.1: ... without a CANCEL" test -z "$(grep '^cancelled' <<<"$out")"
out=$(proto cancel-dir)
check "§6.6: CANCEL with direction 2 ends the transfer with CANCEL 5" has "$out" '^cancelled 5 1 '
check "§6.6: ... and the session goes on" has "$out" '^acked'
out=$(proto long-cancel 200)
check "§6.6: a CANCEL text over 128 bytes does not end the session" has "$out" '^acked'
check "§6.6: ... it ends the transfer as a protocol error" \
	wait_for victim '.event=="transfer" and (.reason|test("CANCEL text of 200 bytes"))' 5
out=$(proto cancel-reason 9)
check "§6.2: a CANCEL reason over 5 ends the transfer as failed" \
	wait_for victim '.event=="transfer" and .nick=="cancel-reason" and .state=="failed"' 5
out=$(proto long-cancel 128)
check "§6.6: a CANCEL text of 128 bytes is fine" has "$out" '^acked'
check "§6.7: none of these closed a session" test "$(sessions_closed)" -eq "$c0"

# FILE_END status 1 (the source changed): the receiver ends it with CANCEL 2
"$HOSTILE" proto file-end-1 "$va" >"$T/fe1.out" 2>&1 &
hp=$!
if wait_for victim '.event=="offer" and .nick=="file-end-1"' 10 >/dev/null; then
	id=$(events victim 'select(.event=="offer" and .nick=="file-end-1") | .id' | tail -n 1 | tr -d '"')
	say victim "/accept $id"
fi
wait "$hp"
out=$(cat "$T/fe1.out")
diag "FILE_END status 1 to the victim: $(tr '\n' ' ' <<<"$out")"
check "§6.5: FILE_END status 1 is answered with CANCEL 2 (direction 1)" has "$out" '^cancelled 2 1 '
check "§6.5: ... and the session goes on" has "$out" '^acked'
check "§6.5: the victim shows the transfer failed" \
	wait_for victim ".event==\"transfer\" and .id==\"$id\" and .state==\"failed\"" 5

# the victim sends, its source changes during the transfer: FILE_END 1 and CANCEL 2 at once
head -c 30000000 /dev/zero | tr '\0' 'z' >"$T/src/big"
"$HOSTILE" proto receiver 127.0.0.1:0 touch "$T/src/big" >"$T/recv.out" 2>&1 &
hp=$!
for _ in $(seq 50); do grep -q '^listening' "$T/recv.out" && break; sleep 0.1; done
ra=$(awk '/^listening/ {print $2}' "$T/recv.out")
say victim "/connect $ra"
wait_for victim '.event=="peer" and .nick=="recv-touch" and .state=="online"' 10 >/dev/null
say victim "/send recv-touch $T/src/big"
wait "$hp"
out=$(cat "$T/recv.out")
diag "the victim's source changed mid-transfer: $(tr '\n' ' ' <<<"$out")"
check "§6.5: a sender whose source changed sends FILE_END status 1" has "$out" '^file_end 1'
check "§6.6: ... then CANCEL 2 (direction 0) without waiting for an answer" has "$out" '^cancelled 2 0'
ms=$(awk '/^ended after/ {print $3}' "$T/recv.out")
check "§6.6: ... within one round trip (${ms:-?} ms)" test "${ms:-99999}" -ge 0 -a "${ms:-99999}" -lt 2000
check "§6.6: the sender shows the transfer failed, not running" \
	wait_for victim '.event=="transfer" and .direction=="out" and .state=="failed" and (.reason|test("changed"))' 5

# a receiver that never answers XFER_DONE: the sender gives up after 30 s
head -c 1000 /dev/urandom >"$T/src/mute"
"$HOSTILE" proto receiver 127.0.0.1:0 mute >"$T/mute.out" 2>&1 &
hp=$!
for _ in $(seq 50); do grep -q '^listening' "$T/mute.out" && break; sleep 0.1; done
ra=$(awk '/^listening/ {print $2}' "$T/mute.out")
say victim "/connect $ra"
wait_for victim '.event=="peer" and .nick=="recv-mute" and .state=="online"' 10 >/dev/null
say victim "/send recv-mute $T/src/mute"
wait "$hp"
out=$(cat "$T/mute.out")
diag "a receiver that never answers: $(tr '\n' ' ' <<<"$out")"
ms=$(awk '/^ended after/ {print $3}' "$T/mute.out")
check "§6.6: a sender waiting for XFER_RESULT gives up with CANCEL 2" has "$out" '^cancelled 2 0'
check "§6.6: ... after the 30 s result timeout (${ms:-?} ms)" test "${ms:-0}" -ge 29000 -a "${ms:-0}" -le 35000
check "§6.6: the sender shows the transfer failed" \
	wait_for victim '.event=="transfer" and .direction=="out" and .state=="failed" and (.reason|test("no result"))' 5

# resume entries: one that lies is refused, a wrong proof restarts the file at 0
head -c 5000 /dev/urandom >"$T/src/resume"
for how in lie-resume bad-proof; do
	"$HOSTILE" proto receiver 127.0.0.1:0 $how >"$T/$how.out" 2>&1 &
	hp=$!
	for _ in $(seq 50); do grep -q '^listening' "$T/$how.out" && break; sleep 0.1; done
	say victim "/connect $(awk '/^listening/ {print $2}' "$T/$how.out")"
	wait_for victim '.event=="peer" and .nick=="recv-'$how'" and .state=="online"' 10 >/dev/null
	say victim "/send recv-$how $T/src/resume"
	wait "$hp"
	diag "$how: $(tr '\n' ' ' <"$T/$how.out")"
done
check "§6.4: a whole-file resume entry whose offset is not the size is answered CANCEL 5" \
	grep -q '^cancelled 5 0' "$T/lie-resume.out"
check "§6.4: a partial resume entry with a wrong proof: the file is sent from offset 0" \
	grep -q '^data offset 0$' "$T/bad-proof.out"
check "§6.4: ... in full, and the transfer succeeds" \
	wait_for victim '.event=="transfer" and .nick=="recv-bad-proof" and .state=="done"' 5

check "§6: the victim keeps serving its friend" still_serving

# --- every section of PROTOCOL.md with a MUST is proved by a check named after it
srcdir=${top_srcdir:-$(dirname "$0")/..}
untested=
for sec in $(awk '/^## [0-9]+\./ { split($2, a, "."); top = a[1]; sec = a[1] }
	/^### [0-9]+\.[0-9]+ / { sec = $2 }
	/^## 8\./ { stop = 1 }
	!stop && /MUST/ && top >= 2 { print sec }' "$srcdir/net/PROTOCOL.md" | sort -u); do
	sec=${sec%.}
	grep -rqF -e "§$sec:" -e "§$sec " "$srcdir"/tests/*.sh "$srcdir"/tests/*.c || untested="$untested $sec"
done
diag "sections with a MUST and no check named after them:${untested:- none}"
check "every section 2-7 with a MUST has a check named after it" test -z "$untested"
done_testing
