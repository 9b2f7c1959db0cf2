#!/bin/bash
# t_persist.sh - every file confab replaces in its home is replaced the
# crash-safe way: the new content fsync'ed before the rename (or link) that
# puts it in place, and the directory fsync'ed after it.  Watched with
# strace while two peers start, talk, learn each other and quit.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
strace -f -o /dev/null true 2>/dev/null || skip_all "strace cannot trace here (ptrace not allowed)"

SYSCALLS=fsync,fdatasync,rename,renameat,renameat2,link,linkat
phase=1

# traced NAME [ARGS...]: a peer under strace (-y: paths of file descriptors).
traced() {
	local name=$1; shift
	launch_peer "$name" strace -f -y -qq -o "$T/$name.$phase.trace" -e trace=$SYSCALLS -- \
		--no-discovery --no-nat "$@"
}

traced alice --nick alice --listen 127.0.0.1:0
traced bob --nick bob --listen 127.0.0.1:0
check "alice and bob connect (under strace)" connect_pair alice bob
say alice "/msg bob hello"
check "alice's message is delivered" wait_for alice '.event=="delivered"' 10
fb=$(fp_of bob)
say alice "/trust ${fb:0:8}"
wait_for alice ".event==\"peer\" and .trust==\"verified\"" 10 >/dev/null
stop_peer alice
stop_peer bob

# check_trace TRACE HOME: list each file put in place under HOME without its
# content synced first or its directory synced after; print "N files" first.
check_trace() {
	python3 - "$1" "$2" <<'PY'
import os, re, sys
trace, home = sys.argv[1], os.path.realpath(sys.argv[2])
synced = set()      # paths whose content was fsync'ed
pending = {}        # destination -> its directory, waiting for a directory fsync
placed, bad = [], []
fd_path = re.compile(r'^(?:\d+\s+)?f(?:data)?sync\(\d+<([^>]*)>\)\s*=\s*0')
two = re.compile(r'^(?:\d+\s+)?(rename|renameat|renameat2|link|linkat)\((.*)\)\s*=\s*0')
for line in open(trace, errors='replace'):
    m = fd_path.match(line)
    if m:
        p = m.group(1)
        synced.add(p)
        for dst, d in list(pending.items()):
            if d == p:
                del pending[dst]
        continue
    m = two.match(line)
    if not m:
        continue
    paths = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
    if len(paths) < 2:
        continue
    src, dst = paths[0], paths[1]
    if not os.path.realpath(dst).startswith(home + '/'):
        continue
    placed.append(dst)
    if src not in synced:
        bad.append('%s (content not synced before %s)' % (os.path.relpath(dst, home), m.group(1)))
    pending[dst] = os.path.dirname(dst)
for dst in pending:
    bad.append('%s (directory not synced after)' % os.path.relpath(dst, home))
print('%d files' % len(placed))
for b in sorted(set(bad)):
    print(b)
PY
}

# --- the rewrites made when loading: a long seen-id file and a long history ---------
# (alice keeps 1 history line: more than 2 + 100 are cut back at start, and
# 2 or more while running; more than 2 * 4096 seen ids are cut back at start)
fa=$(fp_of alice)
ha=${PEER_HOME[alice]}
printf 'history_lines = 1\n' >>"$ha/config"
for i in $(seq 8300); do printf '%032x\n' "$i"; done >>"$ha/seen/$fb"
for i in $(seq 120); do printf '1700000000000\tsys\t-\talice\tfiller %d\n' "$i"; done >>"$ha/history/$fb"
chmod 644 "$ha/seen/$fb" "$ha/history/$fb"
phase=2
: >"$T/alice.out"; : >"$T/bob.out"
umask_was=$(umask)
umask 022
traced alice --nick alice --listen 127.0.0.1:0
umask "$umask_was"
traced bob --nick bob --listen 127.0.0.1:0
check "alice restarts with the long files and reconnects to bob" connect_pair alice bob
for i in 1 2 3; do say bob "/msg alice again $i"; done
check "bob's three messages are delivered" wait_count bob '.event=="delivered"' 3 10
stop_peer alice
stop_peer bob
check "the seen-id file was cut back (got $(wc -l <"$ha/seen/$fb") lines)" test "$(wc -l <"$ha/seen/$fb")" -le 4200
check "the history file was cut back (got $(wc -l <"$ha/history/$fb") lines)" test "$(wc -l <"$ha/history/$fb")" -le 3
check "the rewritten seen-id file has mode 0600 under umask 022 (got $(stat -c %a "$ha/seen/$fb"))" \
	test "$(stat -c %a "$ha/seen/$fb")" = 600
check "the rewritten history file has mode 0600 (got $(stat -c %a "$ha/history/$fb"))" \
	test "$(stat -c %a "$ha/history/$fb")" = 600
check "no temporary file is left in the state directories" \
	test -z "$(find "$ha" -name '*.tmp*' -o -name '*.XXXXXX' -o -regex '.*\.[A-Za-z0-9]\{6\}$')"

for n in alice bob; do
	for phase in 1 2; do
		out=$(check_trace "$T/$n.$phase.trace" "${PEER_HOME[$n]}")
		diag "$n, run $phase: $(head -n 1 <<<"$out") put in place: $(grep -oE '"[^"]*", "[^"]*"' "$T/$n.$phase.trace" |
			sed 's/.*"\(.*\)"$/\1/' | sed "s|${PEER_HOME[$n]}/||; s|/[0-9a-z]\{52\}$|/FP|" | sort | uniq -c | tr -s ' \n' ' ')"
		[ $phase -eq 1 ] && check "$n: files were put in place (identity, config, state)" \
			test "$(head -n 1 <<<"$out" | cut -d' ' -f1)" -ge 3
		check "$n, run $phase: each one synced before and its directory after (not:$(tail -n +2 <<<"$out" | sed "s|/[0-9a-z]\{52\} |/FP |" | tr '\n' ';'))" \
			test "$(wc -l <<<"$out")" -eq 1
	done
done

done_testing
