# SPDX-License-Identifier: GPL-2.0
# Read after a sub-directory's own Makefile (make -f Makefile -f this) to
# print one of its variables without running anything:
#   make -s -C selftests/gochan -f Makefile -f $(CURDIR)/mk/print-var.mk print-TEST_GEN_PROGS
print-%:
	@printf '%s\n' $($*)
