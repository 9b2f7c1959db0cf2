#!/bin/bash
# t_completion.sh - the bash completion script (contrib/confab.bash) in a real bash.
. "$(dirname "$0")/lib.sh"
SCRIPT=${top_srcdir:-$(dirname "$0")/..}/contrib/confab.bash

# complete WORD...: the completions bash offers for the last word (one per line).
complete_words() {
	bash --norc --noprofile -c '
		. "$1" || exit 1
		shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_confab
		printf "%s\n" "${COMPREPLY[@]}"' complete "$SCRIPT" "$@"
}

check "the script loads and registers a completion for confab" \
	bash --norc --noprofile -c ". '$SCRIPT' && complete -p confab | grep -q _confab"
out=$(complete_words "$CONFAB" "")
check "subcommands at the first word" test "$(sort <<<"$out" | tr '\n' ' ')" = "id invite recv send "
out=$(complete_words "$CONFAB" --he)
check "--he completes to --headless and --help" \
	test "$(sort <<<"$out" | tr '\n' ' ')" = "--headless --help "
# every long option --help documents is offered after "--"
out=$(complete_words "$CONFAB" --)
for o in $("$CONFAB" --help | grep -o -- '^  --[a-z][a-z0-9-]*' | tr -d ' '); do
	check "$o is offered" grep -qx -- "$o" <<<"$out"
done
check "recv's own options are not offered without recv" bash -c '! grep -qx -- --yes <<<"$1"' _ "$out"
out=$(complete_words "$CONFAB" recv --)
check "recv offers --dir, --from and --yes, once each" \
	test "$(grep -cx -- '--dir\|--from\|--yes' <<<"$out")" -eq 3
check "recv does not offer send's --to" bash -c '! grep -qx -- --to <<<"$1"' _ "$out"
out=$(complete_words "$CONFAB" send --)
check "send offers --to, not recv's --yes" bash -c 'grep -qx -- --to <<<"$1" && ! grep -qx -- --yes <<<"$1"' _ "$out"
check "send offers --text" grep -qx -- --text <<<"$out"
check "recv and the chat do not offer send's --text" \
	bash -c '! grep -qx -- --text <<<"$1" && ! grep -qx -- --text <<<"$2"' _ \
	"$(complete_words "$CONFAB" recv --)" "$(complete_words "$CONFAB" --)"
out=$(complete_words "$CONFAB" --cipher "")
check "--cipher offers the two cipher names" test "$(sort <<<"$out" | tr '\n' ' ')" = "aesgcm chachapoly "
mkdir -p "$T/cdir/sub1" "$T/cdir/sub2"; : >"$T/cdir/file1"
out=$(complete_words "$CONFAB" --home "$T/cdir/")
check "--home offers directories only" \
	test "$(sort <<<"$out" | tr '\n' ' ')" = "$T/cdir/sub1 $T/cdir/sub2 "
out=$(complete_words "$CONFAB" send --to 127.0.0.1:1 "$T/cdir/f")
check "send completes file names" test "$out" = "$T/cdir/file1"
done_testing
