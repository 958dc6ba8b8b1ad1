# SPDX-License-Identifier: MIT
# selftests/common/lib-variants.mk - host tests of a part of libgochan in four builds
# (selftests/chan, sync, time): the library's sources they need are compiled once per
# build into an archive each test links with: plain (-O2), asan (AddressSanitizer), ubsan
# (UndefinedBehaviorSanitizer, no recovery) and tsan (ThreadSanitizer); the library's
# debug hooks (GO_DEBUG_HOOK) are in, its assertions (go_assert, GO_DEBUG) on under ASan
# and UBSan.  Their binaries are not under build/selftests/ (that tree is copied into the
# VM guest): build/<folder>/tests/<build>/<test>.
#
# The including Makefile sets LIB_SRCS, LIB_HDRS (a change rebuilds), TESTS (the
# programs, one <test>.c each) and, if it wants, EXTRA_CFLAGS and another OUT, includes
# this (a <program>.c beside them builds the same way: $(OUT)/<build>/<program>), then says its run_tests_host (the top
# Makefile finds a host suite by that line in its Makefile).

TOP    := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
HERE   := $(abspath $(dir $(firstword $(MAKEFILE_LIST))))
OUT    ?= $(TOP)/build/$(notdir $(HERE))/tests
CC     := gcc
CFLAGS := -std=gnu11 -g -Wall -Wextra -Wno-missing-field-initializers $(EXTRA_CFLAGS) \
          -I$(TOP)/include -I$(TOP)/include/uapi -I$(TOP)/lib -I$(HERE) \
          $(if $(filter 1,$(WERROR)),-Werror)
LIBS   := -luring -lpthread

VARIANTS    := plain asan ubsan tsan
HOOKS       := -DGOCHAN_DEBUG_HOOKS
FLAGS_plain := -O2
FLAGS_asan  := -O1 -fsanitize=address -fno-omit-frame-pointer -DGO_DEBUG
FLAGS_ubsan := -O1 -fsanitize=undefined -fno-sanitize-recover=all -DGO_DEBUG
FLAGS_tsan  := -O1 -fsanitize=thread

BINS := $(foreach v,$(VARIANTS),$(foreach t,$(TESTS),$(OUT)/$(v)/$(t)))

build: $(BINS)

objs_of = $(patsubst $(TOP)/%,$(OUT)/$(1)/obj/%.o,$(LIB_SRCS))
define variant_rule
$(OUT)/$(1)/obj/%.o: $(TOP)/% $(LIB_HDRS)
	@mkdir -p $$(@D)
	$(CC) $(CFLAGS) $(HOOKS) $(FLAGS_$(1)) -c -o $$@ $$<
$(OUT)/$(1)/librt.a: $(call objs_of,$(1))
	@rm -f $$@
	ar rcs $$@ $$^
$(OUT)/$(1)/%: $(HERE)/%.c $(OUT)/$(1)/librt.a $(LIB_HDRS)
	@mkdir -p $$(@D)
	$(CC) $(CFLAGS) $(HOOKS) $(FLAGS_$(1)) -o $$@ $$< $(OUT)/$(1)/librt.a $(LIBS)
endef
$(foreach v,$(VARIANTS),$(eval $(call variant_rule,$(v))))

clean:
	rm -rf $(OUT)

.PHONY: build clean
