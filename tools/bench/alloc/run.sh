#!/bin/bash
# tools/bench/alloc/run.sh TOP: run every benchmark under every allocator (REPS times each,
# interleaved, medians reported) and print one table with ratios to mimalloc and glibc and
# PASS/MISS against the issue's targets: time <= 1.0x mimalloc and <= glibc; resident
# memory <= 1.1x mimalloc. Printed, never asserted.
set -u
TOP=$1
BENCH=$TOP/build/alloc/bench/bench
REPS=${REPS:-3}
TESTS=${TESTS:-"imm16 imm128 imm1k immrand bat16 bat128 bat1k batrand xthread larson rss rss-alloc rss-free"}
# rows named X-part time one phase of row X: no target of their own, no memory row
is_part() { case $1 in *-*) return 0 ;; esac; return 1; }
. "$TOP/tools/bench/alloc/libs.sh"

pkgs=""
[ -e "$(alloc_lib mimalloc)" ] || pkgs="$pkgs libmimalloc-dev"
[ -e "$(alloc_lib jemalloc)" ] || pkgs="$pkgs libjemalloc-dev"
[ -e "$(alloc_lib tcmalloc)" ] || pkgs="$pkgs libgoogle-perftools-dev"
if [ -n "$pkgs" ]; then
	echo "installing:$pkgs"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null 2>&1 ||
		echo "note: apt-get install$pkgs failed; those peers are left out"
fi

names=(glibc mimalloc jemalloc tcmalloc gochan)
declare -A lib
for a in "${names[@]}"; do
	lib[$a]=$(alloc_lib "$a")
done
have=()
for a in "${names[@]}"; do
	if [ -z "${lib[$a]}" ] || [ -e "${lib[$a]}" ]; then have+=("$a"); fi
done

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

declare -A ns peak after
tmp=$(mktemp -d)
for t in $TESTS; do
	for r in $(seq "$REPS"); do
		for a in "${have[@]}"; do
			if [ -n "${lib[$a]}" ]; then
				LD_PRELOAD=${lib[$a]} $BENCH "$t" >>"$tmp/$t.$a" 2>/dev/null
			else
				$BENCH "$t" >>"$tmp/$t.$a" 2>/dev/null
			fi
		done
	done
	for a in "${have[@]}"; do
		ns[$t.$a]=$(awk '{print $1}' "$tmp/$t.$a" | median)
		peak[$t.$a]=$(awk '{print $2}' "$tmp/$t.$a" | median)
		after[$t.$a]=$(awk '{print $3}' "$tmp/$t.$a" | median)
	done
done
rm -rf "$tmp"

verdict() { # value limit -> PASS|MISS
	awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l) ? "PASS" : "MISS" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo
echo "allocbench: ns/op (median of $REPS), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
printf "%-9s" test
for a in "${have[@]}"; do printf " %9s" "$a"; done
printf " %8s %8s  %s\n" "vs mi" "vs glibc" "time target"
for t in $TESTS; do
	printf "%-9s" "$t"
	for a in "${have[@]}"; do printf " %9s" "${ns[$t.$a]}"; done
	g=${ns[$t.gochan]}
	rm_=$(ratio "$g" "${ns[$t.mimalloc]:-0}")
	rg=$(ratio "$g" "${ns[$t.glibc]}")
	v1=$(verdict "$g" "${ns[$t.mimalloc]:-0}")
	v2=$(verdict "$g" "${ns[$t.glibc]}")
	if is_part "$t"; then
		printf " %8s %8s  %s\n" "${rm_}x" "${rg}x" "(part of ${t%%-*}: no target)"
	else
		printf " %8s %8s  %s\n" "${rm_}x" "${rg}x" "$([ "$v1$v2" = PASSPASS ] && echo PASS || echo MISS)"
	fi
done
echo
echo "resident memory, MiB: peak / after freeing everything (median of $REPS; rss: once idle 1.2 s and going on)"
printf "%-8s" test
for a in "${have[@]}"; do printf " %15s" "$a"; done
printf " %14s  %s\n" "peak vs mi" "rss target (<= 1.1x mi)"
for t in $TESTS; do
	is_part "$t" && continue
	printf "%-8s" "$t"
	for a in "${have[@]}"; do
		printf " %15s" "$(awk -v p="${peak[$t.$a]}" -v f="${after[$t.$a]}" 'BEGIN { printf "%.1f / %.1f", p / 1024, f / 1024 }')"
	done
	gp=${peak[$t.gochan]} mp=${peak[$t.mimalloc]:-0}
	ga=${after[$t.gochan]} ma=${after[$t.mimalloc]:-0}
	rp=$(ratio "$gp" "$mp")
	ra=$(ratio "$ga" "$ma")
	vp=$(awk -v g="$gp" -v m="$mp" 'BEGIN { print (g <= 1.1 * m) ? "PASS" : "MISS" }')
	va=$(awk -v g="$ga" -v m="$ma" 'BEGIN { print (g <= 1.1 * m) ? "PASS" : "MISS" }')
	printf " %14s  peak %s (%sx), after %s (%sx)\n" "${rp}x" "$vp" "$rp" "$va" "$ra"
done
