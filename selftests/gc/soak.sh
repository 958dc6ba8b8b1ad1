#!/bin/bash
# selftests/gc/soak.sh OUT SECONDS - the collector's soak (make gc-soak): test_mutate's random
# object graphs, mutated through the write barrier by four goroutines while cycles run back
# to back (the verify mode re-marking after every cycle, freed memory poisoned), round after
# round with a fresh seed and 1 to 4 Ps, in the plain, ASan and TSan builds, SECONDS each.
# One TAP line a round ("ok N - gc-soak/<variant>: P=<procs> seed=<seed>", common/tap.sh): a
# failing round names the seed that replays it:
#   GC_STRESS_PROCS=P GC_STRESS_SEED=S GC_STRESS_CYCLES=100 \
#       build/gc/tests/<variant>/test_mutate random_graphs_mutated_during_back_to_back_cycles
# Nothing is timed: SECONDS only bounds how many rounds run.
set -u
OUT=${1:?usage: soak.sh OUT SECONDS}
SECS=${2:?usage: soak.sh OUT SECONDS}
. "$(dirname "$0")/../common/tap.sh"

# as run.sh
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0
export TSAN_OPTIONS=detect_deadlocks=0:halt_on_error=1:die_after_fork=0
export GC_STRESS_CYCLES=${GC_STRESS_CYCLES:-100}
for v in plain asan tsan; do
	end=$((SECONDS + SECS))
	round=0
	while ((SECONDS < end || round == 0)); do
		export GC_STRESS_PROCS=$((round % 4 + 1))
		GC_STRESS_SEED=$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')
		export GC_STRESS_SEED
		run_tap "gc-soak/$v: P=$GC_STRESS_PROCS seed=$GC_STRESS_SEED" 900 \
			"$OUT/$v/test_mutate" random_graphs_mutated_during_back_to_back_cycles
		round=$((round + 1))
	done
done
tap_end gc-soak
