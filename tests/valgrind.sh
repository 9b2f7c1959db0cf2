#!/bin/bash
# valgrind.sh - run a representative set of the shell tests with every confab
# process under valgrind memcheck, then check the logs: no memory errors and
# no definite leaks.  Slow (tens of minutes), so not part of make check.
#
# usage: tests/valgrind.sh [BUILDDIR [TEST...]]
#   BUILDDIR  a configured build without --enable-asan (default: the current
#             directory); it is built first
#   TEST      test scripts to run (default: the list below)
# Valgrind's logs are kept in BUILDDIR/valgrind-logs/TEST/.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-.}" && pwd)
shift $(($# > 0 ? 1 : 0))
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(t_chat t_reconnect t_badinput t_xfer_short t_oneshot t_trust t_memory t_hostile)

command -v valgrind >/dev/null 2>&1 || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)"; exit 2; }
[ -f "$build/Makefile" ] || { echo "valgrind.sh: $build is not a configured build"; exit 2; }
if grep -q -- '-fsanitize=address' "$build/Makefile"; then
	echo "valgrind.sh: $build is an --enable-asan build; valgrind needs a plain one"
	exit 2
fi
make -C "$build" -j2 confab tests/hostile >"$build/valgrind-build.log" 2>&1 ||
	{ echo "valgrind.sh: the build failed (see $build/valgrind-build.log)"; exit 2; }

logs=$build/valgrind-logs
rm -rf "$logs"
mkdir -p "$logs"
# The wrapper the tests run as $CONFAB: memcheck with an exit status of 99 on
# any error, definite leaks counted as errors, one log per process.
wrap=$logs/confab
cat >"$wrap" <<EOF
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \\
	--errors-for-leak-kinds=definite --track-origins=yes --num-callers=30 \\
	--log-file="\${VALGRIND_LOG_DIR:-$logs}/vg.%p.log" "$build/confab" "\$@"
EOF
chmod +x "$wrap"

status=0
for t in "${tests[@]}"; do
	t=${t%.sh}
	mkdir -p "$logs/$t"
	start=$SECONDS
	echo "== $t"
	# memcheck's own bookkeeping grows with the program's allocations: the
	# hostile-peer test's memory bound is widened to match
	RSS_GROWTH_KB=65536 GRACEFUL_STOP=20 VALGRIND_LOG_DIR=$logs/$t CONFAB=$wrap top_builddir=$build top_srcdir=$src \
		bash "$src/tests/$t.sh" >"$logs/$t/tap.log" 2>&1
	rc=$?
	pass=$(grep -c '^ok' "$logs/$t/tap.log")
	fail=$(grep -c '^not ok' "$logs/$t/tap.log")
	nlog=$(find "$logs/$t" -name 'vg.*.log' | wc -l)
	errs=$(grep -l 'ERROR SUMMARY: [1-9]' "$logs/$t"/vg.*.log 2>/dev/null)
	leaks=$(grep -l 'definitely lost: [1-9]' "$logs/$t"/vg.*.log 2>/dev/null)
	summaries=$(grep -l 'ERROR SUMMARY' "$logs/$t"/vg.*.log 2>/dev/null | wc -l)
	echo "   $pass ok, $fail not ok (exit $rc) in $((SECONDS - start)) s;" \
		"$nlog confab processes, $summaries ran to the end under valgrind"
	grep '^not ok' "$logs/$t/tap.log" | sed 's/^/   /'
	if [ -n "$errs" ] || [ -n "$leaks" ]; then
		status=1
		for f in $errs $leaks; do
			echo "   --- $f"
			sed -n '1,80p' "$f" | sed 's/^/   /'
		done
	else
		echo "   valgrind: no errors, no definite leaks"
	fi
	[ "$rc" -eq 0 ] || status=1
done
[ $status -eq 0 ] && echo "valgrind.sh: all clean" || echo "valgrind.sh: problems above (logs in $logs)"
exit $status
