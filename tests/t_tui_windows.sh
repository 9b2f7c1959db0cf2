#!/bin/bash
# t_tui_windows.sh - window numbers stay put after /close (irssi-style: a gap,
# filled by the next window opened; /window renumber closes the gaps), at
# 80x24 and 50x15.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"

# ui NAME COLS ROWS [ARGS...]: start a UI instance in tmux.
ui() {
	local name=$1 cols=$2 rows=$3; shift 3
	mkdir -p "$T/$name"
	tui_start "$name" "$cols" "$rows" env -u NO_COLOR LC_ALL=C.UTF-8 TERM=screen "$CONFAB" \
		--home "$T/$name" --nick "$name" --no-discovery --no-nat --listen 127.0.0.1:0 \
		--log "$T/$name.log" --debug "$@"
}

for n in bob carol dave; do start_peer $n --nick $n --listen 127.0.0.1:0; done
for size in "80 24" "50 15"; do
	set -- $size
	a=alice$1
	ui $a $1 $2
	check "$1x$2: alice is up" quiet status_addr $a
	ok=0
	for n in bob carol dave; do
		say $n "/connect $(status_addr $a)"
		wait_for $n ".event==\"peer\" and .state==\"online\" and .nick==\"$a\"" 10 >/dev/null && ok=$((ok + 1))
	done
	check "$1x$2: three peers online" test $ok -eq 3
	say_line $a "/query bob"
	say_line $a "/query carol"
	say_line $a "/query dave"
	check "$1x$2: dave's window is 4" wait_screen $a '^ 4:dave'
	keys $a M-3
	check "$1x$2: Alt-3 is carol" wait_screen $a '^ 3:carol'
	say_line $a "/close"
	check "$1x$2: after /close of 3, the window on screen is 2 (bob)" wait_screen $a '^ 2:bob'
	keys $a M-4
	check "$1x$2: dave keeps number 4 (Alt-4)" wait_screen $a '^ 4:dave'
	check "$1x$2: the status bar says window 4" shows $a '\[4/4\]'
	say_line $a "/window 3"
	check "$1x$2: /window 3 is a gap: said so, with the windows there are" \
		wait_screen $a 'no window 3 \(there are 3: 1, 2, 4\)'
	keys $a M-1
	say dave "/msg $a ping from dave"
	check "$1x$2: activity names dave's window 4" wait_screen $a '\[act: 4\]'
	diag "$a at $1x$2 with a gap:"; screen $a | sed 's/^/#   |/'
	say_line $a "/query carol"
	check "$1x$2: carol's window opened again fills the gap (3)" wait_screen $a '^ 3:carol'
	say_line $a "/close"
	say_line $a "/window renumber"
	check "$1x$2: /window renumber says so" wait_screen $a 'windows renumbered 1 to 3'
	keys $a M-3
	check "$1x$2: after renumber dave is 3" wait_screen $a '^ 3:dave'
	check "$1x$2: and the status bar says 3 of 3" shows $a '\[3/3\]'
	diag "$a at $1x$2 after renumber:"; screen $a | sed 's/^/#   |/'
done
done_testing
