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

# --- an unusable --download-dir is said at start-up -------------------------
echo x >"$T/afile"
ui carol 80 24 --download-dir "$T/afile/sub"
check "an unusable --download-dir: a warning line at start-up" \
	wait_screen carol "!!! the download directory"
check "saying it cannot be used" shows carol "cannot be"
screen carol | sed 's/^/#   |/'

done_testing
