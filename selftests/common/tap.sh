# shellcheck shell=bash
# selftests/common/tap.sh - sourced by the host-side run.sh scripts (selftests/alloc, chan,
# sched): one numbered TAP line per test ("ok N - name"). Test programs print "ok - name"
# lines (common/tap.h); run_tap numbers them, and a program that dies without saying why
# gets a "not ok" line of its own. tap_n counts the lines, tap_fails the failures.

tap_n=0
tap_fails=0

tap_emit() { # ok|not-ok|skip name [reason]
	tap_n=$((tap_n + 1))
	case $1 in
	ok) echo "ok $tap_n - $2" ;;
	skip) echo "ok $tap_n - $2 # SKIP ${3:-}" ;;
	*) echo "not ok $tap_n - $2"; tap_fails=$((tap_fails + 1)) ;;
	esac
}

# run_tap PREFIX TIMEOUT CMD...: a common/tap.h program, its lines named "PREFIX: test"
run_tap() {
	local prefix=$1 to=$2 out rc seen_fail=0 line
	shift 2
	out=$(timeout "$to" "$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*" # SKIP "*)
			line=${line#ok - }
			tap_emit skip "$prefix: ${line%% # SKIP *}" "${line#* # SKIP }" ;;
		"ok - "*) tap_emit ok "$prefix: ${line#ok - }" ;;
		"not ok - "*) tap_emit not-ok "$prefix: ${line#not ok - }"; seen_fail=1 ;;
		"#"*) echo "$line" ;;
		esac
	done <<<"$out"
	if [ $rc -ne 0 ] && [ $seen_fail -eq 0 ]; then
		tap_emit not-ok "$prefix: exited with status $rc"
		tail -n 30 <<<"$out" | sed 's/^/# /'
	fi
}

# run_cmd NAME TIMEOUT CMD...: one line for a whole command, by its exit status
run_cmd() {
	local name=$1 to=$2 out rc
	shift 2
	out=$(timeout "$to" "$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		tap_emit ok "$name"
	else
		tap_emit not-ok "$name"
		echo "# exit status $rc; last lines:"
		tail -n 20 <<<"$out" | sed 's/^/# /'
	fi
}

# need_pkg COMMAND PACKAGE: install a missing Debian package; fails if still missing
need_pkg() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "# $1 missing: apt-get install $2"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1; }
	command -v "$1" >/dev/null 2>&1
}

# run_variants SUITE SCALE_VAR OUT VARIANTS TESTS: each program of TESTS in each build of
# VARIANTS (OUT/<build>/<program>, common/lib-variants.mk), on 1 P and on 2, its lines
# named "SUITE/<build>, <n> P: <program>: <test>"; SCALE_VAR (the percent tap_scale()
# reads) is 100 in the plain build, 20 under TSan, 30 under the other sanitizers.
run_variants() {
	local suite=$1 scale_var=$2 out=$3 variants=$4 tests=$5 v p t scale
	for v in $variants; do
		case $v in
		plain) scale=100 ;;
		tsan) scale=20 ;;
		*) scale=30 ;;
		esac
		for p in 1 2; do
			for t in $tests; do
				export GOCHAN_MAXPROCS=$p "$scale_var=$scale"
				run_tap "$suite/$v, $p P: ${t#test_}" 300 "$out/$v/$t"
			done
		done
	done
	unset GOCHAN_MAXPROCS "$scale_var"
}

# tap_end SUITE: the summary comment; the status says whether every test passed
tap_end() {
	echo "# $1: $tap_n tests, $tap_fails failed"
	[ "$tap_fails" -eq 0 ]
}
