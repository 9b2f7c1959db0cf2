#!/bin/bash
# t_tui.sh - the ncurses UI in a real terminal (tmux) on loopback: two UIs
# chat both ways, switch windows, scroll, survive resizes with the input
# intact, edit lines, take pastes as text, neutralise a hostile peer's escape
# sequences, honour NO_COLOR, and give the terminal back on /quit and SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"

# ui NAME COLS ROWS [ENV...] -- [ARGS...]: start a UI instance in tmux.
ui() {
	local name=$1 cols=$2 rows=$3; shift 3
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	mkdir -p "$T/$name"
	tui_start "$name" "$cols" "$rows" env -u NO_COLOR LC_ALL=C.UTF-8 "${envs[@]}" "$CONFAB" \
		--home "$T/$name" --nick "$name" --no-discovery --no-nat --listen 127.0.0.1:0 \
		--log "$T/$name.log" --debug "$@"
}

# has_colour NAME: whether the pane shows any foreground colour 1-7.
has_colour() { screen_esc "$1" | grep -q $'\e\[[0-9;]*3[1-7]m'; }
# wait_screen_count NAME ERE N: wait until N lines of the pane match.
wait_screen_count() {
	local i=0
	while [ $i -lt 100 ]; do
		[ "$(screen "$1" | grep -cE -- "$2")" -ge "$3" ] && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

# wait_bell NAME: wait until the pane has rung the terminal bell.
wait_bell() {
	local i=0
	while [ $i -lt 50 ]; do
		[ "$(pane_fmt "$1" '#{window_bell_flag}')" = 1 ] && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

# alice: colour terminal (tmux-256color); bob: NO_COLOR on TERM=screen.
ui alice 100 30 TERM=tmux-256color
TM pipe-pane -t alice -o "cat >>'$T/alice.tty'"
ui bob 100 30 TERM=screen NO_COLOR=1
check "alice's status bar shows her listening address" quiet status_addr alice
check "bob's status bar shows his listening address" quiet status_addr bob
addr_b=$(status_addr bob); addr_a=$(status_addr alice)
diag "alice at $addr_a, bob at $addr_b"
title0=$(pane_fmt alice '#{pane_title}')
check "the UI uses the alternate screen" test "$(pane_fmt alice '#{alternate_on}')" = 1
check "the home window greets with the fingerprint and /help hint" wait_screen alice '/help lists commands'

# --- connect and chat both ways ------------------------------------------
say_line alice "/connect $addr_b"
check "alice's peer list shows bob online" wait_screen alice 'peers 1/1 online'
check "bob's peer list shows alice online" wait_screen bob 'peers 1/1 online'
say_line alice "/query bob"
check "/query opens window 2 for bob" wait_screen alice '^ 2:bob +online'
check "bob's terminal has not rung yet" test "$(pane_fmt bob '#{window_bell_flag}')" = 0
say_line alice "hello from alice"
check "bob's status bar shows activity in window 2" wait_screen bob '\[act: 2\]'
check "bob's peer list shows 1 unread from alice" wait_screen bob 'alice 1 '
check "a message for a window bob is not looking at rings the bell" wait_bell bob
keys bob M-2
check "Alt-2 takes bob to alice's window with her message" wait_screen bob '<alice> hello from alice'
check "the activity mark is gone once read" wait_gone bob '\[act: 2\]'
check "alice sees her message delivered (marked)" wait_screen alice '✓ <alice> hello from alice'
say_line bob "hi alice, ünïcödé 日本語 😀 ok"
check "alice gets bob's reply with wide characters intact" wait_screen alice '<bob> hi alice, ünïcödé 日本語 😀 ok'
sleep 0.5
check "a message in the window alice looks at does not ring" test "$(pane_fmt alice '#{window_bell_flag}')" = 0

# --- window switching ----------------------------------------------------
keys alice M-1
check "Alt-1 goes to the home window" wait_screen alice '^ 1:home'
keys alice C-n
check "Ctrl-N goes to the next window" wait_screen alice '^ 2:bob'
keys alice C-p
check "Ctrl-P goes to the previous window" wait_screen alice '^ 1:home'
say_line alice "/window 2"
check "/window 2 goes to bob's window" wait_screen alice '^ 2:bob'
say_line alice "/window 7"
check "/window 7 is a clear error" wait_screen alice 'no window 7 \(there are 2: 1 to 2\)'
say_line alice "/frobnicate now"
check "an unknown command is a clear error" wait_screen alice 'unknown command /frobnicate'
say_line alice "/msg"
check "a bad usage is a clear error" wait_screen alice 'usage: /msg PEER TEXT'

# --- colours: alice has them, bob (NO_COLOR) has none -----------------------
check "alice's screen uses colour" has_colour alice
check "bob's screen (NO_COLOR) uses no colour" not has_colour bob

# --- a paste of many lines: one message, text, never commands -----------------
lines=$(for i in $(seq 1 80); do echo "scroll-$i"; done)
paste bob "$lines
/quit pasted, not run
half line"
check "a paste of 81 lines asks first (paste_confirm_lines)" wait_screen bob 'paste of 81 lines to alice'
keys bob y
check "a pasted line starting with / arrives as text" wait_screen alice '^ +/quit pasted, not run'
check "bob is still running after the paste" kill -0 "${TUI_PID[bob]}"
check "the paste's last half line waits in bob's input" wait_screen bob '^\[alice\] half line'
keys bob C-u
type_text bob $'\e[200~an unterminated paste'
sleep 1
check "a paste without its end marker is not typed in at once" not shows bob 'unterminated paste'
check "a paste without its end marker is taken after a pause" wait_screen bob '^\[alice\] an unterminated paste$' 8
keys bob C-u
c=$(screen alice | grep -c 'scroll-')
check "alice's view is full of pasted lines" test "$c" -ge 20

# --- scrollback -------------------------------------------------------------
keys alice PPage
check "PgUp shows a 'more below' marker" wait_screen alice 'more below(: [0-9]+ lines?)? -- PgDn'
check "PgUp hides the newest line" wait_gone alice 'pasted, not run'
before=$(screen alice | grep -oE 'scroll-[0-9]+' | head -n 1)
say_line bob "arrived while alice scrolled"
sleep 1
check "a new line does not yank the scrolled view" test "$(screen alice | grep -oE 'scroll-[0-9]+' | head -n 1)" = "$before"
check "the new line is not shown while scrolled" not shows alice 'arrived while'
keys alice PPage
sleep 0.5
after=$(screen alice | grep -oE 'scroll-[0-9]+' | head -n 1)
check "a second PgUp goes further back (${before} -> ${after})" test "${after#scroll-}" -lt "${before#scroll-}"
keys alice NPage NPage NPage NPage
check "PgDn back to the bottom shows the newest line" wait_screen alice '<bob> arrived while alice scrolled'
check "and the 'more below' marker is gone" wait_gone alice 'more below'

# --- resize with half-typed input -----------------------------------------
type_text alice "half typed ünï 日本 input"
keys alice Left Left
sleep 0.3
cx=$(pane_fmt alice '#{cursor_x}')
TM resize-window -t alice -x 40 -y 12
check "at 40x12 the newest message is visible" wait_screen alice 'arrived while'
check "at 40x12 the half-typed input is intact" wait_screen alice '^\[bob\] half typed ünï 日本 input'
check "at 40x12 the cursor stays in the input" test "$(pane_fmt alice '#{cursor_x}')" = "$cx"
TM resize-window -t alice -x 30 -y 10
check "at 30x10 the UI says the terminal is too small" wait_screen alice 'terminal too small'
TM resize-window -t alice -x 120 -y 40
check "at 120x40 the newest message is visible" wait_screen alice '<bob> arrived while alice scrolled'
check "at 120x40 the half-typed input is intact" wait_screen alice '^\[bob\] half typed ünï 日本 input'
check "at 120x40 the cursor is where it was" test "$(pane_fmt alice '#{cursor_x}')" = "$cx"
check "the cursor is on the input line" test "$(pane_fmt alice '#{cursor_y}')" = 39
type_text alice "X"
keys alice Enter
check "the input typed before the resizes is sent whole" wait_screen bob '<alice> half typed ünï 日本 inpXut'

# --- line editing -----------------------------------------------------------
type_text alice "world"; keys alice C-a; type_text alice "hello "; keys alice C-e; type_text alice "!"; keys alice Enter
check "C-a / C-e move to the line's ends" wait_screen bob '<alice> hello world! +│'
type_text alice "one two three"; keys alice C-w C-w; type_text alice "2 "; keys alice C-y Enter
check "C-w kills words (appending) and C-y yanks them" wait_screen bob '<alice> one 2 two three +│'
type_text alice "abcX"; keys alice C-h; type_text alice "dY"; keys alice BSpace Enter
check "both ^H and ^? erase" wait_screen bob '<alice> abcd +│'
type_text alice "alpha beta gamma"; keys alice M-b M-b C-k; type_text alice "omega"; keys alice Enter
check "M-b moves by words and C-k kills to the end" wait_screen bob '<alice> alpha omega +│'
type_text alice "keep this"; keys alice C-a C-k; type_text alice "x"; keys alice C-u C-y M-y Enter
check "C-u kills to the start, M-y yanks the older kill" wait_screen bob '<alice> keep this +│'
keys alice Up Up Enter
check "Up Up recalls the line before last" wait_screen_count bob '<alice> alpha omega +│' 2
type_text alice "/wind"; keys alice Tab; type_text alice "X"
check "Tab completes a command" wait_screen alice '^\[bob\] /window X$'
keys alice C-u
type_text alice "/query b"; keys alice Tab; type_text alice "X"
check "Tab completes a nick" wait_screen alice '^\[bob\] /query bob X$'
keys alice C-u
mkdir -p "$T/files/subdir"; : >"$T/files/report-2024.txt"; : >"$T/files/readme"
type_text alice "see $T/files/rep"; keys alice Tab; type_text alice "X"
check "Tab completes a file path" wait_screen alice "/files/report-2024\\.txt X\$"
keys alice C-u
type_text alice "see $T/files/re"; keys alice Tab Tab BTab Tab; type_text alice "X"
check "Tab and Shift-Tab cycle through the matches" wait_screen alice "/files/report-2024\\.txt X\$"
keys alice C-u
: >"$T/files/with space.txt"
type_text alice "see $T/files/wi"; keys alice Tab; type_text alice "X"
check "a completed path with a blank is escaped for the command parser" wait_screen alice '/files/with\\ space\.txt X$'
keys alice C-u

# --- a file offer: shown in the window, the status bar, and taken with /accept --
echo "quarterly numbers" >"$T/files/report-2024.txt"
type_text alice "/send bob $T/files/rep"; keys alice Tab Enter
check "bob's window shows alice's offer with its id" wait_screen bob 'alice offers report-2024\.txt \(18 B\): /accept [0-9a-f]{8} \[DIR\] or'
check "bob's status bar counts the offer" wait_screen bob '\[offers: 1, /accept ID\]'
xid=$(screen bob | grep -oE 'accept [0-9a-f]{8}' | head -n 1 | cut -d' ' -f2)
say_line bob "/accept $xid"
check "bob sees the transfer done and where it went" wait_screen bob "transfer $xid from alice: report-2024\\.txt \\(18 B\\): done,"
check "alice sees it done too" wait_screen alice "transfer $xid to bob: report-2024\\.txt \\(18 B\\): done, verified by bob"
check "the file arrived intact" cmp "$T/files/report-2024.txt" "$T/bob/downloads/report-2024.txt"
check "no transfer is left in the status bars" not shows bob '\[offers|\[xfer'

# --- help matches the code --------------------------------------------------
TM resize-window -t alice -x 160 -y 60
say_line alice "/help"
check "/help lists the keys" wait_screen alice 'PgUp / PgDn'
missing=""
for c in $(sed -n 's/^[[:space:]]*{ "\([a-z]*\)", ".*/\1/p' "$top_srcdir/app/cmd.c") close clear window query help; do
	shows alice "-!- +/$c( |$)" || missing="$missing /$c"
done
check "/help lists every command in cmd_table and the UI's (missing:${missing:- none})" test -z "$missing"
say_line alice "/clear"
check "/clear empties the window" wait_gone alice 'PgUp / PgDn'

# --- a hostile peer: escape sequences in nick and text -----------------------
# The core refuses such a nick for itself, so the test peer speaks the protocol.
evil_nick=$(printf 'ev\033]0;PWNED\007il\033[2J')
evil_text=$(printf 'a\033[2Jb\033]0;PWNED2\007c \033[31mred\033[0m \033]2;x\033\\d \302\233\061mE end')
verdict=$("$top_builddir/tests/hostile" chat "$addr_a" "$evil_nick" "$evil_text")
diag "hostile peer: $verdict"
check "alice is told of activity in window 3" wait_screen alice '\[act: 3\]'
check "the message in another window rang alice's bell" wait_bell alice
keys alice M-3
check "the hostile peer's window title shows the clean nick" wait_screen alice '^ 3:evil '
check "the message shows with its escape sequences removed" wait_screen alice '<evil> abc red d E end +│'
check "the peer list shows the clean nick" wait_screen alice '[○●] \? evil '
check "the pane title is unchanged" test "$(pane_fmt alice '#{pane_title}')" = "$title0"
check "no remnant of a sequence on the screen" not shows alice 'PWNED|\^\[|\[2J|\]0;|\]2;'

# --- idle CPU (measured, reported, not asserted) ------------------------------
sleep 1
idle_report alice "${TUI_PID[alice]}" 10

# --- leaving: /quit and SIGTERM give the terminal back -----------------------
say_line alice "/quit"
check "alice exits after /quit" wait_dead alice 10
check "alice's exit status is 0" test "$(exit_status alice)" = 0
check "alice left the alternate screen" test "$(pane_fmt alice '#{alternate_on}')" = 0
# what alice wrote last to the terminal: the modes are switched back
tail_out=$(tail -c 300 "$T/alice.tty" | cat -v)
diag "alice's last output: ${tail_out: -120}"
check "alice's last cursor mode sent is 'visible'" test "$(grep -ao $'\e\\[?25[hl]' "$T/alice.tty" | tail -n 1 | cat -v)" = '^[[?25h'
check "alice turned bracketed paste off at the end" test "$(grep -ao $'\e\\[?2004[hl]' "$T/alice.tty" | tail -n 1 | cat -v)" = '^[[?2004l'
check "bob sees alice go offline" wait_screen bob '○ +alice|alice is offline'
kill -TERM "${TUI_PID[bob]}"
check "bob exits on SIGTERM" wait_dead bob 10
check "bob's exit status after SIGTERM is 0" test "$(exit_status bob)" = 0
check "bob left the alternate screen" test "$(pane_fmt bob '#{alternate_on}')" = 0

# SIGHUP (the terminal went away) on a plain vt100 without UTF-8.
mkdir -p "$T/carol"
tui_start carol 80 24 env -u NO_COLOR LC_ALL=C TERM=vt100 "$CONFAB" --home "$T/carol" --nick carol \
	--no-discovery --no-nat --listen 127.0.0.1:0 --log "$T/carol.log"
check "carol starts on TERM=vt100 in the C locale" quiet status_addr carol
start_peer dave --nick dave --listen 127.0.0.1:0
say dave "/connect $(status_addr carol)"
fpc=$(wait_for dave '.event=="peer" and .state=="online"' 10 | jq -r .fingerprint)
say dave "/msg $fpc caf$(printf '\303\251') $(printf '\346\227\245')!"
check "carol is told of activity in window 2" wait_screen carol '\[act: 2\]'
keys carol M-2
check "carol (ASCII) shows non-ASCII as '?'" wait_screen carol '<dave> caf\? \?!'
check "carol's screen has no raw non-ASCII text" not shows carol 'café|日'
kill -HUP "${TUI_PID[carol]}"
check "carol exits on SIGHUP" wait_dead carol 10
check "carol left the alternate screen" test "$(pane_fmt carol '#{alternate_on}')" = 0
# A fatal signal: the terminal is given back before the process dies.
ui erin 80 24 TERM=xterm-256color
TM pipe-pane -t erin -o "cat >>'$T/erin.tty'"
check "erin starts" quiet status_addr erin
check "erin is in the alternate screen" test "$(pane_fmt erin '#{alternate_on}')" = 1
kill -SEGV "${TUI_PID[erin]}"
check "erin dies of SIGSEGV" wait_dead erin 10
check "erin's exit status says SIGSEGV (or a sanitizer's report)" test "$(exit_status erin)" = 139 -o "$(exit_status erin)" = 1
check "erin left the alternate screen before dying" test "$(pane_fmt erin '#{alternate_on}')" = 0
check "erin's last cursor mode sent is 'visible'" test "$(grep -ao $'\e\\[?25[hl]' "$T/erin.tty" | tail -n 1 | cat -v)" = '^[[?25h'
check "erin turned bracketed paste off" test "$(grep -ao $'\e\\[?2004[hl]' "$T/erin.tty" | tail -n 1 | cat -v)" = '^[[?2004l'
check "diagnostics went to the log file" grep -Eq 'tui: [0-9]+x[0-9]+, TERM=tmux-256color, colour, UTF-8' "$T/alice.log"

# Every terminal type the issue names: the screen is drawn, a message shows,
# and /quit ends with status 0 and the terminal given back.
start_peer termpeer --nick termpeer --listen 127.0.0.1:0
tpa=$(addr_of termpeer)
for term in xterm xterm-256color screen tmux-256color linux vt100; do
	n=t_${term//-/_}
	mkdir -p "$T/$n"
	tui_start "$n" 80 24 env TERM=$term "$CONFAB" --home "$T/$n" --nick "$n" \
		--no-discovery --no-nat --listen 127.0.0.1:0 --log "$T/$n.log"
	check "TERM=$term: the screen is drawn" wait_screen "$n" 'home'
	say_line "$n" "/connect $tpa"
	wait_for termpeer ".event==\"peer\" and .nick==\"$n\" and .state==\"online\"" 10 >/dev/null
	say termpeer "/msg $n hello $term"
	wait_screen "$n" '\[act: 2\]' >/dev/null
	keys "$n" M-2
	check "TERM=$term: a message shows" wait_screen "$n" "hello $term"
	say_line "$n" "/quit"
	check "TERM=$term: /quit exits 0" wait_dead "$n" 10
	check "TERM=$term: exit status 0 and the alternate screen left" \
		test "$(exit_status "$n")" = 0 -a "$(pane_fmt "$n" '#{alternate_on}')" = 0
done

# problems in the config file show in the home window, not only on stderr
mkdir -p "$T/cfgbad"
printf 'bell = maybe\nfrobnicate = 1\n' >"$T/cfgbad/config"
ui cfgbad 200 30
check "a config problem shows in the home window" wait_screen cfgbad "config: .*cfgbad/config:1: bell: expected messages, all or off, got 'maybe'"
check "every problem does" shows cfgbad "config: .*cfgbad/config:2: unknown key 'frobnicate'"
check "it is shown as an error (!!!)" shows cfgbad "^[0-9:]+ !!! config: .*config:1: bell"
say_line cfgbad "/quit"
check "that UI quits" wait_dead cfgbad 10
done_testing
