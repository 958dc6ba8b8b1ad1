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

# tap_end SUITE: the summary comment; the status says whether every test passed
tap_end() {
	echo "# $1: $tap_n tests, $tap_fails failed"
	[ "$tap_fails" -eq 0 ]
}
