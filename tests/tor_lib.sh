# tor_lib.sh - a private Tor network for the tests, in one network namespace
# that has nothing but its loopback interface: three directory authorities,
# relays, an onion service host and a client, all on 127.0.0.1 inside it.
# Sourced after lib.sh (it builds on lan_lib.sh's namespaces, removed at exit
# with every process in them, also on failure).  Every tor is Debian's binary
# run with an empty defaults file and a torrc of its own: the system torrc is
# never read, the public authorities and fallback directories are replaced by
# the lab's, and no system tor is used.
#
#   tor_lab [RELAYS]        keys, torrcs, authorities and relays (default 3),
#                           then wait until every directory serves them all
#   tor_onion NAME PORT TARGET  an onion service host NAME whose onion PORT
#                           leads to 127.0.0.1:TARGET; its address in TOR_ONION
#   tor_client NAME         a client with a SOCKS port (TOR_SOCKS) once bootstrapped
#   tor_ns                  the namespace's full name (for ip netns exec)
#   tor_app_torrc FILE      the torrc lines a tor started by an app (confab
#                           --tor-config) needs to join the lab
#   tor_reach NAME...       namespaces NAME (made here, loopback only, no route
#                           anywhere) that reach the lab's relays and nothing else
. "$(dirname "${BASH_SOURCE[0]}")/lan_lib.sh"

for tool in tor tor-gencert python3; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "no $tool (apt-get install tor python3)"
done

TOR_BASE=$((21000 + ($$ % 400) * 20))   # ports: per test process, inside its own namespace anyway
TOR_DIRAUTH=""
TOR_NODES=()
TOR_ONION=""
TOR_SOCKS=""
TOR_NREL=3

# outside_tors: the pids of the tors running in the machine's own namespace
# (a tor in another test's namespace is that test's, not the system's).
outside_tors() {
	local pid
	for pid in $(pgrep -x tor); do
		[ "$(readlink "/proc/$pid/ns/net")" = "$(readlink /proc/1/ns/net)" ] && echo "$pid"
	done
}

# no_system_tor: stop a system tor the package may have started (by its pid
# file only), then succeed if no tor runs outside our labs.  A tor there that
# is gone 2 s later was a helper of a lab being built beside us (another
# checkout's tor --list-fingerprint), not a system tor.
no_system_tor() {
	local f pid seen
	for f in /run/tor/tor.pid /var/run/tor/tor.pid; do
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		[ -n "$pid" ] && kill "$pid" 2>/dev/null && diag "stopped the system tor (pid $pid from $f)"
	done
	seen=$(outside_tors)
	[ -z "$seen" ] && return 0
	sleep 2
	for pid in $(outside_tors); do
		if grep -qx "$pid" <<<"$seen"; then
			echo "# a tor runs outside the labs: pid $pid, $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" >&2
			return 1
		fi
	done
	return 0
}

tor_ns() { ns tor; }

# tor_in CMD...: run CMD inside the lab's namespace.
tor_in() { ip netns exec "$(ns tor)" "$@"; }

# tor_torrc DIR NICK: the lines every lab tor has.
tor_torrc() {
	cat <<CONF
TestingTorNetwork 1
DataDirectory $1
Nickname $2
PidFile $1/tor.pid
RunAsDaemon 1
Log notice file $1/notice.log
SafeLogging 0
ShutdownWaitLength 0
$TOR_DIRAUTH
UseDefaultFallbackDirs 0
ClientUseIPv4 1
ClientUseIPv6 0
PathsNeededToBuildCircuits 0.67
Schedulers Vanilla
__OwningControllerProcess $$
CONF
}

# tor_relay_torrc DIR NICK ORPORT DIRPORT: a non-exit relay.
tor_relay_torrc() {
	tor_torrc "$1" "$2"
	cat <<CONF
Address 127.0.0.1
AddressDisableIPv6 1
ORPort 127.0.0.1:$3
DirPort 127.0.0.1:$4
SocksPort 0
ExitRelay 0
ExitPolicy reject *:*
AssumeReachable 1
ServerDNSResolvConfFile $T/tor/resolv.conf
ServerDNSDetectHijacking 0
ContactInfo lab@example.invalid
CONF
}

# tor_start DIR: start a tor on DIR/torrc; it forks once its ports are open.
tor_start() {
	tor_in tor --defaults-torrc "$T/tor/empty" -f "$1/torrc" >"$1/stdout.log" 2>&1 || {
		sed 's/^/# tor: /' "$1/stdout.log"
		return 1
	}
	TOR_NODES+=("$1")
}

# tor_dir_complete DIRPORT N: the directory at DIRPORT serves a consensus of N
# relays and the microdescriptors of all of them (a client that asks a cache
# before it has them waits about 10 s to ask again).
tor_dir_complete() {
	tor_in python3 - "$1" "$2" <<'PY'
import sys, urllib.request
port, want = sys.argv[1], int(sys.argv[2])
base = "http://127.0.0.1:%s/tor/" % port
try:
    cons = urllib.request.urlopen(base + "status-vote/current/consensus-microdesc", timeout=2).read().decode()
    digests = [l.split()[1] for l in cons.splitlines() if l.startswith("m ")]
    if sum(1 for l in cons.splitlines() if l.startswith("r ")) < want or len(digests) < want:
        sys.exit(1)
    md = urllib.request.urlopen(base + "micro/d/" + "-".join(digests), timeout=2).read().decode()
    sys.exit(0 if md.count("onion-key") >= want else 1)
except Exception:
    sys.exit(1)
PY
}

# tor_lab [RELAYS]: authorities and relays, up and agreeing.
tor_lab() {
	local nrel=${1:-3} i d fp v3 end
	TOR_NREL=$nrel
	no_system_tor || { diag "a system tor is running"; return 1; }
	lab_ns tor || return 1
	mkdir -p "$T/tor" && chmod 700 "$T/tor"
	: >"$T/tor/empty"
	echo "nameserver 127.0.0.1" >"$T/tor/resolv.conf"
	for i in 1 2 3; do
		d=$T/tor/auth$i
		mkdir -p "$d/keys" && chmod 700 "$d"
		echo lab-passphrase | tor-gencert --create-identity-key --passphrase-fd 0 -m 12 \
			-i "$d/keys/authority_identity_key" -s "$d/keys/authority_signing_key" \
			-c "$d/keys/authority_certificate" -a "127.0.0.1:$((TOR_BASE + 10 + i))" >/dev/null 2>&1 || return 1
		# in the lab's namespace: a tor in the machine's own would look like a system tor to no_system_tor
		tor_in tor --defaults-torrc "$T/tor/empty" -f "$T/tor/empty" --ignore-missing-torrc --DataDirectory "$d" \
			--ORPort 1 --Nickname "auth$i" --list-fingerprint >/dev/null 2>&1 || return 1
		fp=$(awk '{print $2}' "$d/fingerprint")
		v3=$(awk '/^fingerprint /{print $2}' "$d/keys/authority_certificate")
		TOR_DIRAUTH+="DirAuthority auth$i orport=$((TOR_BASE + i)) no-v2 v3ident=$v3 127.0.0.1:$((TOR_BASE + 10 + i)) $fp"$'\n'
	done
	for i in 1 2 3; do
		d=$T/tor/auth$i
		{
			tor_relay_torrc "$d" "auth$i" $((TOR_BASE + i)) $((TOR_BASE + 10 + i))
			cat <<CONF
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
TestingV3AuthInitialVotingInterval 5
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval 10
V3AuthVoteDelay 2
V3AuthDistDelay 2
V3AuthNIntervalsValid 2
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
TestingMinExitFlagThreshold 0
CONF
		} >"$d/torrc"
	done
	for i in $(seq "$nrel"); do
		d=$T/tor/relay$i
		mkdir -p "$d" && chmod 700 "$d"
		tor_relay_torrc "$d" "relay$i" $((TOR_BASE + 3 + i)) $((TOR_BASE + 13 + i)) >"$d/torrc"
	done
	for d in "$T"/tor/auth* "$T"/tor/relay*; do tor_start "$d" || return 1; done
	# the client and the onion service start only once the network is complete:
	# on a partial consensus they pick guards they then wait on
	end=$((SECONDS + 90))
	for i in $(seq 1 $((3 + nrel))); do
		until tor_dir_complete $((TOR_BASE + 10 + i)) $((3 + nrel)); do
			[ $SECONDS -lt $end ] || { diag "directory $i never served all $((3 + nrel)) relays"; return 1; }
			sleep 0.5
		done
	done
}

# tor_bootstrapped DIR: the tor in DIR says it is 100% bootstrapped.
tor_bootstrapped() { grep -q "Bootstrapped 100%" "$1/notice.log" 2>/dev/null; }

# tor_onion NAME PORT TARGET: an onion service host; sets TOR_ONION.
tor_onion() {
	local d=$T/tor/$1 i
	mkdir -p "$d" && chmod 700 "$d"
	{
		tor_torrc "$d" "$1"
		echo "SocksPort 0"
		echo "HiddenServiceDir $d/hs"
		echo "HiddenServicePort $2 127.0.0.1:$3"
	} >"$d/torrc"
	tor_start "$d" || return 1
	for i in $(seq 600); do
		tor_bootstrapped "$d" && [ -s "$d/hs/hostname" ] && break
		sleep 0.1
	done
	TOR_ONION=$(cat "$d/hs/hostname" 2>/dev/null)
	[ -n "$TOR_ONION" ] && tor_bootstrapped "$d"
}

# tor_client NAME: a client tor with a SOCKS port; sets TOR_SOCKS.
tor_client() {
	local d=$T/tor/$1 i
	mkdir -p "$d" && chmod 700 "$d"
	TOR_SOCKS=$((TOR_BASE + 19))
	{
		tor_torrc "$d" "$1"
		echo "SocksPort 127.0.0.1:$TOR_SOCKS ExtendedErrors"
	} >"$d/torrc"
	tor_start "$d" || return 1
	for i in $(seq 600); do
		tor_bootstrapped "$d" && return 0
		sleep 0.1
	done
	return 1
}

# tor_app_torrc FILE: the lines that make a tor someone else starts a lab
# client: the lab's authorities, never the public ones.
tor_app_torrc() {
	{
		echo "TestingTorNetwork 1"
		printf '%s' "$TOR_DIRAUTH"
		echo "UseDefaultFallbackDirs 0"
		echo "ClientUseIPv4 1"
		echo "ClientUseIPv6 0"
		echo "PathsNeededToBuildCircuits 0.67"
		echo "Schedulers Vanilla"
		echo "SafeLogging 0"
	} >"$1"
}

# tor_reach NAME...: namespaces with only loopback in which the lab's ORPorts
# and DirPorts (127.0.0.1, the addresses the consensus lists) lead to the
# lab's relays, through tests/tor_fwd.py running in the lab's namespace.
tor_reach() {
	local n ports=() paths=() i
	for n in "$@"; do
		lab_ns "$n" || return 1
		paths+=("/run/netns/$(ns "$n")")
	done
	for i in $(seq 1 $((3 + TOR_NREL))); do
		ports+=($((TOR_BASE + i)) $((TOR_BASE + 10 + i)))
	done
	tor_in python3 "$top_srcdir/tests/tor_fwd.py" "${paths[@]}" -- "${ports[@]}" >"$T/tor/fwd.out" 2>&1 &
	for i in $(seq 100); do
		grep -q ready "$T/tor/fwd.out" 2>/dev/null && return 0
		sleep 0.05
	done
	sed 's/^/# fwd: /' "$T/tor/fwd.out"
	return 1
}
