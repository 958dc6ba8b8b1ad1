#!/bin/bash
# selftests/alloc/soak.sh TOP SECONDS - the allocator's soak (make soak-alloc), one TAP line
# per test (common/tap.sh): soak's churn (more threads than CPUs, half the frees on
# other threads, threads replaced, fork under load) for SECONDS per test under the
# LD_PRELOAD malloc, then a third of that each against the ASan, TSan and debug (GA_DEBUG:
# every span checked on the slow paths) builds of lib/alloc, through galloc; and clang-built
# C++ (new, containers) under LD_PRELOAD. Minutes; not part of make check.
set -u
TOP=${1:?usage: soak.sh TOP SECONDS}
SECS=${2:-60}
B=$TOP/build/alloc
T=$B/tests
SO=$B/libgochan-malloc.so
. "$(dirname "$0")/../common/tap.sh"

cpus=$(nproc)
threads=$((cpus * 4 > 8 ? cpus * 4 : 8))
third=$(((SECS + 2) / 3))
# each soak run is 3 tests of the given length; its watchdog reports a hang after 10 s
limit() { echo $((3 * $1 + 120)); }

echo "# soak-alloc: $SECS s per test under LD_PRELOAD, $third s per sanitizer test," \
	"$threads threads on $cpus CPUs"
run_tap "preload" "$(limit "$SECS")" env LD_PRELOAD="$SO" \
	"$T/soak" -s "$SECS" -t "$threads"
if [ -x "$T/cxx_new" ]; then
	run_tap "preload-cxx" "$(limit "$third")" env LD_PRELOAD="$SO" "$T/cxx_new" -s "$third"
else
	tap_emit skip "preload-cxx: clang++ -O2 C++" "clang++ not available"
fi
run_tap "asan" "$(limit "$third")" "$T/asan/soak" -s "$third" -t "$threads"
# the checker holds every lock at once: more than TSan's deadlock detector can track
TSAN_OPTIONS="detect_deadlocks=0 halt_on_error=1 exitcode=66" \
	run_tap "tsan" "$(limit "$third")" "$T/tsan/soak" -s "$third" -t "$threads"
run_tap "debug" "$(limit "$third")" "$T/debug/soak" -s "$third" -t "$threads"

tap_end soak-alloc
