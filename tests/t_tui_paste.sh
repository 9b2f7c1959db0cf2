#!/bin/bash
# t_tui_paste.sh - a paste of several lines is one message with its blank
# lines kept; one of more than paste_confirm_lines lines (default 5, like
# irssi's paste_verify_line_count) is sent only after a y, dropped after n.
# At 80x24 (the default) and 50x15 (paste_confirm_lines = 2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"

# ui NAME COLS ROWS [ARGS...]: start a UI instance in tmux.
ui() {
	local name=$1 cols=$2 rows=$3; shift 3
	mkdir -p "$T/$name"
	tui_start "$name" "$cols" "$rows" env -u NO_COLOR LC_ALL=C.UTF-8 TERM=screen "$CONFAB" \
		--home "$T/$name" --nick "$name" --no-discovery --no-nat --listen 127.0.0.1:0 \
		--log "$T/$name.log" --debug "$@"
}
# msgs: how many messages carol got so far
msgs() { count_events carol '.event=="message"'; }

start_peer carol --nick carol --listen 127.0.0.1:0
caddr=$(wait_for carol '.event=="ready"' | jq -r '.listen[0]')
mkdir -p "$T/bob"
printf 'paste_confirm_lines = 2\n' >"$T/bob/config"
ui alice 80 24
ui bob 50 15
for n in alice bob; do
	check "$n is up" quiet status_addr $n
	say_line $n "/connect $caddr"
	wait_for carol ".event==\"peer\" and .state==\"online\" and .nick==\"$n\"" 10 >/dev/null
	say_line $n "/query carol"
	check "$n is in carol's window" wait_screen $n '^ 2:carol'
done

# a short paste: one message, blank line inside kept, no question
paste alice "one

three
"
ev=$(wait_for carol '.event=="message" and .nick=="alice"' 10)
check "a paste of 3 lines arrives as one message" test "$(count_events carol '.event=="message" and .nick=="alice"')" -eq 1
check "with its blank line kept" test "$(jq -r .text <<<"$ev")" = "$(printf 'one\n\nthree')" || diag "$ev"
check "the blank line shows on alice's screen too" \
	test "$(screen alice | grep -A2 '<alice> one' | sed -n 2p | tr -d ' │')" = ""

# a long paste: asked first
n0=$(msgs)
paste alice "$(seq -f 'line %g' 1 8)
"
check "80x24: a paste of 8 lines asks first" wait_screen alice 'paste of 8 lines to carol: y sends it, n'
diag "alice at 80x24 asking:"; screen alice | sed 's/^/#   |/'
sleep 1
check "nothing is sent before the answer" test "$(msgs)" -eq "$n0"
keys alice y
ev=$(wait_for carol '.event=="message" and (.text | startswith("line 1\n"))' 10)
check "y sends it, as one message of 8 lines" test "$(jq -r .text <<<"$ev" | wc -l)" -eq 8
n0=$(msgs)
paste alice "$(seq -f 'drop %g' 1 7)
"
check "asked again" wait_screen alice 'paste of 7 lines to carol'
keys alice n
check "n drops it, and says so" wait_screen alice 'paste dropped'
sleep 1
check "nothing was sent" test "$(msgs)" -eq "$n0"
say_line alice "typed after"
check "typing goes on as usual after" wait_for carol '.event=="message" and .text=="typed after"' 10

# paste_confirm_lines = 2 at 50x15: 3 lines ask, 2 do not
paste bob "a
b
c
"
check "50x15: with paste_confirm_lines = 2, a paste of 3 lines asks" wait_screen bob 'paste of 3 lines'
diag "bob at 50x15 asking:"; screen bob | sed 's/^/#   |/'
keys bob y
check "y sends it" wait_for carol '.event=="message" and .nick=="bob" and .text=="a\nb\nc"' 10
paste bob "x
y
"
check "a paste of 2 lines is sent without asking" wait_for carol '.event=="message" and .nick=="bob" and .text=="x\ny"' 10
check "--print-config shows paste_confirm_lines" \
	grep -qx 'paste_confirm_lines = 2' <<<"$("$CONFAB" --home "$T/bob" --print-config)"
done_testing
