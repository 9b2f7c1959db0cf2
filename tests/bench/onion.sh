#!/bin/bash
# onion.sh - onion figures in the private Tor network of tests/tor_lib.sh (two
# peers in namespaces with only loopback, each with the tor confab starts; no
# packet leaves the machine):
#   - start to "published" with a cold tor state (first start) and a warm one
#     (restarts that keep the DataDirectory),
#   - /connect ID.onion:PORT to the peer online, for a peer seen for the first time,
#   - file throughput through one onion circuit, against nc through the same
#     circuit (confab >= 80 % of nc): one more onion service on bob's tor leads
#     both to bob's confab and to an nc listener, and a peer carol reaches bob
#     through it, so that her session and nc's streams share one rendezvous
#     circuit (circuits to different services differ: in one lab one ran at
#     2 MB/s and another at 7 MB/s, whichever of nc or confab used it),
#   - chat round trip (sent -> delivered: MSG out, ACK back) against the
#     circuit's own round trip (one byte to an echo server through the same tor).
# Usage: tests/bench/onion.sh [path/to/confab] [--runs N] [--mb N] [--xfers N]
# Needs root (ip netns), tor, tor-gencert, python3, jq, nc (netcat-openbsd).
# Not part of make check (about 2 minutes).
set -u
here=$(cd "$(dirname "$0")" && pwd)
CONFAB=${CONFAB:-$here/../../build/confab}
RUNS=5
MB=20
XFERS=3
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--mb) MB=$2; shift 2 ;;
	--xfers) XFERS=$2; shift 2 ;;
	*) CONFAB=$1; shift ;;
	esac
done
[ -x "$CONFAB" ] || { echo "onion.sh: no executable confab at $CONFAB" >&2; exit 2; }
CONFAB=$(cd "$(dirname "$CONFAB")" && pwd)/$(basename "$CONFAB")
export CONFAB
top_srcdir=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"
. "$here/../tor_lib.sh"
command -v nc >/dev/null 2>&1 || skip_all "no nc (apt-get install netcat-openbsd)"
PY="python3 $here/onion.py"

# summary LABEL: median, p99 (the largest under 100 values), min and max of the numbers on stdin
summary() {
	sort -n | awk -v l="$1" '{ a[NR] = $1 }
		END { if (NR == 0) { printf "%-48s no data\n", l; exit }
		      m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		      p = a[int(NR * 0.99 + 0.999)]
		      printf "%-48s median %8.1f ms  p99 %8.1f  (min %.1f, max %.1f, n=%d)\n", l, m, p, a[1], a[NR], NR }'
}
pub_ms() { grep -o 'reachable at .* (\([0-9]*\) ms after the start)' "$T/$1.log" | tail -1 | grep -o '([0-9]*' | tr -d '('; }

tor_lab 3 || { echo "the lab did not come up"; exit 1; }
tor_reach a b || exit 1
tor_app_torrc "$T/lab.torrc"
peer() {   # peer NAME NS PORT [ARGS]
	local n=$1 s=$2 p=$3
	shift 3
	launch_peer "$n" ip netns exec "$(ns "$s")" -- --nick "${n%%[0-9]*}" --no-discovery --no-nat \
		--listen "127.0.0.1:$p" --tor-config "$T/lab.torrc" --download-dir "$T/$n-dl" "$@"
}
peer bob b 7482
fb=$(fp_of bob)
wait_for bob '.event=="reach" and .state=="published"' 120 >/dev/null || { echo "bob never published"; exit 1; }
ob=$(events bob 'select(.event=="reach" and .state=="published") | .onion' | head -1 | tr -d '"')
echo "cold start -> published (bob):                   $(pub_ms bob) ms"

# warm starts and first /connects: a new identity each run, the tor state of the last
: >"$T/warm" ; : >"$T/connect"
for i in $(seq "$RUNS"); do
	n=alice$i
	mkdir -p "$T/$n"
	[ "$i" -gt 1 ] && cp -a "$T/alice$((i - 1))/tor" "$T/$n/tor" && rm -f "$T/$n/tor/control.port" "$T/$n/tor/lock"
	peer "$n" a 7481
	wait_for "$n" '.event=="reach" and .state=="published"' 120 >/dev/null || { echo "$n never published"; continue; }
	[ "$i" -gt 1 ] && pub_ms "$n" >>"$T/warm"
	t=$(date +%s%3N)
	say "$n" "/connect $ob"
	wait_for "$n" ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fb\"" 60 >/dev/null &&
		echo $(($(date +%s%3N) - t)) >>"$T/connect"
	[ "$i" -lt "$RUNS" ] && stop_peer "$n"
done
summary "warm start -> published" <"$T/warm"
summary "/connect ID.onion -> online (shell clock, 50 ms polls)" <"$T/connect"
a=alice$RUNS
fa=$(fp_of "$a")
socks=$(events "$a" 'select(.event=="reach" and .socks) | .socks' | tail -1 | tr -d '"' | cut -d: -f2)

# the circuit's own round trip: an echo service on bob's tor, reached through alice's
ip netns exec "$(ns b)" $PY echo 9901 &
ip netns exec "$(ns b)" sh -c "nc -l 127.0.0.1 9902 >/dev/null" &
echo_id=$(ip netns exec "$(ns b)" $PY addonion "$T/bob/tor" 9901 127.0.0.1:9901)
# throughput: one service with two ports, bob's confab and nc (see the top)
nc_id=$(ip netns exec "$(ns b)" $PY addonion "$T/bob/tor" 7482 127.0.0.1:7482 9902 127.0.0.1:9902)
head -c $((MB * 1000000)) /dev/urandom >"$T/big.bin"
rtt_ok=0
for i in $(seq 30); do
	ip netns exec "$(ns a)" $PY rtt "$socks" "$echo_id.onion" 9901 200 >"$T/circ" 2>/dev/null && { rtt_ok=1; break; }
	sleep 1   # the new descriptors reach the HSDirs
done
[ $rtt_ok = 1 ] || echo "echo service never reachable"
summary "circuit round trip (1 byte, echo service)" <"$T/circ"
ip netns exec "$(ns a)" $PY chat "$T/$a.in" "$T/$a.out" "$fb" 200 >"$T/chat"
summary "chat round trip (sent -> delivered)" <"$T/chat"

# throughput: carol (alice's tor state, her own identity) reaches bob through
# the two-port service; XFERS alternating runs of nc and confab (each confab
# run a fresh copy, so nothing resumes), medians compared
say "$a" /quit   # the services started above hold her stdin open too
stop_peer "$a"
c=carol
mkdir -p "$T/$c"
cp -a "$T/$a/tor" "$T/$c/tor" && rm -f "$T/$c/tor/control.port" "$T/$c/tor/lock"
peer "$c" a 7483
wait_for "$c" '.event=="reach" and .state=="published"' 120 >/dev/null || echo "$c never published"
socks=$(events "$c" 'select(.event=="reach" and .socks) | .socks' | tail -1 | tr -d '"' | cut -d: -f2)
for i in $(seq 30); do
	say "$c" "/connect $nc_id.onion:7482"
	wait_for "$c" ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fb\"" 5 >/dev/null && break
done
for i in $(seq "$XFERS"); do
	cp "$T/big.bin" "$T/big$i.bin"
	t=$(date +%s%3N)
	[ "$i" = 1 ] && (sleep 1; ip netns exec "$(ns a)" $PY streams "$T/$c/tor" >"$T/streams") &
	ip netns exec "$(ns a)" nc -N -X 5 -x "127.0.0.1:$socks" "$nc_id.onion" 9902 <"$T/big.bin" >/dev/null
	echo $(($(date +%s%3N) - t)) >>"$T/nct"
	ip netns exec "$(ns b)" sh -c "nc -l 127.0.0.1 9902 >/dev/null" &   # for the next run
	n0=$(count_events bob '.event=="transfer" and .state=="done"')
	say "$c" "/send $fb $T/big$i.bin"
	o=$(wait_for bob ".event==\"offer\" and .files[0].path==\"big$i.bin\"" 30)
	t=$(date +%s%3N)
	say bob "/accept $(jq -r .id <<<"$o")"
	wait_count bob '.event=="transfer" and .state=="done"' $((n0 + 1)) 600
	echo $(($(date +%s%3N) - t)) >>"$T/ct"
	cmp -s "$T/big.bin" "$T/bob-dl/big$i.bin" || echo "the file arrived damaged"
done
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
nct=$(med "$T/nct"); ct=$(med "$T/ct")
# carol's tor, during the first nc run: both streams on one circuit?
echo "nc and confab streams: $(awk '{ n = split($2, h, ":"); c[h[n]] = $1 }
	END { print (c["7482"] != "" && c["7482"] == c["9902"]) ? "one circuit (" c["7482"] ")" : "different circuits" }' "$T/streams")"
echo "$MB MB x $XFERS: nc through the same circuit $(paste -sd' ' "$T/nct") ms, confab $(paste -sd' ' "$T/ct") ms"
echo "$MB MB, medians: nc $nct ms ($((MB * 1000000 / nct)) kB/s), confab $ct ms ($((MB * 1000000 / ct)) kB/s): $((nct * 100 / ct)) % of nc"
