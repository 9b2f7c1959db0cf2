#!/bin/sh
# noise_vectors.sh - run the published Noise test vectors (TAP, for make check).
#
# Uses $NOISE_VECTORS_DIR (set by configure --with-noise-vectors) and the
# program $top_builddir/tests/noise_vectors; one TAP line per vector file.

files="cacophony.json snow.json"
dir=${NOISE_VECTORS_DIR-}
prog=${top_builddir:-.}/tests/noise_vectors

if [ -z "$dir" ] || [ ! -d "$dir" ]; then
	echo "1..0 # SKIP no vector directory configured"
	exit 0
fi

# Each file twice: AES-256-GCM by the default library (libcrypto when built
# with it), then by libsodium.
echo "1..4"
n=0
for run in "$files" "$files"; do
for f in $run; do
	n=$((n + 1))
	opt=""
	[ "$n" -gt 2 ] && opt=--aesgcm=libsodium
	if [ ! -r "$dir/$f" ]; then
		echo "not ok $n - $f: not readable in $dir"
		continue
	fi
	if [ ! -x "$prog" ]; then
		echo "not ok $n - $f: $prog not built"
		continue
	fi
	out=$("$prog" $opt "$dir/$f" 2>&1)
	impl=$(printf '%s\n' "$out" | sed -n 's/^# AESGCM .*, run by \(.*\)$/\1/p' | head -n 1)
	rc=$?
	summary=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	skipped=$(printf '%s\n' "$out" | sed -n 's/^# skipped \([0-9][0-9]*\) unsupported$/\1/p' | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$summary" ]; then
		echo "ok $n - $f (AESGCM by ${impl:-?}): $summary, ${skipped:-0} skipped"
	else
		echo "not ok $n - $f (AESGCM by ${impl:-?}): ${summary:-no summary} (exit status $rc)"
		# the program's failure lines (and anything unexpected) as comments
		printf '%s\n' "$out" | grep -v -E '^(ok |1\.\.|# |[0-9]+ passed, )' | sed 's/^/# /'
	fi
done
done
exit 0
