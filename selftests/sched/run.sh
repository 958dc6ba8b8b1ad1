#!/bin/bash
# selftests/sched/run.sh OUT VARIANTS TESTS - run every scheduler test in every build, one TAP
# line each ("ok N - <variant>: <name>", common/tap.sh). Nothing here asserts on speed;
# limits are sanity bounds (the benchmarks print figures).
set -u
OUT=${1:?usage: run.sh OUT VARIANTS TESTS}
VARIANTS=$2
TESTS=$3
. "$(dirname "$0")/../common/tap.sh"

# ASan's leak checker cannot see goroutine stacks as roots: it is off; UBSan stops at the
# first report; TSan reports make the program fail.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# (the tests fork children that start schedulers: TSan must allow threads after fork)
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:die_after_fork=0

for v in $VARIANTS; do
	for t in $TESTS; do
		run_tap "sched/$v/$t" 300 "$OUT/$v/$t"
	done
done
run_tap "sched/plain/test_million" 300 "$OUT/plain/test_million"
tap_end sched
