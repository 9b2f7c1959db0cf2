#!/bin/bash
# t_lan.sh - LAN discovery on one bridged segment, in network namespaces:
# three hosts list each other within 1 s of the last start; a message and a
# file go to a peer chosen by nick, no address typed; a nick change is
# announced; a clean quit goes offline at once and a restart is seen again; a
# killed host expires within the documented time; an interface that comes up
# later is used without a restart; loopback is used only when asked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lan_lib.sh"

# Short timers (documented test option): refresh every 1 s, so a silent peer
# expires after 3 * 1 s + 2 s = 5 s.
REFRESH=1
EXPIRE_MS=$((3 * REFRESH * 1000 + 2000))

lab_switch sw
lab_host a sw 10.77.0.1/24
lab_host b sw 10.77.0.2/24
lab_host c sw 10.77.0.3/24

start_host alice a --discovery-refresh $REFRESH --download-dir "$T/alice-dl"
start_host bob b --discovery-refresh $REFRESH
fp_learn alice bob
check "alice and bob find each other" wait_lists alice 5 bob
t_last=$(now_ms)
start_host carol c --discovery-refresh $REFRESH --download-dir "$T/carol-dl"
fp_learn carol
ok_all=0
wait_lists alice 5 bob carol && wait_lists bob 5 alice carol && wait_lists carol 5 alice bob || ok_all=1
check "each of the three lists the two others" test $ok_all -eq 0

# When: the log line of each first sighting, against the moment carol started.
latest=0
for pair in alice:carol bob:carol carol:alice carol:bob; do
	who=${pair%%:*}; whom=${pair##*:}
	t=$(log_ms "$who" "lan: ${FP_CACHE[$whom]} ") || t=$((t_last + 99999))
	[ "$t" -gt "$latest" ] && latest=$t
done
dt=$((latest - t_last))
diag "three hosts: every list complete $dt ms after the last host started"
check "complete within 1 s of the last start ($dt ms)" test "$dt" -le 1000

e=$(events alice "select(.event==\"peer\" and .fingerprint==\"${FP_CACHE[carol]}\")" | head -n 1)
check "the event says discovered, via lan" test "$(jq -r '.state + " " + .via' <<<"$e")" = "discovered lan"
check "with carol's nick from her beacon" test "$(jq -r .nick <<<"$e")" = carol
check "and her address and port" test "$(jq -r .addr <<<"$e")" = "10.77.0.3:7470"
check "nobody lists itself" test "$(events alice "select(.event==\"peer\" and .fingerprint==\"${FP_CACHE[alice]}\")" | wc -l)" -eq 0

n_before=$(count_events alice '.event=="peer" and .state=="discovered"')
say alice "/peers"
check "/peers lists both discovered peers" wait_count alice '.event=="peer" and .state=="discovered"' $((n_before + 2)) 5

# A message to a nick from the list: connects on demand, no address typed.
say alice "/msg carol hello over the lan"
check "carol gets alice's message" wait_for carol '.event=="message" and .text=="hello over the lan"' 10
check "alice sees it delivered" wait_for alice '.event=="delivered"' 10
check "alice shows carol online" wait_state alice carol online 5
check "carol shows alice online" wait_state carol alice online 5

# A small file, to a nick, accepted on the other side.
head -c 20000 /dev/urandom >"$T/small.bin"
say carol "/send alice $T/small.bin"
offer=$(wait_for alice '.event=="offer"' 10)
check "alice gets carol's offer" test -n "$offer"
say alice "/accept $(jq -r .id <<<"$offer")"
check "the transfer completes" wait_for alice '.event=="transfer" and .state=="done"' 20
check "the file arrives intact" cmp -s "$T/small.bin" "$T/alice-dl/small.bin"

# A nick change travels in the next beacon, to peers not even connected.
say bob "/nick bobby"
check "alice sees bob's new nick from his beacon" \
	wait_for alice ".event==\"peer\" and .fingerprint==\"${FP_CACHE[bob]}\" and .nick==\"bobby\"" 5
check "carol too" wait_for carol ".event==\"peer\" and .fingerprint==\"${FP_CACHE[bob]}\" and .nick==\"bobby\"" 5

# Clean quit: its goodbye beacon takes it off the lists at once.
t0=$(now_ms)
say bob "/quit"
stop_peer bob
ok_q=0
wait_state alice bob offline 2 && wait_state carol bob offline 2 || ok_q=1
t1=$(now_ms)
check "a clean quit shows offline on both ($((t1 - t0)) ms)" test $ok_q -eq 0
check "well before any expiry could" test $((t1 - t0)) -lt 1500
r=$(events alice "select(.event==\"peer\" and .fingerprint==\"${FP_CACHE[bob]}\") | .reason" | tail -n 1)
check "the reason is that it left ($r)" test "$r" = '"left the network"'

# Restart: it is seen again at once.
n_before=$(count_events alice ".event==\"peer\" and .fingerprint==\"${FP_CACHE[bob]}\" and .state==\"discovered\"")
start_host bob b --discovery-refresh $REFRESH
check "the restarted bob is discovered again" wait_state alice bob discovered 3
check "by a new discovered event" test "$(count_events alice ".event==\"peer\" and .fingerprint==\"${FP_CACHE[bob]}\" and .state==\"discovered\"")" -gt "$n_before"

# Killed: no goodbye; it expires after three missed refreshes.
sleep 1.5
t0=$(now_ms)
kill_peer bob 9
wait_state alice bob offline 10; rc=$?
check "a killed host goes offline" test $rc -eq 0
tk=$(grep -E "lan: ${FP_CACHE[bob]} \(.*\) no longer announced" "$T/alice.log" | tail -n 1)
dt=$(( $(date -d "${tk:0:23}" +%s%3N) - t0 ))
diag "killed host: offline after $dt ms (documented: 3 x refresh + 2 s = $EXPIRE_MS ms)"
check "within the documented expiry ($dt <= $EXPIRE_MS ms, +100 for scheduling)" test "$dt" -le $((EXPIRE_MS + 100))
check "and not before 3 refreshes were missed ($dt >= $((EXPIRE_MS - REFRESH * 1000 - 100)) ms)" \
	test "$dt" -ge $((EXPIRE_MS - REFRESH * 1000 - 100))

# carol quits cleanly while online with alice: offline at once.
t0=$(now_ms)
say carol "/quit"
stop_peer carol
check "carol (online) goes offline at once" wait_state alice carol offline 2
t1=$(now_ms)
diag "online peer: offline $((t1 - t0)) ms after /quit"

# A peer we talked to is reconnected as soon as it is heard again, and what
# we queued for it while it was away is delivered.
say alice "/msg carol while you were away"
check "a message to the offline carol is queued" wait_for alice '.event=="sent" and .queued==true' 5
start_host carol c --discovery-refresh $REFRESH --download-dir "$T/carol-dl"
check "alice reconnects to the returning carol by herself" wait_state alice carol online 5
check "and the queued message arrives" wait_for carol '.event=="message" and .text=="while you were away"' 10
say carol "/quit"
stop_peer carol

# An interface that appears later: dave starts with his link down.
lab_ns d
lab_link sw d eth0
ip -n "$(ns d)" addr add 10.77.0.4/24 dev eth0
start_host dave d --discovery-refresh $REFRESH
fp_learn dave
sleep 1
check "dave, with no link, sees nobody" test "$(count_events dave '.event=="peer"')" -eq 0
t0=$(now_ms)
ip -n "$(ns d)" link set eth0 up
check "once his link is up dave lists alice, without a restart" wait_lists dave 5 alice
check "and alice lists dave" wait_lists alice 5 dave
t=$(log_ms dave "lan: ${FP_CACHE[alice]} ") && diag "late interface: alice listed $((t - t0)) ms after the link came up"
ip -n "$(ns d)" link set eth0 down
check "when it goes down again, alice is dropped at once" wait_state dave alice offline 2

# Loopback only when asked: two instances in one namespace with no network.
lab_ns l
start_host lo1 l --discovery-iface lo --listen 127.0.0.1:0
start_host lo2 l --discovery-iface lo --listen 127.0.0.1:0
start_host lo3 l --listen 127.0.0.1:0
fp_learn lo1 lo2 lo3
check "two instances on one machine find each other on loopback when asked" wait_lists lo1 5 lo2 && wait_lists lo2 5 lo1
e=$(events lo1 "select(.event==\"peer\" and .fingerprint==\"${FP_CACHE[lo2]}\")" | head -n 1)
check "at 127.0.0.1 and lo2's port" test "$(jq -r .addr <<<"$e")" = "$(addr_of lo2)"
check "an instance that was not asked stays off loopback" grep -q "discovery off" "$T/lo3.log"
check "and lists nobody" test "$(count_events lo3 '.event=="peer"')" -eq 0
check "nor is it listed" test "$(count_events lo1 ".event==\"peer\" and .fingerprint==\"${FP_CACHE[lo3]}\"")" -eq 0

check "every process is still running" alive alice
check "every event line is valid JSON" jq -e . "$T/alice.out" "$T/bob.out" "$T/carol.out" "$T/dave.out"
say alice "/quit"
stop_peer alice; rc=$?
check "alice exits 0" test $rc -eq 0
done_testing
