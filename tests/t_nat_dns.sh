#!/bin/bash
# t_nat_dns.sh - connecting by name through a real DNS server (dnsmasq) in the
# network-namespace lab: /connect alice@example.test finds host and port in
# the SRV record _confab._tcp.example.test and pins alice's fingerprint from
# its TXT record; a TXT fingerprint that the handshake does not prove is
# refused loudly; /connect HOST:PORT resolves A records; a name that does not
# exist, a user the domain does not list, or a DNS server that stopped
# answering gives a clear error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nat_lib.sh"
command -v dnsmasq >/dev/null 2>&1 || skip_all "no dnsmasq (apt-get install dnsmasq-base)"

check "the lab is built" nat_lab
check "miniupnpd runs on alice's router" upnpd r1 upnp
start_nat alice a
ev=$(nat_event alice 15)
port=$(jq -r '.external | split(":")[1]' <<<"$ev")
check "alice is reachable at the router's address" test "$(jq -r .external <<<"$ev")" = "$NAT_INET.1:$port"
fa=$(fp_of alice)
fc=$("$CONFAB" id --home "$T/carol")   # someone else's fingerprint

# example.test publishes alice truthfully; evil.test sends her name to alice's
# host but pins carol's key for it.
check "dnsmasq answers for example.test and evil.test" nat_dns --local=/test/ \
	--host-record=home.example.test,$NAT_INET.1 \
	--srv-host=_confab._tcp.example.test,home.example.test,$port,0,0 \
	--txt-record=_confab._tcp.example.test,"alice=$fa" \
	--txt-record=_confab._tcp.example.test,"carol=$fc" \
	--srv-host=_confab._tcp.evil.test,home.example.test,$port,0,0 \
	--txt-record=_confab._tcp.evil.test,"alice=$fc"

start_nat bob b --no-nat
say bob "/connect alice@example.test"
check "/connect alice@example.test reaches alice" \
	wait_for bob ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fa\"" 15
check "through the SRV host and port" \
	wait_for bob "select(.event==\"peer\" and .state==\"online\") | .addr==\"$NAT_INET.1:$port\"" 1
check "with her key checked against the TXT record" \
	wait_for bob '.event=="info" and (.text|test("alice@example.test.*matches the DNS TXT record"))' 1
check "the lookups went to dnsmasq" grep -q "query\[SRV\] _confab._tcp.example.test" "$T/dnsmasq.log"
say bob "/msg alice found you by name"
check "they chat" wait_for alice '.event=="message" and .text=="found you by name"' 10

start_nat eve b --no-nat
say eve "/connect alice@evil.test"
ev=$(wait_for eve '.event=="error" and .command=="/connect alice@evil.test"' 15)
check "a TXT fingerprint the handshake does not prove is refused" test -n "$ev"
diag "$(jq -r .message <<<"$ev")"
check "loudly: REFUSED, with the key proved and the key pinned" \
	jq -e ".message | test(\"^REFUSED\") and contains(\"$fa\") and contains(\"$fc\")" <<<"$ev"
sleep 0.5
check "eve never shows alice online" test "$(count_events eve '.event=="peer" and .state=="online"')" -eq 0
check "and alice never learned who eve is (no frame 3 was sent)" \
	test "$(count_events alice "select(.event==\"peer\") | .fingerprint==\"$(fp_of eve)\"")" -eq 0
check "one error only" test "$(count_events eve '.event=="error"')" -eq 1

say eve "/connect home.example.test:$port"
check "/connect HOST:PORT resolves the A record and connects" \
	wait_for eve ".event==\"peer\" and .state==\"online\" and .fingerprint==\"$fa\"" 15
say eve "/connect nowhere.example.test"
check "a name that does not exist: a clear error" \
	wait_for eve '.event=="error" and .command=="/connect nowhere.example.test" and (.message|test("nowhere.example.test.*no address record"))' 15
say eve "/connect dave@example.test"
check "a user the domain does not list: a clear error naming those it lists" \
	wait_for eve '.event=="error" and (.message|test("no confab user named dave.*it lists: ") and contains("alice") and contains("carol"))' 15
say eve "/connect frank@nothing.test"
check "a domain without SRV falls back to its own address, which does not exist" \
	wait_for eve '.event=="error" and .command=="/connect frank@nothing.test"' 15
check "the error says what failed" \
	wait_for eve '.event=="error" and .command=="/connect frank@nothing.test" and (.message|test("nothing.test"))' 1

# a DNS server that has gone silent: the lookup times out, with a clear error
ip netns exec "$(ns dns)" iptables-legacy -A INPUT -p udp --dport 53 -j DROP
ip netns exec "$(ns dns)" iptables-legacy -A INPUT -p tcp --dport 53 -j DROP
start_nat fred b --no-nat
t0=$(date +%s)
say fred "/connect alice@example.test"
say fred "/msg nobody are you there"
check "while the lookup waits, fred still answers commands at once" \
	wait_for fred '.event=="error" and .command=="/msg nobody are you there"' 1
check "(the lookup is still waiting then)" test "$(count_events fred '.command=="/connect alice@example.test"')" -eq 0
check "a silent DNS server: the attempt fails with a timeout" \
	wait_for fred '.event=="error" and (.message|test("did not answer in time"))' 20
check "within 15 s" test $(($(date +%s) - t0)) -le 15
check "every line of every peer is valid JSON" jq -e . "$T/alice.out" "$T/bob.out" "$T/eve.out" "$T/fred.out"
done_testing
