#!/bin/bash
# t_lan_tui.sh - the chat screen says when a peer turns up on the LAN
# ("carol is on your LAN - /query carol"), once, in the home window, at
# 80x24 and 50x15; /query then opens her window.  In network namespaces.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lan_lib.sh"
. "$(dirname "$0")/tui_lib.sh"

lab_switch sw
lab_host a sw 10.78.0.1/24
lab_host c sw 10.78.0.3/24
lab_host d sw 10.78.0.4/24

# ui NAME NS COLS ROWS: the chat screen in tmux inside a lab namespace, discovery on.
ui() {
	local name=$1 n=$2 cols=$3 rows=$4
	mkdir -p "$T/$name"
	tui_start "$name" "$cols" "$rows" ip netns exec "$(ns "$n")" env -u NO_COLOR LC_ALL=C.UTF-8 TERM=screen \
		"$CONFAB" --home "$T/$name" --nick "$name" --no-nat --discovery-refresh 1 \
		--log "$T/$name.log" --debug
}

ui alice a 80 24
ui dora d 50 15
check "alice is up" wait_screen alice "listening on" 10
check "dora is up" wait_screen dora "listening on" 10
start_host carol c --discovery-refresh 1
check "80x24: alice is told carol is on the LAN" wait_screen alice 'carol is on your LAN - /query carol' 10
check "50x15: dora is told too" wait_screen dora 'carol is on your LAN' 10
check "80x24: and that dora is" wait_screen alice 'dora is on your LAN - /query dora' 10
diag "alice at 80x24:"; screen alice | sed 's/^/#   |/'
diag "dora at 50x15:"; screen dora | sed 's/^/#   |/'
# carol's beacons go on (every second): the line is said once
sleep 3
check "said once, though her beacons go on" test "$(screen alice | grep -c 'carol is on your LAN')" -eq 1
say_line alice "/query carol"
check "/query carol opens her window" wait_screen alice '^ 2:carol'
say_line alice "hello carol"
check "and carol gets the message" wait_for carol '.event=="message" and .text=="hello carol"' 10
done_testing
