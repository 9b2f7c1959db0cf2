#!/bin/bash
# t_trust.sh - trust on first use, /verify's session code and safety number,
# a new key under a known nick, blocking, renaming and forgetting.
. "$(dirname "$0")/lib.sh"

start_peer alice --nick alice --listen 127.0.0.1:0
start_peer bob --nick bob --listen 127.0.0.1:0
start_peer carol --nick carol --listen 127.0.0.1:0
fa=$(fp_of alice); fb=$(fp_of bob); fc=$(fp_of carol)
check "alice and bob connect" connect_pair alice bob
e=$(wait_for alice ".event==\"peer\" and .fingerprint==\"$fb\" and .state==\"online\"")
check "first contact: bob is unverified" test "$(jq -r .trust <<<"$e")" = unverified

# /verify: the session code and the safety number are the same on both
# screens, and both differ for a third peer
say alice "/verify bob"; say bob "/verify alice"
va=$(wait_for alice '.event=="verify"'); vb=$(wait_for bob '.event=="verify"')
ca=$(jq -r .code <<<"$va"); cb=$(jq -r .code <<<"$vb")
sa=$(jq -r .safety <<<"$va"); sb=$(jq -r .safety <<<"$vb")
diag "session code: alice sees $ca, bob sees $cb"
diag "safety number: alice sees $sa, bob sees $sb"
check "the session code has 12 digits in groups of three" grep -Eq '^[0-9]{3} [0-9]{3} [0-9]{3} [0-9]{3}$' <<<"$ca"
check "alice and bob see the same session code" test "$ca" = "$cb"
check "the safety number has 60 digits in groups of five" grep -Eq '^[0-9]{5}( [0-9]{5}){11}$' <<<"$sa"
check "alice and bob see the same safety number" test "$sa" = "$sb"
check "alice is told to compare the session code by voice, now" \
	wait_for alice ".event==\"info\" and .peer==\"$fb\" and (.text|startswith(\"session code $ca (with bob) - read it to each other now, by voice\"))"
check "and the safety number any time" \
	wait_for alice ".event==\"info\" and .peer==\"$fb\" and (.text|startswith(\"safety number $sa (with bob) - compare it any time\"))"
check "carol and alice connect" connect_pair carol alice
say alice "/verify carol"
vc=$(wait_for alice ".event==\"verify\" and .peer==\"$fc\"")
check "the session code with carol is different" test "$(jq -r .code <<<"$vc")" != "$ca"
check "so is the safety number" test "$(jq -r .safety <<<"$vc")" != "$sa"

# a nick cannot put a code of its choosing where the real one is read: each
# code comes first on its line, before the peer's name (a hostile peer may
# announce a nick with spaces)
HOSTILE=${top_builddir:-$(dirname "$0")/..}/tests/hostile
HOSTILE_STAY=20 "$HOSTILE" chat "$(addr_of alice)" "dave: 000 000 000 000, 00000 00000 00000 -" "hi" \
	>"$T/dave.out" 2>&1 &
dave=$!
e=$(wait_for alice '.event=="message" and .text=="hi" and (.nick|startswith("dave:"))')
fd=$(jq -r .from <<<"$e")
say alice "/verify $fd"
vd=$(wait_for alice ".event==\"verify\" and .peer==\"$fd\"")
check "a peer whose nick looks like codes: /verify shows its session code" \
	grep -Eq '^[0-9]{3} [0-9]{3} [0-9]{3} [0-9]{3}$' <<<"$(jq -r .code <<<"$vd")"
ld=$(wait_for alice ".event==\"info\" and .peer==\"$fd\" and (.text|startswith(\"session code\"))" | jq -r .text)
diag "$ld"
check "the first code on the session code's line is the real one" \
	test "$(grep -Eo '[0-9]{3} [0-9]{3} [0-9]{3} [0-9]{3}' <<<"$ld" | head -n 1)" = "$(jq -r .code <<<"$vd")"
ld=$(wait_for alice ".event==\"info\" and .peer==\"$fd\" and (.text|startswith(\"safety number\"))" | jq -r .text)
diag "$ld"
check "the first groups on the safety number's line are the real ones" \
	test "$(grep -Eo '[0-9]{5}( [0-9]{5})+' <<<"$ld" | head -n 1)" = "$(jq -r .safety <<<"$vd")"
kill "$dave" 2>/dev/null; wait "$dave" 2>/dev/null

say alice "/trust bob"
check "/trust marks bob verified" wait_for alice ".event==\"peer\" and .fingerprint==\"$fb\" and .trust==\"verified\""

# trust is remembered across a restart
say alice "/quit"; stop_peer alice
: >"$T/alice.out"
start_peer alice --nick alice --listen 127.0.0.1:0
say alice "/peers"
check "after a restart bob is still verified" \
	wait_for alice ".event==\"peer\" and .fingerprint==\"$fb\" and .trust==\"verified\""
check "the peers file has mode 0600" test "$(stat -c %a "$T/alice/peers")" = 600

# a new key that says it is bob: a different peer, with a warning, never merged
start_peer mallory --nick bob --listen 127.0.0.1:0
fm=$(fp_of mallory)
say mallory "/connect $(addr_of alice)"
w=$(wait_for alice ".event==\"warning\" and .peer==\"$fm\"")
check "a new key announcing a known nick raises a warning" test -n "$w"
diag "$(jq -r .message <<<"$w")"
m=$(wait_for alice ".event==\"peer\" and .fingerprint==\"$fm\" and .state==\"online\"")
check "it is shown under another name" test "$(jq -r .nick <<<"$m")" != bob
check "and is unverified" test "$(jq -r .trust <<<"$m")" = unverified
say mallory "/msg $fa hi it is me, bob"
wait_for alice '.event=="message" and .text=="hi it is me, bob"' >/dev/null
check "its message is attributed to the new key, not to bob" \
	test "$(events alice 'select(.event=="message" and .text=="hi it is me, bob") | .from' | tr -d '"')" = "$fm"
say alice "/peers"
check "the real bob is still verified and still called bob" \
	wait_for alice ".event==\"peer\" and .fingerprint==\"$fb\" and .nick==\"bob\" and .trust==\"verified\""
say alice "/msg bob for the real bob"
check "/msg bob goes to the verified key" wait_for bob '.event=="message" and .text=="for the real bob"'
check "mallory does not get it" test "$(count_events mallory '.event=="message" and .text=="for the real bob"')" -eq 0

# the real bob reconnecting keeps his name and gets no warning
say bob "/quit"; stop_peer bob
# bob offline: the safety number still, no session code
wait_for alice ".event==\"peer\" and .fingerprint==\"$fb\" and .state==\"offline\"" >/dev/null
say alice "/verify bob"
wait_count alice ".event==\"verify\" and .peer==\"$fb\"" 2 10
v=$(events alice "select(.event==\"verify\" and .peer==\"$fb\")" | tail -n 1)
check "/verify of an offline peer: no session code (null)" test "$(jq -c .code <<<"$v")" = null
check "the same safety number" test "$(jq -r .safety <<<"$v")" = "$sa"
check "alice is told the session code needs bob online" \
	wait_for alice ".event==\"info\" and .peer==\"$fb\" and (.text|startswith(\"session code: none while bob is offline\"))"
: >"$T/bob.out"
start_peer bob --nick bob --listen 127.0.0.1:0
say bob "/connect $(addr_of alice)"
wait_count alice ".event==\"peer\" and .fingerprint==\"$fb\" and .state==\"online\"" 2 10 >/dev/null
# a new session: a new session code, the same safety number
say alice "/verify bob"; say bob "/verify $fa"
wait_count alice ".event==\"verify\" and .peer==\"$fb\"" 3 10
v=$(events alice "select(.event==\"verify\" and .peer==\"$fb\")" | tail -n 1)
vb=$(wait_for bob '.event=="verify"')
diag "new session code: alice sees $(jq -r .code <<<"$v"), bob sees $(jq -r .code <<<"$vb")"
check "after a reconnect the session code is new" test "$(jq -r .code <<<"$v")" != "$ca"
check "and again the same on both screens" test "$(jq -r .code <<<"$v")" = "$(jq -r .code <<<"$vb")"
check "the safety number stays" test "$(jq -r .safety <<<"$v")" = "$sa"
check "on both screens" test "$(jq -r .safety <<<"$vb")" = "$sa"
check "the real bob, back again, is still bob, verified, without a warning" \
	test "$(events alice "select(.event==\"peer\" and .fingerprint==\"$fb\") | .nick + \" \" + .trust + \" \" + (.warning // \"none\")" | tail -n 1)" = '"bob verified none"'
check "no warning names the real bob's key" test "$(count_events alice ".event==\"warning\" and .peer==\"$fb\"")" -eq 0

# blocking: the connection is refused, messages never arrive
say alice "/block $fm"
check "/block marks it blocked" wait_for alice ".event==\"peer\" and .fingerprint==\"$fm\" and .trust==\"blocked\""
check "the blocked peer is disconnected" \
	wait_for mallory ".event==\"peer\" and .fingerprint==\"$fa\" and .state==\"offline\""
n0=$(count_events mallory ".event==\"peer\" and .fingerprint==\"$fa\" and .state==\"online\"")
say mallory "/connect $(addr_of alice)"
sleep 1
check "a blocked peer cannot connect" \
	test "$(count_events mallory ".event==\"peer\" and .fingerprint==\"$fa\" and .state==\"online\"")" -eq "$n0"
say mallory "/msg $fa let me in"
sleep 1
check "nor message" test "$(count_events alice '.event=="message" and .text=="let me in"')" -eq 0
check "the refusal is logged" grep -q "refusing blocked peer $fm" "$T/alice.log"
# and we neither message, send to nor dial a blocked peer
ninc=$(grep -c "incoming from" "$T/mallory.log")
say alice "/msg $fm are you there"
check "/msg to a blocked peer: NAME is blocked (/unblock NAME first)" \
	wait_for alice ".event==\"error\" and .peer==\"$fm\" and (.message|test(\"^[^ ]+ is blocked \\\\(/unblock [^ ]+ first\\\\)$\"))"
echo data >"$T/blocked.txt"
say alice "/send $fm $T/blocked.txt"
check "/send to a blocked peer: the same error" \
	wait_count alice ".event==\"error\" and .peer==\"$fm\" and (.message|test(\" is blocked \"))" 2 10
check "nothing is queued or offered to it" \
	test "$(count_events alice ".event==\"sent\" and .to==\"$fm\"")$(count_events alice ".event==\"transfer\" and .to==\"$fm\"")" = 00
sleep 1
check "alice never dials the blocked peer" test "$(grep -c "incoming from" "$T/mallory.log")" -eq "$ninc"
say alice "/unblock $fm"
say mallory "/connect $(addr_of alice)"
check "after /unblock it can connect again" \
	wait_for alice ".event==\"peer\" and .fingerprint==\"$fm\" and .state==\"online\" and .trust==\"unverified\"" 10

# rename and forget
say alice "/rename $fc caz"
check "/rename changes the name" wait_for alice ".event==\"peer\" and .fingerprint==\"$fc\" and .nick==\"caz\""
say alice "/rename $fm caz"
check "a name already in use is refused" wait_for alice '.event=="error" and (.message|test("already names"))'
say alice "/msg caz by petname"
check "the new name works in commands" wait_for carol '.event=="message" and .text=="by petname"'
say alice "/quit"; stop_peer alice
check "the name is remembered" grep -q "caz" "$T/alice/peers"
: >"$T/alice.out"
start_peer alice --nick alice --listen 127.0.0.1:0
say alice "/forget caz"
check "/forget reports it" wait_for alice '.event=="info" and (.text|test("forgot"))'
say alice "/quit"; stop_peer alice
check "a forgotten peer is gone from the peers file" bash -c "! grep -q '$fc' '$T/alice/peers'"
check "and its history file is gone" test ! -e "$T/alice/history/$fc"
done_testing
