#!/bin/bash
# chat.sh - throughput and latency of two headless peers on loopback:
# (a) 10,000 messages A->B fed as fast as A takes them, (b) 1,000 one at a time.
# Usage: tests/bench/chat.sh [path/to/confab]  (else $CONFAB, else ../../build/confab)
# Not part of make check.  Loopback only, --no-discovery --no-nat.
. "$(cd "$(dirname "$0")" && pwd)/driver.sh" chat chat "$@"
