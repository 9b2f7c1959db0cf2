#!/bin/bash
# aead.sh - transport cipher throughput as confab runs it (tests/bench/aead_speed.c):
# AES-256-GCM by libcrypto and by libsodium, ChaCha20-Poly1305, BLAKE2b.
# Usage: tests/bench/aead.sh [BUILDDIR [MiB]]  (a configured build; default ../../build)
# Builds the program there first.  Not part of make check; no network at all.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
make -s -C "$build" tests/bench/aead_speed >/dev/null
echo "# confab cipher bench: $(date -u +%FT%TZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
"$build/tests/bench/aead_speed" "${2:-1024}"
