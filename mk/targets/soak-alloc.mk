# SPDX-License-Identifier: GPL-2.0
#
# make soak-alloc: the allocator's soak (selftests/alloc/soak.sh): more threads than CPUs
# allocating and freeing, half the frees on other threads, threads exiting and replaced,
# fork under load, under the LD_PRELOAD malloc for SOAK_ALLOC_SECONDS per test (60), then
# a third of that each against the ASan, TSan and debug builds of lib/alloc; and clang-built
# C++ (operator new, containers) under LD_PRELOAD.  Minutes: not part of make check.  Ends
# with "N passed, N failed" like make check.
#
#   make soak-alloc [SOAK_ALLOC_SECONDS=60]     (or SOAK_SECONDS=, for every soak)

SOAK_ALLOC_SECONDS ?= $(or $(SOAK_SECONDS),60)

.PHONY: soak soak-alloc

soak: soak-alloc

soak-alloc:
	mk/install-deps gcc clang
	@mkdir -p build/soak
	@rc=0; $(MAKE) -s -C selftests/alloc soak WERROR=1 \
		SOAK_SECONDS=$(SOAK_ALLOC_SECONDS) 2>&1 | tee build/soak/alloc.log || rc=$$?; \
	if [ $$rc -ne 0 ] && ! grep -q '^not ok' build/soak/alloc.log; then \
		echo "not ok - soak-alloc # exit status $$rc" | tee -a build/soak/alloc.log; \
	fi; \
	selftests/common/tap-summary build/soak/alloc.log
