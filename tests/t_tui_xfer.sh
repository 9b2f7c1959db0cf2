#!/bin/bash
# t_tui_xfer.sh - file drop in the ncurses UI, in a real terminal (tmux) on
# loopback.  A headless peer offers a directory: the UI lists every name with
# its size and the total before anything is decided, accepts it, shows a
# progress bar with rate and time left while it runs and "done" at the end,
# and the files arrive identical.  Reject and cancel from the UI reach the
# sender; /send from the UI takes completed paths with blanks and ~/; a long
# offer scrolls; hostile names never reach the terminal raw.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
HOSTILE=${top_builddir:-$(dirname "$0")/..}/tests/hostile

# count_on NAME ERE: how many rows of the pane match.
count_on() { screen "$1" | grep -cE -- "$2"; }
# pct_now NAME: the percent of the first progress bar on the pane.
pct_now() { screen "$1" | grep -oE '\] +[0-9]+%' | head -n 1 | grep -oE '[0-9]+'; }

src=$T/src
mkdir -p "$src/album/sub" "$src/album/empty" "$T/home" "$T/bob"
printf 'hello' >"$src/album/a.txt"
head -c 10000000 /dev/urandom >"$src/album/big.bin"
head -c 123456 /dev/urandom >"$src/album/sub/with space.jpg"
printf 'x' >"$src/album/sub/z.txt"
echo "from home" >"$T/home/note.txt"

tui_start bob 130 40 env -u NO_COLOR LC_ALL=C.UTF-8 TERM=tmux-256color HOME="$T/home" "$CONFAB" \
	--home "$T/bob" --nick bob --no-discovery --no-nat --listen 127.0.0.1:0 \
	--log "$T/bob.log" --debug
check "bob's UI starts" quiet status_addr bob
addr=$(status_addr bob)
title0=$(pane_fmt bob '#{pane_title}')
# alice sends at 2 MB/s, so that a 10 MB file takes a few seconds
start_peer alice --nick alice --listen 127.0.0.1:0 --limit-rate 2m --download-dir "$T/alice-dl"
say alice "/connect $addr"
check "alice (headless) connects to bob's UI" wait_for alice '.event=="peer" and .state=="online"' 10
check "bob's peer list shows alice online" wait_screen bob 'peers 1/1 online'

# --- an offer of a directory: every name and size, and the total, before deciding ---
say alice "/send bob $src/album"
id=$(wait_for alice '.event=="transfer" and .state=="pending"' 10 | jq -r .id)
id8=${id:0:8}
check "alice's offer waits for bob's answer" test -n "$id"
check "bob's status bar counts the offer" wait_screen bob '\[offers: 1, /accept ID\]'
check "the offer opened the transfers window (3) and marked it, with alice's (2)" wait_screen bob '\[act: 2,3\]'
keys bob M-2
check "alice's window has the offer in one line, with the exact commands" \
	wait_screen bob "alice offers album/ \\(4 files, 3 folders, 10\\.1 MB\\): /accept $id8 \\[DIR\\] or /reject $id8"
keys bob F3
check "F3 goes to the transfers window" wait_screen bob '^ 3:transfers +1 offer to answer'
check "the offer's header: arrow, id, state, peer, name, counts" \
	wait_screen bob "↓ $id8 pending +from alice \\(unverified\\): album/ \\(4 files, 3 folders, 10\\.1 MB\\)"
for row in 'album/ ' 'album/a\.txt +5 B' 'album/big\.bin +10\.0 MB' 'album/empty/' 'album/sub/' \
	'album/sub/with space\.jpg +123\.5 kB' 'album/sub/z\.txt +1 B'; do
	check "the offer lists '$row'" shows bob "^ +$row"
done
check "the offer shows the total" shows bob '^ +total: 4 files, 3 folders, 10\.1 MB'
check "the offer shows what to type" shows bob "/accept $id8 \\[DIR\\]  or  /reject $id8"
check "the offer waiting for an answer is highlighted (yellow)" \
	test -n "$(screen_esc bob | grep "pending" | grep $'\e\\[[0-9;]*33m')"

# accept from the UI, the id completed with Tab
type_text bob "/accept "; keys bob Tab
check "Tab completes the offer's id after /accept" wait_screen bob "^\\[transfers\\] /accept $id8\$"
keys bob Enter
check "the transfers window shows a progress bar with percent, bytes, rate and ETA" \
	wait_screen bob '^ +\[█+░*\] +[0-9]+%  [0-9.]+ [kM]?B of 10\.1 MB  [0-9.]+ [kM]?B/s  ETA [0-9]+:[0-9]{2} ' 10
check "the header says running" shows bob "↓ $id8 running +from alice \\(unverified\\): album/"
p1=$(pct_now bob)
check "the status bar shows the running transfer's progress" \
	wait_screen bob '\[xfer ↓ [0-9]+% [0-9.]+ [kM]?B/s ETA [0-9:-]+\]'
sleep 1.5
p2=$(pct_now bob)
diag "progress seen: ${p1:-?}% then ${p2:-?}%"
check "the progress moves on (${p1:-?}% -> ${p2:-?}%)" test "${p2:-0}" -gt "${p1:-100}"
check "the transfer ends done in the transfers window" wait_screen bob "↓ $id8 done +from alice \\(unverified\\): album/" 30
check "the done transfer says where it went" shows bob "^ +saved as $T/bob/downloads/album +│"
check "alice learns it was verified" wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 10
check "every file arrived identical" diff -r "$src/album" "$T/bob/downloads/album"
check "the empty folder arrived" test -d "$T/bob/downloads/album/empty"
check "no transfer is left in the status bar" wait_gone bob '\[xfer|\[offers'
keys bob F3
check "F3 again goes back to alice's window" wait_screen bob '^ 2:alice'
check "alice's window has one line for the start" \
	test "$(count_on bob "transfer $id8 from alice: album/ .*: running +│")" = 1
check "and one for the end" test "$(count_on bob "transfer $id8 from alice: album/ .*: done, saved as")" = 1
check "and no other transfer line (no progress lines, no duplicates)" \
	test "$(count_on bob "transfer $id8")" = 2

# --- a long offer scrolls; reject it from the UI ----------------------------------
mkdir -p "$src/many"
for i in $(seq -w 1 60); do printf '%s' "$i" >"$src/many/f$i.txt"; done
say alice "/send bob $src/many"
id=$(wait_for alice ".event==\"transfer\" and .state==\"pending\" and .id!=\"$id\"" 10 | jq -r .id)
id8=${id:0:8}
say_line bob "/transfers"
check "/transfers goes to the transfers window" wait_screen bob '^ 3:transfers +1 offer to answer 1 ended'
check "the newest transfer is listed first" \
	test "$(screen bob | grep -oE '^[↓↑] [0-9a-f]{8}' | head -n 1)" = "↓ $id8"
check "the long offer starts at its first name" shows bob '^ +many/f01\.txt +2 B'
check "a marker says more rows are below" shows bob '-- [0-9]+ more below -- PgDn'
check "the last name is not shown yet" not shows bob 'many/f60\.txt'
keys bob NPage
check "PgDn scrolls the list down" wait_screen bob '^ +many/f[3-6][0-9]\.txt +2 B'
check "a marker says rows are above" shows bob '-- [0-9]+ more above -- PgUp'
keys bob NPage NPage NPage
check "the last name, the total and the hints come into view" wait_screen bob '^ +many/f60\.txt +2 B'
check "the total of the long offer" shows bob '^ +total: 60 files, 1 folder, 120 B'
keys bob PPage PPage PPage PPage PPage
check "PgUp scrolls back to the top" wait_screen bob "^↓ $id8 pending"
say_line bob "/reject $id8"
check "alice is told bob rejected it" wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"rejected\"" 10
check "the transfers window shows it rejected" wait_screen bob "↓ $id8 rejected +from alice \\(unverified\\): many/"
check "nothing of it arrived" test ! -e "$T/bob/downloads/many"

# --- cancel a running transfer from the UI ------------------------------------------
say alice "/send bob $src/album/big.bin"
id=$(wait_for alice ".event==\"transfer\" and .state==\"pending\" and (.nick==\"bob\") and (.total==10000000)" 10 | jq -r .id)
id8=${id:0:8}
check "the single-file offer shows its size" wait_screen bob "↓ $id8 pending +from alice \\(unverified\\): big\\.bin \\(10\\.0 MB\\)"
say_line bob "/accept $id8"
check "it runs" wait_screen bob "↓ $id8 running"
type_text bob "/cancel "; keys bob Tab
check "Tab completes the running transfer's id after /cancel" wait_screen bob "^\\[transfers\\] /cancel $id8\$"
keys bob Enter
check "alice is told bob cancelled it" wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"cancelled\"" 10
check "the transfers window shows it cancelled, by whom" wait_screen bob "cancelled by bob"
check "no file under its final name" test ! -e "$T/bob/downloads/big.bin"

# --- /send from the UI: completed nick, a path with a blank, and ~/ ----------------
type_text bob "/send al"; keys bob Tab
check "Tab after /send completes the peer's nick" wait_screen bob '^\[transfers\] /send alice$'
type_text bob "$src/album/sub/with"; keys bob Tab
check "Tab completes the path, the blank escaped with a backslash" \
	wait_screen bob '/album/sub/with\\ space\.jpg$'
type_text bob "~/no"; keys bob Tab
check "Tab completes a path under ~/" wait_screen bob '/album/sub/with\\ space\.jpg ~/note\.txt$'
keys bob Enter
o=$(wait_for alice '.event=="offer" and .nick=="bob"' 10)
check "alice gets the offer with the blank in the name, and the file under ~/" \
	test "$(jq -r '[.files[].path] | join(",")' <<<"$o")" = "with space.jpg,note.txt"
oid=$(jq -r .id <<<"$o")
check "bob's transfers window shows his offer waiting" wait_screen bob "↑ ${oid:0:8} pending +to alice \\(unverified\\): with space\\.jpg and 1 more"
say alice "/accept $oid"
check "alice receives it" wait_for alice ".event==\"transfer\" and .id==\"$oid\" and .state==\"done\"" 20
check "bob sees it done, verified by alice" wait_screen bob "received and verified by alice"
check "the file with a blank arrived identical" cmp "$src/album/sub/with space.jpg" "$T/alice-dl/with space.jpg"
check "the file from ~/ arrived identical" cmp "$T/home/note.txt" "$T/alice-dl/note.txt"

# --- hostile names ----------------------------------------------------------------------
# A name with a title-setting OSC and a screen clear: refused; the refusal shows it neutralised.
evil=$(printf 'bad\033]0;PWNED\007name\033[2J.txt')
out=$("$HOSTILE" offer "$addr" "$evil")
diag "hostile offer: $out"
check "the UI refuses a name with escape sequences" grep -q '^cancelled 5' <<<"$out"
check "the transfers window shows the refusal with the name neutralised" \
	wait_screen bob 'refused a file name "badname\.txt": control character'
say_line bob "/query hostile"
check "the hostile peer's window has the refusal line, the name neutralised" \
	wait_screen bob 'from hostile: an offer of 1 item \(1 B\): failed: refused a file name'
check "the refused name shows as its harmless remainder" shows bob '"badname\.txt": control character'
check "the pane title is unchanged" test "$(pane_fmt bob '#{pane_title}')" = "$title0"
check "no remnant of a sequence on the screen" not shows bob 'PWNED|\^\[|\[2J|\]0;'
# Names the path check lets through but that carry a bidi override: listed without it.
"$HOSTILE" offer "$addr" "$(printf 'photo\342\200\256gpj.exe'):1000" "$(printf 'two\342\200\256 words')" >"$T/h.out" &
hp=$!
keys bob F3
check "the offer lists the names with the override removed" wait_screen bob '^ +photogpj\.exe +1\.0 kB'
check "every name is listed" shows bob '^ +two words +1 B'
hid=$(screen bob | grep -oE "/reject [0-9a-f]{8}" | head -n 1 | cut -d' ' -f2)
say_line bob "/reject $hid"
wait $hp
check "the hostile sender is told it was rejected" grep -q '^cancelled 1' "$T/h.out"
check "the pane title is still unchanged" test "$(pane_fmt bob '#{pane_title}')" = "$title0"
check "bob is still running" kill -0 "${TUI_PID[bob]}"

say_line bob "/quit"
check "bob exits after /quit" wait_dead bob 10
check "bob's exit status is 0" test "$(exit_status bob)" = 0
# redraws are coalesced (one per loop turn at most): measured, not asserted
diag "bob's UI made $(grep -oE 'tui: [0-9]+ screen updates' "$T/bob.log" | grep -oE '[0-9]+') screen updates in ${SECONDS} s"
done_testing
