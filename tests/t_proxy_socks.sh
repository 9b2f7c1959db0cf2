#!/bin/bash
# t_proxy_socks.sh - --proxy against a small SOCKS5 server on loopback
# (tests/socks_server.py): a session through it with an RFC 1929 login, a
# host name only the proxy can resolve (remote DNS), the path shown as
# "proxy", a wrong password, a proxy that wants a login we lack, a proxy that
# is not there, and the error text of every SOCKS5 reply code.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
SRV=$(dirname "$0")/socks_server.py
SOCKS_PIDS=()
at_exit() { local p; for p in "${SOCKS_PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
cleanup_hooks+=(at_exit)

# socks NAME ARGS...: start a server; its port goes to SOCKS_PORT.
socks() {
	local name=$1
	shift
	python3 "$SRV" --log "$T/$name.req" "$@" >"$T/$name.port" 2>"$T/$name.err" &
	SOCKS_PIDS+=($!)
	local i
	for i in $(seq 100); do
		[ -s "$T/$name.port" ] && break
		sleep 0.05
	done
	SOCKS_PORT=$(cat "$T/$name.port")
}

start_peer bob --nick bob --listen 127.0.0.1:0 --download-dir "$T/bob-dl"
baddr=$(addr_of bob); bport=${baddr##*:}; fb=$(fp_of bob)

socks good --user alice --password 's3cret:@x' --map "bob.proxy-only.test=127.0.0.1"
start_peer alice --nick alice --listen 127.0.0.1:0 --proxy "socks5://alice:s3cret:@x@127.0.0.1:$SOCKS_PORT"
fa=$(fp_of alice)
check "alice starts with a socks5:// proxy" test -n "$fa" || { sed 's/^/# /' "$T/alice.err"; done_testing; }
via_proxy alice "$baddr" "$fb" "bob through the proxy (with a login)" 10
check "the proxy was asked for bob's address" grep -qx "1 127.0.0.1 $bport" "$T/good.req"
q=$(wait_for bob ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fa\"" 10)
check "bob sees a direct incoming session" test "$(jq -r .path <<<"$q")" = direct
talk_and_send alice bob "$fa" "$fb" "hello through socks" 200000 "$T/bob-dl"
say alice "/quit"
stop_peer alice

# A host name only the proxy resolves: remote DNS, nothing looked up here.
# (A fresh event file: the first alice's "online" event must not answer the wait.)
: >"$T/alice.out"
PEER_HOME[alice]=$T/alice2
start_peer alice --nick alice --listen 127.0.0.1:0 --proxy "socks5://alice:s3cret:@x@127.0.0.1:$SOCKS_PORT"
via_proxy alice "bob.proxy-only.test:$bport" "$fb" "bob by a name only the proxy can resolve" 10
check "the name went to the proxy as a name (ATYP 3)" grep -qx "3 bob.proxy-only.test $bport" "$T/good.req"
stop_peer alice

# expect_error TAG PROXY-URL TEXT: a connect to bob fails with TEXT.
n=0
expect_error() {
	local tag=$1 url=$2 text=$3 e
	shift 3
	n=$((n + 1))
	PEER_HOME[a$n]=$T/a$n
	start_peer "a$n" --listen 127.0.0.1:0 --proxy "$url" "$@"
	say "a$n" "/connect $baddr"
	e=$(wait_for "a$n" ".event==\"error\" and (.message|contains(\"$text\"))" 15)
	check "$tag: the error says '$text'" test -n "$e" || events "a$n" 'select(.event=="error")' | sed 's/^/# /'
	[ -n "$e" ] && diag "$tag: $(jq -r .message <<<"$e")"
	kill_peer "a$n"
}

expect_error "wrong password" "socks5://alice:nope@127.0.0.1:$SOCKS_PORT" "refused our user name and password"
expect_error "no login" "socks5://127.0.0.1:$SOCKS_PORT" "requires authentication"
socks closed
kill "${SOCKS_PIDS[-1]}"; wait "${SOCKS_PIDS[-1]}" 2>/dev/null
expect_error "no proxy there" "socks5://127.0.0.1:$SOCKS_PORT" "cannot reach the proxy 127.0.0.1:$SOCKS_PORT"
texts=("" "general SOCKS server failure" "connection not allowed by the proxy's rules"
	"network unreachable (from the proxy)" "host unreachable (from the proxy)"
	"connection refused (by the target, as seen from the proxy)" "TTL expired"
	"command not supported by the proxy" "address type not supported by the proxy")
for code in 1 2 3 4 5 6 7 8; do
	socks "rep$code" --rep "$code"
	expect_error "reply $code" "socks5://127.0.0.1:$SOCKS_PORT" "${texts[$code]} (SOCKS5 reply $code)"
done
socks mute --mute
expect_error "a proxy that never answers" "socks5://127.0.0.1:$SOCKS_PORT" \
	"the proxy did not open the tunnel in time" --handshake-timeout 2
check "bob is still running" alive bob
done_testing
