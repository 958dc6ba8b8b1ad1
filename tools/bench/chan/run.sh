#!/bin/bash
# tools/bench/chan/run.sh OUT - run bench-chan and its Go twin at 1 and 2 Ps and print
# ns/op side by side with the ratio C/Go (below 1.0: the C runtime is faster).
# Printed, not asserted. BENCH_MS sets each measurement's length (default 300 ms).
set -eu
OUT=$(cd "${1:?usage: run.sh OUT [name...]}" && pwd)
shift
HERE=$(cd "$(dirname "$0")" && pwd)
MS=${BENCH_MS:-300}

if ! command -v go >/dev/null 2>&1; then
	echo "# golang-go missing: apt-get install golang-go"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >/dev/null 2>&1; }
fi
(cd "$HERE/go" && GOCACHE="$OUT/gocache" GO111MODULE=off go build -o "$OUT/bench-chan-go" main.go)

echo "# bench-chan: $(go version | cut -d' ' -f3) vs libgochan, ns/op, ratio = C / Go"
printf '%-30s %5s %12s %12s %7s\n' benchmark procs C Go ratio
for p in 1 2; do
	c=$("$OUT/bench-chan" -p "$p" -t "$MS" "$@")
	g=$("$OUT/bench-chan-go" -p "$p" -t "$MS" "$@")
	join -t $'\t' <(sort <<<"$c" | awk -F'\t' '{print $1 "\t" $3}') \
		<(sort <<<"$g" | awk -F'\t' '{print $1 "\t" $3}') |
	awk -F'\t' -v p="$p" '{ printf "%-30s %5d %12.1f %12.1f %7.2f\n", $1, p, $2, $3, $2 / $3 }'
done
