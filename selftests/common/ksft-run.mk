# SPDX-License-Identifier: GPL-2.0
# selftests/common/ksft-run.mk - the rules every kselftest-style folder has (selftests/
# gochan, kchan, bridge, trace): its output directory and "make run_tests", which runs
# each of TEST_GEN_PROGS from $(OUT) (where the module is loaded) and fails if any did.
# The including Makefile sets OUT and TEST_GEN_PROGS and has an "all" target.

$(OUT):
	mkdir -p $@

run_tests: all
	@rc=0; for t in $(TEST_GEN_PROGS); do \
		$(OUT)/$$t || rc=1; \
	done; exit $$rc

.PHONY: run_tests
