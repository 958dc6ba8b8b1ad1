# SPDX-License-Identifier: GPL-2.0
#
# make bench, for gochan-bridge: values per second and latency through the
# bridge beside Redis alone with hiredis (tools/bridge/bench.sh), 64-byte
# and 4 KiB values, one and eight producers.  In the VM it gets a one-CPU
# guest of its own under gochan-vm --icount, as gochan-bench-select does:
# a TCG guest's clock then counts instructions, so its figures are the same
# on every run (redis-server, both bridges and the programs share that CPU:
# the figures are what each value costs them all).  Not asserted.
#
#   make bench-bridge [BRIDGE_BENCH_VALUES=20000]

BRIDGE_BENCH_VALUES ?= 20000

.PHONY: bench-bridge

bench-run: bench-bridge

bench-bridge: module tools
	$(RUN) $(BENCH_ONE_CPU_ARGS) -- BRIDGE_BENCH_VALUES=$(BRIDGE_BENCH_VALUES) \
		build/tools/bridge/bench.sh
