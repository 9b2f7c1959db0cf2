#!/bin/bash
# t_nat_hostile.sh - a hostile router: alice's gateway answers UPnP with a
# connection status full of escape sequences, C1 controls, invalid UTF-8 and a
# newline (tests/fake_igd.py, in the router's namespace instead of
# miniupnpd).  Whatever the router says, alice's log (confab.log) carries no
# control character: it shows them escaped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nat_lib.sh"
command -v python3 >/dev/null 2>&1 || skip_all "no python3 (for the fake router)"

check "the lab is built" nat_lab
ip netns exec "$(ns r1)" python3 "$top_srcdir/tests/fake_igd.py" 10.61.1.1 5000 >"$T/igd.out" 2>"$T/igd.err" &
ip=$!
cleanup_hooks+=("kill $ip 2>/dev/null")
check "the hostile router serves" wait_for_log "$T/igd.out" serving 5
start_nat alice a
ev=$(wait_for alice '.event=="nat" and (.method=="none" or .reachable)' 20)
diag "alice's nat event: $(jq -c '{reachable, reason}' <<<"$ev" 2>/dev/null)"
check "alice heard the router's answer (the log quotes its status)" \
	wait_for_log "$T/alice.log" 'not connected (\\x1b\]0;owned' 5
grep -a owned "$T/alice.log" | head -n 2 | cat -v | while IFS= read -r l; do diag "log: ${l:0:160}"; done
bad=$(LC_ALL=C grep -c $'[\x01-\x09\x0b-\x1f\x7f]' "$T/alice.log")
check "alice's log holds no C0 control byte or DEL ($bad lines with one)" test "$bad" -eq 0
c1=$(LC_ALL=C grep -c $'\xc2[\x80-\x9f]' "$T/alice.log")
check "alice's log holds no C1 control ($c1 lines with one)" test "$c1" -eq 0
check "alice's log is valid UTF-8" iconv -f UTF-8 -t UTF-8 "$T/alice.log" -o /dev/null
check "no log line was started by the router's newline" test "$(grep -c '^FAKE' "$T/alice.log")" -eq 0
done_testing
