#!/bin/bash
# tools/bench/sched/run.sh OUT - run bench_sched (C) and its Go twin in the same session and
# print each figure beside Go's with the ratio (target: at most 1.0x Go; 4 KiB per parked
# goroutine). Go is Debian's golang-go, used only as the peer. Nothing here is asserted.
set -euo pipefail
OUT=${1:?usage: run.sh OUT}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROCS=${BENCH_PROCS:-1 2}

if ! command -v go >/dev/null; then
	echo "bench-sched: go is not installed (make bench installs golang-go)" >&2
	exit 1
fi
mkdir -p "$OUT/go-cache"
GOCACHE=$OUT/go-cache GO111MODULE=off go build -o "$OUT/bench_sched_go" "$HERE/go/bench_sched.go"

# Each (benchmark, Ps) in a fresh process of each runtime, alternating, so that both see
# the same machine at nearly the same time and neither inherits the other's caches.
: >"$OUT/c.txt"
: >"$OUT/go.txt"
for b in rss-parked yield spawn-wg spawn-each skynet sleep-1ms; do
	for p in $PROCS; do
		BENCH_ONLY=$b "$OUT/bench_sched" "$p" >>"$OUT/c.txt"
		BENCH_ONLY=$b "$OUT/bench_sched_go" "$p" >>"$OUT/go.txt"
	done
done

echo "== scheduler: gochan vs Go $(go env GOVERSION), same machine, same session (best of 3)"
printf '%-12s %3s %14s %14s %8s  %s\n' bench Ps gochan Go ratio target
join <(awk '{print $1"/"$2, $3}' "$OUT/c.txt" | sort) \
     <(awk '{print $1"/"$2, $3}' "$OUT/go.txt" | sort) |
awk '{
	split($1, k, "/"); name = k[1]; p = k[2]; c = $2; g = $3;
	unit = "ns/op"; target = "<= 1.00x Go";
	# the target is "at most 4 KiB": judged in its unit, KiB to two decimals
	if (name == "rss-parked") { unit = "B"; target = "<= 4.00 KiB"; }
	if (name == "sleep-1ms") { unit = "ns/batch"; }
	ratio = g > 0 ? c / g : 0;
	ok = (name == "rss-parked") ? (sprintf("%.2f", c / 1024) + 0 <= 4.00 ? "PASS" : "MISS") : (ratio <= 1.0 ? "PASS" : "MISS");
	if (name == "rss-parked") target = sprintf("%.2f KiB <= 4.00 KiB", c / 1024);
	printf "%-12s %3s %11.1f %-2s %11.1f %-2s %7.2fx  %s %s\n", name, p, c, "", g, "", ratio, target, ok
}' | sort -k1,1 -k2,2n
