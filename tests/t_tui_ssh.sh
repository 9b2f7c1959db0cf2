#!/bin/bash
# t_tui_ssh.sh - the UI inside a real SSH session: a throwaway sshd on a
# loopback port, throwaway host and user keys, confab run through `ssh -tt`
# in tmux, chatting with a headless peer on loopback.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || skip_all "sshd is not installed (apt-get install openssh-server)"
command -v ssh >/dev/null 2>&1 || skip_all "ssh is not installed (apt-get install openssh-client)"
command -v ssh-keygen >/dev/null 2>&1 || skip_all "ssh-keygen is not installed"
user=$(id -un)
# sshd wants its privilege separation directory; only root can make it.
if [ ! -d /run/sshd ]; then
	if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd && chmod 0755 /run/sshd
	else skip_all "sshd needs /run/sshd, which only root can create"; fi
fi

# Throwaway keys, readable only by us.
mkdir -p "$T/ssh"
chmod 700 "$T/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host_key" </dev/null
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/user_key" </dev/null
cp "$T/ssh/user_key.pub" "$T/ssh/authorized_keys"
chmod 600 "$T/ssh/authorized_keys"

SSHD_PID=""
cleanup_hooks+=('[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null; true')

# Start sshd on a random loopback port below Linux's default ephemeral range
# (32768-60999); try a few ports.
port=""
for try in 1 2 3 4 5 6 7 8; do
	p=$((20000 + RANDOM % 12000))
	"$SSHD" -D -e -p "$p" -o ListenAddress=127.0.0.1 -h "$T/ssh/host_key" \
		-o AuthorizedKeysFile="$T/ssh/authorized_keys" -o PidFile="$T/ssh/sshd.pid" \
		-o StrictModes=no -o UsePAM=no -o PasswordAuthentication=no \
		-o KbdInteractiveAuthentication=no -o PermitRootLogin=prohibit-password \
		-o PrintMotd=no -o PrintLastLog=no -o Banner=none -o MaxStartups=20 \
		2>>"$T/ssh/sshd.log" &
	SSHD_PID=$!
	for i in $(seq 50); do
		grep -q "Server listening on 127.0.0.1 port $p" "$T/ssh/sshd.log" && break
		kill -0 "$SSHD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SSHD_PID" 2>/dev/null && grep -q "port $p" "$T/ssh/sshd.log"; then
		port=$p
		break
	fi
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=""
done
check "sshd listens on a loopback port" test -n "$port"
[ -n "$port" ] || { sed 's/^/# sshd: /' "$T/ssh/sshd.log"; done_testing; }
diag "sshd on 127.0.0.1:$port as $user"

SSH_OPTS=(-F /dev/null -p "$port" -i "$T/ssh/user_key" -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o IdentitiesOnly=yes)
over=$(ssh "${SSH_OPTS[@]}" "$user@127.0.0.1" echo over-ssh 2>"$T/ssh/client.err" </dev/null)
check "a command runs over ssh" test "$over" = over-ssh
[ "$over" = over-ssh ] || { sed 's/^/# /' "$T/ssh/client.err" "$T/ssh/sshd.log"; done_testing; }

# wait_for_log FILE ERE [SECONDS]: wait until a log file has a matching line.
wait_for_log() {
	local i=0
	while [ $i -lt $((${3:-10} * 10)) ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

# The headless peer the remote UI chats with.
start_peer bob --nick bob --listen 127.0.0.1:0
addr_b=$(addr_of bob)
fp_b=$(fp_of bob)

# alice: the UI, on the far side of ssh (TERM comes from the ssh client's pty request).
mkdir -p "$T/alice"
remote="exec env LC_ALL=C.UTF-8 $(printf '%q' "$CONFAB") --home $(printf '%q' "$T/alice") --nick alice --no-discovery --no-nat --listen 127.0.0.1:0 --log $(printf '%q' "$T/alice.log") --debug"
tui_start alice 100 30 env TERM=screen ssh -tt "${SSH_OPTS[@]}" "$user@127.0.0.1" "$remote"
check "the UI comes up through ssh" wait_screen alice '^\[home\]' 20
check "the status bar shows alice's address" quiet status_addr alice
check "the remote side got a terminal (TERM from the pty request)" \
	wait_for_log "$T/alice.log" 'tui: [0-9]+x[0-9]+, TERM=screen, colour, UTF-8'

say_line alice "/connect $addr_b"
check "alice (over ssh) connects to bob" quiet wait_for bob '.event=="peer" and .state=="online" and .nick=="alice"' 10
check "alice's peer list shows bob online" wait_screen alice 'peers 1/1 online'
say_line alice "/query bob"
say_line alice "hello over ssh ✓"
check "bob receives alice's message typed through ssh" quiet wait_for bob '.event=="message" and .text=="hello over ssh ✓"' 10
fp_a=$(wait_for bob '.event=="peer" and .nick=="alice"' 5 | jq -r .fingerprint)
say bob "/msg $fp_a hi alice, through the tunnel 日本"
check "alice sees bob's reply over ssh" wait_screen alice '<bob> hi alice, through the tunnel 日本'
check "alice sees her message delivered" wait_screen alice '✓ <alice> hello over ssh ✓'

# A resize reaches the remote UI as SIGWINCH through ssh.
type_text alice "half typed"
TM resize-window -t alice -x 60 -y 16
check "after a resize over ssh the newest message is visible" wait_screen alice 'through the tunnel'
check "after a resize over ssh the input is intact" wait_screen alice '^\[bob\] half typed$'
check "the remote UI got the new size (SIGWINCH through ssh)" wait_for_log "$T/alice.log" 'resized to 60x16' 5
keys alice C-u

# Many lines over a slow path still end on the newest.
for i in $(seq 1 40); do echo "/msg $fp_a burst-$i"; done >&"${PEER_FD[bob]}"
check "a burst of 40 messages ends with the newest on screen" wait_screen alice '<bob> burst-40' 20

# Idle over ssh: measured on the remote confab process.
rpid=$(pgrep -f -- "^$CONFAB --home $T/alice" | head -n 1)
check "the confab process on the far side is found" test -n "$rpid"
[ -n "$rpid" ] && idle_report "alice over ssh" "$rpid" 10

say_line alice "/quit"
check "the ssh session ends when confab quits" wait_dead alice 15
check "ssh exits 0 (confab's status comes back through ssh)" test "$(exit_status alice)" = 0
check "bob sees alice go offline" quiet wait_for bob '.event=="peer" and .state=="offline" and .nick=="alice"' 5
check "no confab is left running on the far side" not pgrep -f -- "^$CONFAB --home $T/alice"
done_testing
