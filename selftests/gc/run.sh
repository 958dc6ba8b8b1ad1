#!/bin/bash
# selftests/gc/run.sh OUT VARIANTS TESTS - run every collector test in every build, one TAP
# line each ("ok N - gc/<variant>/<test>: <name>", common/tap.sh). Every check is an exact
# outcome (objects freed or kept, counts, checksums); nothing is timed.
set -u
OUT=${1:?usage: run.sh OUT VARIANTS TESTS}
VARIANTS=$2
TESTS=$3
. "$(dirname "$0")/../common/tap.sh"

# ASan's leak checker does not know collected objects; UBSan stops at the first report;
# TSan reports make the program fail. Use-after-return off: ASan would move locals off the
# goroutine stacks the collector scans.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# (deadlock detection off: galloc_check and fork take every allocator lock, more than TSan
# tracks at once, as in selftests/alloc)
export TSAN_OPTIONS=detect_deadlocks=0:halt_on_error=1:die_after_fork=0

for v in $VARIANTS; do
	for t in $TESTS; do
		run_tap "gc/$v/$t" 600 "$OUT/$v/$t"
	done
done
tap_end gc
