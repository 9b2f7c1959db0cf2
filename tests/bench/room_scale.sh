#!/bin/bash
# room_scale.sh - the room model at scale (tests/bench/room_scale.c): memory
# of one member's copy, CPU per message accepted, HAVE size, and the cost of
# the announcements a member receives, for 10, 50 and 128 members (the
# protocol's limit) and, with the limits raised, 500.
# Usage: tests/bench/room_scale.sh [BUILDDIR]  (a configured build; default ../../build)
# Not part of make check; no network at all.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
make -s -C "$build" tests/bench/room_scale tests/bench/room_scale_lift >/dev/null
echo "# confab room model bench: $(date -u +%FT%TZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
"$build/tests/bench/room_scale" 10 50 128
"$build/tests/bench/room_scale_lift" 500
