#!/bin/bash
# t_settings.sh - the settings table: the command line and the config file
# accept and refuse the same values (extreme ones included); what
# --print-config prints always loads back unchanged; --help, the man page's
# OPTIONS and the config file's keys name the same settings.  No peer runs.
. "$(dirname "$0")/lib.sh"

# printed HOME [ARGS...]: confab --print-config for HOME (stderr in HOME.perr).
printed() {
	local home=$1; shift
	mkdir -p "$home"
	"$CONFAB" --home "$home" --print-config "$@" 2>"$home.perr"
}

# --- the two known disagreements ------------------------------------------------
p=$(printed "$T/r1" --limit-rate 5000g); rc=$?
if [ $rc -eq 0 ]; then
	printf '%s\n' "$p" >"$T/r1/config"
	printed "$T/r1" >/dev/null
fi
check "--limit-rate 5000g: refused (exit 2), or printed as a value that loads back (rc $rc)" \
	test $rc -eq 2 -o \( $rc -eq 0 -a ! -s "$T/r1.perr" \)
"$CONFAB" --home "$T/r2" --print-config --limit-rate 99999999999g >"$T/r2.out" 2>"$T/r2.err"; rc=$?
check "--limit-rate 99999999999g (beyond a long) is a usage error (got exit $rc: $(head -c 60 "$T/r2.out"))" \
	test $rc -eq 2
check "and says what the option takes" grep -q 'limit-rate' "$T/r2.err"

# --- every key, extreme values: command line and file agree, output loads back -----
# KEY|OPTION|VALUE: OPTION empty for keys the command line does not set.
long64=$(printf 'n%.0s' $(seq 64)); long65=${long64}x
cases="
nick|--nick|$long64
nick|--nick|$long65
nick|--nick|a b
nick|--nick|ok
listen|--listen|127.0.0.1:0
listen|--listen|127.0.0.1:65535
listen|--listen|127.0.0.1:65536
listen|--listen|[::1]:1
listen|--listen|localhost:1
download_dir|--download-dir|/
download_dir|--download-dir|/$(printf 'd%.0s' $(seq 200))
discovery_iface|--discovery-iface|eth0
discovery_iface|--discovery-iface|abcdefghijklmno
discovery_iface|--discovery-iface|abcdefghijklmnop
keepalive|--keepalive|0
keepalive|--keepalive|1
keepalive|--keepalive|3600
keepalive|--keepalive|3601
keepalive|--keepalive|-1
keepalive|--keepalive|99999999999999999999
keepalive|--keepalive|4294967297
keepalive|--keepalive|1k
limit_rate|--limit-rate|0
limit_rate|--limit-rate|999
limit_rate|--limit-rate|1000
limit_rate|--limit-rate|1k
limit_rate|--limit-rate|1001
limit_rate|--limit-rate|1000g
limit_rate|--limit-rate|1001g
limit_rate|--limit-rate|5000g
limit_rate|--limit-rate|1000000000000
limit_rate|--limit-rate|1000000000001
limit_rate|--limit-rate|999999999k
limit_rate|--limit-rate|1000000m
limit_rate|--limit-rate|1000001m
limit_rate|--limit-rate|99999999999g
limit_rate|--limit-rate|18446744073709551615
limit_rate|--limit-rate|18446744073709551616
limit_rate|--limit-rate|-1
limit_rate|--limit-rate|-1000
limit_rate|--limit-rate|1kk
limit_rate|--limit-rate|k
limit_rate|--limit-rate|1t
history_lines||0
history_lines||1000000
history_lines||1000001
history_lines||99999999999999999999
discovery||on
discovery||OFF
discovery||yes
nat||off
bell||off
colors||auto
colors||sometimes
auto_accept||verified
auto_accept||always
"
disagree=""; noreload=""; n=0
while IFS='|' read -r key opt val; do
	[ -n "$key" ] || continue
	n=$((n + 1))
	h=$T/c$n
	mkdir -p "$h"
	printf '%s = "%s"\n' "$key" "$val" >"$h/config"
	pf=$(printed "$h"); [ -s "$h.perr" ] && file_ok=0 || file_ok=1
	outs=()
	[ $file_ok -eq 1 ] && outs+=("$pf")
	if [ -n "$opt" ]; then
		mkdir -p "$h.cli"
		pc=$(printed "$h.cli" "$opt" "$val"); rc=$?
		[ $rc -eq 0 ] && cli_ok=1 || cli_ok=0
		[ $cli_ok -eq $file_ok ] || disagree="$disagree [$opt $val: cli $cli_ok file $file_ok]"
		[ $rc -eq 0 ] || [ $rc -eq 2 ] || disagree="$disagree [$opt $val: exit $rc]"
		[ $rc -eq 0 ] && outs+=("$pc")
	fi
	for out in "${outs[@]}"; do
		mkdir -p "$h.re"
		printf '%s\n' "$out" >"$h.re/config"
		back=$(printed "$h.re")
		if [ -s "$h.re.perr" ] || [ "$back" != "$out" ]; then
			noreload="$noreload [$key = $val: $(head -n 1 "$h.re.perr")]"
		fi
	done
done <<<"$cases"
diag "$n values tried"
check "command line and config file accept the same values (disagree:${disagree:- none})" test -z "$disagree"
check "--print-config output loads back unchanged for every one (failed:${noreload:- none})" test -z "$noreload"

# --- --help, the man page and the config file name the same settings --------------
man=${top_srcdir}/confab.1
# long options documented in OPTIONS (.TP entries up to the Subcommands section)
man_opts=$(awk '/^\.SH OPTIONS/ { on = 1; next } /^\.S[SH]/ { on = 0 } on && prev == ".TP" { print } { prev = $0 }' "$man" |
	sed 's/\\-/-/g' | grep -oE -- '--[a-z][a-z-]*' | sort -u)
help_opts=$("$CONFAB" --help | sed -n '/^options:/,/^$/p' | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' |
	grep -oE -- '--[a-z][a-z-]*' | sort -u)
diag "man page options: $(echo $man_opts)"
check "the man page's OPTIONS list the same options as --help (diff: $(diff <(echo "$man_opts") <(echo "$help_opts") | grep '^[<>]' | tr '\n' ' '))" \
	test -n "$man_opts" -a "$man_opts" = "$help_opts"
man_keys=$(awk '/^\.SH CONFIGURATION/ { on = 1; next } /^\.SH/ { on = 0 } on && prev == ".TP" { print } { prev = $0 }' "$man" |
	sed -E 's/\\-/-/g; s/\\f[BRI]//g; s/^\.B[IR]? //' | awk '{ print $1 }' | sort -u)
file_keys=$(printed "$T/k" | grep -oE '^#?[a-z_]+ =' | tr -d '#= ' | sort -u)
check "the man page's CONFIGURATION lists every config file key (diff: $(diff <(echo "$man_keys") <(echo "$file_keys") | grep '^[<>]' | tr '\n' ' '))" \
	test -n "$man_keys" -a "$man_keys" = "$file_keys"
readme_opts=$(grep -oE -- '--[a-z][a-z-]*' "$top_srcdir/README" | sort -u)
missing=""
for o in $help_opts; do grep -qx -- "$o" <<<"$readme_opts" || missing="$missing $o"; done
check "the README names every option (missing:${missing:- none})" test -z "$missing"

done_testing
