#!/bin/bash
# t_xfer.sh - file drop between headless peers on loopback: content and mtime
# kept, trees with empty folders, reject and cancel from each side, resume
# after kill -9 of either side, a full disk, and hostile offers.
. "$(dirname "$0")/lib.sh"
HOSTILE=${top_builddir:-$(dirname "$0")/..}/tests/hostile

src=$T/src
mkdir -p "$src/tree/a/b/c" "$src/tree/empty" "$src/tree/a/also empty"
: >"$src/zero.bin"
printf 'x' >"$src/one.bin"
head -c 3000000 /dev/urandom >"$src/few-mb.bin"
echo "nested" >"$src/tree/a/b/c/deep.txt"
head -c 70000 /dev/urandom >"$src/tree/a/b/mid.bin"
printf 'spaces' >"$src/tree/a/with space.txt"
touch -d '2001-02-03 04:05:06.123456789' "$src/few-mb.bin" "$src/tree/a/b/c/deep.txt"
# over 4 GiB, sparse, with real data at the start, across 4 GiB and at the end
truncate -s 4400M "$src/huge.sparse"
head -c 1000000 /dev/urandom | dd of="$src/huge.sparse" conv=notrunc status=none
head -c 1000000 /dev/urandom | dd of="$src/huge.sparse" bs=1M seek=4095 conv=notrunc status=none
head -c 1000000 /dev/urandom | dd of="$src/huge.sparse" bs=1M seek=4398 conv=notrunc status=none

start_peer alice --nick alice --listen 127.0.0.1:0
start_peer bob --nick bob --listen 127.0.0.1:0 --download-dir "$T/bob-dl"
fa=$(fp_of alice); fb=$(fp_of bob)
check "alice and bob connect" connect_pair alice bob

# same_file A B: identical content and modification time (to the nanosecond)
same_file() {
	cmp -s "$1" "$2" && [ "$(stat -c %y "$1")" = "$(stat -c %y "$2")" ]
}

# offer_id PEER N [NICK]: the id of the N-th offer PEER saw (from NICK, default alice)
offer_id() {
	local sel=".event==\"offer\" and (.nick|startswith(\"${3:-alice}\"))"
	wait_count "$1" "$sel" "$2" 10 || return 1
	events "$1" "select($sel) | .id" | sed -n "${2}p" | tr -d '"'
}

# send_offer CMD: alice runs a /send command; prints the id of the offer bob gets
send_offer() {
	local n0
	n0=$(count_events bob '.event=="offer" and .nick=="alice"')
	say alice "$1"
	offer_id bob $((n0 + 1))
}

# done_ok PEER ID: the transfer ended "done" on PEER
done_ok() {
	wait_for "$1" ".event==\"transfer\" and .id==\"$2\" and .state==\"done\"" "${3:-30}"
}

# --- small files, one by one, default download directory -------------------
diag "t=${SECONDS}s"
for f in zero.bin one.bin few-mb.bin; do
	id=$(send_offer "/send bob $src/$f")
	o=$(wait_for bob ".event==\"offer\" and .id==\"$id\"")
	check "$f: the offer lists the name and size" \
		test "$(jq -r '.files[0].path' <<<"$o") $(jq -r '.files[0].size' <<<"$o")" = "$f $(stat -c %s "$src/$f")"
	say bob "/accept ${id:0:6}"
	check "$f: bob reports done" done_ok bob "$id"
	check "$f: alice reports done (verified by bob)" done_ok alice "$id"
	check "$f: identical content and mtime" same_file "$src/$f" "$T/bob-dl/$f"
done

# --- a tree with nested and empty folders, into a chosen directory ---------
diag "t=${SECONDS}s"
id=$(send_offer "/send bob \"$src/tree\"")
say bob "/accept $id \"$T/into here\""
check "tree: done" done_ok bob "$id"
check "tree: every file identical" diff -r "$src/tree" "$T/into here/tree"
check "tree: empty folders kept" test -d "$T/into here/tree/empty" -a -d "$T/into here/tree/a/also empty"
check "tree: nested file mtime kept" same_file "$src/tree/a/b/c/deep.txt" "$T/into here/tree/a/b/c/deep.txt"
p=$(wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" | jq -r .path)
check "tree: the done event names where it landed" test "$p" = "$T/into here/tree"

# --- never overwrite ----------------------------------------------------------
diag "t=${SECONDS}s"
id=$(send_offer "/send bob $src/one.bin")
say bob "/accept $id"
check "a second one.bin: done" done_ok bob "$id"
check "a second one.bin lands as 'one (1).bin', the first untouched" \
	test -f "$T/bob-dl/one (1).bin" -a "$(cat "$T/bob-dl/one.bin")" = x

# --- over 4 GiB, sparse ---------------------------------------------------------
diag "t=${SECONDS}s"
id=$(send_offer "/send bob $src/huge.sparse")
say bob "/accept $id"
check "4.3 GiB sparse file: done" done_ok bob "$id" 240
check "4.3 GiB sparse file: identical content and mtime" same_file "$src/huge.sparse" "$T/bob-dl/huge.sparse"
diag "huge.sparse uses $(du -k "$T/bob-dl/huge.sparse" | cut -f1) KiB on the receiver's disk"
rm -f "$T/bob-dl/huge.sparse"

# --- reject and cancel, each side ------------------------------------------------
diag "t=${SECONDS}s"
id=$(send_offer "/send bob $src/few-mb.bin")
say bob "/reject $id"
check "reject: alice learns it was rejected" wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"rejected\""
check "reject: nothing arrives" test ! -e "$T/bob-dl/few-mb (1).bin"

truncate -s 40G "$src/slow.sparse"   # all holes: slow only because it is long
id=$(send_offer "/send bob $src/slow.sparse")
say bob "/accept $id"
wait_for bob ".event==\"progress\" and .id==\"$id\"" 10 >/dev/null
say alice "/cancel $id"
check "sender cancels: bob sees cancelled" wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"cancelled\"" 10
check "sender cancels: no file under its final name, no staging left" \
	test -z "$(ls -A "$T/bob-dl" | grep -e slow -e '.confab-')"

id=$(send_offer "/send bob $src/slow.sparse")
say bob "/accept $id"
wait_for bob ".event==\"progress\" and .id==\"$id\"" 10 >/dev/null
say bob "/cancel $id"
check "receiver cancels: alice sees cancelled" wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"cancelled\"" 10
check "receiver cancels: nothing left behind" test -z "$(ls -A "$T/bob-dl" | grep -e slow -e '.confab-')"
say alice "/msg bob after the transfers"
check "a message after the transfers arrives" wait_for bob '.event=="message" and .text=="after the transfers"'
rm -f "$src/slow.sparse"

# --- kill -9 of the sender mid-transfer, then resume ----------------------------
diag "t=${SECONDS}s"
# alice now sends at 40 MB/s so that the test can act in the middle of a transfer
say alice "/quit"; stop_peer alice
: >"$T/alice.out"
start_peer alice --nick alice --listen 127.0.0.1:0 --limit-rate 40m
say alice "/connect $(addr_of bob)"
wait_for alice ".event==\"peer\" and .state==\"online\"" 10 >/dev/null
head -c 120000000 /dev/urandom >"$src/resume.bin"
id=$(send_offer "/send bob $src/resume.bin")
say bob "/accept $id"
# wait until bob has made a checkpoint (every 64 MiB or 2 s), then kill alice
wait_for bob ".event==\"progress\" and .id==\"$id\" and .bytes > 72000000" 60 >/dev/null
kill_peer alice 9
check "sender killed: bob sees the transfer waiting" \
	wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"waiting\"" 10
check "no file under its final name yet" test ! -e "$T/bob-dl/resume.bin"
: >"$T/alice.out"
start_peer alice --nick alice --listen 127.0.0.1:0 --limit-rate 40m
say alice "/connect $(addr_of bob)"
wait_for alice ".event==\"peer\" and .state==\"online\"" 10 >/dev/null
id2=$(send_offer "/send bob $src/resume.bin")
say bob "/accept $id2"
check "§6.8 resume after sender kill -9: done" done_ok bob "$id2" 120
t=$(wait_for alice ".event==\"transfer\" and .id==\"$id2\" and .state==\"done\"")
diag "resume: $(jq -r '"resumed \(.resumed) bytes, sent \(.wire) of \(.total)"' <<<"$t")"
check "resume: only the missing bytes crossed the network" \
	test "$(jq '.resumed > 60000000 and .wire + .resumed == .total' <<<"$t")" = true
check "resume: identical content" same_file "$src/resume.bin" "$T/bob-dl/resume.bin"
rm -f "$T/bob-dl/resume.bin"

# restart_bob: start bob again after a kill (fresh event log, same home and
# download dir) and have alice call him.
restart_bob() {
	: >"$T/bob.out"
	start_peer bob --nick bob --listen 127.0.0.1:0 --download-dir "$T/bob-dl"
	say alice "/connect $(addr_of bob)"
}

# --- kill -9 of the receiver mid-transfer: the sender offers again, bob resumes ---
diag "t=${SECONDS}s"
id=$(send_offer "/send bob $src/resume.bin")
say bob "/accept $id"
wait_for bob ".event==\"progress\" and .id==\"$id\" and .bytes > 72000000" 60 >/dev/null
kill_peer bob 9
check "receiver killed: alice sees the transfer waiting" \
	wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"waiting\"" 10
restart_bob
check "§6.8 receiver restarted: the same offer resumes without asking" done_ok bob "$id" 120
t=$(wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 10)
diag "receiver restart: $(jq -r '"resumed \(.resumed) bytes, sent \(.wire) of \(.total)"' <<<"$t")"
check "receiver restart: resumed, not sent again" test "$(jq '.resumed > 60000000' <<<"$t")" = true
check "receiver restart: identical content" same_file "$src/resume.bin" "$T/bob-dl/resume.bin"

# --- the same with many files: only files flushed to the disk count as done ---
diag "t=${SECONDS}s"
mkdir -p "$src/many"
for i in $(seq -w 1 60); do head -c 2000000 /dev/urandom >"$src/many/f$i.bin"; done
id=$(send_offer "/send bob $src/many")
say bob "/accept $id"
# 100 MB at 40 MB/s: bob has saved its state at least once (every 2 s)
wait_for bob ".event==\"progress\" and .id==\"$id\" and .bytes > 100000000" 60 >/dev/null
kill_peer bob 9
state=$(find "$T/bob" -path '*/transfers/*.in' | head -n 1)
stage=$(find "$T/bob-dl" -maxdepth 1 -name '.confab-*.partial' | head -n 1)
ndone=$(grep -c '^done ' "$state" 2>/dev/null || true)
diag "bob's saved state lists ${ndone:-0} of 60 files as done"
check "many files: the saved state lists finished files" test "${ndone:-0}" -gt 0
check "the saved state is private (mode 600)" test "$(stat -c %a "$state" 2>/dev/null)" = 600
whole=1
while read -r _ idx; do
	f=$(printf 'f%02d.bin' "$idx")
	cmp -s "$src/many/$f" "$stage/many/$f" || whole=0
done < <(grep '^done ' "$state" 2>/dev/null)
check "many files: every file saved as done is complete in the staging dir" test "$whole" = 1
check "receiver killed again: alice sees the transfer waiting" \
	wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"waiting\"" 10
restart_bob
check "many files: the transfer resumes and completes" done_ok bob "$id" 120
t=$(wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 10)
diag "many files: $(jq -r '"resumed \(.resumed) bytes, sent \(.wire) of \(.total)"' <<<"$t")"
check "many files: the files saved as done were not sent again" \
	test "$(jq --argjson n "${ndone:-0}" '.resumed >= $n * 2000000 and .wire + .resumed == .total' <<<"$t")" = true
check "many files: the tree arrived identical" diff -r "$src/many" "$T/bob-dl/many"
rm -rf "$src/many" "$T/bob-dl/many"

# --- a full disk --------------------------------------------------------------------
diag "t=${SECONDS}s"
if mkdir -p "$T/small" && mount -t tmpfs -o size=8m tmpfs "$T/small" 2>/dev/null; then
	cleanup_hooks+=("umount -l '$T/small'")
	id=$(send_offer "/send bob $src/few-mb.bin $src/tree/a/b/mid.bin $src/resume.bin")
	say bob "/accept $id $T/small"
	check "not enough space: refused before accepting" \
		wait_for bob ".event==\"error\" and (.message|test(\"not enough space\"))" 10
	head -c 6000000 /dev/urandom >"$src/six-mb.bin"
	id=$(send_offer "/send bob $src/six-mb.bin")
	# hold alice still while bob accepts and the disk fills up, then let her go
	kill -STOP "${PEER_PID[alice]}"
	say bob "/accept $id $T/small"
	wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"running\"" 10 >/dev/null
	dd if=/dev/zero of="$T/small/filler" bs=1M count=4 status=none 2>/dev/null
	kill -CONT "${PEER_PID[alice]}"
	check "disk full mid-way: the transfer fails cleanly" \
		wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"failed\" and (.reason|test(\"space\"))" 20
	check "disk full: alice is told" wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"failed\"" 10
	check "disk full: no file under its final name" test ! -e "$T/small/six-mb.bin"
	rm -f "$T/small/filler"
	id=$(send_offer "/send bob $src/six-mb.bin")
	say bob "/accept $id $T/small"
	check "space freed: sent again, it completes" done_ok bob "$id" 30
	check "space freed: identical content" same_file "$src/six-mb.bin" "$T/small/six-mb.bin"
	t=$(wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 10)
	diag "after ENOSPC: $(jq -r '"resumed \(.resumed) bytes, sent \(.wire)"' <<<"$t")"
	check "space freed: the partial data was kept and used" test "$(jq '.resumed > 0' <<<"$t")" = true
	say bob "/msg alice disk ok"
	check "a message after the full disk arrives" wait_for alice '.event=="message" and .text=="disk ok"'
else
	tap 1 "cannot mount a tmpfs for the full-disk case (needs root)"
fi

# --- several at once, both directions ------------------------------------------------
diag "t=${SECONDS}s"
head -c 30000000 /dev/urandom >"$src/c1.bin"
head -c 20000000 /dev/urandom >"$src/c2.bin"
head -c 25000000 /dev/urandom >"$src/c3.bin"
ida=$(send_offer "/send bob $src/c1.bin")
idb=$(send_offer "/send bob $src/c2.bin")
n0=$(count_events alice '.event=="offer"')
say bob "/send alice $src/c3.bin"
wait_count alice '.event=="offer"' $((n0 + 1)) 10
idc=$(events alice 'select(.event=="offer") | .id' | tail -n 1 | tr -d '"')
say bob "/accept $ida"; say bob "/accept $idb"; say alice "/accept $idc $T/alice-in"
check "two outgoing and one incoming at once: the first completes" done_ok bob "$ida" 60
check "the second completes" done_ok bob "$idb" 60
check "the one in the other direction completes" done_ok alice "$idc" 60
check "all three identical" \
	bash -c "cmp -s '$src/c1.bin' '$T/bob-dl/c1.bin' && cmp -s '$src/c2.bin' '$T/bob-dl/c2.bin' && cmp -s '$src/c3.bin' '$T/alice-in/c3.bin'"
# fairness: both of alice's transfers made progress before either finished
p1=$(events bob "select(.event==\"progress\" and .id==\"$idb\") | .bytes" | head -n 1)
first_done=$(events bob "select(.event==\"transfer\" and .state==\"done\") | .id" | grep -n -e "$ida" -e "$idb" | head -n 1)
diag "first progress of the second transfer: ${p1:-none} bytes; first done: $first_done"
check "the two transfers to bob were interleaved, not queued" \
	test "$(events bob "select(.event==\"progress\" and (.id==\"$ida\" or .id==\"$idb\") and .bytes < .total) | .id" | sort -u | wc -l)" -eq 2

# --- hostile offers from a peer that speaks the protocol -------------------------------
diag "t=${SECONDS}s"
ba=$(addr_of bob)
mkdir -p "$T/outside"
for name in "/etc/passwd" "../escape" "a/../../escape" "a//b" "./x" "a%00b" \
	"$(printf 'new\nline')" "$(printf 'esc\033]0;pwn\007')" "$(printf '\302\233 c1')" \
	"$(printf 'del\177')" '..\\x' "$(printf '\300\256\300\256/x')" "$(printf 'x%.0s' $(seq 256))"; do
	out=$("$HOSTILE" offer "$ba" "$name")
	check "hostile name $(printf '%q' "$name" | head -c 40): refused" grep -q "^cancelled 5" <<<"$out"
done
out=$("$HOSTILE" offer "$ba" "")
check "an empty name is refused like any bad name (CANCEL 5, PROTOCOL.md 6.3), not a dropped session" grep -q "^cancelled 5" <<<"$out"
out=$("$HOSTILE" offer "$ba" "a/b")
check "an entry before its directory: refused" grep -q "^cancelled 5" <<<"$out"
out=$("$HOSTILE" offer "$ba" "dup" "dup")
check "a name offered twice: refused" grep -q "^cancelled 5" <<<"$out"
out=$("$HOSTILE" offer-total "$ba" 999999)
check "a declared total that is a lie: refused" grep -q "^cancelled 5" <<<"$out"
check "nothing was created outside the download directory" \
	test -z "$(ls -A "$T/outside")" -a ! -e "$T/escape" -a ! -e /etc/passwd.part

"$HOSTILE" lie-size "$ba" >"$T/h.out" &
hp=$!
id=$(offer_id bob 1 hostile); say bob "/accept $id"; wait $hp
check "more bytes than declared: refused" grep -q "^cancelled 5" "$T/h.out"
"$HOSTILE" lie-offset "$ba" >"$T/h.out" &
hp=$!
id=$(offer_id bob 2 hostile); say bob "/accept $id"; wait $hp
check "an offset beyond the file: refused" grep -q "^cancelled 5" "$T/h.out"
"$HOSTILE" short-file "$ba" >"$T/h.out" &
hp=$!
id=$(offer_id bob 3 hostile); say bob "/accept $id"; wait $hp
check "fewer bytes than declared: refused" grep -q "^cancelled 5" "$T/h.out"
check "no hostile file under a final name" test ! -e "$T/bob-dl/x"
out=$("$HOSTILE" offer-flood "$ba" 50)
diag "$out"
check "a flood of 50 offers: most are refused as busy" test "$(awk '{print $4}' <<<"$out")" -ge 40
check "bob survived every hostile offer" alive bob
say alice "/msg bob still there?"
check "and still chats" wait_for bob '.event=="message" and .text=="still there?"'
done_testing
