# lan_lib.sh - network-namespace labs for the LAN discovery tests.
# Sourced after lib.sh.  Everything the lab builds lives in namespaces named
# cf<pid><name>: a "switch" namespace holding a bridge, and one namespace per
# host joined to it by a veth pair.  Nothing touches the machine's own network
# namespace, so no discovery traffic can leave the machine; the namespaces and
# every process in them are removed at exit, also on failure.

NS_PREFIX="cf$$"
LAB_NS=()

[ "$(id -u)" -eq 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip_all "no ip(8) (iproute2)"
command -v jq >/dev/null 2>&1 || skip_all "no jq"
if ! ip netns add "${NS_PREFIX}probe" 2>/dev/null; then
	skip_all "cannot create network namespaces here"
fi
ip netns del "${NS_PREFIX}probe"

# Kill whatever runs in our namespaces, then delete them.
lab_cleanup() {
	local ns pid
	disown -a 2>/dev/null   # no "Killed" notices for what we kill here
	for ns in "${LAB_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
	done
	for ns in "${LAB_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
}
cleanup_hooks+=("lab_cleanup")
trap 'exit 130' INT TERM

# ns NAME: the full namespace name of a lab node.
ns() { printf '%s%s' "$NS_PREFIX" "$1"; }

# lab_ns NAME: create a namespace with loopback up and no IPv6 DAD delay.
lab_ns() {
	local n
	n=$(ns "$1")
	ip netns add "$n" || return 1
	LAB_NS+=("$n")
	ip -n "$n" link set lo up
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 >/dev/null
}

# lab_switch NAME: a namespace with a bridge br0 (the segment).
lab_switch() {
	lab_ns "$1" || return 1
	ip -n "$(ns "$1")" link add br0 type bridge &&
	ip -n "$(ns "$1")" link set br0 up
}

# lab_link SWITCH HOST [IFNAME]: a veth from SWITCH's bridge into HOST as
# IFNAME (default eth0), not yet up.
lab_link() {
	local sw=$1 host=$2 ifn=${3:-eth0} port
	port="p${host}${ifn}"
	port=${port:0:15}
	ip -n "$(ns "$sw")" link add "$port" type veth peer name "$ifn" netns "$(ns "$host")" &&
	ip -n "$(ns "$sw")" link set "$port" master br0 up
}

# lab_host NAME SWITCH [ADDR/PREFIX...]: a host on the segment with eth0 up
# and the given addresses (IPv6 ones without DAD).
lab_host() {
	local name=$1 sw=$2 a
	shift 2
	lab_ns "$name" && lab_link "$sw" "$name" eth0 || return 1
	for a in "$@"; do
		case $a in
		*:*) ip -n "$(ns "$name")" addr add "$a" dev eth0 nodad ;;
		*) ip -n "$(ns "$name")" addr add "$a" dev eth0 ;;
		esac
	done
	ip -n "$(ns "$name")" link set eth0 up
}

# start_host NAME NSNAME [ARGS...]: a headless confab with discovery on,
# inside a lab namespace (output in $T/NAME.out as with start_peer).
start_host() {
	local name=$1 n
	n=$(ns "$2")
	shift 2
	launch_peer "$name" ip netns exec "$n" -- --nick "$name" --no-nat "$@"
}

declare -A FP_CACHE
# fp_learn NAME...: remember fp_of NAME in FP_CACHE (call in the main shell).
fp_learn() {
	local n
	for n in "$@"; do
		[ -n "${FP_CACHE[$n]:-}" ] || FP_CACHE[$n]=$(fp_of "$n")
	done
}

# now_ms: the wall clock in milliseconds.
now_ms() { date +%s%3N; }

# lists NAME OTHER...: whether NAME's latest event about each OTHER (by
# fingerprint) shows it discovered or online.
lists() {
	local name=$1 o fp st
	shift
	for o in "$@"; do
		fp_learn "$o"
		fp=${FP_CACHE[$o]}
		st=$(events "$name" "select(.event==\"peer\" and .fingerprint==\"$fp\") | .state" | tail -n 1)
		case $st in
		'"discovered"'|'"online"'|'"connecting"') ;;
		*) return 1 ;;
		esac
	done
}

# wait_lists NAME SECONDS OTHER...: wait until lists NAME OTHER... holds.
wait_lists() {
	local name=$1 secs=$2 i=0
	shift 2
	while [ $i -lt $((secs * 20)) ]; do
		lists "$name" "$@" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# state_of NAME OTHER: the latest state NAME reported for OTHER ("" if none).
state_of() {
	fp_learn "$2"
	events "$1" "select(.event==\"peer\" and .fingerprint==\"${FP_CACHE[$2]}\") | .state" |
		tail -n 1 | tr -d '"'
}

# wait_state NAME OTHER STATE SECONDS: wait until state_of NAME OTHER is STATE.
wait_state() {
	local i=0
	while [ $i -lt $(($4 * 20)) ]; do
		[ "$(state_of "$1" "$2")" = "$3" ] && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# log_ms NAME PATTERN: the log time (ms since the epoch) of the first log line
# of NAME matching the extended regular expression PATTERN.
log_ms() {
	local line
	line=$(grep -m 1 -E "$2" "$T/$1.log") || return 1
	date -d "${line:0:23}" +%s%3N
}
