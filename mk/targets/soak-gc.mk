# SPDX-License-Identifier: GPL-2.0
#
# make gc-soak: the garbage collector's soak (selftests/gc/soak.sh): rounds of random object
# graphs mutated through the write barrier while cycles run back to back, the verify mode
# re-marking after each, freed memory poisoned, 1 to 4 Ps and a fresh seed a round (each
# line names it), in the plain, ASan and TSan builds for SOAK_GC_SECONDS each (60).
# Minutes: not part of make check; make soak runs it with the other soaks.  Ends with
# "N passed, N failed" like make check.
#
#   make gc-soak [SOAK_GC_SECONDS=60]     (or SOAK_SECONDS=, for every soak)

SOAK_GC_SECONDS ?= $(or $(SOAK_SECONDS),60)

.PHONY: soak gc-soak

soak: gc-soak

gc-soak:
	$(MAKE) -s -C selftests/gc build WERROR=1
	@mkdir -p build/soak
	@bash selftests/gc/soak.sh build/gc/tests $(SOAK_GC_SECONDS) 2>&1 | \
		tee build/soak/gc.log || true
	@selftests/common/tap-summary build/soak/gc.log
