#!/bin/bash
# t_layers.sh - the layers net/ <- app/ <- ui/: no include goes the wrong way,
# and the build's per-layer include paths make the compiler refuse one.
. "$(dirname "$0")/lib.sh"
SRC=${top_srcdir:-$(dirname "$0")/..}

# wrong_way ROOT: print "FILE: includes LAYER/HEADER" for every #include "..."
# in ROOT/{net,app,ui} that names a header of a higher layer (net below app
# below ui), or one found in no layer at all; prints nothing when all is well.
# A bare name is looked up the way the compiler does: the file's own
# directory first, then the layers.
wrong_way() {
	local root=$1 dir f h rank target l lr
	declare -A RANK=([net]=0 [app]=1 [ui]=2)
	for dir in net app ui; do
		rank=${RANK[$dir]}
		for f in "$root/$dir"/*.[ch]; do
			[ -e "$f" ] || continue
			while IFS= read -r h; do
				[ "$h" = config.h ] && continue
				target=
				if [[ $h == */* ]]; then
					l=$(cd "$root/$dir" && realpath -m --relative-to="$root" "$h")
					[ -e "$root/$l" ] && target=$l
				elif [ -e "$root/$dir/$h" ]; then
					target=$dir/$h
				else
					for l in net app ui; do
						[ -e "$root/$l/$h" ] && { target=$l/$h; break; }
					done
				fi
				if [ -z "$target" ]; then
					echo "$dir/${f##*/}: includes \"$h\", found in no layer"
					continue
				fi
				lr=${RANK[${target%%/*}]:-9}
				[ "$lr" -gt "$rank" ] && echo "$dir/${f##*/}: includes $target"
			done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
		done
	done
}

# --- (a) the sources --------------------------------------------------------
bad=$(wrong_way "$SRC")
tap "$([ -z "$bad" ]; echo $?)" "no include goes from net/ up to app/ or ui/, or from app/ up to ui/" ||
	while IFS= read -r l; do diag "$l"; done <<<"$bad"
n=$(cat "$SRC"/net/*.[ch] "$SRC"/app/*.[ch] "$SRC"/ui/*.[ch] | grep -c '^[[:space:]]*#[[:space:]]*include[[:space:]]*"')
diag "$n quoted includes scanned in net/, app/ and ui/"
check "the scan saw the includes (more than 100)" test "$n" -gt 100

# ui/ asks app/ about the network (core_listen_addrs...), it does not reach
# into net/'s sessions itself; loop_, buf_ and log_ (its own fds, buffers and
# log lines) it may use
calls=$(grep -nE '\bnet_[a-z_]+[[:space:]]*\(|(->|\.)net\b' "$SRC"/ui/*.[ch] | sed "s|^$SRC/||")
tap "$([ -z "$calls" ]; echo $?)" "ui/ calls no net_* function and uses no struct net" ||
	while IFS= read -r l; do diag "$l"; done <<<"$calls"

# nor does it call into any other net/ module: only its own loop, buffers,
# log lines and checked array growth (loop_, buf_, log_, mem_)
mods=$(cd "$SRC"/net && ls *.h | sed 's/\.h$//' | grep -vx -e loop -e buf -e log -e mem | paste -sd'|')
calls=$(grep -nE "\\b($mods)_[a-z_0-9]+[[:space:]]*\\(" "$SRC"/ui/*.c | sed "s|^$SRC/||")
tap "$([ -z "$calls" ]; echo $?)" "ui/ calls no net/ function besides loop_, buf_, log_ and mem_ ($(echo "$mods" | tr '|' ' '))" ||
	while IFS= read -r l; do diag "$l"; done <<<"$calls"

# the scanner finds each kind of wrong way in a made-up tree
mkdir -p "$T/tree/net" "$T/tree/app" "$T/tree/ui"
echo '#include "buf.h"' >"$T/tree/net/buf.h"
echo '#include "buf.h"' >"$T/tree/app/core.h"
echo '#include "core.h"' >"$T/tree/ui/tui.h"
check "the scanner passes a tree that only includes downwards" test -z "$(wrong_way "$T/tree")"
printf '#include "config.h"\n#include "core.h"\n' >"$T/tree/net/a.c"
printf '#include "../ui/tui.h"\n' >"$T/tree/net/b.c"
printf '#include "tui.h"\n' >"$T/tree/app/c.c"
printf '#include "nowhere.h"\n' >"$T/tree/app/d.c"
bad=$(wrong_way "$T/tree")
check "it finds net/ including an app/ header" grep -qx 'net/a.c: includes app/core.h' <<<"$bad"
check "it finds net/ including a ui/ header by a relative path" grep -qx 'net/b.c: includes ui/tui.h' <<<"$bad"
check "it finds app/ including a ui/ header" grep -qx 'app/c.c: includes ui/tui.h' <<<"$bad"
check "it finds a header in no layer" grep -qx 'app/d.c: includes "nowhere.h", found in no layer' <<<"$bad"

# --- (b) the compiler refuses: the include paths the Makefile builds each layer with
if [ -z "${LAYER_CC:-}" ] || [ -z "${top_builddir:-}" ]; then
	diag "LAYER_CC is not set (run through make check): the compiler checks are skipped"
	done_testing
fi
# compile LAYER HEADER: compile a one-line file including HEADER with LAYER's
# include path (the directory of the file itself, $T, holds no header).
compile() {
	local inc
	case $1 in
	net) inc=$LAYER_NET_INCLUDES ;;
	app) inc=$LAYER_APP_INCLUDES ;;
	ui)  inc=$LAYER_UI_INCLUDES ;;
	esac
	printf '#include "config.h"\n#include "%s"\nint layers_probe;\n' "$2" >"$T/probe_$1.c"
	# shellcheck disable=SC2086 # the flags are word lists
	(cd "$top_builddir" && $LAYER_CC $LAYER_CFLAGS $inc -c "$T/probe_$1.c" -o "$T/probe_$1.o") \
		>"$T/cc.log" 2>&1
}
check "net/ flags: a net/ header compiles" compile net buf.h
tap "$(compile net core.h; [ $? -ne 0 ]; echo $?)" "net/ flags: an app/ header does not compile" ||
	diag "$(head -3 "$T/cc.log")"
check "... because it is not found" grep -q 'core.h' "$T/cc.log"
diag "$(grep -m1 'core.h' "$T/cc.log")"
tap "$(compile net tui.h; [ $? -ne 0 ]; echo $?)" "net/ flags: a ui/ header does not compile"
check "app/ flags: app/ and net/ headers compile" compile app core.h
tap "$(compile app tui.h; [ $? -ne 0 ]; echo $?)" "app/ flags: a ui/ header does not compile" ||
	diag "$(head -3 "$T/cc.log")"
check "ui/ flags: a ui/ header compiles" compile ui tui.h

# every .c of a layer is built into that layer's library (so with its flags)
for l in net app ui; do
	miss=
	for f in "$SRC/$l"/*.c; do
		[ "$l/${f##*/}" = ui/main.c ] && continue
		grep -A100 "^lib${l}_a_SOURCES" "$SRC/Makefile.am" | sed '/^$/q' | grep -qw "$l/${f##*/}" ||
			miss="$miss $l/${f##*/}"
	done
	tap "$([ -z "$miss" ]; echo $?)" "every $l/*.c is in lib${l}_a_SOURCES" || diag "missing:$miss"
done
done_testing
