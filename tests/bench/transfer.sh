#!/bin/bash
# transfer.sh - file transfer speed on loopback, confab against scp and socat:
# (1) one 1 GiB file of random data: confab send/recv, scp -c aes128-gcm to a
#     throwaway sshd, and plain socat (no encryption, the line-rate ceiling);
#     MB/s (10^6 B/s), median of 5 runs each, ratios, every copy checked with
#     cmp, and the peak resident memory of the confab sender and receiver;
# (2) a tree of 10,000 small files (1-8 KiB, 100 directories): files/s for
#     confab and scp -r, each copy checked with diff -r;
# (3) chat latency between two headless instances while one sends the big
#     file to the other, and with no transfer (tests/bench/transfer.py).
# Every copy is received into a tmpfs directory under /dev/shm so that the
# receiving disk limits none of them; the source is read once beforehand so
# that it is in the page cache.
# Usage: tests/bench/transfer.sh [path/to/confab]  (else $CONFAB, else ../../build/confab)
# Environment: BENCH_XFER_MB (size of the big file in MiB, default 1024),
#   BENCH_XFER_RUNS (5), BENCH_XFER_FILES (10000), BENCH_XFER_MSGS (200),
#   BENCH_QUIET_WAIT (seconds to wait for a quiet machine first, default 900;
#   0 measures at once).
# Needs python3, socat, scp, ssh-keygen, sshd, /usr/bin/time and a writable
# /dev/shm; root, or an existing /run/sshd, for sshd.  Not part of make check
# (about 3 minutes on a quiet 2-core machine, after the wait).  Loopback only: confab runs
# with --no-discovery --no-nat, sshd and socat listen on 127.0.0.1.
set -eu
cmdline="$0${1+ $*}"
here=$(cd "$(dirname "$0")" && pwd)
confab=${1:-${CONFAB:-$here/../../build/confab}}
[ -x "$confab" ] || { echo "transfer.sh: no executable confab at $confab" >&2; exit 2; }
confab=$(cd "$(dirname "$confab")" && pwd)/$(basename "$confab")

big_mib=${BENCH_XFER_MB:-1024}
runs=${BENCH_XFER_RUNS:-5}
nfiles=${BENCH_XFER_FILES:-10000}
nmsgs=${BENCH_XFER_MSGS:-200}
quiet_wait=${BENCH_QUIET_WAIT:-900}

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
for tool in python3 socat scp ssh-keygen cmp diff; do
	command -v "$tool" >/dev/null || { echo "transfer.sh: needs $tool" >&2; exit 2; }
done
[ -x "$SSHD" ] || { echo "transfer.sh: needs sshd (openssh-server)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "transfer.sh: needs /usr/bin/time (GNU time)" >&2; exit 2; }
if [ ! -d /run/sshd ]; then
	if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd && chmod 0755 /run/sshd
	else echo "transfer.sh: sshd needs /run/sshd, which only root can create" >&2; exit 2; fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/confab-bench.XXXXXX")
shm=$(mktemp -d /dev/shm/confab-bench.XXXXXX)
# Kill everything started here (listed by pid; /usr/bin/time's child first),
# then remove the work and tmpfs directories.
cleanup() {
	local pid kid
	if [ -f "$work/pids" ]; then
		while read -r pid; do
			for kid in $(pgrep -P "$pid" 2>/dev/null); do kill -9 "$kid" 2>/dev/null || true; done
			kill -9 "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true   # reaped quietly, no "Killed" notice
		done <"$work/pids"
	fi
	rm -rf "$work" "$shm"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fstype=$(stat -f -c %T "$shm")
[ "$fstype" = tmpfs ] || { echo "transfer.sh: $shm is on $fstype, not tmpfs" >&2; exit 2; }

# Run a command in the background (so that a signal runs the trap at once),
# list its pid for cleanup and return its status.
run() {
	local pid rc=0
	"$@" &
	pid=$!
	echo "$pid" >>"$work/pids"
	wait "$pid" || rc=$?
	return $rc
}

# Start a command in the background, listed for cleanup; its pid in $bgpid.
start() {
	"$@" &
	bgpid=$!
	echo "$bgpid" >>"$work/pids"
}

# Wait until FILE has a line matching ERE (up to 10 s), else fail.
wait_grep() {
	local i
	for i in $(seq 100); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "transfer.sh: timed out waiting for /$2/ in $1:" >&2
	cat "$1" >&2
	return 1
}

# Wait until something listens on 127.0.0.1:PORT (up to 10 s), else fail.
wait_listen() {
	local i
	for i in $(seq 100); do
		[ -n "$(ss -Hltn "src 127.0.0.1:$1" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	echo "transfer.sh: nothing listens on 127.0.0.1:$1" >&2
	return 1
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Seconds between two $EPOCHREALTIME stamps.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# Median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# A / B with D decimals.
div() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { printf "%.*f", d, (b > 0 ? a / b : 0) }'; }

# Processes that would distort timing: fuzzers and builds not started here.
busy_others() {
	ps -eo pid=,pcpu=,comm= | awk '$3 ~ /^(fuzz_|make$|cc1|ld$|cc$|gcc$|clang)/ { printf "%s(%s, %s%%) ", $3, $1, $2 }'
}
load1() { cut -d' ' -f1 /proc/loadavg; }
loadline() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg); other busy processes: $(b=$(busy_others); echo "${b:-none}")"; }

echo "# confab transfer bench: $confab ($("$confab" --version 2>&1 | head -n 1)), $(date -u +%FT%TZ), $(nproc) CPUs"
echo "# $(ssh -V 2>&1), $(socat -V 2>/dev/null | grep -m1 'socat version' || echo socat)"

# Wait (in 15 s steps) for a quiet machine: 1-minute load under 0.5 and no
# fuzzer or build running.
if [ "$quiet_wait" -gt 0 ]; then
	waited=0
	while :; do
		b=$(busy_others)
		if [ -z "$b" ] && awk -v l="$(load1)" 'BEGIN { exit !(l < 0.5) }'; then break; fi
		if [ "$waited" -ge "$quiet_wait" ]; then
			echo "# machine still busy after ${waited}s; measuring anyway: $(loadline)"
			break
		fi
		[ "$waited" -eq 0 ] && echo "# waiting up to ${quiet_wait}s for a quiet machine: $(loadline)"
		sleep 15
		waited=$((waited + 15))
	done
	echo "# waited ${waited}s for a quiet machine"
fi
load_start=$(loadline)
echo "# at start: $load_start"

# ---- the big file, read once so that it is in the page cache ----
big=$work/big.bin
bytes=$((big_mib * 1024 * 1024))
python3 - "$big" "$bytes" <<'EOF'
import os, sys
left = int(sys.argv[2])
with open(sys.argv[1], "wb") as f:
    while left > 0:
        n = min(left, 1 << 22)
        f.write(os.urandom(n))
        left -= n
EOF
cat "$big" >/dev/null
cached() { command -v fincore >/dev/null && fincore -b -n -o RES "$1" 2>/dev/null | tr -d ' ' || echo "?"; }
echo "# source: $big, $bytes bytes of random data, $(cached "$big") bytes in the page cache"
echo "# every copy is received into $shm (tmpfs), so the receiving disk is not a bottleneck for any method"

# ---- the throwaway sshd: host and user keys made here ----
mkdir -p "$work/ssh"
chmod 700 "$work/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/host_key" </dev/null
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/user_key" </dev/null
cp "$work/ssh/user_key.pub" "$work/ssh/authorized_keys"
chmod 600 "$work/ssh/authorized_keys"
sftp_server=$(ls /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/libexec/sftp-server 2>/dev/null | head -n 1 || true)
user=$(id -un)
sshd_port=""
for try in 1 2 3 4 5; do
	p=$(free_port)
	: >"$work/ssh/sshd.log"
	start "$SSHD" -D -e -f /dev/null -p "$p" -o ListenAddress=127.0.0.1 -h "$work/ssh/host_key" \
		-o AuthorizedKeysFile="$work/ssh/authorized_keys" -o PidFile="$work/ssh/sshd.pid" \
		-o StrictModes=no -o UsePAM=no -o PasswordAuthentication=no \
		-o KbdInteractiveAuthentication=no -o PermitRootLogin=prohibit-password \
		-o PrintMotd=no -o PrintLastLog=no -o Banner=none \
		${sftp_server:+-o "Subsystem=sftp $sftp_server"} 2>>"$work/ssh/sshd.log"
	if wait_grep "$work/ssh/sshd.log" "Server listening on 127.0.0.1 port $p" 2>/dev/null; then
		sshd_port=$p
		break
	fi
	kill "$bgpid" 2>/dev/null || true
done
[ -n "$sshd_port" ] || { echo "transfer.sh: sshd did not start:" >&2; cat "$work/ssh/sshd.log" >&2; exit 1; }
SSH_OPTS=(-F /dev/null -i "$work/ssh/user_key" -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o IdentitiesOnly=yes)
SCP=(scp -q -c aes128-gcm@openssh.com -P "$sshd_port" "${SSH_OPTS[@]}")
over=$(ssh -p "$sshd_port" "${SSH_OPTS[@]}" "$user@127.0.0.1" echo over-ssh </dev/null 2>"$work/ssh/client.err" || true)
[ "$over" = over-ssh ] || { echo "transfer.sh: ssh to the throwaway sshd failed:" >&2; cat "$work/ssh/client.err" "$work/ssh/sshd.log" >&2; exit 1; }
echo "# throwaway sshd on 127.0.0.1:$sshd_port (user $user, key auth only)"

# ---- confab one-shot: recv on a loopback port, send to it ----
# confab_once N SRC OUTDIR: one transfer into OUTDIR; sets secs, rpath,
# send_kb and recv_kb (peak RSS), send_cpu and recv_cpu (user+system seconds).
confab_once() {
	local n=$1 src=$2 out=$3 fp port t0 t1 rc=0 rrc=0 rpid
	rm -rf "$work/cs$n" "$work/cr$n"
	mkdir -p "$work/cs$n" "$work/cr$n" "$out"
	fp=$("$confab" id --home "$work/cs$n")
	start /usr/bin/time -f "%M %U %S" -o "$work/cr$n/mem" "$confab" recv --home "$work/cr$n" \
		--no-discovery --no-nat --listen 127.0.0.1:0 --dir "$out" --from "$fp" --yes \
		</dev/null >"$work/cr$n/out" 2>"$work/cr$n/err"
	rpid=$bgpid
	wait_grep "$work/cr$n/err" 'listening on 127\.0\.0\.1:[0-9]+'
	port=$(grep -Eo 'listening on 127\.0\.0\.1:[0-9]+' "$work/cr$n/err" | grep -Eo '[0-9]+$')
	t0=$EPOCHREALTIME
	run /usr/bin/time -f "%M %U %S" -o "$work/cs$n/mem" "$confab" send --home "$work/cs$n" \
		--no-discovery --no-nat --to "127.0.0.1:$port" "$src" \
		</dev/null >"$work/cs$n/out" 2>"$work/cs$n/err" || rc=$?
	wait "$rpid" || rrc=$?
	t1=$EPOCHREALTIME
	secs=$(elapsed "$t0" "$t1")
	if [ "$rc" -ne 0 ] || [ "$rrc" -ne 0 ]; then
		echo "transfer.sh: confab send exited $rc, recv exited $rrc:" >&2
		cat "$work/cs$n/err" "$work/cr$n/err" >&2
		return 1
	fi
	rpath=$(tail -n 1 "$work/cr$n/out")
	read -r send_kb send_cpu <<<"$(tail -n 1 "$work/cs$n/mem" | awk '{ print $1, $2 + $3 }')"
	read -r recv_kb recv_cpu <<<"$(tail -n 1 "$work/cr$n/mem" | awk '{ print $1, $2 + $3 }')"
}

# ---- (1) one big file ----
echo
echo "== 1. one ${big_mib} MiB file over loopback, $runs runs per method (interleaved) =="
echo "# $(loadline)"
declare -a t_confab=() t_scp=() t_socat=() m_send=() m_recv=()
allok=1
# MB/s of the big file in $1 seconds.
mbps() { div "$bytes" "$(awk -v s="$1" 'BEGIN { print s * 1e6 }')" 1; }
verdict() { if cmp -s "$1" "$2"; then echo match; else echo MISMATCH; allok=0; fi; }
for i in $(seq "$runs"); do
	# confab
	confab_once "$i" "$big" "$shm/confab"
	v=$(verdict "$big" "$rpath")
	rm -rf "$shm/confab"
	t_confab+=("$secs"); m_send+=("$send_kb"); m_recv+=("$recv_kb")
	printf '  run %d  confab  %7.3f s  %7.1f MB/s  cmp: %s  peak RSS send %d kB, recv %d kB; CPU send %.2f s, recv %.2f s\n' \
		"$i" "$secs" "$(mbps "$secs")" "$v" "$send_kb" "$recv_kb" "$send_cpu" "$recv_cpu"
	# scp (OpenSSH's scp; 9.0 and later speak SFTP underneath)
	t0=$EPOCHREALTIME
	run "${SCP[@]}" "$big" "$user@127.0.0.1:$shm/scp.bin" </dev/null
	t1=$EPOCHREALTIME
	secs=$(elapsed "$t0" "$t1")
	v=$(verdict "$big" "$shm/scp.bin")
	rm -f "$shm/scp.bin"
	t_scp+=("$secs")
	printf '  run %d  scp     %7.3f s  %7.1f MB/s  cmp: %s\n' \
		"$i" "$secs" "$(mbps "$secs")" "$v"
	# socat, no encryption
	p=$(free_port)
	start socat -u "TCP-LISTEN:$p,reuseaddr,bind=127.0.0.1" "CREATE:$shm/socat.bin"
	spid=$bgpid
	wait_listen "$p"
	t0=$EPOCHREALTIME
	run socat -u "FILE:$big" "TCP:127.0.0.1:$p"
	wait "$spid" || true
	t1=$EPOCHREALTIME
	secs=$(elapsed "$t0" "$t1")
	v=$(verdict "$big" "$shm/socat.bin")
	rm -f "$shm/socat.bin"
	t_socat+=("$secs")
	printf '  run %d  socat   %7.3f s  %7.1f MB/s  cmp: %s\n' \
		"$i" "$secs" "$(mbps "$secs")" "$v"
done
r_confab=$(mbps "$(median "${t_confab[@]}")")
r_scp=$(mbps "$(median "${t_scp[@]}")")
r_socat=$(mbps "$(median "${t_socat[@]}")")
x_scp=$(div "$r_confab" "$r_scp")
x_socat=$(awk -v a="$r_confab" -v b="$r_socat" 'BEGIN { printf "%.0f", 100 * a / b }')
x_scp_socat=$(awk -v a="$r_scp" -v b="$r_socat" 'BEGIN { printf "%.0f", 100 * a / b }')
max_send=$(printf '%s\n' "${m_send[@]}" | sort -n | tail -n 1)
max_recv=$(printf '%s\n' "${m_recv[@]}" | sort -n | tail -n 1)
big_ok=$allok
echo "  median: confab $r_confab MB/s, scp $r_scp MB/s, socat $r_socat MB/s"
echo "  confab = ${x_scp}x scp = ${x_socat}% of socat; scp = ${x_scp_socat}% of socat"
echo "  confab peak RSS (max of $runs runs): sender $max_send kB, receiver $max_recv kB"

# ---- (2) many small files ----
echo
echo "== 2. $nfiles small files (1-8 KiB) in 100 directories, $runs runs per method =="
echo "# $(loadline)"
python3 - "$work/small" "$nfiles" <<'EOF'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(4)
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.bin" % i), "wb") as f:
        f.write(os.urandom(rnd.randint(1024, 8192)))
EOF
small_bytes=$(du -sb --apparent-size "$work/small" | cut -f1)
echo "# source: $work/small, $nfiles files, $small_bytes bytes (apparent, with directories)"
declare -a s_confab=() s_scp=()
allok=1
for i in $(seq "$runs"); do
	confab_once "s$i" "$work/small" "$shm/csmall"
	if diff -r "$work/small" "$rpath" >/dev/null; then v=match; else v=MISMATCH; allok=0; fi
	rm -rf "$shm/csmall"
	s_confab+=("$secs")
	printf '  run %d  confab  %7.3f s  %8.0f files/s  diff -r: %s\n' "$i" "$secs" "$(div "$nfiles" "$secs" 0)" "$v"
	t0=$EPOCHREALTIME
	run "${SCP[@]}" -r "$work/small" "$user@127.0.0.1:$shm/ssmall" </dev/null
	t1=$EPOCHREALTIME
	secs=$(elapsed "$t0" "$t1")
	if diff -r "$work/small" "$shm/ssmall" >/dev/null; then v=match; else v=MISMATCH; allok=0; fi
	rm -rf "$shm/ssmall"
	s_scp+=("$secs")
	printf '  run %d  scp -r  %7.3f s  %8.0f files/s  diff -r: %s\n' "$i" "$secs" "$(div "$nfiles" "$secs" 0)" "$v"
done
f_confab=$(div "$nfiles" "$(median "${s_confab[@]}")" 0)
f_scp=$(div "$nfiles" "$(median "${s_scp[@]}")" 0)
fx=$(div "$f_confab" "$f_scp")
small_ok=$allok
echo "  median: confab $f_confab files/s, scp -r $f_scp files/s; confab = ${fx}x scp"

# ---- (3) chat latency during a transfer ----
echo
echo "== 3. chat latency: $nmsgs messages one at a time, with no transfer and during a ${big_mib} MiB transfer =="
echo "# $(loadline)"
mkdir -p "$work/chat" "$shm/chat"
chat_rc=0
run python3 "$here/transfer.py" "$confab" "$work/chat" "$big" "$shm/chat" "$nmsgs" \
	>"$work/chat.out" 2>&1 || chat_rc=$?
grep -v '^RESULT ' "$work/chat.out" || true
res=$(grep '^RESULT ' "$work/chat.out" || true)
val() { echo "$res" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
[ -n "$res" ] || { echo "transfer.sh: the chat part failed (exit $chat_rc)" >&2; }

# ---- summary ----
load_end=$(loadline)
yn() { if awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; then echo met; else echo "NOT met"; fi; }
echo
echo "==== summary ===="
echo "command:   $cmdline"
echo "confab:    $confab ($("$confab" --version 2>&1 | head -n 1)); $(nproc) CPUs; $(date -u +%FT%TZ)"
echo "load:      at start: $load_start"
echo "           at end:   $load_end"
echo "receiving: into tmpfs ($shm), source in the page cache; MB = 10^6 bytes; medians of $runs runs"
echo "1 GiB-class file ($bytes bytes), every copy compared with cmp: $([ "$big_ok" = 1 ] && echo all match || echo SOME MISMATCHED)"
printf '  confab %8s MB/s   (runs: %s s)\n' "$r_confab" "${t_confab[*]}"
printf '  scp    %8s MB/s   (-c aes128-gcm@openssh.com; runs: %s s)\n' "$r_scp" "${t_scp[*]}"
printf '  socat  %8s MB/s   (no encryption; runs: %s s)\n' "$r_socat" "${t_socat[*]}"
echo "  confab/scp = ${x_scp}x (target >= 3x: $(yn "$x_scp" 3)); confab/socat = ${x_socat}% (target >= 70%: $(yn "$x_socat" 70))"
echo "  confab peak RSS: sender $max_send kB, receiver $max_recv kB (target < 32 MB: $(yn 32768 "$(( (max_send > max_recv ? max_send : max_recv) + 1 ))"))"
echo "$nfiles small files ($small_bytes bytes), every copy compared with diff -r: $([ "$small_ok" = 1 ] && echo all match || echo SOME MISMATCHED)"
echo "  confab $f_confab files/s, scp -r $f_scp files/s; confab/scp = ${fx}x"
if [ -n "$res" ]; then
	echo "chat, $nmsgs messages one at a time (ms):"
	echo "  (sent->delivered: A's sent event read -> its delivered event read, 0 when both come in one read;"
	echo "   written->delivered: the /msg line written to A's stdin -> its delivered event read)"
	echo "  no transfer:     sent->delivered median $(val idle_s2d_med), p99 $(val idle_s2d_p99), max $(val idle_s2d_max); written->delivered median $(val idle_w2d_med)"
	echo "  during transfer: sent->delivered median $(val busy_s2d_med), p99 $(val busy_s2d_p99), max $(val busy_s2d_max); written->delivered median $(val busy_w2d_med), p99 $(val busy_w2d_p99), max $(val busy_w2d_max)"
	echo "  transfers of the big file needed to cover all $nmsgs messages: $(val transfers); last copy matches: $(val match)"
else
	echo "chat: FAILED (see above)"
fi
[ "$big_ok" = 1 ] && [ "$small_ok" = 1 ] && [ "$chat_rc" = 0 ]
