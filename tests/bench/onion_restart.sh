#!/bin/bash
# onion_restart.sh - the restart part of tests/t_onion.sh, N times in one lab:
# two peers in namespaces with only loopback, each with the tor confab starts,
# meet once by invite code through onion, then both stop and start again N
# times; each time the milliseconds from the restart to alice seeing bob
# online again are printed, then their distribution.  Each tor also logs at
# info level (tor-info.log in its DataDirectory, copied per round into the
# kept directory with KEEP_TMP=1) to see descriptor fetches, introduction
# failures and HSDir requery limits.  No packet leaves the machine.
# Usage: tests/bench/onion_restart.sh [path/to/confab] [--rounds N] [--limit S]
# Needs root (ip netns), tor, tor-gencert, python3, jq.  Not part of make check.
set -u
here=$(cd "$(dirname "$0")" && pwd)
CONFAB=${CONFAB:-$here/../../build/confab}
ROUNDS=10
LIMIT=420
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--limit) LIMIT=$2; shift 2 ;;
	*) CONFAB=$1; shift ;;
	esac
done
[ -x "$CONFAB" ] || { echo "onion_restart.sh: no executable confab at $CONFAB" >&2; exit 2; }
CONFAB=$(cd "$(dirname "$CONFAB")" && pwd)/$(basename "$CONFAB")
export CONFAB
top_srcdir=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"
. "$here/../tor_lib.sh"

tor_lab 3 || { echo "the lab did not come up"; exit 1; }
tor_reach a b || exit 1
tor_app_torrc "$T/lab.torrc"
for n in alice bob; do
	{ cat "$T/lab.torrc"; echo "Log info file $T/$n/tor/tor-info.log"; } >"$T/$n.torrc"
done
# peer NAME NS PORT: a headless confab in namespace NS with its own tor
peer() {
	local n=$1
	launch_peer "$n" ip netns exec "$(ns "$2")" -- --nick "${n%%[0-9]*}" --no-discovery --no-nat \
		--listen "127.0.0.1:$3" --tor-config "$T/${n%%[0-9]*}.torrc" --download-dir "$T/${n%%[0-9]*}-dl"
}
ms() { date +%s%3N; }
peer alice a 7481
peer bob b 7482
fa=$(fp_of alice)
fb=$(fp_of bob)
wait_for alice '.event=="reach" and .state=="published"' 120 >/dev/null || { echo "alice never published"; exit 1; }
wait_for bob '.event=="reach" and .state=="published"' 120 >/dev/null || { echo "bob never published"; exit 1; }
say bob "/invite"
code=$(wait_for bob '.event=="invite"' 10 | jq -r .code)
end=$((SECONDS + 120))
until [ -n "$(events alice "select(.event==\"peer\" and .state==\"online\" and .fingerprint==\"$fb\")")" ]; do
	[ $SECONDS -lt $end ] || { echo "alice never reached bob"; exit 1; }
	say alice "/connect $code"
	sleep 5
done
echo "# met by invite code; $ROUNDS restarts follow"
times=()
a=alice b=bob
for r in $(seq "$ROUNDS"); do
	stop_peer "$a"
	stop_peer "$b"
	# both tors gone (confab waits for its own)
	na=alice$r nb=bob$r
	PEER_HOME[$na]=$T/alice
	PEER_HOME[$nb]=$T/bob
	mkdir -p "$T/round$r"
	for n in alice bob; do
		[ -f "$T/$n/tor/tor-info.log" ] && mv "$T/$n/tor/tor-info.log" "$T/round$((r - 1))-$n-tor-info.log"
	done
	t0=$(ms)
	peer "$na" a 7481
	peer "$nb" b 7482
	got=$(wait_for "$na" ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fb\"" "$LIMIT")
	if [ -n "$got" ]; then
		dt=$(($(ms) - t0))
		times+=("$dt")
		echo "round $r: back online after $dt ms (path $(jq -r .path <<<"$got"))"
	else
		echo "round $r: NOT back online within $LIMIT s"
		times+=($((LIMIT * 1000)))
	fi
	a=$na b=$nb
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 }
	END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
	      slow = 0; for (i = 1; i <= NR; i++) if (a[i] > 20000) slow++
	      printf "reconnect after restart: median %d ms, min %d, max %d, over 20 s: %d of %d\n", m, a[1], a[NR], slow, NR
	      printf "sorted:"; for (i = 1; i <= NR; i++) printf " %d", a[i]; printf "\n" }'
