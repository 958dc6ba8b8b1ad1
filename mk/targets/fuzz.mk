# SPDX-License-Identifier: GPL-2.0
#
# make fuzz: the uapi fuzzer (selftests/fuzz/) in a debug
# kernel's guest (DEBUG_KERNEL: 6.12, 6.1 or 6.12-kcsan; mk/debug-kernel),
# then the module unloaded and a kmemleak scan; any report fails the run.
#
#   make fuzz [DEBUG_KERNEL=6.12] [FUZZ_CALLS=10000000] [FUZZ_SEED=n]
#             [FUZZ_WORKERS=8] [FUZZ_ARGS=...]
#   make fuzz-vm ...    the same on Debian's kernel (quicker, no checkers)
#
# A failure prints the seed and a command line that replays it.  The run
# ends with "N passed, N failed" like make check.  FUZZ_ARGS passes more
# options to gochan-fuzz (e.g. -x ro-out to leave out read-only structs).
#
# Under TCG the fuzz guest runs one host thread per vCPU (TCG_THREADS=multi,
# about twice the calls per second on two cores): the fuzzer attaches no BPF
# programs, so no kernel text is patched under it, the case that makes
# make check run its guests on one thread (selftests/vm/gochan-vm --help).

DEBUG_KERNEL	?= 6.12
FUZZ_CALLS	?= 10000000
FUZZ_SEED	?= $(shell od -An -N6 -tu8 /dev/urandom | tr -d ' ')
FUZZ_WORKERS	?= 8
FUZZ_ARGS	?=
FUZZ_CMD	= build/selftests/fuzz/gochan-fuzz -n $(FUZZ_CALLS) -s $(FUZZ_SEED) \
		  -w $(FUZZ_WORKERS) $(FUZZ_ARGS)

.PHONY: fuzz fuzz-vm

fuzz:
	@mk/debug-kernel --kernel $(DEBUG_KERNEL) need
	$(MAKE) -C selftests/fuzz WERROR=1
	@DEBUG_OUT=$(CURDIR)/build/debug-fuzz/$(DEBUG_KERNEL) VM_ARGS='$(VM_ARGS)' \
		TCG_THREADS=$${TCG_THREADS:-multi} \
		DEBUG_VM_TIMEOUT=$${DEBUG_VM_TIMEOUT:-86400} \
		mk/debug-kernel --kernel $(DEBUG_KERNEL) run '$(FUZZ_CMD)'

fuzz-vm: module
	$(MAKE) -C selftests/fuzz WERROR=1
	TCG_THREADS=$${TCG_THREADS:-multi} $(RUN) --tap -- guest-run-tests -t 0 "'$(FUZZ_CMD)'"
