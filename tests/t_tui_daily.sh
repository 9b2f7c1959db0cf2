#!/bin/bash
# t_tui_daily.sh - everyday use of the ncurses UI at small sizes (80x24,
# 50x15): the invite code can be copied off the screen and pasted back in
# (wrapped, indented) to /connect.
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

# invite_rows NAME: the rows of the screen that hold nothing but a piece of
# an invite code, from the first one that starts with "confab" and a digit.
invite_rows() {
	screen "$1" | sed 's/ *$//' | awk '
		/^confab[0-9][0-9a-z]+$/ && !on { on = 1; print; next }
		on && /^[0-9a-z]+$/ && !/^confab[0-9]/ { print; next }
		on { exit }'
}

ui alice 80 24
ui bob 50 15
check "alice is up" quiet status_addr alice
wait_screen bob '/help' >/dev/null

# --- the invite code: on rows of its own, from column 0 -------------------
say_line alice "/invite"
check "80x24: the invite code is on a row of its own, from column 0" wait_screen alice '^confab[0-9][0-9a-z]{40,}$'
code_a=$(invite_rows alice | tr -d '\n')
diag "alice's code ($(invite_rows alice | wc -l) row(s) at 80x24): $code_a (${#code_a} characters)"
screen alice | sed 's/^/#   |/'
say_line bob "/invite"
check "50x15: the invite code starts a row of its own" wait_screen bob '^confab[0-9][0-9a-z]{40,}$'
code_b=$(invite_rows bob | tr -d '\n')
diag "bob's code ($(invite_rows bob | wc -l) row(s) at 50x15): $code_b (${#code_b} characters)"
screen bob | sed 's/^/#   |/'
check "the rows copied at 50x15 make a whole code" test "${#code_b}" -gt 60 -a "${#code_b}" -eq "${#code_a}"

# --- a code copied with its line break and an indent still connects --------
half=$((${#code_a} / 2))
type_text bob "/connect "
paste bob "${code_a:0:$half}
          ${code_a:$half}"
keys bob Enter
check "a pasted code with a line break and an indent connects" wait_screen alice 'peers 1/1 online'
check "no message was sent instead" not shows alice "<bob>"

# --- /history PEER N, /forget --------------------------------------------------
say_line alice "/history bob 2"
check "/history PEER N is taken (goes to bob's window)" wait_screen alice '^ 2:bob'
check "and not refused" not shows alice 'usage: /history'
keys alice M-1
say_line alice "/forget bob"
check "/forget takes bob off the peer list at once" wait_screen alice 'peers 0/0 online'
check "no row for bob in the list" not shows alice ' bob +[0-9a-z]{8}$'
screen alice | sed 's/^/#   |/'

# --- commands answer where they are typed; the window's peer is implied ------
# wait_flat NAME ERE: wait until the pane's text, wrapped rows joined again, matches
wait_flat() {
	local i=0
	while [ $i -lt 100 ]; do
		screen "$1" | sed 's/^ *//; s/ *$//' | tr '\n' ' ' | grep -Eq -- "$2" && return 0
		sleep 0.1; i=$((i + 1))
	done
	echo "# timed out waiting for /$2/ on $1; the screen was:"
	screen "$1" | sed 's/^/#   |/'
	return 1
}

ui dan 100 30
ui eve 100 30 --limit-rate 2m
addr_e=$(status_addr eve)
keys dan F2; keys eve F2   # no peer list: rows hold nothing but the window's text
say_line dan "/CONNECT $addr_e"
check "commands in any case; /connect says \"connecting to\"" wait_screen dan "connecting to $addr_e"
check "then at home: \"eve is online - /query eve or Alt-2\"" wait_screen dan 'eve is online - /query eve or Alt-2'
say_line dan "/conect $addr_e"
check "a typo: \"did you mean /connect?\"" wait_screen dan 'did you mean /connect\?'
say_line dan "/tra"
check "a unique prefix runs the command (/tra: /transfers)" wait_screen dan '^ 2:transfers'
keys dan M-1
say_line dan "/q eve"
check "/q is /query" wait_screen dan '^ 3:eve'
say_line dan "/verify"
check "/verify in eve's window: no PEER needed" wait_screen dan '^[0-9:]+ -!- session code [0-9]{3} '
say_line dan "/trust"
check "/trust in eve's window: eve is verified" wait_flat dan 'eve \([0-9a-z]+\) is now verified'
say_line dan "/untrust"
check "/untrust: unverified again" wait_flat dan 'eve \([0-9a-z]+\) is now unverified'
echo "implied peer" >"$T/note.txt"
say_line dan "/send $T/note.txt"
check "/send PATH in eve's window offers it to eve" wait_screen eve '\[offers: 1'
say_line eve "/accept"
check "/accept without an id takes the only offer" wait_screen dan 'verified by eve'
check "the file arrived" cmp -s "$T/note.txt" "$T/eve/downloads/note.txt"
keys dan M-1
say_line dan "/msg eve hello from home"
check "/msg from home echoes \"-> eve: ...\" at home" wait_screen dan '^[0-9:]+ -!- -> eve: hello from home'
say_line eve "/nick evelyn"
check "/nick confirms" wait_screen eve 'you are now known as evelyn'
keys dan M-3
check "a peer's new nick is announced" wait_screen dan 'eve is now known as evelyn'
# the transfers window: active transfers first, finished ones can be cleared
head -c 30000000 /dev/zero >"$T/slow.bin"
say_line eve "/send dan $T/slow.bin"
wait_screen dan '\[offers: 1' >/dev/null
say_line dan "/accept"
wait_screen dan 'slow\.bin.*running' >/dev/null
say_line dan "/transfers"
check "the transfers window lists the active transfer first" wait_screen dan '^ [0-9]+:transfers'
first=$(screen dan | grep -nE 'slow\.bin|note\.txt' | head -n 1)
check "(above the finished one)" grep -q 'slow.bin' <<<"$first" || screen dan | sed 's/^/#   |/'
say_line dan "/transfers clear"
check "/transfers clear takes the finished ones off the list" wait_gone dan 'note\.txt'
# the bell: for messages only by default; /bell all adds offers
keys dan M-1
wait_screen dan '^ 1:home' >/dev/null
say_line eve "/send dan $T/note.txt"
wait_screen dan '\[offers: 1' >/dev/null
sleep 0.5
check "an offer in another window does not ring by default" test "$(pane_fmt dan '#{window_bell_flag}')" = 0
say_line dan "/bell all"
check "/bell all says what rings" wait_screen dan 'bell: all'
say_line eve "/send dan $T/note.txt"
i=0; while [ $i -lt 50 ] && [ "$(pane_fmt dan '#{window_bell_flag}')" != 1 ]; do sleep 0.1; i=$((i + 1)); done
check "with /bell all an offer rings" test "$(pane_fmt dan '#{window_bell_flag}')" = 1
# two offers waiting: Tab after /accept lists both ids, it does not pick one
type_text dan "/accept "
keys dan Tab
check "Tab on an ambiguous transfer id lists the candidates" wait_screen dan '2 transfers match: [0-9a-f]{8} [0-9a-f]{8}'
check "and puts none of them in the line" shows dan '^\[home\] /accept ?$'
keys dan C-u
keys dan M-3
type_text dan "evel"
keys dan Tab
check "a nick completed at the start of a line gets \": \"" wait_screen dan '^\[evelyn\] evelyn: ?$'
keys dan C-u
say_line eve "/quit"
wait_screen dan 'evelyn is offline' >/dev/null
say_line dan "see you later"
check "a message to an offline peer: \"offline; queued\"" \
	wait_flat dan 'evelyn is offline; queued - it will be delivered when evelyn is back'
sleep 1
check "and no red connection error" not shows dan '!!! cannot reach'
screen dan | sed 's/^/#   |/'

# --- an unusable --download-dir is said at start-up -------------------------
echo x >"$T/afile"
ui carol 80 24 --download-dir "$T/afile/sub"
check "an unusable --download-dir: a warning line at start-up" \
	wait_screen carol "!!! the download directory"
check "saying it cannot be used" shows carol "cannot be"
# --- the first screen: where peers reach you, /invite, LAN discovery -----------
keys carol F2
check "the first screen says peers reach you at your addresses" wait_flat carol 'peers can reach you at 127\.0\.0\.1:[0-9]+'
check "that /invite prints your code" wait_flat carol '/invite prints your code'
check "and whether LAN discovery is on" wait_flat carol 'LAN discovery: off'

screen carol | sed 's/^/#   |/'

done_testing
