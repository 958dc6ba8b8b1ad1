#!/bin/bash
# selftests/sync/run.sh OUT VARIANTS TESTS - run every sync test in every build, on 1 P and
# on 2, one TAP line each ("ok N - <variant>, <n> P: <program>: <test>", common/tap.sh).
# Checks are on outcomes only, never on time.
set -u
OUT=${1:?usage: run.sh OUT VARIANTS TESTS}
VARIANTS=$2
TESTS=$3
. "$(dirname "$0")/../common/tap.sh"

# ASan's leak checker cannot see goroutine stacks as roots: it is off; UBSan stops at the
# first report; a TSan report fails the program.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# (two tests fork a child that aborts: TSan must allow that after threads)
export TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1:die_after_fork=0

run_variants sync SYNC_TEST_SCALE "$OUT" "$VARIANTS" "$TESTS"
tap_end sync
