#!/bin/bash
# tools/bench/gc/run.sh OUT DEPTH LIVE_MB ALLOCS - libgochan's collector, Go's (the twin in
# go/, Debian's golang-go) and Boehm GC on the same workloads, in this run, side by side:
# figures, then ratios (gochan / Go, gochan / Boehm; below 1 is better for gochan) and the
# issue's targets marked PASS or MISS (printed, not asserted); and the churn's pauses as a
# picture, $OUT/pauses.svg (timeline-svg.sh).
set -u
OUT=$1 DEPTH=$2 LIVE=$3 ALLOCS=$4
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
B=$OUT/bench_gc_boehm
G=$OUT/bench_gc_go
if command -v go >/dev/null; then
	mkdir -p "$OUT/go-cache"
	GOCACHE=$OUT/go-cache GO111MODULE=off go build -o "$G" "$HERE/go/bench_gc.go" ||
		rm -f "$G"
else
	echo "(no Go: make bench installs golang-go)"
fi

kv() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }
row() { printf '%-16s %8s %12s %7s %12s %12s %10s %10s %7s %8s\n' "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3g", a / b; else print "-" }'; }

echo "== bench-gc: binary-trees depth $DEPTH; churn: ${LIVE} MB live of 64-byte objects, $ALLOCS allocations"
echo "   (pauses and stalls in us; a stall is the time of one run of 64 allocations of the churn;"
echo "    gc_cpu% is Go's GCCPUFraction: marking, assists and pauses x Ps over time x Ps)"
row run time_s ns_per_alloc cycles pause_med_us pause_max_us stall_p999 stall_max gc_cpu% rss_mb
declare -A R
for w in trees churn; do
	args=(trees "$DEPTH"); [ $w = churn ] && args=(churn "$LIVE" "$ALLOCS")
	# each runtime at each GOMAXPROCS in turn, so that all see the machine at nearly the
	# same time
	# (each run's pauses, for the picture: $OUT/timeline-$w-<run>.txt)
	tl() { echo "BENCH_GC_TIMELINE=$OUT/timeline-$w-$1.txt"; }
	for p in 1 2; do
		R[$w,gochan$p]=$(env "$(tl gochan$p)" GOMAXPROCS=$p nice "$OUT/bench_gc" "${args[@]}")
		[ -x "$G" ] && R[$w,go$p]=$(env "$(tl go$p)" GOMAXPROCS=$p nice "$G" "${args[@]}")
	done
	if [ -x "$B" ]; then
		R[$w,boehm1]=$(env "$(tl boehm1)" GC_MARKERS=1 nice "$B" "${args[@]}")
		R[$w,boehmN]=$(env "$(tl boehmN)" nice "$B" "${args[@]}")
	fi
	for k in gochan1 go1 gochan2 go2 boehm1 boehmN; do
		l=${R[$w,$k]:-}
		[ -n "$l" ] || continue
		row "$w $k" "$(kv "$l" time_s)" "$(kv "$l" ns_per_alloc)" "$(kv "$l" cycles)" \
			"$(kv "$l" pause_med_us)" "$(kv "$l" pause_max_us)" \
			"$(kv "$l" stall_p999_us)" "$(kv "$l" stall_max_us)" "$(kv "$l" gc_cpu_pct)" \
			"$(kv "$l" rss_mb)"
	done
done
T=$OUT/timeline-churn
"$HERE/timeline-svg.sh" "$OUT/pauses.svg" \
	"Stop-the-world pauses, churn of a ${LIVE} MB heap (bench_gc, this run)" \
	"1 P (Boehm: serial marker)|gochan=$T-gochan1.txt|Go=$T-go1.txt|Boehm=$T-boehm1.txt" \
	"2 Ps (Boehm: parallel marker)|gochan=$T-gochan2.txt|Go=$T-go2.txt|Boehm=$T-boehmN.txt" &&
	echo "(the pauses as a picture: $OUT/pauses.svg)"
pass() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "" && b != "" && a <= b) ? "PASS" : "MISS" }'; }
if [ -x "$G" ]; then
	echo "-- ratios, gochan / Go (same GOMAXPROCS)"
	for w in trees churn; do
		for p in 1 2; do
			g=${R[$w,gochan$p]} o=${R[$w,go$p]}
			echo "$w P=$p: time x$(ratio "$(kv "$g" time_s)" "$(kv "$o" time_s)"), max pause x$(ratio "$(kv "$g" pause_max_us)" "$(kv "$o" pause_max_us)"), GC CPU x$(ratio "$(kv "$g" gc_cpu_pct)" "$(kv "$o" gc_cpu_pct)")"
		done
	done
	for p in 1 2; do
		g=${R[trees,gochan$p]} o=${R[trees,go$p]}
		echo "target: binary-trees at most Go's time, P=$p: $(pass "$(kv "$g" time_s)" "$(kv "$o" time_s)")"
		g=${R[churn,gochan$p]} o=${R[churn,go$p]}
		echo "target: churn ns/alloc at most Go's, P=$p: $(pass "$(kv "$g" ns_per_alloc)" "$(kv "$o" ns_per_alloc)")"
		echo "target: churn max stop-the-world pause at most Go's, P=$p: $(pass "$(kv "$g" pause_max_us)" "$(kv "$o" pause_max_us)")"
		echo "(churn mutator stall p99.9 / max, P=$p: $(kv "$g" stall_p999_us) / $(kv "$g" stall_max_us) us, Go $(kv "$o" stall_p999_us) / $(kv "$o" stall_max_us) us)"
	done
fi
[ -x "$B" ] || { echo "(no Boehm build: install libgc-dev)"; exit 0; }
echo "-- ratios, gochan / Boehm (same GOMAXPROCS / markers: 1 = serial, N = parallel marker vs 2 Ps)"
for w in trees churn; do
	for pair in "gochan1 boehm1" "gochan2 boehmN"; do
		set -- $pair
		g=${R[$w,$1]} b=${R[$w,$2]}
		t=$(ratio "$(kv "$g" time_s)" "$(kv "$b" time_s)")
		pm=$(ratio "$(kv "$g" pause_max_us)" "$(kv "$b" pause_max_us)")
		echo "$w $1/$2: time x$t, max pause x$pm"
	done
done
g=${R[trees,gochan2]} b=${R[trees,boehmN]}
v=$(awk -v a="$(kv "$g" time_s)" -v b="$(kv "$b" time_s)" 'BEGIN { print (a <= b / 2) ? "PASS" : "MISS" }')
echo "target: binary-trees at most half of Boehm's time: $v"
g=${R[churn,gochan2]} b=${R[churn,boehmN]}
v=$(awk -v a="$(kv "$g" pause_max_us)" 'BEGIN { print (a <= 100) ? "PASS" : "MISS" }')
echo "target: churn max stop-the-world pause <= 100 us: $v ($(kv "$g" pause_max_us) us)"
v=$(awk -v a="$(kv "$g" pause_max_us)" -v b="$(kv "$b" pause_max_us)" 'BEGIN { print (a * 100 <= b) ? "PASS" : "MISS" }')
echo "target: churn pauses 100x shorter than Boehm's: $v"
