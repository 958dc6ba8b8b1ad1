#!/bin/bash
# tools/bench/alloc/cachemodel.sh TOP TEST [LIB.so...]: run one benchmark under gochan and
# mimalloc (and any other malloc builds given, e.g. a snapshot of lib/alloc before a change)
# in valgrind's cache simulator, with its last level set to this machine's L2 (from sysfs),
# and print per allocator the instructions, L1 and L2 misses of the whole program and of the
# allocator's own code, and a cost estimate (Ir + 10 x L1 misses + 80 x L2 misses).
#
# Counts, not times: they repeat exactly from run to run, so a change can be judged here
# when wall-clock figures on a shared machine move more than the change does. They leave out
# what a simulator cannot see (prefetches, store buffers, fences, TLB misses, page faults):
# a change that only helps those must still be timed (make ab, interleaved runs).
# One thing in the allocator reads the clock: the scavenger, whose window is 1 s. Valgrind
# runs a test 50x slower, so a run slowed by a loaded machine can cross the window where
# the last did not, and count a release and its page faults more: compare runs made under
# the same load.
set -u
TOP=$1
TEST=${2:-rss-free}
shift $(($# < 2 ? $# : 2)) # the rest: more builds to count
BENCH=$TOP/build/alloc/bench/bench
. "$TOP/tools/bench/alloc/libs.sh"

if ! command -v valgrind >/dev/null; then
	echo "installing: valgrind"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind >/dev/null 2>&1 ||
		{ echo "cachemodel: valgrind is not available" >&2; exit 1; }
fi
l2=/sys/devices/system/cpu/cpu0/cache/index2
if [ -r $l2/size ]; then
	size=$(($(sed 's/K$//' $l2/size) * 1024))
	ll="$size,$(cat $l2/ways_of_associativity),$(cat $l2/coherency_line_size)"
else
	ll=1048576,16,64
fi

names=(gochan mimalloc "$@")
declare -A lib
for a in "${names[@]}"; do
	lib[$a]=$(alloc_lib "$a")
done
echo "cachemodel: $TEST, last level simulated as this machine's L2 ($ll: bytes,ways,line)"
printf "%-9s %9s %9s %9s %9s %9s %9s %10s\n" "" "Ir" "L1 miss" "L2 miss" "lib Ir" "lib L1" \
	"lib L2" "cost"
tmp=$(mktemp -d)
for a in "${names[@]}"; do
	[ -e "${lib[$a]}" ] || { echo "$a: ${lib[$a]} missing, left out"; continue; }
	out=$tmp/$(basename "$a")
	LD_PRELOAD=${lib[$a]} valgrind --tool=callgrind --cache-sim=yes --LL="$ll" \
		--callgrind-out-file="$out" "$BENCH" "$TEST" >/dev/null 2>&1 ||
		{ echo "$a: valgrind failed" >&2; continue; }
	# events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw; the allocator's own lines are those
	# of its shared object (and, for gochan, of lib/alloc's sources inlined into it)
	callgrind_annotate --show=Ir,D1mr,D1mw,DLmr,DLmw --threshold=100 --show-percs=no \
		--auto=no "$out" 2>/dev/null | tr -d ',' |
		awk -v a="$(basename "$a")" -v so="$(basename "${lib[$a]}" | sed 's/\.so.*//')" '
		{ for (i = 1; i <= 5; i++) if ($i == ".") $i = 0 }
		/PROGRAM TOTALS/ { ir = $1; l1 = $2 + $3; l2 = $4 + $5 }
		/file:function/ { body = 1; next }
		body && NF >= 6 && (index($0, so) || index($0, "lib/alloc/")) {
			lir += $1; ll1 += $2 + $3; ll2 += $4 + $5 }
		END {
			printf "%-9s %8.1fM %8.2fM %8.2fM %8.1fM %8.2fM %8.2fM %9.1fM\n", a,
				ir / 1e6, l1 / 1e6, l2 / 1e6, lir / 1e6, ll1 / 1e6, ll2 / 1e6,
				(ir + 10 * l1 + 80 * l2) / 1e6 }'
done
rm -rf "$tmp"
