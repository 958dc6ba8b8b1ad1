#!/bin/bash
# selftests/chan/run.sh OUT - run every channel/select/context test natively and under
# ASan, UBSan and TSan; one TAP line each ("ok N - variant: name", common/tap.sh). Nothing
# here asserts on time beyond "not before a deadline".
set -u
OUT=${1:?usage: run.sh OUT}
. "$(dirname "$0")/../common/tap.sh"

export ASAN_OPTIONS="detect_leaks=1 abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
for v in plain asan ubsan tsan; do
	case $v in
	plain) scale=100 ;;
	tsan) scale=20 ;;
	*) scale=30 ;;
	esac
	for t in test_chan test_select test_context test_stress; do
		CHAN_TEST_SCALE=$scale run_tap "$v: ${t#test_}" 300 "$OUT/$v/$t"
	done
done

# many goroutines on one P (every handoff a switch on the same thread), and on four
GOCHAN_MAXPROCS=1 CHAN_TEST_SCALE=100 run_tap "plain, 1 P: stress" 300 "$OUT/plain/test_stress"
GOCHAN_MAXPROCS=4 CHAN_TEST_SCALE=100 run_tap "plain, 4 Ps: stress" 300 "$OUT/plain/test_stress"

tap_end chan
