#!/bin/bash
# selftests/sched/soak.sh SCHED_OUT CHAN_OUT SECONDS - the scheduler's and the contexts' soak
# (make soak-sched): soak_sched (selftests/sched) and soak_context (selftests/chan), each in
# its plain, ASan and TSan builds for SECONDS, one TAP line each ("ok N - soak/<variant>:
# <program>: <test>", common/tap.sh). Limits are the programs' own: nothing asserts on speed.
set -u
SCHED_OUT=${1:?usage: soak.sh SCHED_OUT CHAN_OUT SECONDS}
CHAN_OUT=${2:?usage: soak.sh SCHED_OUT CHAN_OUT SECONDS}
SECS=${3:?usage: soak.sh SCHED_OUT CHAN_OUT SECONDS}
. "$(dirname "$0")/../common/tap.sh"

# As run.sh in each directory: ASan's leak checker cannot see goroutine stacks as roots in
# the scheduler's program (the contexts' one frees everything it makes); TSan reports fail.
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"
to=$((SECS * 3 + 300))	# a bound on a hang, not on speed
for v in plain asan tsan; do
	SOAK_SECONDS=$SECS ASAN_OPTIONS="detect_leaks=0 abort_on_error=1" \
		run_tap "soak/$v: sched" "$to" "$SCHED_OUT/$v/soak_sched"
	SOAK_SECONDS=$SECS ASAN_OPTIONS="detect_leaks=1 abort_on_error=1" \
		run_tap "soak/$v: context" "$to" "$CHAN_OUT/$v/soak_context"
done
tap_end soak-sched
