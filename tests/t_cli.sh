#!/bin/bash
# t_cli.sh - command line, identity file and state directory behaviour.
. "$(dirname "$0")/lib.sh"

out=$("$CONFAB" --version); rc=$?
check "--version exits 0" test $rc -eq 0
check "--version names the program" grep -q '^confab [0-9]' <<<"$out"
out=$("$CONFAB" --help); rc=$?
check "--help exits 0 and lists --headless" test $rc -eq 0 -a -n "$(grep -- --headless <<<"$out")"
for o in --home --nick --listen --no-discovery --no-nat --log --debug --keepalive --cipher; do
	check "--help documents $o" grep -q -- "$o" <<<"$out"
done
"$CONFAB" --bogus >/dev/null 2>&1; rc=$?
check "an unknown option exits 2" test $rc -eq 2
"$CONFAB" --keepalive 0 >/dev/null 2>&1; rc=$?
check "a bad --keepalive exits 2" test $rc -eq 2
"$CONFAB" frob >/dev/null 2>&1; rc=$?
check "an unknown subcommand exits 2" test $rc -eq 2

fp=$("$CONFAB" id --home "$T/h1"); rc=$?
check "confab id creates an identity and prints it" test $rc -eq 0 -a ${#fp} -eq 52
check "the fingerprint uses Crockford base32 in lower case" grep -Eq '^[0-9a-hjkmnp-tv-z]{52}$' <<<"$fp"
check "the identity file has mode 0600" test "$(stat -c %a "$T/h1/identity")" = 600
check "the state directory has mode 0700" test "$(stat -c %a "$T/h1")" = 700
check "confab id is stable" test "$("$CONFAB" id --home "$T/h1")" = "$fp"
check "CONFAB_HOME works like --home" test "$(CONFAB_HOME="$T/h1" "$CONFAB" id)" = "$fp"
fp2=$("$CONFAB" id --home "$T/h2")
check "another home has another identity" test "$fp2" != "$fp"
check "XDG_STATE_HOME is used without --home" \
	test "$(env -u CONFAB_HOME HOME="$T/xh" XDG_STATE_HOME="$T/xs" XDG_CONFIG_HOME="$T/xc" "$CONFAB" id)" != "" -a -f "$T/xs/confab/identity"
chmod 644 "$T/h1/identity"
"$CONFAB" id --home "$T/h1" >/dev/null
check "a loosened identity file is tightened back to 0600" test "$(stat -c %a "$T/h1/identity")" = 600
echo "not a key" >"$T/h2/identity"
"$CONFAB" id --home "$T/h2" >/dev/null 2>"$T/err"; rc=$?
check "a damaged identity file is an error, not replaced" test $rc -ne 0 -a "$(cat "$T/h2/identity")" = "not a key"

# headless: ready event, EOF on stdin means /quit, exit 0
out=$(echo "/peers" | "$CONFAB" --headless --home "$T/h1" --no-discovery --no-nat --listen 127.0.0.1:0); rc=$?
check "headless exits 0 on EOF" test $rc -eq 0
check "the log file has mode 0600" test "$(stat -c %a "$T/h1/confab.log" 2>/dev/null)" = 600
check "headless starts with a ready event" test "$(head -n 1 <<<"$out" | jq -r .event)" = ready
check "ready carries the fingerprint" test "$(head -n 1 <<<"$out" | jq -r .fingerprint)" = "$fp"
check "ready lists the listening address" grep -Eq '^127\.0\.0\.1:[0-9]+$' <<<"$(head -n 1 <<<"$out" | jq -r '.listen[0]')"
out=$(printf '/nick\n/connect 127.0.0.1:99999\n/msg\nplain text\n' | "$CONFAB" --headless --home "$T/h1" --no-discovery --no-nat --listen 127.0.0.1:0)
check "four bad lines give four errors" test "$(jq -c 'select(.event=="error")' <<<"$out" | wc -l)" -eq 4
"$CONFAB" --headless --home "$T/h1" --no-discovery --no-nat --listen 999.1.1.1:5 </dev/null >/dev/null 2>"$T/err"; rc=$?
check "a bad --listen address fails with a message" test $rc -ne 0 -a -s "$T/err"
out=$(echo "/peers" | "$CONFAB" --headless --home "$T/h1" --no-discovery --no-nat --listen 127.0.0.1:0 --nick carol)
check "with --nick, ready is still the first event" test "$(head -n 1 <<<"$out" | jq -r .event)" = ready
check "and it carries the nick given" test "$(head -n 1 <<<"$out" | jq -r .nick)" = carol
check "no nick event for the nick given on the command line" test "$(jq -c 'select(.event=="nick")' <<<"$out" | wc -l)" -eq 0
"$CONFAB" --headless --home "$T/h1" --no-discovery --no-nat --listen 127.0.0.1:0 --nick "a b" </dev/null >/dev/null 2>"$T/err"; rc=$?
check "--nick with a space is a usage error (exit 2)" test $rc -eq 2
check "and says what a nick may be" grep -q "without spaces" "$T/err"
out=$(printf '/nick %s\n' "$(printf 'evil\033]0;x\007')" | "$CONFAB" --headless --home "$T/h1" --no-discovery --no-nat --listen 127.0.0.1:0)
check "a nick with control characters is refused" test "$(jq -c 'select(.event=="error")' <<<"$out" | wc -l)" -eq 1

# one confab per home: a lock file with the pid in it
start_peer lk --nick lk --listen 127.0.0.1:0
check "the first confab with a home starts" wait_for lk '.event=="ready"' 10
lkpid=${PEER_PID[lk]}
check "the lock file names its pid (mode 0600)" \
	test "$(cat "$T/lk/lock" 2>/dev/null)" = "$lkpid" -a "$(stat -c %a "$T/lk/lock" 2>/dev/null)" = 600
out=$("$CONFAB" --headless --home "$T/lk" --no-discovery --no-nat --listen 127.0.0.1:0 </dev/null 2>"$T/err"); rc=$?
check "a second confab with the same home exits 1" test $rc -eq 1
check "it says which process holds the home" grep -q "confab is already running with this home (pid $lkpid)" "$T/err"
check "it emitted no events" test -z "$out"
check "the first one still runs" alive lk
# a one-shot with the busy home goes on with a temporary identity
mkdir -p "$T/lkdl"
"$CONFAB" recv --home "$T/lk" --no-discovery --no-nat --listen 127.0.0.1:0 --dir "$T/lkdl" \
	</dev/null >/dev/null 2>"$T/lkrecv.err" &
rpid=$!
wait_file_line() { grep -q "$2" "$1" 2>/dev/null; }
for _ in $(seq 100); do wait_file_line "$T/lkrecv.err" "waiting for an offer" && break; sleep 0.1; done
check "a one-shot recv with the busy home says it uses a temporary identity" \
	grep -q "another confab is running with this home; this recv uses a temporary identity" "$T/lkrecv.err"
tfp=$(sed -n 's/.*temporary identity (\([0-9a-z]*\)).*/\1/p' "$T/lkrecv.err")
check "the temporary identity is not the home's" test -n "$tfp" -a "$tfp" != "$(fp_of lk)"
check "it lives in a scratch directory of its own (0700)" \
	test "$(find "$T/lk" -maxdepth 1 -name 'scratch.*' -type d -perm 0700 | wc -l)" -eq 1
kill -INT $rpid 2>/dev/null; wait $rpid 2>/dev/null
check "the scratch directory is gone after the one-shot" \
	test "$(find "$T/lk" -maxdepth 1 -name 'scratch.*' | wc -l)" -eq 0
check "the home's own identity is untouched" test "$("$CONFAB" id --home "$T/lk")" = "$(fp_of lk)"
stop_peer lk
"$CONFAB" --headless --home "$T/lk" --no-discovery --no-nat --listen 127.0.0.1:0 </dev/null >"$T/lk2.out" 2>&1; rc=$?
check "once the first has exited, the home can be used again" \
	test $rc -eq 0 -a "$(head -n 1 "$T/lk2.out" | jq -r .event)" = ready

# the man page: groff finds nothing to warn about, and every subcommand's
# heading renders on a line of its own, whole
MAN=${top_srcdir:-$(dirname "$0")/..}/confab.1
check "groff -man -ww -z finds no problem in the man page" \
	test -z "$(groff -man -ww -z -Tutf8 "$MAN" 2>&1)"
man_text=$(groff -man -Tutf8 -P-cbou -rLL=100n "$MAN" 2>/dev/null | sed -n '/^   Subcommands/,/^COMMANDS/p')
for h in "confab id [--home dir]" "confab send --to host:port path..." \
	"confab recv [--dir dir] [--from fingerprint [--yes]]" "confab invite [--dns-name name[:port]]"; do
	check "the man page's heading \"$h\" is one line" grep -qxF "       $h" <<<"$man_text"
done
check "the man page's legend explains the discovered mark (◇)" \
	grep -q "◇ *seen on the LAN" <<<"$(groff -man -Tutf8 -P-cbou -rLL=200n "$MAN" 2>/dev/null)"

# a log left readable by others (an older confab made it 0644) is tightened
chmod 644 "$T/h1/confab.log"
echo /quit | "$CONFAB" --headless --home "$T/h1" --no-discovery --no-nat --listen 127.0.0.1:0 >/dev/null 2>&1
check "an existing log readable by others is tightened to 0600" test "$(stat -c %a "$T/h1/confab.log")" = 600
done_testing
