# SPDX-License-Identifier: GPL-2.0
#
# make coverage: the lines and branches of lib/ and kmod/ the tests execute
# (mk/coverage/run): lib's check and the host suites, then the module's
# selftests (with the fuzzer's and the stress test's short runs) in a guest,
# all built with gcov in a copy of the tree (build/coverage/tree/, the
# objects of build/ stay as they are).  The module is measured when the
# coverage kernel is built (mk/debug-kernel --kernel 6.12-gcov build, about
# an hour on two cores): the guest then boots it.  Prints one row per file
# and the totals against the targets (not a gate); writes the HTML report
# build/coverage/html/index.html.  make check's summary repeats the totals
# of the last run, with its date.
#
#   make coverage [COVERAGE_KERNEL=6.12-gcov] [COVERAGE_VM_TIMEOUT=5400]
#   make coverage-kernel     build the coverage kernel (once; cached)

COVERAGE_KERNEL	?= 6.12-gcov

.PHONY: coverage coverage-kernel

coverage:
	@COVERAGE_KERNEL=$(COVERAGE_KERNEL) VM_ARGS='$(VM_ARGS)' mk/coverage/run all

coverage-kernel:
	mk/debug-kernel --kernel $(COVERAGE_KERNEL) build
