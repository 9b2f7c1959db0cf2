#!/bin/bash
# t_config.sh - the configuration file: written with every key documented
# (mode 0600) on first start; --print-config prints the configuration in
# effect as a file that reads back the same; each key changes what confab
# does; mistakes are reported with their line numbers while confab starts
# with the defaults for those keys; the command line wins over the file.
# Discovery and NAT switched on run only inside a private network namespace.
. "$(dirname "$0")/lib.sh"

KEYS="nick listen download_dir discovery discovery_iface nat bell colors history_lines auto_accept paste_confirm_lines keepalive limit_rate proxy"

# skip_check DESCRIPTION REASON: a TAP check that cannot run here.
skip_check() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

# not_grep ERE FILE: succeed if FILE has no line matching ERE.
not_grep() { ! grep -Eq -- "$1" "$2"; }

# conf HOME LINE...: write HOME/config with the given lines.
conf() {
	local home=$1; shift
	mkdir -p "$home"
	printf '%s\n' "$@" >"$home/config"
}

# once HOME [ARGS...]: start headless in HOME and quit at once; the events on
# stdout, stderr in HOME.err, the log in HOME.log.  Discovery and NAT stay off.
once() {
	local home=$1; shift
	mkdir -p "$home"
	echo /quit | "$CONFAB" --headless --home "$home" --no-discovery --no-nat \
		--log "$home.log" "$@" 2>"$home.err"
}

# printed HOME [ARGS...]: confab --print-config for HOME (stderr in HOME.perr).
printed() {
	local home=$1; shift
	"$CONFAB" --home "$home" --print-config "$@" 2>"$home.perr"
}

# ready_of EVENTS: the ready event.
ready_of() { jq -c 'select(.event=="ready")' <<<"$1" | head -n 1; }

out=$("$CONFAB" --help)
check "--help documents --print-config and the config file" \
	test -n "$(grep -e '--print-config' <<<"$out")" -a -n "$(grep -e 'XDG_CONFIG_HOME/confab' <<<"$out")"

# --- first start: a documented file of defaults, mode 0600 ----------------------
out=$(once "$T/h1" --listen 127.0.0.1:0)
check "first start: confab starts (ready event)" test -n "$(ready_of "$out")"
check "first start writes the config file" test -f "$T/h1/config"
check "the config file has mode 0600" test "$(stat -c %a "$T/h1/config")" = 600
check "first start reports no problem" test ! -s "$T/h1.err"
check "the log records that the defaults were written" grep -q "config: wrote the documented defaults to $T/h1/config" "$T/h1.log"
missing=""
for k in $KEYS; do
	# the key's line commented out, in a block of comments that names its default
	awk -v k="$k" '/^$/ { d = 0 } /^# Default: / { d = 1 } $0 ~ "^#" k " =" && d { f = 1 } END { exit !f }' \
		"$T/h1/config" || missing="$missing $k"
done
check "every key is documented with its default (missing:${missing:- none})" test -z "$missing"
check "first start sets no key (every setting line is a comment)" test -z "$(grep -v -e '^#' -e '^$' "$T/h1/config")"
check "no temporary file is left beside it" test "$(ls "$T/h1" | grep -c '^config')" -eq 1
echo "nick = kept" >>"$T/h1/config"
out=$(once "$T/h1" --listen 127.0.0.1:0)
check "a second start reads the file and does not rewrite it" \
	test "$(ready_of "$out" | jq -r .nick)" = kept -a "$(tail -n 1 "$T/h1/config")" = "nick = kept"

env -u CONFAB_HOME HOME="$T/xh" XDG_CONFIG_HOME="$T/xc" XDG_STATE_HOME="$T/xs" \
	"$CONFAB" --headless --no-discovery --no-nat --listen 127.0.0.1:0 </dev/null >/dev/null 2>&1
check "without --home the file is \$XDG_CONFIG_HOME/confab/config" \
	test -f "$T/xc/confab/config" -a ! -e "$T/xs/confab/config"

# --- --print-config: the effective configuration, as a file that reads back ----
mkdir -p "$T/h2"
conf "$T/h2" "nick = zed" "listen = 127.0.0.1:0, 127.0.0.2:0" "download_dir = \"$T/dl dir \"" \
	"discovery = off" "discovery_iface = lo" "nat = off" "bell = off" "colors = off" \
	"history_lines = 7" "auto_accept = verified" "keepalive = 9" "limit_rate = 250k" \
	"proxy = socks5://127.0.0.1:1080"
p1=$(printed "$T/h2"); rc=$?
check "--print-config exits 0 without complaint" test $rc -eq 0 -a ! -s "$T/h2.perr"
bad=""
for want in "nick = zed" "listen = 127.0.0.1:0" "listen = 127.0.0.2:0" "download_dir = \"$T/dl dir \"" \
	"discovery = off" "discovery_iface = lo" "nat = off" "bell = off" "colors = off" \
	"history_lines = 7" "auto_accept = verified" "keepalive = 9" "limit_rate = 250k" \
	"proxy = socks5://127.0.0.1:1080"; do
	grep -qxF -- "$want" <<<"$p1" || bad="$bad [$want]"
done
check "--print-config shows every value from the file (wrong:${bad:- none})" test -z "$bad"
check "--print-config documents every key" test "$(grep -c '^# Default: ' <<<"$p1")" -eq 20
mkdir -p "$T/h3"
printf '%s\n' "$p1" >"$T/h3/config"
p2=$(printed "$T/h3")
check "its output, used as a config file, reads without complaint" test ! -s "$T/h3.perr"
check "and prints back identically (round trip)" test "$p1" = "$p2"
p3=$(printed "$T/h4")
check "--print-config does not write a config file" test ! -e "$T/h4/config"
printf '%s\n' "$p3" >"$T/h4/config"
check "the defaults round-trip too" test "$(printed "$T/h4")" = "$p3" -a ! -s "$T/h4.perr"
check "the defaults: discovery on, 1000 history lines, keepalive 15, no rate cap" \
	test "$(grep -E '^(discovery|history_lines|keepalive|limit_rate|auto_accept|colors) =' <<<"$p3" | tr '\n' ' ')" = \
	"discovery = on colors = auto history_lines = 1000 auto_accept = off keepalive = 15 limit_rate = 0 "
p4=$(printed "$T/h2" --nick cli --keepalive 30 --listen 127.0.0.3:0 --download-dir /tmp --limit-rate 0 --no-nat)
check "--print-config shows command-line options winning over the file" \
	test "$(grep -E '^(nick|listen|download_dir|keepalive|limit_rate) =' <<<"$p4" | tr '\n' ' ')" = \
	"nick = cli listen = 127.0.0.3:0 download_dir = /tmp keepalive = 30 limit_rate = 0 "

# --- nick and listen change the ready event; the command line wins ---------------
conf "$T/h5" "nick = zed" "listen = 127.0.0.1:0" "listen = 127.0.0.2:0, 127.0.0.3:0"
out=$(once "$T/h5")
r=$(ready_of "$out")
check "nick from the file is the ready event's nick" test "$(jq -r .nick <<<"$r")" = zed
check "listen from the file (two lines, one with a list) gives three listeners" \
	grep -Eqx '127\.0\.0\.1:[0-9]+ 127\.0\.0\.2:[0-9]+ 127\.0\.0\.3:[0-9]+' <<<"$(jq -r '.listen | join(" ")' <<<"$r")"
out=$(once "$T/h5" --nick cli --listen 127.0.0.4:0)
r=$(ready_of "$out")
check "--nick beats the file's nick" test "$(jq -r .nick <<<"$r")" = cli
check "--listen replaces every listen line of the file" \
	grep -Eqx '127\.0\.0\.4:[0-9]+' <<<"$(jq -r '.listen | join(" ")' <<<"$r")"

# --- a malformed file: every problem with its line, and confab still starts -------
conf "$T/h6" "# a comment" "" "nick = fine" "colour = on" "bell = maybe" "keepalive = 0" \
	"listen = 127.0.0.1:0" "limit_rate = fast" "just some words" "nick = \"two words\"" \
	"history_lines = 2000000" "auto_accept = always" "listen = 127.0.0.1:99999" \
	"discovery_iface = \"no closing quote" "proxy = http://127.0.0.1:3128"
out=$(USER=fallback once "$T/h6"); rc=$?
r=$(ready_of "$out")
check "with a malformed file confab still starts (ready event) and exits 0" test -n "$r" -a $rc -eq 0
c="$T/h6/config"
bad=""
while IFS= read -r want; do
	grep -qxF -- "$want" "$T/h6.err" || bad="$bad [$want]"
done <<EOF
confab: $c:4: unknown key 'colour' (did you mean 'colors'?)
confab: $c:5: bell: expected messages, all or off, got 'maybe'
confab: $c:6: keepalive: expected 1 to 3600 seconds, got '0'
confab: $c:8: limit_rate: expected 0 or bytes per second from 1000 to 1000g (suffix k, m or g), got 'fast'
confab: $c:9: expected 'key = value', got 'just some words'
confab: $c:10: nick: expected 1 to 64 bytes of printable UTF-8 without spaces, got 'two words'
confab: $c:11: history_lines: expected a number from 0 to 1000000, got '2000000'
confab: $c:12: auto_accept: expected off or verified, got 'always'
confab: $c:13: listen: expected ADDR:PORT with a numeric address, got '127.0.0.1:99999'
confab: $c:14: discovery_iface: no closing quote
confab: $c:15: proxy: only socks5://[USER:PASS@]HOST:PORT proxies are supported
EOF
check "each problem is on stderr with the file and its line number (missing:${bad:- none})" test -z "$bad"
check "and nothing is reported for the good lines" test "$(grep -c "$c:[0-9]" "$T/h6.err")" -eq 11
check "a key with a bad value keeps its default (nick: the login name)" test "$(jq -r .nick <<<"$r")" = fallback
check "a key with a bad value keeps its default (listen: 0.0.0.0, not line 7's 127.0.0.1)" \
	grep -q '^0\.0\.0\.0:' <<<"$(jq -r '.listen[0]' <<<"$r")"
check "the problems are in the log as well" grep -qF "warn: config: $c:5: bell: expected messages, all or off, got 'maybe'" "$T/h6.log"
check "headless repeats them as info events after ready" \
	test "$(jq -r 'select(.event=="info") | .text' <<<"$out" | grep -c "^config: $c:[0-9]*: ")" -eq 11
check "with the summary line" \
	grep -qxF "config: $c: the keys with problems keep their defaults" <<<"$(jq -r 'select(.event=="info") | .text' <<<"$out")"
check "ready still comes first" test "$(head -n 1 <<<"$out" | jq -r .event)" = ready
pbad=$(printed "$T/h6")
check "--print-config shows the defaults for the bad keys" \
	test "$(grep -E '^(bell|keepalive|limit_rate|history_lines|auto_accept) =' <<<"$pbad" | tr '\n' ' ')" = \
	"bell = messages history_lines = 1000 auto_accept = off keepalive = 15 limit_rate = 0 "
conf "$T/h7" "nick = ok"
printf 'bell = on\nnick = \033]0;PWNED\007x y\n' >>"$T/h7/config"
out=$(once "$T/h7" --listen 127.0.0.1:0)
check "a value with control characters is reported, confab starts" \
	test -n "$(ready_of "$out")" -a -n "$(grep -F "config:3: nick: control character in the value" "$T/h7.err")"
check "the report itself carries no escape character" not_grep $'\033' "$T/h7.err"
mkdir -p "$T/h8/config"
out=$(once "$T/h8" --listen 127.0.0.1:0)
check "an unreadable config (a directory) is reported and confab starts" \
	test -n "$(ready_of "$out")" -a -n "$(grep -F "$T/h8/config: not a regular file" "$T/h8.err")"
mkdir -p "$T/h9"
head -c 200000 /dev/urandom >"$T/h9/config"
out=$(once "$T/h9" --listen 127.0.0.1:0)
diag "random bytes as the config: $(grep -c . "$T/h9.err") lines on stderr; last: $(tail -n 2 "$T/h9.err" | head -n 1)"
check "random bytes as the config: confab starts, 20 problems shown and a count of the rest" \
	test -n "$(ready_of "$out")" -a "$(grep -c . "$T/h9.err")" -le 22

# --- download_dir, limit_rate, keepalive, history_lines with running peers --------
conf "$T/alice" "limit_rate = 2m" "history_lines = 3"
conf "$T/bob" "download_dir = $T/bob dl"
conf "$T/carol" "history_lines = 0"
start_peer alice --nick alice --listen 127.0.0.1:0
start_peer bob --nick bob --listen 127.0.0.1:0
check "alice and bob connect" connect_pair alice bob
fa=$(fp_of alice); fb=$(fp_of bob)
mkdir -p "$T/src"
head -c 8000000 /dev/urandom >"$T/src/eight.bin"
say alice "/send bob $T/src/eight.bin"
o=$(wait_for bob '.event=="offer"' 10)
id=$(jq -r .id <<<"$o")
t0=$(date +%s%N)
say bob "/accept $id"
wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 60 >/dev/null
t1=$(date +%s%N)
check "download_dir: the file lands in the configured directory" cmp -s "$T/src/eight.bin" "$T/bob dl/eight.bin"
ms=$(( (t1 - t0) / 1000000 ))
rate=$(( 8000000 * 1000 / (ms > 0 ? ms : 1) ))
diag "limit_rate = 2m: 8 MB took $ms ms, $rate bytes/s"
check "limit_rate: the measured rate stays under the cap (+15%)" test "$rate" -le 2300000

for i in 1 2 3 4 5; do say alice "/msg bob line $i"; done
check "alice's five messages are delivered" wait_count alice '.event=="delivered"' 5 10
start_peer carol --nick carol --listen 127.0.0.1:0
check "carol and bob connect" connect_pair carol bob
say carol "/msg bob from carol"
check "carol's message is delivered" wait_for carol '.event=="delivered"' 10
say alice "/quit"; stop_peer alice; : >"$T/alice.out"
say carol "/quit"; stop_peer carol; : >"$T/carol.out"
start_peer alice --nick alice --listen 127.0.0.1:0
say alice "/history ${fb:0:8} 100"
say alice "/nosuchcommand"
wait_for alice '.event=="error"' 10 >/dev/null
h=$(events alice 'select(.event=="history" and (.kind=="in" or .kind=="out")) | .text' | tr -d '"' | tr '\n' ',')
check "history_lines = 3: after a restart the last 3 messages are back (got: $h)" test "$h" = "line 3,line 4,line 5,"
start_peer carol --nick carol --listen 127.0.0.1:0
say carol "/history ${fb:0:8} 100"
say carol "/nosuchcommand"
wait_for carol '.event=="error"' 10 >/dev/null
check "history_lines = 0: nothing is kept" \
	test "$(count_events carol '.event=="history" and (.kind=="in" or .kind=="out")')" -eq 0

conf "$T/dave" "keepalive = 1"
start_peer dave --nick dave --listen 127.0.0.1:0
start_peer erin --nick erin --listen 127.0.0.1:0
check "dave and erin connect" connect_pair dave erin
kill -STOP "${PEER_PID[erin]}"
t0=$(date +%s%N)
check "keepalive = 1: the silent erin is dropped (default 15 s would take 45 s)" \
	wait_for dave '.event=="peer" and .state=="offline" and .reason=="peer timed out"' 8
t1=$(date +%s%N)
diag "keepalive = 1: silent peer dropped after $(( (t1 - t0) / 1000000 )) ms"
kill -CONT "${PEER_PID[erin]}"

# --- auto_accept = verified: files from verified peers need no /accept -----------
conf "$T/frank" "auto_accept = verified" "download_dir = $T/frank-dl"
conf "$T/hank" "download_dir = $T/hank-dl"
start_peer gus --nick gus --listen 127.0.0.1:0
start_peer frank --nick frank --listen 127.0.0.1:0
start_peer hank --nick hank --listen 127.0.0.1:0
both_connected() { connect_pair gus frank && connect_pair gus hank; }
check "gus connects to frank and to hank" both_connected
fg=$(fp_of gus)
for f in a1 a2 a3; do echo "file $f" >"$T/src/$f.txt"; done
say gus "/send frank $T/src/a1.txt"
id1=$(wait_for frank '.event=="offer"' 10 | jq -r .id)
say frank "/trust ${fg:0:8}"
say hank "/trust ${fg:0:8}"
wait_for frank ".event==\"peer\" and .fingerprint==\"$fg\" and .trust==\"verified\"" 10 >/dev/null
wait_for hank ".event==\"peer\" and .fingerprint==\"$fg\" and .trust==\"verified\"" 10 >/dev/null
say gus "/send frank $T/src/a2.txt"
check "auto_accept = verified: a verified peer's file arrives without /accept" \
	wait_for frank '.event=="transfer" and .state=="done" and (.path | endswith("/a2.txt"))' 10
check "and lands intact in frank's download_dir" cmp -s "$T/src/a2.txt" "$T/frank-dl/a2.txt"
say gus "/send hank $T/src/a3.txt"
id3=$(wait_for hank '.event=="offer"' 10 | jq -r .id)
sleep 1.5
check "auto_accept = verified: the offer made before /trust still waits" \
	test -n "$id1" -a "$(count_events frank ".event==\"transfer\" and .id==\"$id1\" and .state==\"done\"")" -eq 0 -a ! -e "$T/frank-dl/a1.txt"
check "auto_accept off (default): even a verified peer's offer waits for /accept" \
	test -n "$id3" -a "$(count_events hank ".event==\"transfer\" and .id==\"$id3\" and .state==\"done\"")" -eq 0 -a ! -e "$T/hank-dl/a3.txt"

# --- discovery, discovery_iface and nat: only in a namespace of our own -------------
NS="cfcfg$$"
ns_ok=0
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1 && ip netns add "$NS" 2>/dev/null; then
	ns_ok=1
	ip -n "$NS" link set lo up
fi
# Kill what runs in the namespace, then delete it.
ns_cleanup() {
	local pid
	[ $ns_ok -eq 1 ] || return 0
	disown -a 2>/dev/null   # no "Killed" notices
	for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
	ip netns del "$NS" 2>/dev/null || true
}
cleanup_hooks+=("ns_cleanup")

# start_ns NAME [ARGS...]: a headless peer in the namespace, discovery and NAT
# as its config file says (no --no-discovery, no --no-nat).
start_ns() {
	local name=$1; shift
	local home=$T/$name fd
	mkdir -p "$home"
	PEER_HOME[$name]=$home
	rm -f "$T/$name.in"; mkfifo "$T/$name.in"
	: >>"$T/$name.out"
	(
		for f in "${PEER_FD[@]}"; do eval "exec $f>&-"; done
		exec ip netns exec "$NS" "$CONFAB" --headless --home "$home" --nick "$name" \
			--log "$T/$name.log" --debug --discovery-refresh 1 "$@" \
			<"$T/$name.in" >>"$T/$name.out" 2>>"$T/$name.err"
	) &
	PEER_PID[$name]=$!
	exec {fd}>"$T/$name.in"
	PEER_FD[$name]=$fd
}

if [ $ns_ok -eq 1 ]; then
	conf "$T/d1" "discovery = on" "discovery_iface = lo"
	conf "$T/d2" "discovery_iface = lo"
	conf "$T/d3" "discovery = off" "discovery_iface = lo"
	conf "$T/d4" "discovery = on" "discovery_iface = lo"
	conf "$T/d5" "discovery = on"
	start_ns d1 --listen 127.0.0.1:0
	start_ns d2 --listen 127.0.0.1:0
	start_ns d3 --listen 127.0.0.1:0
	start_ns d4 --listen 127.0.0.1:0 --no-discovery
	start_ns d5 --listen 127.0.0.1:0
	f2=$(fp_of d2); f3=$(fp_of d3); f4=$(fp_of d4); fp_of d5 >/dev/null
	check "discovery on, discovery_iface = lo: d1 finds d2 on loopback" \
		wait_for d1 ".event==\"peer\" and .fingerprint==\"$f2\"" 10
	check "d1's log shows discovery started on lo" grep -Eq 'discovery: started .*interface lo' "$T/d1.log"
	sleep 3   # three announcement rounds at --discovery-refresh 1
	check "discovery = off: d3 never starts discovery" not_grep 'discovery: started' "$T/d3.log"
	check "discovery = off: nobody finds d3" test "$(count_events d1 ".event==\"peer\" and .fingerprint==\"$f3\"")" -eq 0
	check "--no-discovery beats discovery = on: d4 never starts it" not_grep 'discovery: started' "$T/d4.log"
	check "--no-discovery beats discovery = on: nobody finds d4" \
		test "$(count_events d1 ".event==\"peer\" and .fingerprint==\"$f4\"")" -eq 0
	check "without discovery_iface a loopback-only peer does no discovery" \
		grep -q 'lan: no listener reachable from the LAN; discovery off' "$T/d5.log"
else
	for d in "discovery on, discovery_iface = lo: a peer is found" "discovery = off: never started" \
		"--no-discovery beats discovery = on" "without discovery_iface a loopback-only peer does no discovery"; do
		skip_check "$d" "cannot create a network namespace (needs root)"
	done
fi

# --- bell, colors and nat in the chat screen (tmux) -------------------------------
if command -v tmux >/dev/null 2>&1; then
	. "$(dirname "$0")/tui_lib.sh"
	tui_ok=1
else
	tui_ok=0
fi

# ui NAME [ENV...] -- [ARGS...]: the chat screen in tmux, with HOME's config.
ui() {
	local name=$1; shift
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	mkdir -p "$T/$name"
	tui_start "$name" 100 30 env -u NO_COLOR LC_ALL=C.UTF-8 TERM=tmux-256color "${envs[@]}" \
		"$CONFAB" --home "$T/$name" --nick "$name" --listen 127.0.0.1:0 \
		--log "$T/$name.log" --debug "$@"
}
# has_colour NAME: whether the pane shows any foreground colour 1-7.
has_colour() { screen_esc "$1" | grep -q $'\e\[[0-9;]*3[1-7]m'; }
# all_up NAME...: every screen shows its listening address.
all_up() { local n; for n in "$@"; do status_addr "$n" >/dev/null || return 1; done; }
# bell_rung NAME: whether the pane has rung the terminal bell.
bell_rung() { [ "$(pane_fmt "$1" '#{window_bell_flag}')" = 1 ]; }
# wait_bell NAME: wait up to 5 s for the pane's bell.
wait_bell() { local i; for i in $(seq 50); do bell_rung "$1" && return 0; sleep 0.1; done; return 1; }

if [ $tui_ok -eq 1 ]; then
	conf "$T/coff" "colors = off"
	conf "$T/con" "colors = on"
	ui coff -- --no-discovery --no-nat
	ui con NO_COLOR=1 -- --no-discovery --no-nat
	ui cauto NO_COLOR=1 -- --no-discovery --no-nat
	check "the screens start" all_up coff con cauto
	check "colors = off: no colour on a colour terminal" not has_colour coff
	check "colors = off: the log says monochrome" grep -Eq 'tui: .*, monochrome,' "$T/coff.log"
	check "colors = on: colour even with NO_COLOR set" has_colour con
	check "colors = on: the log says colour" grep -Eq 'tui: .*, colour,' "$T/con.log"
	check "colors = auto (default): NO_COLOR turns colour off" not has_colour cauto

	conf "$T/boff" "bell = off"
	ui boff -- --no-discovery --no-nat
	ui bon -- --no-discovery --no-nat
	start_peer pinger --nick pinger --listen 127.0.0.1:0
	for b in boff bon; do
		say pinger "/connect $(status_addr $b)"
		wait_for pinger ".event==\"peer\" and .state==\"online\" and .nick==\"$b\"" 10 >/dev/null
		say pinger "/msg $b ring?"
		wait_screen "$b" '\[act: 2\]' 10 >/dev/null
	done
	check "bell on (default): a message in another window rings" wait_bell bon
	sleep 0.5
	check "bell = off: the same message does not ring" not bell_rung boff
	check "bell = off: the message did arrive (activity shown)" shows boff '\[act: 2\]'

	# bell = all rings for an offer in another window too; messages (the default) and on do not
	conf "$T/ball" "bell = all"
	conf "$T/bmsg" "bell = messages"
	conf "$T/bold" "bell = on"
	echo offered >"$T/offer.txt"
	for b in ball bmsg bold; do
		ui "$b" -- --no-discovery --no-nat
		all_up "$b" || wait_screen "$b" 'listening on' 10 >/dev/null
		say pinger "/connect $(status_addr $b)"
		wait_for pinger ".event==\"peer\" and .state==\"online\" and .nick==\"$b\"" 10 >/dev/null
		say pinger "/send $b $T/offer.txt"
		wait_screen "$b" '\[act: 2' 10 >/dev/null
	done
	check "bell = all: an offer in another window rings" wait_bell ball
	sleep 0.5
	check "bell = messages: an offer alone does not ring" not bell_rung bmsg
	check "bell = on (as earlier releases wrote): messages only, no ring for an offer" not bell_rung bold
	check "and the offer did arrive there (activity shown)" shows bmsg '\[act: 2'

	if [ $ns_ok -eq 1 ]; then
		conf "$T/noff" "nat = off"
		conf "$T/non"
		for n in noff non; do
			mkdir -p "$T/$n"
			tui_start "$n" 100 30 ip netns exec "$NS" env -u NO_COLOR LC_ALL=C.UTF-8 TERM=tmux-256color \
				"$CONFAB" --home "$T/$n" --nick "$n" --listen 127.0.0.1:0 --no-discovery \
				--log "$T/$n.log"
		done
		check "the namespaced screens start" all_up noff non
		check "nat = off shows nat:off in the status bar" shows noff ' nat:off'
		check "nat on (default) does not" not shows non ' nat:off'
	else
		skip_check "nat = off shows nat:off in the status bar" "cannot create a network namespace (needs root)"
	fi
else
	for d in "colors = off" "colors = on beats NO_COLOR" "bell = off" "nat = off"; do
		skip_check "$d" "tmux is not installed"
	done
fi

done_testing
