#!/bin/sh
# noise_vectors.sh - run the published Noise test vectors (TAP, for make check).
#
# tests/vectors/cacophony.json is carried with the source and always runs;
# snow.json runs too when $NOISE_VECTORS_DIR (configure --with-noise-vectors)
# holds it.  Each file runs twice: AES-256-GCM by the default library
# (libcrypto when built with it), then by libsodium.

prog=${top_builddir:-.}/tests/noise_vectors
files="${top_srcdir:-.}/tests/vectors/cacophony.json"
dir=${NOISE_VECTORS_DIR-}
if [ -n "$dir" ] && [ -r "$dir/snow.json" ]; then
	files="$files $dir/snow.json"
else
	echo "# snow.json not found (NOISE_VECTORS_DIR=${dir:-unset}): only the carried set runs"
fi

set -- $files
echo "1..$(($# * 2))"
n=0
for opt in "" --aesgcm=libsodium; do
for f in $files; do
	n=$((n + 1))
	name=$(basename "$f")
	if [ ! -r "$f" ]; then
		echo "not ok $n - $name: $f not readable"
		continue
	fi
	if [ ! -x "$prog" ]; then
		echo "not ok $n - $name: $prog not built"
		continue
	fi
	out=$("$prog" $opt "$f" 2>&1)
	rc=$?
	impl=$(printf '%s\n' "$out" | sed -n 's/^# AESGCM .*, run by \(.*\)$/\1/p' | head -n 1)
	summary=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	skipped=$(printf '%s\n' "$out" | sed -n 's/^# skipped \([0-9][0-9]*\) unsupported$/\1/p' | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$summary" ]; then
		echo "ok $n - $name (AESGCM by ${impl:-?}): $summary, ${skipped:-0} skipped"
	else
		echo "not ok $n - $name (AESGCM by ${impl:-?}): ${summary:-no summary} (exit status $rc)"
		# the program's failure lines (and anything unexpected) as comments
		printf '%s\n' "$out" | grep -v -E '^(ok |1\.\.|# |[0-9]+ passed, )' | sed 's/^/# /'
	fi
done
done
exit 0
