#!/bin/bash
# selftests/alloc/run.sh TOP - run every allocator test, one TAP line each ("ok N - name",
# common/tap.sh). Nothing here asserts on time.
set -u
TOP=${1:?usage: run.sh TOP}
B=$TOP/build/alloc
T=$B/tests
SO=$B/libgochan-malloc.so
. "$(dirname "$0")/../common/tap.sh"

# 1. unit tests, each layer
run_tap sizeclass 60 "$T/test_sizeclass"
run_tap pagealloc 60 "$T/test_pagealloc"
run_tap api 120 "$T/test_api"
run_tap stress 200 "$T/test_stress"
run_tap malloc 120 "$T/test_malloc"
run_tap malloc-start 60 "$T/test_early"

# the debug build checks every span it touches on the slow paths
GA_STRESS_SCALE=50 run_tap debug-stress 200 "$T/debug/test_stress"
# ... and has the hook that holds a remote free's notification in flight
run_tap debug-notify 60 "$T/debug/test_notify"

# 2. sanitizers (the API: ASan cannot share a process with a replaced malloc)
run_tap asan-api 120 "$T/asan/test_api"
GA_STRESS_SCALE=50 run_tap asan-stress 200 "$T/asan/test_stress"
# the checker holds every lock at once: more than TSan's deadlock detector can track
export TSAN_OPTIONS="detect_deadlocks=0 halt_on_error=1 exitcode=66"
run_tap tsan-api 200 "$T/tsan/test_api"
GA_STRESS_SCALE=30 run_tap tsan-stress 200 "$T/tsan/test_stress"
unset TSAN_OPTIONS

# 3. libFuzzer, bounded
if need_pkg clang clang && make -s -C "$TOP/selftests/alloc" fuzz >/dev/null 2>&1; then
	corpus=$(mktemp -d)
	run_cmd "fuzz: 20 s of operation sequences (libFuzzer + ASan)" 120 \
		"$T/fuzz" -max_total_time=20 -rss_limit_mb=4096 -seed=1 \
		-artifact_prefix="$corpus/" "$corpus"
	rm -rf "$corpus"
else
	tap_emit skip "fuzz: libFuzzer target" "clang with libFuzzer not available"
fi

# 4. real programs under LD_PRELOAD
PY=/usr/bin/python3
if [ -x $PY ]; then
	run_cmd "preload: python3 script (PYTHONMALLOC=malloc)" 120 env LD_PRELOAD="$SO" \
		PYTHONMALLOC=malloc $PY -c '
import json, re, threading, collections
d = {i: str(i) * (i % 50) for i in range(200000)}
s = json.dumps(d); assert json.loads(s) == {str(k): v for k, v in d.items()}
def work(k):
    l = [bytearray(k * 7 % 5000) for _ in range(20000)]
    c = collections.Counter(re.findall(r"\d\d", s[: 100000]))
    return len(l), len(c)
ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print("ok")'
	if ! $PY -c 'import test.test_list' 2>/dev/null; then
		echo "# python3 test suite missing: apt-get install libpython3.11-testsuite"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			"libpython$($PY -c 'import sys; print("%d.%d" % sys.version_info[:2])')-testsuite" \
			>/dev/null 2>&1
	fi
	if $PY -c 'import test.test_list' 2>/dev/null; then
		run_cmd "preload: python3 -m test list dict set json re collections threading pickle unicode" \
			300 env LD_PRELOAD="$SO" PYTHONMALLOC=malloc $PY -m test -j2 test_list test_dict \
			test_set test_json test_re test_collections test_threading test_pickle test_unicode
	else
		tap_emit skip "preload: python3 -m test" "the python3 test package could not be installed"
	fi
else
	tap_emit skip "preload: python3" "/usr/bin/python3 missing"
fi
# clang -O2 C++: new T of 17..24 bytes stored with movaps, containers across threads
if need_pkg clang++ clang && make -s -C "$TOP/selftests/alloc" cxx >/dev/null 2>&1; then
	run_tap preload-cxx 60 env LD_PRELOAD="$SO" "$T/cxx_new"
else
	tap_emit skip "preload-cxx: clang -O2 C++ program" "clang++ not available"
fi
# issue 26's double release: 4 KiB objects, half freed on other threads, threads replaced
run_tap preload-soak 60 env LD_PRELOAD="$SO" "$T/soak" -s 2 churn_4k_half_remote
if git -C "$TOP" rev-parse >/dev/null 2>&1; then
	run_cmd "preload: git status and git log on the repository" 120 env LD_PRELOAD="$SO" \
		sh -c "git -C '$TOP' status >/dev/null && git -C '$TOP' log --stat -n 50 >/dev/null"
else
	tap_emit skip "preload: git" "not a git checkout"
fi
run_cmd "preload: make + gcc build lib/alloc itself" 300 env LD_PRELOAD="$SO" \
	make -s -B -C "$TOP/lib/alloc" VARIANT=preload-build
rm -rf "$B/preload-build"

tap_end alloc
