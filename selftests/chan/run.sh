#!/bin/bash
# selftests/chan/run.sh OUT - run every channel/select/context test natively and under
# ASan, UBSan and TSan; one TAP line each ("ok N - variant: name"). Test programs print
# "ok - name" lines (tap.h); this numbers them. A program that dies without saying why gets
# a "not ok" line of its own. Nothing here asserts on time beyond "not before a deadline".
set -u
OUT=${1:?usage: run.sh OUT}
n=0
fails=0

emit() { # ok|not-ok name
	n=$((n + 1))
	case $1 in
	ok) echo "ok $n - $2" ;;
	*) echo "not ok $n - $2"; fails=$((fails + 1)) ;;
	esac
}

# run_tap PREFIX TIMEOUT CMD...: a tap.h program
run_tap() {
	local prefix=$1 to=$2 out rc seen_fail=0 line
	shift 2
	out=$(timeout "$to" "$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) emit ok "$prefix: ${line#ok - }" ;;
		"not ok - "*) emit not-ok "$prefix: ${line#not ok - }"; seen_fail=1 ;;
		"#"*) echo "$line" ;;
		esac
	done <<<"$out"
	if [ $rc -ne 0 ] && [ $seen_fail -eq 0 ]; then
		emit not-ok "$prefix: exited with status $rc"
		tail -n 30 <<<"$out" | sed 's/^/# /'
	fi
}

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

echo "# chan: $n tests, $fails failed"
[ $fails -eq 0 ]
