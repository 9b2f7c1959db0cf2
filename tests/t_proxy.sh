#!/bin/bash
# t_proxy.sh - reaching a peer only a jump host can see, through `ssh -D`:
#
#   a (10.71.1.2) --- j (10.71.1.1 | 10.72.1.1) --- b (10.72.1.2)
#
# j does not forward, so a cannot reach b at all.  j runs a real sshd and a
# dnsmasq that alone knows the name bob.jump.lab.  On a, `ssh -D` opens a
# SOCKS5 port to j; confab on a with --proxy reaches confab on b by address,
# by the name (resolved by j: remote DNS) and by invite code, chats, sends a
# file, and says path "proxy".  All in network namespaces this test makes;
# none has a route out of the lab.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lan_lib.sh"
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || skip_all "sshd is not installed (apt-get install openssh-server)"
for tool in ssh ssh-keygen dnsmasq; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "no $tool (apt-get install openssh-client dnsmasq-base)"
done
[ -d /run/sshd ] || { mkdir -p /run/sshd && chmod 0755 /run/sshd; }

NETNS_ETC=()
etc_cleanup() { local d; for d in "${NETNS_ETC[@]}"; do rm -rf "$d"; done; }
cleanup_hooks+=("etc_cleanup")

# resolver NS ADDR: NS looks names up at ADDR (ip netns exec mounts this file).
resolver() {
	mkdir -p "/etc/netns/$(ns "$1")"
	NETNS_ETC+=("/etc/netns/$(ns "$1")")
	echo "nameserver $2" >"/etc/netns/$(ns "$1")/resolv.conf"
}

# inns NS CMD...: run in a lab namespace.
inns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

# listening NS ADDR:PORT: whether something listens there (TCP).
listening() { inns "$1" ss -Hltn "( sport = :${2##*:} )" | grep -q "${2%:*}:${2##*:}"; }

# --- the lab -------------------------------------------------------------
lab_switch swa && lab_switch swb || skip_all "cannot build the lab"
lab_host a swa 10.71.1.2/24
lab_host b swb 10.72.1.2/24
lab_ns j && lab_link swa j eth0 && lab_link swb j eth1
ip -n "$(ns j)" addr add 10.71.1.1/24 dev eth0
ip -n "$(ns j)" addr add 10.72.1.1/24 dev eth1
ip -n "$(ns j)" link set eth0 up
ip -n "$(ns j)" link set eth1 up
inns j sysctl -qw net.ipv4.ip_forward=0
resolver a 127.0.0.1   # nothing answers there: a resolves no name itself
resolver j 127.0.0.1   # the jump host's dnsmasq
check "a cannot reach b directly (j does not forward)" \
	bash -c "! ip netns exec $(ns a) bash -c 'exec 3<>/dev/tcp/10.72.1.2/22' 2>/dev/null"

inns j dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
	--bind-interfaces --listen-address=127.0.0.1 --port=53 --pid-file= \
	--address=/bob.jump.lab/10.72.1.2 --log-queries --log-facility="$T/dnsmasq.log" 2>>"$T/dnsmasq.err" &
for i in $(seq 100); do inns j ss -Hlun | grep -q "127.0.0.1:53 " && break; sleep 0.05; done

mkdir -p "$T/ssh" && chmod 700 "$T/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host_key" </dev/null
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/user_key" </dev/null
cp "$T/ssh/user_key.pub" "$T/ssh/authorized_keys" && chmod 600 "$T/ssh/authorized_keys"
inns j "$SSHD" -D -e -p 22 -o ListenAddress=10.71.1.1 -h "$T/ssh/host_key" \
	-o AuthorizedKeysFile="$T/ssh/authorized_keys" -o PidFile=none \
	-o StrictModes=no -o UsePAM=no -o PasswordAuthentication=no \
	-o KbdInteractiveAuthentication=no -o PermitRootLogin=prohibit-password \
	-o AllowTcpForwarding=yes -o UseDNS=no 2>>"$T/sshd.log" &
for i in $(seq 100); do listening j 10.71.1.1:22 && break; sleep 0.05; done
check "sshd listens on the jump host" listening j 10.71.1.1:22

# ssh -D on a: the SOCKS5 port that only reaches what j reaches.
inns a ssh -F /dev/null -N -D 127.0.0.1:1080 -i "$T/ssh/user_key" -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o IdentitiesOnly=yes \
	-o ExitOnForwardFailure=yes "$(id -un)@10.71.1.1" </dev/null 2>>"$T/ssh.err" &
for i in $(seq 200); do listening a 127.0.0.1:1080 && break; sleep 0.05; done
check "ssh -D listens on a's loopback" listening a 127.0.0.1:1080 || sed 's/^/# /' "$T/ssh.err" "$T/sshd.log"

PROXY=socks5://127.0.0.1:1080
launch_peer bob ip netns exec "$(ns b)" -- --nick bob --no-discovery --no-nat \
	--listen 10.72.1.2:7470 --dns-name bob.jump.lab:7470 --download-dir "$T/bob-dl"
fb=$(fp_of bob)

# --- without the proxy: no way through -----------------------------------
launch_peer direct ip netns exec "$(ns a)" -- --nick direct --no-discovery --no-nat --listen 10.71.1.2:7470
say direct "/connect 10.72.1.2:7470"
e=$(wait_for direct '.event=="error"' 10)
check "without --proxy a cannot reach b" test -n "$e"
diag "without the proxy: $(jq -r .message <<<"$e")"
kill_peer direct

# --- by address ------------------------------------------------------------
launch_peer alice ip netns exec "$(ns a)" -- --nick alice --no-discovery --no-nat \
	--listen 10.71.1.2:7470 --proxy "$PROXY"
fa=$(fp_of alice)
check "alice starts with --proxy $PROXY" test -n "$fa" || { sed 's/^/# /' "$T/alice.err"; done_testing; }
t0=$(date +%s%3N)
via_proxy alice 10.72.1.2:7470 "$fb" "bob by address through ssh -D"
diag "connect through ssh -D took $(( $(date +%s%3N) - t0 )) ms"
q=$(wait_for bob ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fa\"" 10)
check "bob sees alice arrive from the jump host" test "$(jq -r .addr <<<"$q" | cut -d: -f1)" = 10.72.1.1
check "bob's side of it is direct" test "$(jq -r .path <<<"$q")" = direct
talk_and_send alice bob "$fa" "$fb" "hello via the jump host" 300000 "$T/bob-dl"
kill_peer alice

# proxied_alice NAME: another alice in a's namespace, with the proxy (home $T/NAME).
proxied_alice() {
	PEER_HOME[$1]=$T/$1
	launch_peer "$1" ip netns exec "$(ns a)" -- --nick alice --no-discovery --no-nat \
		--listen 10.71.1.2:7470 --proxy "$PROXY"
}

# --- by a name only the jump host can resolve ------------------------------
proxied_alice alice2
via_proxy alice2 bob.jump.lab:7470 "$fb" "bob.jump.lab (resolved by the jump host)"
check "the jump host's resolver was asked for bob.jump.lab" grep -q "query.*bob.jump.lab" "$T/dnsmasq.log"
# bob goes away and comes back: alice calls him again by the name, through the proxy
say alice2 "/msg $fb keep me"
wait_for bob '.event=="message" and .text=="keep me"' 10 >/dev/null
kill_peer bob
wait_for alice2 ".event==\"peer\" and .state==\"offline\" and .fingerprint==\"$fb\"" 15 >/dev/null
n0=$(count_events alice2 ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fb\"")
launch_peer bob ip netns exec "$(ns b)" -- --nick bob --no-discovery --no-nat \
	--listen 10.72.1.2:7470 --dns-name bob.jump.lab:7470 --download-dir "$T/bob-dl"
check "when bob is back, alice reconnects by the name through the proxy" \
	wait_count alice2 ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fb\"" $((n0 + 1)) 20
kill_peer alice2

# --- by invite code (an address and a name candidate) -----------------------
code=$(n0=$(count_events bob '.event=="invite"'); say bob "/invite"
	wait_count bob '.event=="invite"' $((n0 + 1)) 5 && events bob 'select(.event=="invite") | .code' | tail -n 1 | tr -d '"')
check "bob gives an invite code" test -n "$code"
proxied_alice alice3
via_proxy alice3 "$code" "$fb" "bob with his invite code"
check "the name candidate went to the proxy" grep -q "trying bob.jump.lab:7470 through the proxy" "$T/alice3.log"
say alice3 "/msg $fb invited"
check "bob receives the invited message" wait_for bob '.event=="message" and .text=="invited"'
check "bob is still running" alive bob
done_testing
