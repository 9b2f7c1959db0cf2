#!/bin/bash
# t_nat_invite.sh - alice behind a home router (Debian's miniupnpd) opens her
# port by UPnP or NAT-PMP; bob behind another router connects with her invite
# code, they chat and send a file.  Three routers: both methods enabled, only
# NAT-PMP, only UPnP (where a squatter already holds the external port, so
# alice must take another: UPnP error 718).  The full-screen interface shows
# the mapping in its status bar.  All in network namespaces.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nat_lib.sh"
. "$(dirname "$0")/tui_lib.sh"
command -v upnpc >/dev/null 2>&1 || skip_all "no upnpc (apt-get install miniupnpc)"

head -c 300000 /dev/urandom >"$T/photo.bin"

# Tear the lab down between cases; keep each case's files under its own name.
lab_reset() {
	local n f
	for n in "${!PEER_PID[@]}"; do kill_peer "$n" 9; done
	lab_cleanup
	LAB_NS=()
	for f in alice.out bob.out nell.out alice.log bob.log nell.log r1.leases r1.miniupnpd.log; do
		[ -e "$T/$f" ] && mv "$T/$f" "$T/$1-$f"
	done
	unset "FP_CACHE[alice]" "FP_CACHE[bob]"
}

# run_case MODE: one router configuration, start to file transfer.
run_case() {
	local mode=$1 ev method ext port code id
	diag "--- router with $mode"
	check "$mode: the lab is built" nat_lab
	if [ "$mode" = upnp ]; then
		# someone else on alice's LAN already maps external port 7470
		lab_host m sw1 10.61.1.3/24 && ip -n "$(ns m)" route add default via 10.61.1.1
	fi
	check "$mode: miniupnpd runs on alice's router" upnpd r1 "$mode"
	if [ "$mode" = upnp ]; then
		ip netns exec "$(ns m)" upnpc -e squatter -a 10.61.1.3 7470 7470 TCP 600 >"$T/squat.out" 2>&1
		check "upnp: the squatter holds external port 7470" router_maps r1 7470 10.61.1.3:7470
	fi
	PEER_HOME[alice]=$T/alice-$mode
	PEER_HOME[bob]=$T/bob-$mode
	start_nat alice a --download-dir "$T/dl-$mode"
	ev=$(nat_event alice 15)
	method=$(jq -r .method <<<"$ev")
	ext=$(jq -r .external <<<"$ev")
	port=${ext##*:}
	diag "$mode: $(jq -r .text <<<"$ev")"
	case $mode in
	both) check "both: alice is reachable via NAT-PMP or UPnP" test "$method" = natpmp -o "$method" = upnp ;;
	*) check "$mode: alice is reachable via $mode" test "$method" = "$mode" ;;
	esac
	check "$mode: the external address is the router's" test "${ext%:*}" = "$NAT_INET.1"
	check "$mode: the router forwards $port to alice's port 7470" router_maps r1 "$port" 10.61.1.2:7470
	if [ "$mode" = upnp ]; then
		check "upnp: alice took another external port than the squatter's" test "$port" != 7470
		check "upnp: the squatter's mapping is untouched" router_maps r1 7470 10.61.1.3:7470
	fi
	if [ "$mode" = both ]; then
		mkdir -p "$T/tui"
		tui_start tui 120 30 env -u NO_COLOR LC_ALL=C.UTF-8 TERM=screen ip netns exec "$(ns a)" \
			"$CONFAB" --home "$T/tui" --nick tui --no-discovery --listen 0.0.0.0:0 --log "$T/tui.log"
		check "both: the status bar of the full-screen interface shows the mapping" \
			wait_screen tui "nat:(natpmp|upnp) $NAT_INET\.1:[0-9]+" 15
	fi
	code=$(invite_of alice)
	check "$mode: the invite code is one line of letters and digits" grep -Eqx 'confab1[0-9a-z]{60,}' <<<"$code"
	ev=$(events alice 'select(.event=="invite")' | tail -n 1)
	check "$mode: the invite lists the external address" jq -e ".candidates | index(\"$ext\")" <<<"$ev"
	check "$mode: and the LAN address" jq -e '.candidates | index("10.61.1.2:7470")' <<<"$ev"
	check "$mode: confab invite in another terminal prints the same code" \
		test "$(ip netns exec "$(ns a)" "$CONFAB" invite --home "$T/alice-$mode" 2>/dev/null)" = "$code"

	start_nat bob b --no-nat
	fp_of alice >/dev/null; fp_of bob >/dev/null
	say bob "/connect $code"
	check "$mode: bob reaches alice with the code" \
		wait_for bob ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$(fp_of alice)\"" 15
	check "$mode: alice sees bob online" \
		wait_for alice ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$(fp_of bob)\"" 10
	check "$mode: bob got there through the router's port" \
		wait_for bob "select(.event==\"peer\" and .state==\"online\") | .addr==\"$ext\"" 1
	check "$mode: bob's peer event says path mapped (the router's mapped address won)" \
		wait_for bob "select(.event==\"peer\" and .state==\"online\") | .path==\"mapped\"" 1
	check "$mode: alice sees an incoming session as direct" \
		wait_for alice "select(.event==\"peer\" and .state==\"online\") | .path==\"direct\"" 1
	if [ "$mode" = both ]; then
		# a neighbour on alice's LAN connects straight to her: direct, not mapped
		lab_host n sw1 10.61.1.4/24
		start_nat nell n --no-nat
		say nell "/connect 10.61.1.2:7470"
		check "both: a LAN connect says path direct" \
			wait_for nell ".event==\"peer\" and .state==\"online\" and .path==\"direct\"" 15
	fi
	sleep 0.3
	check "$mode: one connection is left between them" test "$(established b "$port")" -eq 1
	say bob "/msg alice hello across two NATs"
	check "$mode: bob's message arrives" wait_for alice '.event=="message" and .text=="hello across two NATs"' 10
	say alice "/msg bob hello back"
	check "$mode: alice's answer arrives" wait_for bob '.event=="message" and .text=="hello back"' 10
	say bob "/send alice $T/photo.bin"
	id=$(wait_for alice '.event=="offer"' 10 | jq -r .id)
	say alice "/accept ${id:0:8}"
	check "$mode: the file transfer completes" \
		wait_for alice ".event==\"transfer\" and .id==\"$id\" and .state==\"done\"" 30
	check "$mode: the file arrived intact" cmp -s "$T/photo.bin" "$T/dl-$mode/photo.bin"

	if [ "$mode" = natpmp ]; then
		# confab send --to CODE: a one-shot sender from bob's LAN
		ip netns exec "$(ns b)" "$CONFAB" send --home "$T/carl" --no-nat --no-discovery \
			--log "$T/carl.log" --to "$code" "$T/photo.bin" >"$T/carl.out" 2>"$T/carl.err" &
		local spid=$!
		id=$(wait_for alice '.event=="offer" and .nick!="bob"' 15 | jq -r .id)
		say alice "/accept ${id:0:8} $T/dl-carl"
		wait $spid
		check "natpmp: confab send --to CODE exits 0" test $? -eq 0
		check "natpmp: its file arrived intact" cmp -s "$T/photo.bin" "$T/dl-carl/photo.bin"
	fi
	lab_reset "$mode"
}

mkdir -p "$T/dl-carl"
run_case both
run_case natpmp
run_case upnp
done_testing
