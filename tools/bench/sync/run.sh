#!/bin/bash
# tools/bench/sync/run.sh OUT - run bench_sync (C) and its Go twin in the same session and
# print each figure beside Go's with the ratio (target: at most 1.0x Go). Go is Debian's
# golang-go, used only as the peer. Nothing here is asserted.
set -euo pipefail
OUT=${1:?usage: run.sh OUT}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROCS=${BENCH_PROCS:-1 2}

if ! command -v go >/dev/null; then
	echo "bench-sync: go is not installed (make bench installs golang-go)" >&2
	exit 1
fi
mkdir -p "$OUT/go-cache"
GOCACHE=$OUT/go-cache GO111MODULE=off go build -o "$OUT/bench_sync_go" "$HERE/go/bench_sync.go"

# Each (benchmark, Ps) in a fresh process of each runtime, alternating, so that both see
# the same machine at nearly the same time.
: >"$OUT/c.txt"
: >"$OUT/go.txt"
for b in uncontended contend-2 contend-8 contend-64 rw-read-mostly; do
	for p in $PROCS; do
		BENCH_ONLY=$b "$OUT/bench_sync" "$p" >>"$OUT/c.txt"
		BENCH_ONLY=$b "$OUT/bench_sync_go" "$p" >>"$OUT/go.txt"
	done
done

echo "== sync: gochan vs Go $(go env GOVERSION), same machine, same session (best of 3)"
printf '%-15s %3s %11s %11s %8s  %s\n' bench Ps gochan Go ratio target
join <(awk '{print $1"/"$2, $3}' "$OUT/c.txt" | sort) \
     <(awk '{print $1"/"$2, $3}' "$OUT/go.txt" | sort) |
awk '{
	split($1, k, "/"); c = $2; g = $3;
	ratio = g > 0 ? c / g : 0;
	printf "%-15s %3s %8.1f ns %8.1f ns %7.2fx  <= 1.00x Go %s\n", k[1], k[2], c, g, ratio,
	       ratio <= 1.0 ? "PASS" : "MISS"
}' | sort -k1,1 -k2,2n
