#!/bin/bash
# t_nat_doublenat.sh - alice's router has a private or reserved external
# address (behind carrier-grade NAT, or a documentation range): a port mapping
# there would be useless, and confab says so - "double NAT" - instead of
# claiming to be reachable.  Checked once with only NAT-PMP (100.64.77.1,
# shared address space) and once with only UPnP (192.0.2.1, documentation).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nat_lib.sh"
. "$(dirname "$0")/tui_lib.sh"

BOUND=10

# lab_reset TAG: tear the lab down, keeping the files under TAG.
lab_reset() {
	local n f
	for n in "${!PEER_PID[@]}"; do kill_peer "$n" 9; done
	lab_cleanup
	LAB_NS=()
	for f in "$T"/*.out "$T"/*.log; do
		case $(basename "$f") in natpmp-* | upnp-*) continue ;; esac
		[ -e "$f" ] && mv "$f" "$T/$1-$(basename "$f")"
	done
	FP_CACHE=()
}

for setup in natpmp:100.64.77.1 upnp:192.0.2.1; do
	mode=${setup%%:*} ext=${setup#*:}
	diag "--- $mode only, the router's external address is $ext"
	check "$mode: the lab is built" nat_lab "$ext/24"
	check "$mode: miniupnpd runs" upnpd r1 "$mode"
	check "$mode: miniupnpd itself sees the reserved address" \
		wait_for_log "$T/r1.miniupnpd.log" "Reserved / private IP address $ext"
	start_nat alice a
	ev=$(nat_event alice $BOUND)
	diag "$mode: $(jq -r .text <<<"$ev")"
	check "$mode: alice is told she is not reachable" jq -e '.reachable == false and .method == "none"' <<<"$ev"
	check "$mode: because of double NAT" jq -e '.reason == "double-nat"' <<<"$ev"
	check "$mode: in plain words" jq -e '.text | test("double NAT") and test("would not help")' <<<"$ev"
	check "$mode: the router forwards nothing" router_empty r1
	if [ "$mode" = upnp ]; then
		mkdir -p "$T/tui"
		tui_start tui 120 30 env -u NO_COLOR LC_ALL=C.UTF-8 TERM=screen ip netns exec "$(ns a)" \
			"$CONFAB" --home "$T/tui" --nick tui --no-discovery --listen 0.0.0.0:0 --log "$T/tui.log"
		check "upnp: the full-screen status bar says double NAT" wait_screen tui 'nat:none\(double NAT\)' 15
	fi
	code=$(invite_of alice)
	check "$mode: the invite lists no external address" \
		jq -e '.candidates == ["10.61.1.2:7470"]' <<<"$(events alice 'select(.event=="invite")' | tail -n 1)"
	lab_reset "$mode"
done
done_testing
