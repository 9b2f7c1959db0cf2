# lib.sh - shared helpers for the shell tests: TAP output and headless peers.
# Sourced by bash test scripts.  Every test runs in its own temporary directory,
# removed at exit together with every process the test started.

: "${CONFAB:=$(cd "$(dirname "$0")/.." && pwd)/confab}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
export CONFAB

T=$(mktemp -d "${TMPDIR:-/tmp}/confab-test.XXXXXX")
tap_n=0
tap_failed=0
declare -A PEER_PID PEER_FD PEER_HOME
cleanup_hooks=()

# running PID: the process is there and has not exited (an exited child stays
# a zombie until it is waited for).
running() {
	local st
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

# Run at exit: stop peers, run hooks, remove the temporary directory.  With
# GRACEFUL_STOP=SECS (tests/valgrind.sh sets it) peers still running are first
# asked to quit (SIGTERM), so that checks made at exit (leaks) run, and only
# those still there after SECS are killed.
lib_cleanup() {
	local n h end
	if [ -n "${GRACEFUL_STOP:-}" ]; then
		for n in "${!PEER_PID[@]}"; do kill -TERM "${PEER_PID[$n]}" 2>/dev/null || true; done
		end=$((SECONDS + GRACEFUL_STOP))
		for n in "${!PEER_PID[@]}"; do
			while running "${PEER_PID[$n]}" && [ $SECONDS -lt $end ]; do sleep 0.1; done
		done
	fi
	for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
	for n in "${!PEER_PID[@]}"; do
		kill -9 "${PEER_PID[$n]}" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ -n "${KEEP_TMP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap lib_cleanup EXIT

# TAP: ok COND-STATUS DESCRIPTION (pass 0/1 as the first argument); returns
# COND-STATUS, so that a test can add diagnostics when a check fails.
tap() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
		return 0
	fi
	echo "not ok $tap_n - $2"
	tap_failed=$((tap_failed + 1))
	return 1
}

# TAP: check that a command succeeds (returns 1 if not).
check() {
	local desc=$1; shift
	if "$@" >/dev/null; then tap 0 "$desc"; else tap 1 "$desc"; fi
}

# A TAP diagnostic line.
diag() { echo "# $*"; }

# Print the plan and exit with the right status.
done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
	exit $?
}

# Skip the whole script with a reason (only for missing privileges or tools).
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# launch_peer NAME [WRAPPER...] -- [ARGS...]: start a headless instance with
# its own home under WRAPPER (e.g. ip netns exec NS, or nothing); commands go
# to it through a fifo ($T/NAME.in), events come out in $T/NAME.out.
launch_peer() {
	local name=$1 wrap=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do wrap+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	local home=${PEER_HOME[$name]:-$T/$name}
	mkdir -p "$home"
	PEER_HOME[$name]=$home
	rm -f "$T/$name.in"
	mkfifo "$T/$name.in"
	: >>"$T/$name.out"
	(
		# the other peers' command pipes stay out of this one, so that closing
		# a pipe is its peer's end of input
		for f in "${PEER_FD[@]}"; do eval "exec $f>&-"; done
		exec "${wrap[@]}" "$CONFAB" --headless --home "$home" \
			--log "$T/$name.log" --debug "$@" \
			<"$T/$name.in" >>"$T/$name.out" 2>>"$T/$name.err"
	) &
	PEER_PID[$name]=$!
	local fd
	exec {fd}>"$T/$name.in"
	PEER_FD[$name]=$fd
}

# start_peer NAME [ARGS...]: a headless instance on loopback only.
start_peer() {
	local name=$1
	shift
	launch_peer "$name" -- --no-discovery --no-nat "$@"
}

# stop_peer NAME: close its stdin (EOF means /quit) and wait for it.
stop_peer() {
	local name=$1 fd
	fd=${PEER_FD[$name]}
	exec {fd}>&-
	wait "${PEER_PID[$name]}" 2>/dev/null
	local rc=$?
	unset "PEER_PID[$name]"
	return $rc
}

# kill_peer NAME [SIGNAL]: kill it (default -9) and reap it.
kill_peer() {
	local name=$1 sig=${2:-9} fd
	fd=${PEER_FD[$name]}
	kill -"$sig" "${PEER_PID[$name]}" 2>/dev/null
	wait "${PEER_PID[$name]}" 2>/dev/null
	exec {fd}>&- 2>/dev/null || true
	unset "PEER_PID[$name]"
}

# say NAME LINE: send one command line to a peer.
say() {
	printf '%s\n' "$2" >&"${PEER_FD[$1]}"
}

# events NAME [JQ-FILTER]: the events a peer printed so far (compact JSON).
events() {
	jq -c "${2:-.}" "$T/$1.out" 2>/dev/null
}

# wait_for NAME JQ-SELECT [SECONDS]: wait until an event matching the jq
# condition appears; prints the first match.  Returns 1 on timeout.
wait_for() {
	local name=$1 cond=$2 secs=${3:-10} i=0 out
	local limit=$((secs * 20))
	while [ $i -lt $limit ]; do
		out=$(jq -c "select($cond)" "$T/$name.out" 2>/dev/null | head -n 1)
		if [ -n "$out" ]; then
			printf '%s\n' "$out"
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# poll_until SECONDS CMD...: run CMD every 0.1 s until it succeeds (return 0)
# or SECONDS have passed (return 1): for positive checks, instead of a sleep.
poll_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# count_events NAME JQ-SELECT: how many events match.
count_events() {
	jq -c "select($2)" "$T/$1.out" 2>/dev/null | wc -l
}

# wait_count NAME JQ-SELECT N [SECONDS]: wait until N events match.
wait_count() {
	local name=$1 cond=$2 want=$3 secs=${4:-20} i=0
	local limit=$((secs * 10))
	while [ $i -lt $limit ]; do
		[ "$(count_events "$name" "$cond")" -ge "$want" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# addr_of NAME: the first listening address from the ready event.
addr_of() {
	wait_for "$1" '.event=="ready"' 10 | jq -r '.listen[0]'
}

# fp_of NAME: the fingerprint from the ready event.
fp_of() {
	wait_for "$1" '.event=="ready"' 10 | jq -r '.fingerprint'
}

# alive NAME: whether the peer's process still runs.
alive() {
	kill -0 "${PEER_PID[$1]}" 2>/dev/null
}

# rss_kb PID: resident memory in KiB.
rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# connect_pair A B: A connects to B; both see each other online.
connect_pair() {
	local a=$1 b=$2
	say "$a" "/connect $(addr_of "$b")"
	wait_for "$a" ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$(fp_of "$b")\"" 10 >/dev/null &&
	wait_for "$b" ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$(fp_of "$a")\"" 10 >/dev/null
}

# via_proxy NAME TARGET FP WHAT [SECS]: NAME /connects to TARGET through its
# proxy; checks that it reaches FP ("NAME reaches WHAT") and that its peer
# event says path proxy.  The peer event is left in VIA_PROXY.
via_proxy() {
	local name=$1 target=$2 fp=$3 what=$4 secs=${5:-15}
	say "$name" "/connect $target"
	VIA_PROXY=$(wait_for "$name" ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fp\"" "$secs")
	check "$name reaches $what" test -n "$VIA_PROXY"
	check "$name's peer event says path proxy" test "$(jq -r .path <<<"$VIA_PROXY")" = proxy
}

# talk_and_send A B FA FB TEXT BYTES DLDIR: A writes TEXT to B, B answers,
# then A sends B a file of BYTES random bytes that B accepts (into DLDIR):
# each step checked, the file compared.
talk_and_send() {
	local a=$1 b=$2 fa=$3 fb=$4 text=$5 bytes=$6 dl=$7 o
	say "$a" "/msg $fb $text"
	check "$b receives $a's message" wait_for "$b" ".event==\"message\" and .text==\"$text\""
	say "$b" "/msg $fa $text, answered"
	check "$a receives $b's answer" wait_for "$a" ".event==\"message\" and .text==\"$text, answered\""
	head -c "$bytes" /dev/urandom >"$T/$a-sent.bin"
	say "$a" "/send $fb $T/$a-sent.bin"
	o=$(wait_for "$b" '.event=="offer"' 10)
	say "$b" "/accept $(jq -r .id <<<"$o")"
	check "the file arrives" wait_for "$b" '.event=="transfer" and .state=="done"' 30
	check "and is intact" cmp -s "$T/$a-sent.bin" "$dl/$a-sent.bin"
}
