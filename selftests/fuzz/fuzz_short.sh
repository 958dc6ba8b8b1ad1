#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The fuzzer as a selftest (make check): 200000 calls from 8 processes with
# a fresh seed, printed first, or 150 s if that comes first (the debug
# kernel of make check-debug makes a few hundred calls a second on a busy
# machine).  -x ro-out keeps it off the bug that
# selftests/gochan/efault.c reproduces (a read-only RECV / SELECT struct:
# the value moves, the call says EFAULT); drop it once that is fixed.
exec "$(dirname "$0")/gochan-fuzz" -n "${GOCHAN_FUZZ_CALLS:-200000}" \
	-t "${GOCHAN_FUZZ_SECONDS:-150}" -x ro-out "$@"
