#!/bin/bash
# t_ident.sh - a stranger (tests/hostile impostor) announces a nick that tries
# to pass for bob: bob's fingerprint (full or short), a lookalike of "bob"
# (zero-width space, blanks, no-break space, Cyrillic letters), or "bob" after
# the user renamed bob.  Each time alice warns, shows the stranger under
# another name, and commands that name bob (by fingerprint or by name) reach
# bob, never the stranger.  Bob's chat keeps flowing all along.
. "$(dirname "$0")/lib.sh"
HOSTILE=${top_builddir:-$(dirname "$0")/..}/tests/hostile

start_peer alice --nick alice --listen 127.0.0.1:0
start_peer bob --nick bob --listen 127.0.0.1:0
check "alice and bob connect" connect_pair alice bob
fa=$(fp_of alice); fb=$(fp_of bob); va=$(addr_of alice)
k=0
seen="\"$fa\",\"$fb\""   # fingerprints that are not the current impostor

# still_serving: a message from bob reaches alice, and one from alice reaches bob.
still_serving() {
	k=$((k + 1))
	say bob "/msg alice still here $k"
	wait_for alice ".event==\"message\" and .text==\"still here $k\"" 10 >/dev/null || return 1
	say alice "/msg $fb back at you $k"
	wait_for bob ".event==\"message\" and .text==\"back at you $k\"" 10 >/dev/null
}

# impostor NICK: a stranger connects to alice announcing NICK and stays 8 s;
# sets ifp (its fingerprint), inick (the name alice shows it under) and idesc.
impostor() {
	local e i
	ifp=; inick=; idesc=
	"$HOSTILE" impostor "$va" "$1" 8 >"$T/imp.out" &
	hpid=$!
	for i in $(seq 50); do grep -q '^ready' "$T/imp.out" && break; sleep 0.1; done
	e=$(wait_for alice ".event==\"peer\" and .state==\"online\" and ([.fingerprint] | inside([$seen]) | not)" 10)
	ifp=$(jq -r .fingerprint <<<"$e")
	inick=$(jq -r .nick <<<"$e")
	seen="$seen,\"$ifp\""
	idesc="impostor announcing $(printf '%q' "$1") is shown as $(printf '%q' "$inick") ($ifp)"
	[ -n "$ifp" ]
}

# impostor_end NAME: wait for the stranger to leave; check that it got nothing.
impostor_end() {
	wait "$hpid"
	check "$1: the stranger received none of it" test "$(grep -c '^got' "$T/imp.out")" -eq 0
	check "$1: bob's chat kept flowing" still_serving
	check "$1: alice still runs" alive alice
}

# warned: alice raised a warning naming the current impostor's key.
warned() { wait_for alice ".event==\"warning\" and .peer==\"$ifp\"" 5 >/dev/null; }

# to_bob TARGET TEXT: /msg TARGET TEXT from alice arrives at bob.
to_bob() {
	say alice "/msg $1 $2"
	wait_for bob ".event==\"message\" and .text==\"$2\"" 10 >/dev/null
}

# --- a nick that is bob's fingerprint, full or short --------------------------
fb_lower=$(tr 'A-Z' 'a-z' <<<"$fb")
for case in "full:$fb" "short:${fb:0:8}" "lower-case short:${fb_lower:0:8}" "prefix:${fb:0:5}"; do
	what=${case%%:*}; nick=${case#*:}
	check "fingerprint as nick ($what): the stranger is online" impostor "$nick"
	diag "$idesc"
	check "fingerprint as nick ($what): a warning names the stranger" warned
	check "fingerprint as nick ($what): not shown under bob's fingerprint" \
		test "$inick" != "$nick" -a "$inick" != "$fb" -a "$inick" != "${fb:0:8}"
	check "fingerprint as nick ($what): /msg $nick reaches bob" to_bob "$nick" "fp $what $k"
	n0=$(count_events alice ".event==\"verify\" and .peer==\"$fb\"")
	say alice "/verify $nick"
	check "fingerprint as nick ($what): /verify $nick shows bob's code" \
		wait_count alice ".event==\"verify\" and .peer==\"$fb\"" $((n0 + 1)) 5
	impostor_end "fingerprint as nick ($what)"
done

# --- lookalikes of "bob" ------------------------------------------------------
for case in "zero-width space:$(printf 'bob\u200b')" "trailing space:bob " "leading space: bob" \
	"no-break space:$(printf 'bob\u00a0')" "Cyrillic o:$(printf 'b\u043eb')" \
	"Greek omicron, capital B:$(printf 'B\u03bfb')" "soft hyphen:$(printf 'b\u00adob')" \
	"fullwidth:$(printf '\uff42\uff4f\uff42')"; do
	what=${case%%:*}; nick=${case#*:}
	check "lookalike ($what): the stranger is online" impostor "$nick"
	diag "$idesc"
	check "lookalike ($what): a warning names the stranger" warned
	check "lookalike ($what): it is not shown as bob or as what it sent" \
		test "$inick" != bob -a "$inick" != "$nick"
	check "lookalike ($what): the shown name has no blank at either end" \
		grep -Eqv '(^[[:space:]]|[[:space:]]$)' <<<"$inick"
	check "lookalike ($what): /msg bob reaches bob" to_bob bob "lookalike $what $k"
	impostor_end "lookalike ($what)"
done

# --- bob renamed: his own nick still belongs to him -----------------------------
say alice "/rename bob Bobby"
check "/rename bob Bobby" wait_for alice ".event==\"peer\" and .fingerprint==\"$fb\" and .nick==\"Bobby\""
check "renamed: a stranger announcing bob is online" impostor bob
diag "$idesc"
check "renamed: a warning names the stranger" warned
check "renamed: it is not shown as plain bob" test "$inick" != bob
say alice "/msg bob for bob only"
sleep 1
check "renamed: /msg bob does not go to the stranger" test "$(grep -c '^got' "$T/imp.out")" -eq 0
check "renamed: /msg Bobby reaches bob" to_bob Bobby "renamed $k"
impostor_end "renamed"

check "every event line is valid JSON" jq -e . "$T/alice.out"
done_testing
