# SPDX-License-Identifier: GPL-2.0
#
# make fuzz: the uapi fuzzer (selftests/fuzz/gochan_fuzz.c) in the debug
# kernel's guest (KASAN, lockdep, kmemleak, UBSAN: mk/debug-kernel), then
# the module unloaded and a kmemleak scan; any report fails the run.
#
#   make fuzz [FUZZ_CALLS=10000000] [FUZZ_SEED=n] [FUZZ_WORKERS=8] [FUZZ_ARGS=...]
#   make fuzz-vm ...    the same on Debian's kernel (quicker, no checkers)
#
# A failure prints the seed and a command line that replays it.  The run
# ends with "N passed, N failed" like make check.  FUZZ_ARGS passes more
# options to gochan-fuzz (e.g. -x ro-out to leave out read-only structs).

FUZZ_CALLS	?= 10000000
FUZZ_SEED	?= $(shell od -An -N6 -tu8 /dev/urandom | tr -d ' ')
FUZZ_WORKERS	?= 8
FUZZ_ARGS	?=
FUZZ_CMD	= build/selftests/fuzz/gochan-fuzz -n $(FUZZ_CALLS) -s $(FUZZ_SEED) \
		  -w $(FUZZ_WORKERS) $(FUZZ_ARGS)

.PHONY: fuzz fuzz-vm

fuzz:
	@mk/debug-kernel need
	$(MAKE) -C selftests/fuzz WERROR=1
	@DEBUG_OUT=$(CURDIR)/build/debug-fuzz VM_ARGS='$(VM_ARGS)' \
		DEBUG_VM_TIMEOUT=$${DEBUG_VM_TIMEOUT:-86400} \
		mk/debug-kernel run '$(FUZZ_CMD)'

fuzz-vm: module
	$(MAKE) -C selftests/fuzz WERROR=1
	$(RUN) --tap -- guest-run-tests -t 0 "'$(FUZZ_CMD)'"
