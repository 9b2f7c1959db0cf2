#!/bin/bash
# t_tui_help.sh - /help COMMAND gives a command's full text (any case, prefix or
# alias), at 80x24 and 50x15; /me ACTION is sent as a message and shown
# "* alice waves" on both sides (and to a headless peer as an action).
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

ui alice 80 24
ui bob 50 15
check "alice is up" quiet status_addr alice
check "bob is up" quiet status_addr bob

# --- /help COMMAND: the full text ---------------------------------------------
say_line alice "/help send"
check "80x24: /help send starts with its usage line" wait_screen alice '/send PEER PATH\.\.\. - offer files'
check "and goes on with the full text (quoting paths with blanks)" wait_screen alice 'double quotes'
check "and says what happens while the peer is offline" shows alice 'offline'
diag "alice at 80x24 after /help send:"; screen alice | sed 's/^/#   |/'
say_line alice "/HELP TRA"
check "/help takes any case and a unique prefix (/tra: /transfers)" wait_screen alice '/transfers \[clear\] - '
say_line alice "/help q"
check "/help takes an alias (/q: /query)" wait_screen alice '/query PEER - open'
check "and names the aliases of the command" wait_screen alice 'aliases: /q, /j, /join'
say_line alice "/help me"
check "/help me explains /me" wait_screen alice '/me ACTION - '
say_line alice "/help frobnicate"
check "/help of an unknown command says so" wait_screen alice 'no command /frobnicate'
say_line bob "/help connect"
check "50x15: /help connect shows its usage" wait_screen bob '/connect'
check "50x15: and the full text, wrapped" wait_screen bob 'invite code'
diag "bob at 50x15 after /help connect:"; screen bob | sed 's/^/#   |/'

# --- /me ACTION ---------------------------------------------------------------
start_peer carol --nick carol --listen 127.0.0.1:0
caddr=$(wait_for carol '.event=="ready"' | jq -r '.listen[0]')
say_line alice "/connect $(status_addr bob)"
check "alice and bob meet" wait_screen alice 'peers 1/1 online'
say_line alice "/query bob"
check "alice is in bob's window" wait_screen alice '^ 2:bob'
say_line alice "/me waves at everyone"
check "80x24: alice sees her action as '* alice waves at everyone'" wait_screen alice '\* alice waves at everyone'
check "no '<alice> /me' line" not shows alice '<alice> /me'
check "bob has a window for alice" wait_screen bob 'alice'
say_line bob "/query alice"
check "50x15: bob sees '* alice waves at everyone'" wait_screen bob '\* alice waves at everyone'
check "and no '/me' text" not shows bob '/me waves'
diag "bob at 50x15 with the action:"; screen bob | sed 's/^/#   |/'
say_line alice "/connect $caddr"
check "alice and carol meet" wait_screen alice 'peers 2/2 online'
say_line alice "/msg carol /me nods"
ev=$(wait_for carol '.event=="message"' 10)
check "headless: the action arrives as a message with action true" test "$(jq -r .action <<<"$ev")" = true ||
	diag "$ev"
check "headless: its text is the action without /me" test "$(jq -r .text <<<"$ev")" = nods
say carol "/me shrugs"
check "headless: /me needs a peer there (an error)" wait_for carol '.event=="error" and (.message | test("/me .*(window|/msg)"))'
say carol "/msg alice /me shrugs"
say_line alice "/query carol"
check "headless: /msg PEER /me ACTION reaches alice as an action" wait_screen alice '\* carol shrugs'
done_testing
