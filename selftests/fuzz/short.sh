#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The fuzzer as a selftest (make check): 200000 calls from 8 processes with
# a fresh seed, printed first, or 150 s if that comes first (the debug
# kernel of make check-debug makes a few hundred calls a second on a busy
# machine).  Read-only structs are fuzzed too: the bug they found (a
# RECV / SELECT moved a value and said EFAULT; selftests/gochan/efault.c)
# is fixed.
exec "$(dirname "$0")/gochan-fuzz" -n "${GOCHAN_FUZZ_CALLS:-200000}" \
	-t "${GOCHAN_FUZZ_SECONDS:-150}" "$@"
