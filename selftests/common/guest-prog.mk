# SPDX-License-Identifier: GPL-2.0
# selftests/common/guest-prog.mk - one static program for the guest and the short
# selftest script that runs it in make check (selftests/fuzz, selftests/stress).
# Static, like the other selftests, so the guest needs no libc.
#
# The including Makefile sets PROG (the program's name), SRC (its sources, one
# or more .c files), HDRS (headers beside them, if any: a change rebuilds)
# and SHORT (the kselftest script), then includes this (a change to
# selftests/common/*.h rebuilds too); OUT defaults to
# build/selftests/<its folder>.

.DEFAULT_GOAL := all

TOP	:= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
HERE	:= $(abspath $(dir $(firstword $(MAKEFILE_LIST))))
OUT	?= $(TOP)/build/selftests/$(notdir $(HERE))

TEST_GEN_PROGS := $(SHORT)
TEST_FILES     := config settings $(SHORT)

CC	?= gcc
CFLAGS	:= -static -std=gnu11 -O2 -g -Wall -Wextra -I$(TOP)/include/uapi
ifeq ($(WERROR),1)
CFLAGS	+= -Werror
endif

all: $(OUT)/$(PROG) $(addprefix $(OUT)/,$(TEST_FILES))
	@chmod +x $(OUT)/$(SHORT)

$(OUT)/$(PROG): $(addprefix $(HERE)/,$(SRC) $(HDRS)) $(wildcard $(TOP)/selftests/common/*.h) \
		 $(TOP)/include/uapi/linux/gochan.h | $(OUT)
	$(CC) $(CFLAGS) -o $@ $(addprefix $(HERE)/,$(SRC)) -luring

$(addprefix $(OUT)/,$(TEST_FILES)): $(OUT)/%: $(HERE)/% | $(OUT)
	cp $< $@

$(OUT):
	mkdir -p $@

run_tests: all
	$(OUT)/$(SHORT)

clean:
	rm -f $(OUT)/$(PROG) $(addprefix $(OUT)/,$(TEST_FILES))

.PHONY: all run_tests clean
