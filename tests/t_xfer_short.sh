#!/bin/bash
# t_xfer_short.sh - a short file-drop run for slow set-ups (tests/valgrind.sh):
# a tree and a file arrive intact, a rejected and a cancelled offer end on both
# sides, and a transfer cut by the receiver's SIGTERM resumes after a restart.
# t_xfer.sh covers the same ground and more (sparse 4 GiB files, kill -9, a full
# disk, hostile offers) at full size.
. "$(dirname "$0")/lib.sh"

src=$T/src
mkdir -p "$src/tree/a/b" "$src/tree/empty"
echo "deep" >"$src/tree/a/b/deep.txt"
head -c 50000 /dev/urandom >"$src/tree/a/mid.bin"
head -c 3000000 /dev/urandom >"$src/three.bin"
head -c 6000000 /dev/urandom >"$src/six.bin"

start_peer alice --nick alice --listen 127.0.0.1:0 --limit-rate 1m
start_peer bob --nick bob --listen 127.0.0.1:0 --download-dir "$T/dl"
check "alice and bob connect" connect_pair alice bob

# offer_of NAME: the id of the latest offer bob saw whose first entry is NAME.
offer_of() {
	local sel=".event==\"offer\" and .files[0].path==\"$1\""
	wait_for bob "$sel" 20 >/dev/null || return 1
	events bob "select($sel) | .id" | tail -n 1 | tr -d '"'
}
# ended PEER ID STATE [SECS]: the transfer reached STATE on PEER.
ended() {
	wait_for "$1" ".event==\"transfer\" and .id==\"$2\" and .state==\"$3\"" "${4:-60}" >/dev/null
}

say alice "/send bob $src/tree"
id=$(offer_of tree)
say bob "/accept $id"
check "a tree: done" ended bob "$id" done
check "a tree: every file identical, the empty folder kept" \
	bash -c "diff -r '$src/tree' '$T/dl/tree' && test -d '$T/dl/tree/empty'"

say alice "/send bob $src/three.bin"
id=$(offer_of three.bin)
say bob "/reject $id"
check "rejected: alice learns it" ended alice "$id" rejected 20

say alice "/send bob $src/six.bin"
id=$(offer_of six.bin)
say bob "/accept $id"
wait_for bob ".event==\"progress\" and .id==\"$id\"" 30 >/dev/null
say alice "/cancel $id"
check "cancelled by the sender: bob sees it" ended bob "$id" cancelled 20
check "cancelled: nothing left behind" test -z "$(ls -A "$T/dl" | grep -e six -e '^\.confab-')"

say alice "/send bob $src/six.bin"
id=$(offer_of six.bin)
say bob "/accept $id"
check "resume: under way" wait_for bob ".event==\"progress\" and .id==\"$id\" and .bytes > 1000000" 60
kill_peer bob TERM
check "resume: the receiver saved its state on SIGTERM" test -n "$(find "$T/bob" -path '*/transfers/*.in')"
: >"$T/bob.out"
start_peer bob --nick bob --listen 127.0.0.1:0 --download-dir "$T/dl"
say alice "/connect $(addr_of bob)"
check "resume: after a restart the same offer completes" ended bob "$id" done 90
t=$(wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 10)
diag "resume: $(jq -r '"resumed \(.resumed) bytes, sent \(.wire) of \(.total)"' <<<"$t")"
check "resume: resumed, not sent again" test "$(jq '.resumed > 0' <<<"$t")" = true
check "resume: identical content" cmp "$src/six.bin" "$T/dl/six.bin"
say alice "/send bob $src/three.bin"
id=$(offer_of three.bin)
say bob "/accept $id"
check "a 3 MB file: done" ended bob "$id" done
check "a 3 MB file: identical" cmp "$src/three.bin" "$T/dl/three.bin"
say bob "/quit"
check "bob quits cleanly" stop_peer bob
say alice "/quit"
check "alice quits cleanly" stop_peer alice
done_testing
