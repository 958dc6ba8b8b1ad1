#!/bin/bash
# selftests/sched/run.sh OUT VARIANTS TESTS - run every scheduler test in every build, one TAP
# line each ("ok N - <variant>: <name>"). Programs print "ok - name" lines (tap.h); this
# numbers them. A program that dies without saying why gets a "not ok" line of its own.
# Nothing here asserts on speed; limits are sanity bounds (the benchmarks print figures).
set -u
OUT=${1:?usage: run.sh OUT VARIANTS TESTS}
VARIANTS=$2
TESTS=$3
n=0

emit() { # ok|not-ok name
	n=$((n + 1))
	case $1 in
	ok) echo "ok $n - $2" ;;
	*) echo "not ok $n - $2" ;;
	esac
}

# run_tap PREFIX TIMEOUT CMD...
run_tap() {
	local prefix=$1 to=$2 out rc seen_fail=0 line
	shift 2
	out=$(timeout "$to" "$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*" # SKIP"*) n=$((n + 1)); echo "ok $n - $prefix: ${line#ok - }" ;;
		"ok - "*) emit ok "$prefix: ${line#ok - }" ;;
		"not ok - "*) emit not-ok "$prefix: ${line#not ok - }"; seen_fail=1 ;;
		"#"*) echo "$line" ;;
		esac
	done <<<"$out"
	if [ $rc -ne 0 ] && [ $seen_fail -eq 0 ]; then
		emit not-ok "$prefix: $(basename "$1") exited with status $rc"
		tail -n 30 <<<"$out" | sed 's/^/# /'
	fi
}

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
echo "1..$n"
