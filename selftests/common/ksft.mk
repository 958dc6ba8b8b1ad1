# SPDX-License-Identifier: GPL-2.0
# selftests/common/ksft.mk - the kernel's kselftest harness headers
# (kselftest_harness.h, kselftest.h), extracted at build time from Debian's
# linux-source-6.1 package, never copied into the repository.
#
# The including Makefile sets KSFT_DIR (where to extract them) and has its
# default goal set before the include. KSFT_INC given on the command line (a
# directory that already holds them: the top Makefile extracts them once)
# wins. Defines KSFT_INC (for -isystem) and KSFT_HDR (for prerequisites).

KSRC_TAR := /usr/src/linux-source-6.1.tar.xz
ifeq ($(KSFT_INC),)
KSFT_INC := $(KSFT_DIR)
KSFT_HDR := $(KSFT_INC)/kselftest_harness.h
$(KSFT_HDR):
	@mkdir -p $(KSFT_INC)
	tar -xJf $(KSRC_TAR) -C $(KSFT_INC) --strip-components=4 \
	    linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
	    linux-source-6.1/tools/testing/selftests/kselftest.h
	@touch $@
else
KSFT_HDR := $(KSFT_INC)/kselftest_harness.h
endif
