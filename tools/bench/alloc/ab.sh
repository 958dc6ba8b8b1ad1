#!/bin/bash
# tools/bench/alloc/ab.sh TOP RUNS TESTS LIB...: A/B of allocator builds on a noisy machine.
#
# Runs each test under each library (a path to a malloc .so, or "mimalloc", "glibc",
# "gochan" for this tree's build), interleaved run by run so that the machine's slow
# minutes fall on every library alike, and prints per test and library the minimum and the
# median ns/op of RUNS runs, with both as a ratio to the first library. Snapshot a build
# before changing lib/alloc (cp build/alloc/libgochan-malloc.so /tmp/old.so), then:
#     make -C tools/bench/alloc ab LIBS="/tmp/old.so gochan mimalloc" TESTS="rss-free larson"
# A difference smaller than the spread between the minimum and the median is not one.
set -u
TOP=$1
RUNS=$2
TESTS=$3
shift 3
BENCH=$TOP/build/alloc/bench/bench
. "$TOP/tools/bench/alloc/libs.sh"

libs=("$@")
for l in "${libs[@]}"; do
	p=$(alloc_lib "$l")
	if [ -n "$p" ] && [ ! -e "$p" ]; then
		echo "ab: $l: $p does not exist" >&2
		exit 1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$RUNS"); do
	for t in $TESTS; do
		for i in "${!libs[@]}"; do
			p=$(alloc_lib "${libs[$i]}")
			LD_PRELOAD=$p "$BENCH" "$t" | awk '{print $1}' >>"$tmp/$t.$i" ||
				{ echo "ab: $t under ${libs[$i]} failed" >&2; exit 1; }
		done
	done
done

stat() { sort -g "$1" | awk '{v[NR] = $1} END {print v[1], v[int((NR + 1) / 2)]}'; }
printf "ab: ns/op over %s interleaved runs; ratios to the first library\n" "$RUNS"
printf "%-10s %-40s %9s %9s %8s %8s\n" test library min median "min x" "med x"
for t in $TESTS; do
	read -r min0 med0 < <(stat "$tmp/$t.0")
	for i in "${!libs[@]}"; do
		read -r min med < <(stat "$tmp/$t.$i")
		awk -v t="$t" -v l="${libs[$i]}" -v a="$min" -v b="$med" -v a0="$min0" -v b0="$med0" \
			'BEGIN { printf "%-10s %-40s %9.2f %9.2f %7.2fx %7.2fx\n", t, l, a, b, a / a0, b / b0 }'
	done
done
