#!/bin/bash
# t_tui_strangers.sh - the full-screen interface opens a window for every peer
# that writes; when more than 64 strangers have come and gone, the oldest are
# forgotten and their windows closed, so 300 strangers that each say hello
# leave a bounded number of windows and a bounded memory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
HOSTILE=${top_builddir:-$(dirname "$0")/..}/tests/hostile
STRANGERS_MAX=64
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
# (a sanitizer build or valgrind may set a larger bound from outside)
if [ -z "${RSS_MAX_KB:-}" ]; then
	RSS_MAX_KB=65536
	grep -q __asan_init "$CONFAB" 2>/dev/null && RSS_MAX_KB=$((RSS_MAX_KB * 4))
fi

mkdir -p "$T/victim"
tui_start victim 100 30 env -u NO_COLOR LC_ALL=C.UTF-8 TERM=screen "$CONFAB" \
	--home "$T/victim" --nick victim --no-discovery --no-nat --listen 127.0.0.1:0 \
	--log "$T/victim.log" --debug
va=$(status_addr victim)
check "the victim's interface starts" test -n "$va"
rss0=$(rss_kb "${TUI_PID[victim]}")
out=$("$HOSTILE" strangers "$va" 300 "hello from a stranger")
diag "300 strangers: hostile says '$out'"
check "300 strangers: all said hello" grep -q '^strangers 300 failed 0' <<<"$out"
# /window with a number past the end names how many windows there are
say_line victim "/window 9999"
check "the victim answers /window" wait_screen victim 'no window 9999 \(there (is|are) [0-9]+' 10
n=$(screen victim | grep -oE 'no window 9999 \(there (is|are) [0-9]+' | tail -n 1 | grep -oE '[0-9]+$')
rss=$(rss_kb "${TUI_PID[victim]}")
diag "300 strangers: the victim has ${n:-?} windows; VmRSS $rss0 KiB before, ${rss:-gone} KiB after"
check "300 strangers: at most $STRANGERS_MAX of their windows stay open (${n:-?} windows)" \
	test "${n:-999}" -le $((STRANGERS_MAX + 2))
check "300 strangers: the victim's memory stays under $((RSS_MAX_KB / 1024)) MB" test "${rss:-999999999}" -lt "$RSS_MAX_KB"
say_line victim "/quit"
check "the victim quits" wait_dead victim 10
check "with exit status 0" test "$(exit_status victim)" = 0
done_testing
