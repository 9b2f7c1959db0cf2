#!/bin/bash
# t_tui_rooms.sh - room windows in the full-screen UI (issue 15), at 80x24 and
# 50x15: a window per room with a stable number, its title "#name
# online/total", the member list (side pane at 80 columns, /room members in
# the window at 50) with presence and trust marks, unread counts, join, leave
# and kick lines, typing sends to the room, Tab completes #names, /close keeps
# the room; a peer-chosen room name never reaches the terminal raw.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"

FORGE=${top_builddir:-$(dirname "$0")/..}/tests/room_forge

# ui NAME COLS ROWS [ARGS...]: start a UI instance in tmux.
ui() {
	local name=$1 cols=$2 rows=$3; shift 3
	mkdir -p "$T/$name"
	tui_start "$name" "$cols" "$rows" env -u NO_COLOR LC_ALL=C.UTF-8 TERM=screen "$CONFAB" \
		--home "$T/$name" --nick "$name" --no-discovery --no-nat --listen 127.0.0.1:0 \
		--log "$T/$name.log" --debug "$@"
}

# no_raw_escape NAME: the pane holds no ESC, BEL or C1 CSI byte of a peer's (tmux would have run them).
no_raw_escape() {
	! screen "$1" | grep -q "PWNED" && ! screen "$1" | LC_ALL=C grep -q $'\033\|\007'
}

# title_clean NAME: the pane's title (OSC 0 would set it) is not the name's.
title_clean() {
	! pane_fmt "$1" '#{pane_title}' | grep -q PWNED
}

for size in "80 24" "50 15"; do
	set -- $size
	a=alice$1 b=bob$1 c=carol$1
	# the UI first: the tmux server it starts must not inherit the peers' command pipes
	ui $a $1 $2
	start_peer $b --nick $b --listen 127.0.0.1:0
	start_peer $c --nick $c --listen 127.0.0.1:0
	check "$1x$2: alice is up" quiet status_addr $a
	addr=$(status_addr $a)
	for n in $b $c; do
		say $n "/connect $addr"
		check "$1x$2: $n online with alice" \
			wait_for $n ".event==\"peer\" and .state==\"online\" and .nick==\"$a\"" 10
	done
	fb=$(fp_of $b); fc=$(fp_of $c)

	say_line $a "/room create team"
	check "$1x$2: /room create opens the room's window, number 2, on screen" \
		wait_screen $a '^ 2:#team  1/1 online'
	check "$1x$2: the input names the room" shows $a '^\[#team\]'
	# a peer's name, then the room: both on the command line of the room window
	say_line $a "/room invite $b"
	say_line $a "/room invite team $c"
	for n in $b $c; do
		check "$1x$2: $n is invited" wait_for $n '.event=="room_invite" and .name=="team"'
	done
	check "$1x$2: the title counts the invited" wait_screen $a '^ 2:#team  1/1 online, 2 invited'
	rid=$(wait_for $b '.event=="room_invite"' | jq -r .room)
	say $b "/room join team"
	say $c "/room join team"
	check "$1x$2: both joined: the title says 3/3 online" wait_screen $a '^ 2:#team  3/3 online'
	check "$1x$2: a line says $b joined" wait_screen $a "-!- $b joined"
	check "$1x$2: ... and that alice invited $c" shows $a "-!- $a invited $c"
	if [ "$1" -ge 66 ]; then
		check "$1x$2: the side pane is the room's member list" wait_screen $a "│ 3/3 online #team"
		check "$1x$2: ... with presence and trust marks" shows $a "│ ● \? $b +${fb:0:8}"
		check "$1x$2: ... alice herself marked *" shows $a "│ ● \* $a "
	else
		say_line $a "/room members"
		check "$1x$2: no side pane: /room members lists them in the window" \
			wait_screen $a "-!-   ● \? $b  ${fb:0:8}  online"
	fi
	diag "$a at $1x$2, #team:"; screen $a | sed 's/^/#   |/'

	# typing in the room window sends to the room
	say_line $a "hello room"
	check "$1x$2: typed in the window: $b gets it, with the room" \
		wait_for $b ".event==\"message\" and .room==\"$rid\" and .text==\"hello room\""
	check "$1x$2: and $c" wait_for $c ".event==\"message\" and .room==\"$rid\" and .text==\"hello room\""
	check "$1x$2: alice's own line is in the window" wait_screen $a "<$a> hello room"
	say_line $a "/me waves at the room"
	check "$1x$2: /me in the room window: an action to the room" \
		wait_for $b ".event==\"message\" and .room==\"$rid\" and .text==\"/me waves at the room\""
	check "$1x$2: shown '* $a waves at the room'" wait_screen $a "\* $a waves at the room"
	paste $a $'first pasted\n/second pasted\n'
	check "$1x$2: a paste of two lines goes to the room as one message, never a command" \
		wait_for $b ".event==\"message\" and .room==\"$rid\" and .text==\"first pasted\\n/second pasted\""

	# unread counts: alice is at home, bob writes twice
	keys $a M-1
	check "$1x$2: Alt-1 is home" wait_screen $a '^ 1:home'
	say $b "/msg #team one from bob"
	check "$1x$2: the room's window is in the activity list" wait_screen $a '\[act: 2\]'
	say $b "/msg #team two from bob"
	if [ "$1" -ge 66 ]; then
		check "$1x$2: the peer list's room row counts 2 unread" wait_screen $a '│ #team 2 +3/3'
	fi
	keys $a M-2
	check "$1x$2: Alt-2: bob's lines with his trust mark" wait_screen $a "\? <$b> two from bob"
	check "$1x$2: the activity list is empty again" wait_gone $a '\[act:'

	# Tab completes a room name
	type_text $a "/msg #te"
	keys $a Tab
	check "$1x$2: Tab completes #te to #team" wait_screen $a '^\[#team\] /msg #team$'
	keys $a C-u

	# late: carol, cut off from alice (she blocks her), writes while alice writes
	# twice; once they meet again carol's message sorts before alice's second
	say $c "/block $a"
	check "$1x$2: $c cut off from alice" wait_screen $a '^ 2:#team  2/3 online'
	say_line $a "first while apart"
	say_line $a "second while apart"
	check "$1x$2: $b has alice's two" wait_for $b '.event=="message" and .text=="second while apart"'
	say $c "/msg #team written while apart"
	say $c "/unblock $a"
	say $c "/connect $addr"
	check "$1x$2: carol's message, sorted before lines shown earlier, is marked late" \
		wait_screen $a "\? <$c> \(late\) written while apart" 20
	check "$1x$2: $c back: 3/3" wait_screen $a '^ 2:#team  3/3 online'

	# presence: carol quits
	stop_peer $c
	check "$1x$2: $c gone: the title says 2/3" wait_screen $a '^ 2:#team  2/3 online' 15
	if [ "$1" -ge 66 ]; then
		check "$1x$2: the member list counts 2/3 online" wait_screen $a "│ 2/3 online #team"
		check "$1x$2: ... and shows $c offline" shows $a "│ ○ \? $c "
	else
		say_line $a "/room members"
		check "$1x$2: /room members shows $c offline" wait_screen $a "○ \? $c  ${fc:0:8}  offline"
	fi

	# kick and leave lines
	say_line $a "/room kick $c"
	check "$1x$2: the kick line" wait_screen $a "-!- $a kicked $c"
	check "$1x$2: after the kick: 2/2" wait_screen $a '^ 2:#team  2/2 online'
	say $b "/room leave team"
	check "$1x$2: the leave line" wait_screen $a "-!- $b left"
	diag "$a at $1x$2, #team after kick and leave:"; screen $a | sed 's/^/#   |/'

	# /close closes the window, not the membership
	say_line $a "/close"
	check "$1x$2: /close: back to home" wait_screen $a '^ 1:home'
	say_line $a "/rooms"
	check "$1x$2: ... still joined" wait_screen $a '#team  1/1 online, 0 invited  you:'

	# a hostile room name, chosen by its creator: an invitation shows it neutralised
	m=mallory$1
	mkdir -p "$T/$m"
	start_peer $m --nick $m --listen 127.0.0.1:0
	fp_of $m >/dev/null
	stop_peer $m
	evil=$(printf 'ev\033]0;PWNED\007il\033[2J\302\233\061m')
	mid=$("$FORGE" "$T/$m" "$evil")
	check "$1x$2: a room with a hostile name forged for $m" test "${#mid}" -eq 32
	start_peer $m --nick $m --listen 127.0.0.1:0
	say $m "/connect $addr"
	check "$1x$2: $m online" wait_for $m ".event==\"peer\" and .state==\"online\" and .nick==\"$a\"" 10
	say $m "/room invite ${mid:0:8} $a"
	check "$1x$2: the invitation opens a window, said at home, the name neutralised" \
		wait_screen $a "$m invites you to #ev.?il -( |$)"
	check "$1x$2: no escape sequence of the name reached the terminal" no_raw_escape $a
	check "$1x$2: it takes the number #team's window left free (2), and is counted" \
		wait_screen $a '\[act: 2\]'
	keys $a M-2
	check "$1x$2: its title says how to answer" wait_screen $a '^ 2:#ev.?il  1/1 online, 1 invited  you are invited'
	check "$1x$2: ... still nothing raw" no_raw_escape $a
	check "$1x$2: the terminal's title was not set by the name" title_clean $a
	say_line $a "/room decline"
	check "$1x$2: /room decline in the window answers it" \
		wait_for $m ".event==\"room\" and .room==\"$mid\" and (.invited|length)==0"
	diag "$a at $1x$2, the hostile invitation:"; screen $a | sed 's/^/#   |/'
	say_line $a "/quit"
	check "$1x$2: /quit" wait_dead $a
	check "$1x$2: ... with status 0 (no sanitizer report under --enable-asan)" test "$(exit_status $a)" = 0
	stop_peer $b
	stop_peer $m
done

# Withdrawn (PROTOCOL.md 13.5), on bob's screen: alice, the creator, cut off
# from everyone (she blocks them), kicks carol, who writes twice meanwhile;
# bob shows carol's messages, then alice comes back: the one(s) written after
# the kick are withdrawn from bob's window, with a line saying so.
ui bobw 80 24
start_peer alicew --nick alicew --listen 127.0.0.1:0
start_peer carolw --nick carolw --listen 127.0.0.1:0
addr=$(status_addr bobw)
for n in alicew carolw; do
	say $n "/connect $addr"
	check "withdrawn: $n online with bobw" wait_for $n '.event=="peer" and .state=="online" and .nick=="bobw"' 10
done
say alicew "/connect $(addr_of carolw)"
check "withdrawn: alicew online with carolw" wait_for alicew '.event=="peer" and .state=="online" and .nick=="carolw"' 10
say alicew "/room create club"
say alicew "/room invite club bobw"
say alicew "/room invite club carolw"
check "withdrawn: bobw's invitation window" wait_screen bobw 'alicew invites you to #club -( |$)'
say_line bobw "/window 2"
say_line bobw "/room join"
say carolw "/room join club"
check "withdrawn: bobw sees #club 3/3" wait_screen bobw '^ 2:#club  3/3 online'
fc=$(fp_of carolw)
say alicew "/block bobw"
say alicew "/block carolw"
check "withdrawn: alicew cut off" wait_screen bobw '^ 2:#club  2/3 online'
say alicew "/room kick club carolw"
wait_for alicew '.event=="room" and .name=="club" and (.members|length)==2' 10 >/dev/null
say carolw "/msg #club carol one"
say carolw "/msg #club carol two"
check "withdrawn: bobw shows carolw's two lines" wait_screen bobw '\? <carolw> carol two'
say alicew "/unblock bobw"
say alicew "/connect $addr"
check "withdrawn: the kick reaches bobw" wait_screen bobw '-!- alicew kicked carolw' 20
check "withdrawn: carolw's line after the kick is withdrawn, her name kept" \
	wait_screen bobw '-!- <carolw> \(withdrawn\)'
check "withdrawn: a line says so" wait_screen bobw 'messages? from carolw after the kick (is|are)'
check "withdrawn: the title counts 2/2" wait_screen bobw '^ 2:#club  2/2 online'
diag "bobw at 80x24 after the heal:"; screen bobw | sed 's/^/#   |/'
done_testing
