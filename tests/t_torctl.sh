#!/bin/bash
# t_torctl.sh - confab against a fake Tor control port (tests/torctl_server.py,
# loopback only, no tor): the whole controller exchange (SAFECOOKIE, ADD_ONION
# with a new key kept 0600 and reused at the next start, HS_DESC UPLOADED is
# "published"), and a control port that answers wrong in every way: each is
# reported in the reach event, and confab keeps serving its peers.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
command -v jq >/dev/null 2>&1 || skip_all "no jq"
SID=vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd

FAKES=()
cleanup_hooks+=('for f in "${FAKES[@]}"; do kill "$f" 2>/dev/null; done')

# fake MODE: start a fake control port in $T/MODE; its port in FPORT
fake() {
	mkdir -p "$T/$1"
	python3 "$top_srcdir/tests/torctl_server.py" "$1" "$T/$1" >"$T/$1/port" 2>"$T/$1/err" &
	FAKES+=($!)
	poll_until 5 test -s "$T/$1/port" || return 1
	FPORT=$(cat "$T/$1/port")
}

start_peer bob --nick bob --listen 127.0.0.1:0
fb=$(fp_of bob)

fake good
start_peer alice --nick alice --listen 127.0.0.1:0 --tor-control "127.0.0.1:$FPORT"
fa=$(fp_of alice)
p=$(wait_for alice '.event=="reach" and .state=="published"' 10)
check "the fake tor's HS_DESC UPLOADED makes alice published" test -n "$p"
check "her onion address is the service id and her port" \
	test "$(jq -r .onion <<<"$p")" = "$SID.onion:$(addr_of alice | cut -d: -f2)"
check "she logged in with SAFECOOKIE" grep -q "^AUTHCHALLENGE SAFECOOKIE [0-9a-f]\{64\}$" "$T/good/commands"
check "she asked for a new ED25519-V3 key" grep -q "^ADD_ONION NEW:ED25519-V3 Port=" "$T/good/commands"
check "and kept the key tor made, mode 0600" \
	test "$(cat "$T/alice/onion_key" 2>/dev/null) $(stat -c %a "$T/alice/onion_key" 2>/dev/null)" = "ED25519-V3:a2V5a2V5a2V5 600"
check "no TAKEOWNERSHIP of a tor she did not start" test "$(grep -c TAKEOWNERSHIP "$T/good/commands")" -eq 0
say alice "/invite"
check "her invite lists the onion address" \
	wait_for alice ".event==\"invite\" and (.candidates | index(\"$SID.onion:$(addr_of alice | cut -d: -f2)\"))" 10
stop_peer alice
: >"$T/good/commands"
PEER_HOME[alice2]=$T/alice
start_peer alice2 --nick alice --listen 127.0.0.1:0 --tor-control "127.0.0.1:$FPORT"
check "after a restart: published again" wait_for alice2 '.event=="reach" and .state=="published"' 10
check "with the kept key" grep -q "^ADD_ONION ED25519-V3:a2V5a2V5a2V5 Port=" "$T/good/commands"
stop_peer alice2

# tor not installed: said once, after ready, and nothing else changes
launch_peer notor env PATH=/nonexistent -- --no-discovery --no-nat --nick notor --listen 127.0.0.1:0 --tor
e=$(wait_for notor '.event=="reach" and .state=="failed"' 10)
check "--tor without tor installed: the reach event says so" grep -q "tor is not installed" <<<"$e"
check "the ready event still comes first" test "$(head -1 "$T/notor.out" | jq -r .event)" = ready
check "and confab serves its peers" connect_pair notor bob
kill_peer notor

# --tor-binary PATH: that program is started, not a tor from PATH (here one
# that notes its arguments and exits 3: the exit is reported)
printf '#!/bin/sh\necho "$@" >"%s"\nexit 3\n' "$T/fake-tor.args" >"$T/fake-tor"
chmod +x "$T/fake-tor"
launch_peer tbin env PATH=/nonexistent -- --no-discovery --no-nat --nick tbin --listen 127.0.0.1:0 \
	--tor --tor-binary "$T/fake-tor"
e=$(wait_for tbin '.event=="reach" and .state=="failed"' 10)
check "--tor-binary: confab starts that program with its torrc" \
	grep -q -- "--defaults-torrc .* -f $T/tbin/.*torrc" "$T/fake-tor.args"
check "and reports how it exited" grep -q "tor exited (status 3)" <<<"$e" || diag "got: $e"
kill_peer tbin
mkdir -p "$T/tbin2"
printf 'tor = on\ntor_binary = %s\n' "$T/nothere/tor" >"$T/tbin2/config"
launch_peer tbin2 env PATH=/nonexistent -- --no-discovery --no-nat --nick tbin2 --listen 127.0.0.1:0
e=$(wait_for tbin2 '.event=="reach" and .state=="failed"' 10)
check "the config key tor_binary: a missing program is named in the reach event" \
	grep -q "cannot start tor ($T/nothere/tor): No such file" <<<"$e" || diag "got: $e"
kill_peer tbin2

# bad MODE WHAT: a control port that answers wrong; the reach event says WHAT
bad() {
	local e
	fake "$1" || return 1
	start_peer "$1" --nick "$1" --listen 127.0.0.1:0 --tor-control "127.0.0.1:$FPORT"
	fp_of "$1" >/dev/null
	e=$(wait_for "$1" '.event=="reach" and .state=="failed"' 10)
	check "$1: failed, saying $2" grep -q "$2" <<<"$(jq -r .error <<<"$e")" || diag "got: $e"
	check "$1: confab still serves its peers" connect_pair "$1" bob
	say "$1" "/msg $fb still here from $1"
	check "$1: the message arrives" wait_for bob ".event==\"message\" and .text==\"still here from $1\"" 10
	kill_peer "$1"
}
bad lf "without CR"
bad long "longer than 4096"
bad escape "byte 0x1b"
bad twocodes "status 550 within a reply of status 250"
bad badhash "does not know its own cookie"
bad refuse "refused logging in: 515"
bad close "closed the control connection"
done_testing
