#!/bin/bash
# t_faults.sh - network faults in a lab of network namespaces (two hosts on a
# bridge, built here and removed at exit, also on failure):
#  - a link cut mid-transfer (iptables DROP on both hosts) is noticed within
#    the keepalive timeout, both sides show the peer offline and the transfer
#    waiting; when the link returns the peers reconnect by themselves and the
#    transfer resumes and completes with identical content;
#  - SIGTERM of the receiver during a transfer saves its resume state (the
#    state file names the offset; the partial data up to there is right), and
#    after a restart the same offer resumes and completes.
# Covered by other tests, not repeated here: kill -9 of either side
# mid-transfer and resume (t_xfer.sh, "kill -9 of the sender/receiver"), a disk
# that fills up mid-transfer, fails cleanly and resumes once space is freed
# (t_xfer.sh, "a full disk"); port mappings deleted on SIGTERM belong to the
# NAT tests (t_nat_lease.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lan_lib.sh"
command -v iptables >/dev/null 2>&1 || skip_all "no iptables"

KEEPALIVE=1                         # ping after 1 s of silence ...
DEAD_MS=$((3 * KEEPALIVE * 1000))   # ... and drop the peer after 3 s
RATE=2m                             # alice sends file data at 2 MB/s

lab_switch sw
lab_host a sw 10.79.0.1/24
lab_host b sw 10.79.0.2/24
ip netns exec "$(ns a)" iptables -S >/dev/null 2>&1 || skip_all "iptables does not work in a namespace here"

common=(--no-discovery --keepalive $KEEPALIVE --handshake-timeout 2)
start_host alice a "${common[@]}" --listen 10.79.0.1:7470 --limit-rate $RATE
start_host bob b "${common[@]}" --listen 10.79.0.2:7470 --download-dir "$T/bob-dl"
fp_learn alice bob
say alice "/connect 10.79.0.2:7470"
# both_online: each of alice and bob shows the other online.
both_online() { wait_state alice bob online "${1:-10}" && wait_state bob alice online "${1:-10}"; }
check "alice and bob connect across the lab" both_online

src=$T/src
mkdir -p "$src"
head -c 24000000 /dev/urandom >"$src/cut.bin"
head -c 24000000 /dev/urandom >"$src/term.bin"

# link DROP|RESTORE: cut or restore the link between a and b, both directions, on both hosts.
link() {
	local op=-I h peer
	[ "$1" = RESTORE ] && op=-D
	for h in a:10.79.0.2 b:10.79.0.1; do
		peer=${h#*:}
		ip netns exec "$(ns "${h%%:*}")" iptables $op INPUT -s "$peer" -j DROP &&
		ip netns exec "$(ns "${h%%:*}")" iptables $op OUTPUT -d "$peer" -j DROP || return 1
	done
}

# offer_of PEER NAME: the id of the latest offer PEER saw of a file called NAME.
offer_of() {
	local sel=".event==\"offer\" and .files[0].path==\"$2\""
	wait_for "$1" "$sel" 10 >/dev/null || return 1
	events "$1" "select($sel) | .id" | tail -n 1 | tr -d '"'
}

# --- a link cut mid-transfer -----------------------------------------------------
say alice "/send bob $src/cut.bin"
id=$(offer_of bob cut.bin)
say bob "/accept $id"
check "link cut: the transfer runs" \
	wait_for bob ".event==\"progress\" and .id==\"$id\" and .bytes > 4000000" 30
check "link cut: iptables drops everything between the hosts" link DROP
t_cut=$(now_ms)
check "link cut: alice shows bob offline" wait_state alice bob offline 15
check "link cut: bob shows alice offline" wait_state bob alice offline 15
for who in alice bob; do
	t=$(log_ms "$who" "closed: peer timed out") || t=$((t_cut + 999999))
	dt=$((t - t_cut))
	diag "link cut: $who dropped the session $dt ms after the cut (keepalive ${KEEPALIVE}s, dead after $DEAD_MS ms)"
	check "link cut: $who noticed within the keepalive timeout ($dt ms)" test "$dt" -le $((DEAD_MS + 1500))
done
check "link cut: alice shows the transfer waiting" \
	wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"waiting\"" 5
check "link cut: bob shows the transfer waiting" \
	wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"waiting\"" 5
check "link cut: nothing under the final name yet" test ! -e "$T/bob-dl/cut.bin"
# keep the link down a little longer than the dead time, then bring it back
sleep 3
# count bob's "online" events before the link returns: a SYN retransmitted by
# a pending attempt can bring the peers back within milliseconds of it
n_on=$(count_events alice ".event==\"peer\" and .fingerprint==\"${FP_CACHE[bob]}\" and .state==\"online\"")
check "link restored" link RESTORE
t_heal=$(now_ms)
if ! check "link back: the peers reconnect by themselves" \
	wait_count alice ".event==\"peer\" and .fingerprint==\"${FP_CACHE[bob]}\" and .state==\"online\"" $((n_on + 1)) 60; then
	# what each side tried, to tell a slow lab from a retry that never came
	for who in alice bob; do
		grep -E 'connecting|cannot reach|open \(|closed|dropped' "$T/$who.log" | tail -n 12 | sed "s/^/# $who: /"
	done
fi
diag "link back: online again $(($(now_ms) - t_heal)) ms after the link returned (reconnect back-off)"
check "link back: both sides show each other online" both_online
check "link back: the transfer completes" \
	wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 60
t=$(wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 10)
diag "link back: $(jq -r '"resumed at \(.resumed) bytes, sent \(.wire) of \(.total) after the reconnect"' <<<"$t")"
check "link back: it resumed, only the missing part crossed again" \
	test "$(jq '.resumed > 0 and .wire + .resumed == .total' <<<"$t")" = true
check "link back: identical content" cmp "$src/cut.bin" "$T/bob-dl/cut.bin"
say alice "/msg bob after the cut"
check "link back: chat works again" wait_for bob '.event=="message" and .text=="after the cut"' 10

# --- SIGTERM of the receiver during a transfer -----------------------------------
say alice "/send bob $src/term.bin"
id=$(offer_of bob term.bin)
say bob "/accept $id"
check "SIGTERM: the transfer runs" \
	wait_for bob ".event==\"progress\" and .id==\"$id\" and .bytes > 6000000" 30
pid=${PEER_PID[bob]}
kill -TERM "$pid"
wait "$pid"
rc=$?
unset "PEER_PID[bob]"
fd=${PEER_FD[bob]}
exec {fd}>&-
check "SIGTERM: bob exits cleanly (status $rc)" test "$rc" -eq 0
st=$(find "$T/bob" -path '*/transfers/*.in')
diag "SIGTERM: resume state $st: $(tr '\n' ' ' <"$st" 2>/dev/null | sed 's/digest [0-9a-f]* //')"
check "SIGTERM: one resume state file was saved" test "$(wc -w <<<"$st")" -eq 1
check "SIGTERM: it is for this transfer" grep -q "^id $id\$" "$st"
off=$(awk '$1=="part" && $2==0 {print $3}' "$st")
tag=$(awk '$1=="tag" {print $2}' "$st")
part="$T/bob-dl/.confab-$tag.partial/term.bin"
diag "SIGTERM: saved offset ${off:-none}, partial file $(stat -c %s "$part" 2>/dev/null || echo missing) bytes"
check "SIGTERM: the state names the offset reached (over 6 MB)" test "${off:-0}" -gt 6000000
check "SIGTERM: the partial data up to that offset is right" cmp -n "${off:-1}" "$src/term.bin" "$part"
check "SIGTERM: alice shows bob offline" wait_state alice bob offline 10
check "SIGTERM: alice shows the transfer waiting" \
	wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"waiting\"" 10
: >"$T/bob.out"
start_host bob b "${common[@]}" --listen 10.79.0.2:7470 --download-dir "$T/bob-dl"
wait_for bob '.event=="ready"' 10 >/dev/null
say alice "/connect 10.79.0.2:7470"
check "SIGTERM: after the restart the same offer resumes and completes" \
	wait_for bob ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 60
t=$(wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 10)
diag "SIGTERM: $(jq -r '"resumed at \(.resumed) bytes, sent \(.wire) of \(.total)"' <<<"$t")"
check "SIGTERM: resumed from the saved offset" test "$(jq ".resumed >= ${off:-1e18} and .resumed > 0" <<<"$t")" = true
check "SIGTERM: identical content" cmp "$src/term.bin" "$T/bob-dl/term.bin"
check "SIGTERM: the resume state is gone once done" test -z "$(find "$T/bob" -path '*/transfers/*.in')"
check "SIGTERM: no staging directory left" test -z "$(ls -A "$T/bob-dl" | grep '^\.confab-')"
done_testing
