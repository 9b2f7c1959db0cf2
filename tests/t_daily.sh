#!/bin/bash
# t_daily.sh - everyday use between headless peers: one entry per transfer
# on both sides across reconnects and restarts, /nick remembered.
. "$(dirname "$0")/lib.sh"

src=$T/src
mkdir -p "$src"
head -c 50000000 /dev/urandom >"$src/big.bin"

start_peer alice --nick alice --listen 127.0.0.1:0 --limit-rate 10m
start_peer bob --nick bob --listen 127.0.0.1:0 --download-dir "$T/bob-dl"
fa=$(fp_of alice); fb=$(fp_of bob)
check "alice and bob connect" connect_pair alice bob

# listed NAME ID: how many entries NAME's /transfers lists for ID (the events after asking)
listed() {
	local n0
	n0=$(wc -l <"$T/$1.out")
	say "$1" "/transfers"
	sleep 0.5
	tail -n +$((n0 + 1)) "$T/$1.out" | jq -c "select(.event==\"transfer\" and .id==\"$2\")" | wc -l
}

# --- a repeated /connect mid-transfer: one entry per transfer on each side ----
say alice "/send bob $src/big.bin"
id=$(wait_for bob '.event=="offer"' | jq -r .id)
say bob "/accept $id"
wait_for bob ".event==\"progress\" and .id==\"$id\" and .bytes > 5000000" 30 >/dev/null
n_online=$(count_events alice ".event==\"info\" and .peer==\"$fb\" and (.text|startswith(\"bob is online\"))")
say alice "/connect $(addr_of bob)"
sleep 2
check "a repeated /connect: no second \"bob is online\" line" \
	test "$(count_events alice ".event==\"info\" and .peer==\"$fb\" and (.text|startswith(\"bob is online\"))")" -eq "$n_online"
n=$(listed bob "$id")
check "bob lists the transfer once" test "$n" -eq 1 || diag "bob lists it $n times"
n=$(listed alice "$id")
check "alice lists it once" test "$n" -eq 1 || diag "alice lists it $n times"
say alice "/cancel $id"
wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"cancelled\"" 10 >/dev/null

# --- the sender restarts mid-transfer: the transfer goes on by itself --------
say alice "/send bob $src/big.bin"
id=$(wait_for bob ".event==\"offer\" and .id!=\"$id\"" | jq -r .id)
say bob "/accept $id"
wait_for bob ".event==\"progress\" and .id==\"$id\" and .bytes > 10000000" 30 >/dev/null
kill_peer alice 9
wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"waiting\"" 10 >/dev/null
: >"$T/alice.out"
start_peer alice --nick alice --listen 127.0.0.1:0 --limit-rate 10m
check "after a restart the sender says it still has the transfer" \
	wait_for alice ".event==\"info\" and (.text|startswith(\"transfer ${id:0:8} to bob, from the last run\"))" 10
say alice "/connect $(addr_of bob)"
check "it is offered again and resumes, to the end" \
	wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 60
t=$(wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 10)
diag "sender restart: $(jq -r '"resumed \(.resumed) bytes, sent \(.wire) of \(.total)"' <<<"$t")"
check "only the missing part was sent" test "$(jq '.resumed > 10000000' <<<"$t")" = true
# both sides count the same bytes: the resumed part included from the start
ra=$(events alice "select(.event==\"transfer\" and .id==\"$id\" and .state==\"running\") | .bytes" | tail -n 1)
rb=$(events bob "select(.event==\"transfer\" and .id==\"$id\" and .state==\"running\") | .bytes" | tail -n 1)
diag "resumed transfer starts at: sender $ra bytes, receiver $rb bytes"
check "sender and receiver start the resumed transfer at the same byte count" test "$ra" = "$rb"
check "the sender's progress never leaves out the resumed bytes" \
	test "$(events alice "select(.event==\"progress\" and .id==\"$id\" and .bytes < $ra)" | wc -l)" -eq 0
check "the file arrived whole" cmp -s "$src/big.bin" "$T/bob-dl/big.bin"
n=$(listed bob "$id")
check "bob lists it once (no stale \"waiting\" entry)" test "$n" -eq 1 || diag "bob lists it $n times"
n0=$(wc -l <"$T/bob.out")
say bob "/transfers"
sleep 0.5
check "nothing is left waiting on bob's side" \
	test "$(tail -n +$((n0 + 1)) "$T/bob.out" | jq -c 'select(.event=="transfer" and .state=="waiting")' | wc -l)" -eq 0
rm -f "$T/bob-dl/big.bin"

# --- a one-shot sender killed and run again: the new offer resumes, one entry --
"$CONFAB" send --home "$T/s" --no-discovery --no-nat --limit-rate 10m --to "$(addr_of bob)" \
	"$src/big.bin" 2>/dev/null &
spid=$!
id=$(wait_for bob ".event==\"offer\" and .nick==\"anonymous\"" 20 | jq -r .id)
say bob "/accept $id"
wait_for bob ".event==\"progress\" and .id==\"$id\" and .bytes > 10000000" 30 >/dev/null
kill -9 $spid; wait $spid 2>/dev/null
wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"waiting\"" 10 >/dev/null
"$CONFAB" send --home "$T/s" --no-discovery --no-nat --to "$(addr_of bob)" "$src/big.bin" 2>/dev/null &
spid=$!
id2=$(wait_for bob ".event==\"offer\" and .nick==\"anonymous\" and .id!=\"$id\"" 20 | jq -r .id)
say bob "/accept $id2"
wait $spid; rc=$?
check "the second one-shot send resumes and ends (exit 0)" test $rc -eq 0
check "bob no longer lists the first entry as waiting" test "$(listed bob "$id")" -eq 0

# --- /connect: yourself, a code cut short, a known peer by its nick ------------
say alice "/connect $(addr_of alice)"
check "/connect to yourself says so plainly" \
	wait_for alice '.event=="error" and (.message|test("is your own address"))'
say alice "/connect confab1qqqqqqqqq"
check "a cut-off invite code is reported as too short, not looked up" \
	wait_for alice '.event=="error" and (.message|test("too short"))'
check "(no DNS lookup for it)" bash -c "! grep -q 'confab1qqqqqqqqq' '$T/alice.log' || ! grep -qi 'looking up.*confab1qqqq' '$T/alice.log'"
say alice "/block bob"; say alice "/unblock bob"
wait_for bob ".event==\"peer\" and .fingerprint==\"$fa\" and .state==\"offline\"" 10 >/dev/null
n_on=$(count_events alice ".event==\"peer\" and .fingerprint==\"$fb\" and .state==\"online\"")
say alice "/connect bob"
check "/connect NICK calls a known peer again" \
	wait_for alice '.event=="info" and (.text|startswith("connecting to bob at"))'
check "and bob is back online" \
	wait_count alice ".event==\"peer\" and .fingerprint==\"$fb\" and .state==\"online\"" $((n_on + 1)) 10

# --- a message over the limit is split at word boundaries, and said so --------
long=$(for i in $(seq 800); do printf 'word%04d ' "$i"; done)
long=${long% }
say alice "/msg bob $long"
check "a message over 4096 bytes is sent in parts, not refused" \
	wait_for alice '.event=="info" and (.text|test("sent in 2 parts"))'
wait_count bob '.event=="message" and (.text|startswith("word0"))' 2 10
got=$(events bob 'select(.event=="message" and (.text|test("^word[0-9]{4}"))) | .text' | jq -rs 'join(" ")')
check "the parts joined give the message back (split between words)" test "$got" = "$long"

# --- /nick is remembered across a restart --------------------------------------
start_peer dave --listen 127.0.0.1:0
say dave "/nick dave2"
wait_for dave '.event=="nick" and .nick=="dave2"' >/dev/null
say dave "/quit"; stop_peer dave
: >"$T/dave.out"
start_peer dave --listen 127.0.0.1:0
check "after a restart the /nick chosen is used" wait_for dave '.event=="ready" and .nick=="dave2"'
say dave "/quit"; stop_peer dave
: >"$T/dave.out"
start_peer dave --nick cmdline --listen 127.0.0.1:0
check "--nick still wins over it" wait_for dave '.event=="ready" and .nick=="cmdline"'
say dave "/quit"; stop_peer dave

done_testing
