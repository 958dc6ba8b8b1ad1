# SPDX-License-Identifier: GPL-2.0
#
# make stress: the long stress (selftests/stress/main.c) for
# STRESS_SECONDS (600), in the guest of debug kernel DEBUG_KERNEL (6.12) when
# it is built (then the module is unloaded and kmemleak scanned, any report
# failing the run), else on Debian's kernel, saying so.  make check runs a
# 25 s version.
#
#   make stress [DEBUG_KERNEL=6.12] [STRESS_SECONDS=600] [STRESS_ARGS='-p 4 -r 4 -k 300']

DEBUG_KERNEL	?= 6.12
STRESS_SECONDS	?= 600
STRESS_ARGS	?=
STRESS_CMD	= build/selftests/stress/gochan-stress -t $(STRESS_SECONDS) $(STRESS_ARGS)

.PHONY: stress

stress:
	$(MAKE) -C selftests/stress WERROR=1
	@if mk/debug-kernel --kernel $(DEBUG_KERNEL) cached; then \
		DEBUG_OUT=$(CURDIR)/build/debug-stress/$(DEBUG_KERNEL) VM_ARGS='$(VM_ARGS)' \
		DEBUG_VM_TIMEOUT=$$(($(STRESS_SECONDS) + 1800)) \
		mk/debug-kernel --kernel $(DEBUG_KERNEL) run '$(STRESS_CMD)'; \
	else \
		echo "make stress: no debug kernel $(DEBUG_KERNEL) built (make debug-kernel): on Debian's kernel, without KASAN, lockdep or kmemleak"; \
		$(MAKE) -s module && \
		$(RUN) --timeout $$(($(STRESS_SECONDS) + 600)) --tap -- guest-run-tests -t 0 "'$(STRESS_CMD)'"; \
	fi
