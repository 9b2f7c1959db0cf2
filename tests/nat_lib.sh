# nat_lib.sh - a home-router lab for the port mapping, invite and DNS tests.
# Sourced after lib.sh; builds on lan_lib.sh's namespaces (cleaned up at exit,
# also on failure).  The lab, all inside network namespaces the test creates:
#
#   LAN1 10.61.1.0/24           "internet" 11.77.0.0/24          LAN2 10.62.1.0/24
#   a (10.61.1.2) --- r1 --- sw0: r1 11.77.0.1, r2 11.77.0.2, --- r2 --- b (10.62.1.2)
#                             dns 11.77.0.53 (dnsmasq)
#
# r1 and r2 NAT with iptables-legacy MASQUERADE and may run Debian's miniupnpd.
# The "internet" block must not be private or reserved (miniupnpd refuses to
# map behind such an address); it exists only inside these namespaces, which
# are never connected to the machine's interfaces.  Nothing here has a route
# out of the lab.
. "$(dirname "${BASH_SOURCE[0]}")/lan_lib.sh"

for tool in miniupnpd iptables-legacy; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "no $tool (apt-get install miniupnpd-iptables iptables)"
done

NAT_INET=11.77.0
NETNS_ETC=()

# Remove the per-namespace resolver files we created.
nat_cleanup() {
	local d
	for d in "${NETNS_ETC[@]}"; do
		rm -rf "$d"
	done
}
cleanup_hooks+=("nat_cleanup")

# nat_router NAME LANSW LANADDR/PFX EXTADDR/PFX: a router namespace with eth0 on
# LANSW, eth1 on the internet switch sw0, forwarding, MASQUERADE out of eth1
# and the chains miniupnpd expects (its shipped iptables_init.sh is broken).
nat_router() {
	local name=$1 lansw=$2 lan=$3 ext=$4 n ipt
	lab_ns "$name" && lab_link "$lansw" "$name" eth0 && lab_link sw0 "$name" eth1 || return 1
	n=$(ns "$name")
	ip -n "$n" addr add "$lan" dev eth0
	ip -n "$n" addr add "$ext" dev eth1
	ip -n "$n" link set eth0 up
	ip -n "$n" link set eth1 up
	ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	ipt="ip netns exec $n iptables-legacy"
	$ipt -t nat -A POSTROUTING -o eth1 -j MASQUERADE &&
	$ipt -t nat -N MINIUPNPD &&
	$ipt -t nat -N MINIUPNPD-POSTROUTING &&
	$ipt -t nat -I PREROUTING -i eth1 -j MINIUPNPD &&
	$ipt -t nat -I POSTROUTING -o eth1 -j MINIUPNPD-POSTROUTING &&
	$ipt -t filter -N MINIUPNPD &&
	$ipt -t filter -I FORWARD -i eth1 ! -o eth1 -j MINIUPNPD &&
	$ipt -t mangle -N MINIUPNPD
}

# nat_lab [R1EXT]: the whole lab (r1's external address defaults to 11.77.0.1).
nat_lab() {
	local r1ext=${1:-$NAT_INET.1/24}
	lab_switch sw0 && lab_switch sw1 && lab_switch sw2 || return 1
	nat_router r1 sw1 10.61.1.1/24 "$r1ext" || return 1
	nat_router r2 sw2 10.62.1.1/24 "$NAT_INET.2/24" || return 1
	lab_host a sw1 10.61.1.2/24 && ip -n "$(ns a)" route add default via 10.61.1.1 || return 1
	lab_host b sw2 10.62.1.2/24 && ip -n "$(ns b)" route add default via 10.62.1.1 || return 1
}

# upnpd ROUTER MODE [CONF-LINE...]: start miniupnpd on ROUTER with NAT-PMP and
# UPnP ("both"), only one of them ("natpmp", "upnp"); extra config lines may
# follow.  Waits until it serves.
upnpd() {
	local r=$1 mode=$2 n conf lan i
	shift 2
	n=$(ns "$r")
	conf=$T/$r.miniupnpd.conf
	lan=$(ip -n "$n" -4 -o addr show dev eth0 | awk '{print $4}')
	{
		echo "ext_ifname=eth1"
		echo "listening_ip=eth0"
		echo "http_port=5000"
		case $mode in
		both) echo "enable_natpmp=yes"; echo "enable_upnp=yes" ;;
		natpmp) echo "enable_natpmp=yes"; echo "enable_upnp=no" ;;
		upnp) echo "enable_natpmp=no"; echo "enable_upnp=yes" ;;
		esac
		echo "secure_mode=yes"
		echo "system_uptime=no"
		echo "uuid=3d3cec3a-8cf0-11e0-98ee-00$(printf '%010d' $$)"
		echo "lease_file=$T/$r.leases"
		echo "allow 1024-65535 ${lan%.*/*}.0/24 1024-65535"
		echo "deny 0-65535 0.0.0.0/0 0-65535"
		for i in "$@"; do echo "$i"; done
	} >"$conf"
	ip netns exec "$n" miniupnpd -f "$conf" -d -4 -P "$T/$r.miniupnpd.pid" \
		>>"$T/$r.miniupnpd.log" 2>&1 &
	for i in $(seq 100); do
		grep -q "starting" "$T/$r.miniupnpd.log" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# router_ports ROUTER: the external ports ROUTER forwards (its MINIUPNPD nat
# chain; this iptables cannot print miniupnpd's DNAT target, so the
# destination comes from the lease file, which miniupnpd keeps current).
router_ports() {
	ip netns exec "$(ns "$1")" iptables-legacy -t nat -S MINIUPNPD 2>/dev/null |
		sed -n 's/.*--dport \([0-9]*\).*/\1/p'
}

# router_maps ROUTER EXTPORT DEST: whether ROUTER forwards EXTPORT to DEST (addr:port).
router_maps() {
	router_ports "$1" | grep -qx "$2" && grep -q "^TCP:$2:$3:" "$T/$1.leases" 2>/dev/null
}

# router_empty ROUTER: whether ROUTER forwards nothing.
router_empty() {
	[ -z "$(router_ports "$1")" ]
}

# nat_dns [DNSMASQ-ARGS...]: a DNS server at 11.77.0.53 on the internet
# segment, answering only what the arguments say; b resolves through it.
nat_dns() {
	local n i
	lab_host dns sw0 "$NAT_INET.53/24" || return 1
	n=$(ns dns)
	ip netns exec "$n" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--no-poll --bind-interfaces --listen-address="$NAT_INET.53" --port=53 --pid-file= \
		--log-queries --log-facility="$T/dnsmasq.log" "$@" 2>>"$T/dnsmasq.err" &
	mkdir -p "/etc/netns/$(ns b)"
	NETNS_ETC+=("/etc/netns/$(ns b)")
	echo "nameserver $NAT_INET.53" >"/etc/netns/$(ns b)/resolv.conf"
	for i in $(seq 100); do
		ip netns exec "$n" ss -Hlun 2>/dev/null | grep -q "$NAT_INET.53:53" && return 0
		sleep 0.05
	done
	return 1
}

# start_nat NAME NS [ARGS...]: a headless confab in namespace NS with port
# mapping on (LAN discovery off: only invites and names find peers here).
start_nat() {
	local name=$1 n
	n=$(ns "$2")
	shift 2
	launch_peer "$name" ip netns exec "$n" -- --nick "$name" --no-discovery "$@"
}

# nat_event NAME [SECONDS]: wait for NAME's first "nat" event and print it.
nat_event() {
	wait_for "$1" '.event=="nat"' "${2:-15}"
}

# invite_of NAME: ask NAME for an invite code and print it.
invite_of() {
	local n0
	n0=$(count_events "$1" '.event=="invite"')
	say "$1" "/invite"
	wait_count "$1" '.event=="invite"' $((n0 + 1)) 5 || return 1
	events "$1" 'select(.event=="invite") | .code' | tail -n 1 | tr -d '"'
}

# established NS PORT: TCP connections established to or from PORT in namespace NS.
established() {
	ip netns exec "$(ns "$1")" ss -Htn state established "( sport = :$2 or dport = :$2 )" | wc -l
}

# wait_for_log FILE PATTERN [SECONDS]: wait until a line of FILE matches PATTERN.
wait_for_log() {
	local i
	for i in $(seq $((${3:-5} * 20))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
