# SPDX-License-Identifier: GPL-2.0
#
# make soak-sched: the scheduler's and the contexts' soak, minutes long, not in make check.
# selftests/sched/soak_sched.c runs rounds of 1 to 4 Ps with hog goroutines (the hog signal),
# syscall-heavy workers (handoffs), the poller and a timer storm, checking that no more
# goroutines hold a P than there are Ps; selftests/chan/soak_context.c storms contexts with
# creates, cancels, deadlines, AfterFuncs and releases in random orders. Each runs in its
# plain, ASan and TSan builds for SOAK_SCHED_SECONDS (60) seconds: six TAP lines, then
# "N passed, N failed". make soak runs it (with the other soaks).
#
#   make soak-sched [SOAK_SCHED_SECONDS=60]     (or SOAK_SECONDS=, for every soak)

SOAK_SCHED_SECONDS	?= $(or $(SOAK_SECONDS),60)

.PHONY: soak soak-sched

soak: soak-sched

soak-sched:
	$(MAKE) -C selftests/sched soak WERROR=1
	$(MAKE) -C selftests/chan soak WERROR=1
	@mkdir -p build/soak
	@bash selftests/sched/soak.sh build/sched/tests build/chan/tests \
		$(SOAK_SCHED_SECONDS) 2>&1 | tee build/soak/sched.log || true
	@selftests/common/tap-summary build/soak/sched.log
