#!/bin/bash
# selftests/time/run.sh OUT VARIANTS TESTS - run every time test in every build, on 1 P and
# on 2, one TAP line each ("ok N - <variant>, <n> P: <program>: <test>", common/tap.sh).
# Checks are on outcomes, and on time only as "not before" (a timer never fires early).
set -u
OUT=${1:?usage: run.sh OUT VARIANTS TESTS}
VARIANTS=$2
TESTS=$3
. "$(dirname "$0")/../common/tap.sh"

# ASan checks for leaks (a freed or stopped timer leaves nothing); UBSan stops at the
# first report; a TSan report fails the program.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1:die_after_fork=0

for v in $VARIANTS; do
	case $v in
	plain) scale=100 ;;
	tsan) scale=20 ;;
	*) scale=30 ;;
	esac
	for p in 1 2; do
		for t in $TESTS; do
			GOCHAN_MAXPROCS=$p CHAN_TEST_SCALE=$scale \
				run_tap "time/$v, $p P: ${t#test_}" 300 "$OUT/$v/$t"
		done
	done
done
tap_end time
