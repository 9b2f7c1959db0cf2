#!/bin/bash
# t_tui_trust.sh - trust and memory in the ncurses UI (tmux, loopback): the
# trust mark of a first contact, /verify showing the codes the other side sees,
# /trust changing the mark in the list and the title, a new key using a
# verified peer's nick shown apart with a warning, /block, Tab completion of
# the trust verbs' PEER, history after a restart of the UI, /clear --history,
# and a message to an offline peer shown queued, then delivered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"

# Fixed loopback ports, so that a restarted instance is found where it was.
# Below Linux's default ephemeral range (32768-60999), so that no port the
# kernel hands out (to other tests' connections and port-0 listeners) is ours.
base=$((20000 + (RANDOM % 120) * 100))
pa=$((base + 31)); pb=$((base + 32))

# ui NAME HOME PORT [ENV...]: start a UI instance (nick alice) in tmux.
ui() {
	local name=$1 home=$2 port=$3; shift 3
	mkdir -p "$home"
	tui_start "$name" 120 36 env -u NO_COLOR LC_ALL=C.UTF-8 TERM=tmux-256color "$@" "$CONFAB" \
		--home "$home" --nick alice --no-discovery --no-nat --listen "127.0.0.1:$port" \
		--log "$T/$name.log" --debug
}

# attr_is NAME TEXT-ERE SGR on|off: whether TEXT-ERE is on the pane and its
# first match starts in a cell drawn with (on) or without (off) the attribute
# whose SGR parameter is SGR (1 bold, 2 dim, 7 reverse).  capture-pane -e
# writes only changes, so the escapes are followed from the top of the pane.
attr_is() {
	screen_esc "$1" | perl -CSA -e '
		my ($re, $want, $how) = @ARGV; local $/; my $s = <STDIN>;
		my (%on, $plain, @st);
		$plain = "";
		while ($s =~ /\G(?:\e\[([0-9;]*)m|(.))/gcs) {
			if (!defined $1) { $plain .= $2; push @st, {%on}; next; }
			my @p = split /;/, ($1 eq "" ? "0" : $1);
			while (@p) {
				my $p = shift @p;
				if ($p == 38 || $p == 48) { my $k = shift @p // 0; splice @p, 0, $k == 5 ? 1 : 3; }
				elsif ($p == 0)  { %on = (); }
				elsif ($p == 22) { delete @on{1, 2}; }
				elsif ($p == 27) { delete $on{7}; }
				elsif ($p < 10)  { $on{$p} = 1; }
			}
		}
		exit 1 unless $plain =~ /$re/;
		exit(($st[$-[0]]{$want} ? "on" : "off") eq $how ? 0 : 1);' -- "$2" "$3" "$4"
}

# --- first contact: unverified ------------------------------------------------
ui alice "$T/alice" "$pa"
check "alice's UI starts" quiet status_addr alice
start_peer bob --nick bob --listen "127.0.0.1:$pb"
fb=$(fp_of bob)
say bob "/connect 127.0.0.1:$pa"
check "bob (headless) connects to alice's UI" wait_for bob '.event=="peer" and .state=="online"' 10
fa=$(wait_for bob '.event=="peer" and .state=="online"' 1 | jq -r .fingerprint)
check "alice's peer list shows bob online" wait_screen alice 'peers 1/1 online'
check "first contact: the peer list marks bob unverified (?)" wait_screen alice '● \? bob +'
say_line alice "/query bob"
check "the title says unverified, in words, with the short fingerprint" \
	wait_screen alice "^ 2:bob +online \\(direct\\) +\\? unverified +${fb:0:8} +127\\.0\\.0\\.1:$pb"

# --- /verify: the same codes on both screens ----------------------------------
keys alice M-1
say_line alice "/verify bob"
say bob "/verify $fa"
v=$(wait_for bob '.event=="verify"' 10)
code=$(jq -r .code <<<"$v"); safety=$(jq -r .safety <<<"$v")
diag "bob's session code: $code, safety number: $safety"
check "the headless side's session code has 12 digits" grep -Eq '^[0-9]{3} [0-9]{3} [0-9]{3} [0-9]{3}$' <<<"$code"
check "its safety number 60" grep -Eq '^[0-9]{5}( [0-9]{5}){11}$' <<<"$safety"
check "/verify takes alice to bob's window" wait_screen alice '^ 2:bob '
check "alice's screen shows the same session code as bob's" wait_screen alice "session code $code \\(with bob\\)"
check "and says to compare it by voice, now" shows alice "$code \\(with bob\\) - read it to each other now, by voice"
# the safety number may wrap: look for its groups in the order shown
# shows_joined NAME TEXT: TEXT is in the pane's conversation (left of the
# peer list), perhaps wrapped over rows
shows_joined() {
	screen "$1" | sed 's/│.*//' | tr -s ' \n' '  ' | grep -qF -- "$2" && return 0
	echo "# not on $1's screen: $2; the screen was:" >&2
	screen "$1" | sed 's/^/#   |/' >&2
	return 1
}
check "alice's screen shows the same safety number as bob's" \
	shows_joined alice "safety number $safety (with bob) - compare it any time"
check "the session code is in bold" attr_is alice "$code" 1 on
check "the safety number is in bold" attr_is alice "${safety:0:17}" 1 on
check "the text around them is not" attr_is alice 'session code [0-9]' 1 off
check "nor here" attr_is alice 'safety number [0-9]' 1 off
check "nor the name after them" attr_is alice '\(with bob\) - read' 1 off

# --- /trust: verified in the list and the title -------------------------------
say_line alice "/trust bob"
check "/trust: the peer list marks bob verified (✓)" wait_screen alice '● ✓ bob +'
check "/trust: the title says verified" wait_screen alice '^ 2:bob +online \(direct\) +✓ verified '

# --- a new key calling itself bob ---------------------------------------------
start_peer mallory --nick bob --listen 127.0.0.1:0
fm=$(fp_of mallory)
say mallory "/connect 127.0.0.1:$pa"
check "mallory (a new key, nick bob) gets through" wait_for mallory '.event=="peer" and .state=="online"' 10
check "alice's list shows 2 peers online" wait_screen alice 'peers 2/2 online'
check "the new key is listed apart, with the warning mark (!)" wait_screen alice "● ! bob~${fm:0:4} "
check "the real bob keeps his name and his verified mark" shows alice '● ✓ bob +'
check "the warning mark is in reverse video" attr_is alice "! bob~${fm:0:4} " 7 on
check "only the mark: its name is not" attr_is alice " bob~${fm:0:4} " 7 off
check "alice is told of activity in home and the new window" wait_screen alice '\[act: 1,3\]'
keys alice M-1
check "the warning is in the home window too" wait_screen alice "!!! WARNING: a different key \\(${fm:0:8}"
check "and only once there" test "$(screen alice | grep -c 'WARNING: a different key')" = 1
keys alice M-3
check "window 3 is the new key's" wait_screen alice "^ 3:bob~${fm:0:4} +online \\(direct\\) +! unverified new key"
check "a warning line stays at the top of its window" \
	wait_screen alice '^ ! WARNING: a NEW KEY calls itself "bob", the name of a peer you know'
check "the warning line is in reverse video" attr_is alice ' ! WARNING: a NEW KEY' 7 on
check "the warning is in its window too, as an error line" shows alice '!!! WARNING: a different key'

# an offer from it says plainly who it comes from
echo "not from bob" >"$T/gift.txt"
say mallory "/send $fa $T/gift.txt"
check "the offer says it comes from an unverified new key" \
	wait_screen alice 'bob~[0-9a-z]{4} offers gift\.txt \(13 B\): /accept [0-9a-f]{8} \[DIR\] or'
check "... in plain words" wait_screen alice 'UNVERIFIED NEW KEY using a known peer'
keys alice F3
check "the transfers window names its trust next to the peer" \
	wait_screen alice "↓ [0-9a-f]{8} pending +from bob~${fm:0:4} \\(unverified new key\\): gift\\.txt"
check "and says so next to what to type" wait_screen alice "\\(unverified: /verify bob~${fm:0:4} first\\)"
keys alice F3

# /block, typed with Tab completion of the PEER
type_text alice "/bl"; keys alice Tab
check "Tab completes /block" wait_screen alice '^\[bob~[0-9a-z]{4}\] /block$'
type_text alice "bob~"; keys alice Tab
check "Tab completes the PEER of /block" wait_screen alice "^\\[bob~[0-9a-z]{4}\\] /block bob~${fm:0:4}\$"
keys alice Enter
check "/block: the peer list shows the blocked mark (✗)" wait_screen alice "[●○] ✗ bob~${fm:0:4} "
check "/block: the title says blocked" wait_screen alice "^ 3:bob~${fm:0:4} +[a-z]+ +✗ blocked"
check "the warning line goes once it is blocked" wait_gone alice 'NEW KEY calls itself'
check "the real bob is still verified" shows alice '● ✓ bob +'
kill_peer mallory

# --- history survives a restart of the UI -------------------------------------
keys alice M-2
say_line alice "history line one"
say bob "/msg $fa history line two"
check "bob gets alice's line" wait_for bob '.event=="message" and .text=="history line one"' 10
check "alice gets bob's line" wait_screen alice '<bob> history line two'
check "alice's line is delivered" wait_screen alice '✓ <alice> history line one'
say_line alice "/quit"
check "alice quits" wait_dead alice 10
# move the stored lines to other days: line one (and what came before it)
# three days ago, line two (and after) two days ago
now_s=$(date +%s)
d3=$(LC_ALL=C date -d "@$((now_s - 3 * 86400))" '+%a %d %b %Y')
d2=$(LC_ALL=C date -d "@$((now_s - 2 * 86400))" '+%a %d %b %Y')
d0=$(LC_ALL=C date -d "@$now_s" '+%a %d %b %Y')
awk -v t3=$(((now_s - 3 * 86400) * 1000)) -v t2=$(((now_s - 2 * 86400) * 1000)) \
	'BEGIN { FS = OFS = "\t" } /history line two/ { late = 1 } { $1 = late ? t2 : t3; print }' \
	"$T/alice/history/$fb" >"$T/hist.tmp" && cat "$T/hist.tmp" >"$T/alice/history/$fb"
ui alice2 "$T/alice" "$pa"
check "alice's UI starts again with the same home" quiet status_addr alice2
check "bob is listed, still verified" wait_screen alice2 '[●○◐] ✓ bob +'
say_line alice2 "/history bob"
check "/history opens bob's window" wait_screen alice2 '^ 2:bob '
check "alice's old line is there" wait_screen alice2 '<alice> history line one'
check "bob's old line is there" shows alice2 '<bob> history line two'
check "a separator follows the history" shows alice2 'history from earlier sessions above'
check "history lines are dimmed" attr_is alice2 '<bob> history line two' 2 on
check "the oldest line from another day has its date above it" shows alice2 "^--- $d3( |$)"
check "a day change between stored lines is shown" shows alice2 "^--- Day changed $d2( |$)"
# line_after NAME ERE TEXT: the row after the first row matching ERE shows TEXT.
line_after() { screen "$1" | grep -A1 -E -- "$2" | tail -n 1 | grep -qF -- "$3"; }
check "the date line comes right above the first line of that day" \
	line_after alice2 "^--- Day changed $d2( |$)" "<bob> history line two"
check "alice and bob are back online" wait_screen alice2 '^ 2:bob +online' 15
say_line alice2 "hello again"
check "a line of this session is delivered" wait_screen alice2 '✓ <alice> hello again'
check "a line of this session is not dimmed" attr_is alice2 '<alice> hello again' 2 off
check "today's lines follow a day change line" shows alice2 "^--- Day changed $d0( |$)"

# --- a message to an offline peer: queued, then delivered -----------------------
say bob "/quit"; stop_peer bob
check "alice sees bob go offline" wait_screen alice2 '^ 2:bob +offline'
say_line alice2 "waiting for you"
check "the message shows queued (…)" wait_screen alice2 '… <alice> waiting for you'
check "not delivered yet" not shows alice2 '✓ <alice> waiting for you'
: >"$T/bob.out"
start_peer bob --nick bob --listen "127.0.0.1:$pb"
check "bob gets it when he is back" wait_for bob '.event=="message" and .text=="waiting for you"' 30
check "alice sees it delivered (✓)" wait_screen alice2 '✓ <alice> waiting for you' 10
sleep 0.5
check "bob got it exactly once" test "$(count_events bob '.event=="message" and .text=="waiting for you"')" = 1

# --- /clear --history deletes the stored history --------------------------------
check "there is a history file" test -s "$T/alice/history/$fb"
say_line alice2 "/clear --history"
check "/clear --history says so" wait_screen alice2 'history with bob deleted'
check "the old lines are gone from the window" not shows alice2 'history line one|waiting for you'
check "the history file is gone" test ! -s "$T/alice/history/$fb"
say_line alice2 "/clear --bogus"
check "a bad /clear option is a usage error" wait_screen alice2 'usage: /clear \[--history\]'
say bob "/msg $fa after the clear"
check "new lines show after /clear --history" wait_screen alice2 '<bob> after the clear'

# --- ASCII fallbacks ----------------------------------------------------------------
say_line alice2 "/quit"
check "alice quits again" wait_dead alice2 10
tui_start carol 100 30 env -u NO_COLOR LC_ALL=C TERM=vt100 "$CONFAB" --home "$T/alice" --nick alice \
	--no-discovery --no-nat --listen "127.0.0.1:$pa" --log "$T/carol.log"
check "the same home on an ASCII terminal" quiet status_addr carol
check "the verified mark in ASCII is V" wait_screen carol '[-~+?] V bob +' 15
check "no raw UTF-8 mark on the ASCII screen" not shows carol '✓|✗|●|○'
say_line carol "/help"
check "/help explains the trust marks" wait_screen carol 'Trust marks in the peer list: V verified, \? unverified'
say_line carol "/quit"
check "carol quits" wait_dead carol 10

# --- the path where one looks for a peer's state: the title and /peers, at 80x24 ---
python3 "$(dirname "$0")/socks_server.py" >"$T/socks.port" 2>"$T/socks.err" &
SOCKS_PID=$!
stop_socks() { kill "$SOCKS_PID" 2>/dev/null; }
cleanup_hooks+=(stop_socks)
poll_until 5 test -s "$T/socks.port"
start_peer hank --nick hank --listen 127.0.0.1:0
fh=$(fp_of hank)
mkdir -p "$T/dora"
tui_start dora 80 24 env -u NO_COLOR LC_ALL=C.UTF-8 TERM=tmux-256color "$CONFAB" --home "$T/dora" \
	--nick dora --no-discovery --no-nat --listen 127.0.0.1:0 --log "$T/dora.log" \
	--proxy "socks5://127.0.0.1:$(cat "$T/socks.port")"
check "dora's UI starts (with --proxy)" quiet status_addr dora
say_line dora "/connect $(addr_of hank)"
check "dora reaches hank through the proxy" wait_screen dora 'peers 1/1 online'
say_line dora "/query hank"
check "80x24: the title says the path: online (proxy)" \
	wait_screen dora "^ 2:hank +online \\(proxy\\) +\\? unverified +${fh:0:8} "
say_line dora "/peers"
check "and /peers in the window: online (proxy)" poll_until 5 shows_joined dora "online (proxy) unverified"
check "hank's side of it is direct (the proxy called him)" \
	test "$(wait_for hank '.event=="peer" and .state=="online"' 5 | jq -r .path)" = direct
say_line dora "/quit"
check "dora quits" wait_dead dora 10
done_testing
