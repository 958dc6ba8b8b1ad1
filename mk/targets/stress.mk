# SPDX-License-Identifier: GPL-2.0
#
# make stress: the long stress (selftests/stress/gochan_stress.c) for
# STRESS_SECONDS (600), in the debug kernel's guest when it is built (then
# the module is unloaded and kmemleak scanned, any report failing the run),
# else on Debian's kernel, saying so.  make check runs a 25 s version.
#
#   make stress [STRESS_SECONDS=600] [STRESS_ARGS='-p 4 -r 4 -k 300']

STRESS_SECONDS	?= 600
STRESS_ARGS	?=
STRESS_CMD	= build/selftests/stress/gochan-stress -t $(STRESS_SECONDS) $(STRESS_ARGS)

.PHONY: stress

stress:
	$(MAKE) -C selftests/stress WERROR=1
	@if mk/debug-kernel cached; then \
		DEBUG_OUT=$(CURDIR)/build/debug-stress VM_ARGS='$(VM_ARGS)' \
		DEBUG_VM_TIMEOUT=$$(($(STRESS_SECONDS) + 1800)) \
		mk/debug-kernel run '$(STRESS_CMD)'; \
	else \
		echo "make stress: no debug kernel built (make debug-kernel): on Debian's kernel, without KASAN, lockdep or kmemleak"; \
		$(MAKE) -s module && \
		$(RUN) --timeout $$(($(STRESS_SECONDS) + 600)) --tap -- guest-run-tests -t 0 "'$(STRESS_CMD)'"; \
	fi
