# SPDX-License-Identifier: GPL-2.0
#
# gochan: top-level build and test entry points.
#
#   make                 module, library, selftests, tools
#   make check           install missing packages, build with -Werror, run the
#                        host-side tests and the module's selftests (the race
#                        selftests again with a GOCHAN_DEBUG=1 module); the
#                        last line says "N passed, N failed"
#   make demo            the demo, with the module loaded
#   make bench           the benchmarks, with the module loaded
#   make help            all targets and variables
#
# The module's tests and the demo need the module loaded.  Where this machine
# can do that itself (root, a kernel with modules, headers for `uname -r`)
# they run here; elsewhere selftests/vm/gochan-vm boots Debian's kernel under
# QEMU with the module, the tests and the tools in an initramfs.
#
# Sub-directories follow one convention: lib/, selftests/*/, tools/*/ and
# tools/bench/*/ (a folder per benchmark subject) each have a Makefile that
# builds into build/<same path>/ and takes WERROR=1 and
# KSFT_INC=<dir with kselftest_harness.h>.  A new selftests/<dir>/ is picked
# up by itself: its TEST_GEN_PROGS and TEST_PROGS (found in build/<dir>/) run
# where the module is loaded; a "run_tests_host" target, if it has one, runs
# on the host and prints TAP.  The test infrastructure has no Makefile, so it
# is not taken for tests: selftests/vm/ (the QEMU runner, the host runner,
# the guest's test runner) and selftests/common/ (shared helpers, the TAP
# counter tap-summary).

SHELL		:= /bin/bash
.SHELLFLAGS	:= -eu -o pipefail -c
.DEFAULT_GOAL	:= all
MAKEFLAGS	+= --no-print-directory

# Where the module is loaded: "host" or "vm" (override with RUN_ON=vm to use
# the VM on a machine that could load the module itself).
ifndef RUN_ON
RUN_ON := $(shell if [ -e /proc/modules ] && [ "$$(id -u)" = 0 ] && \
		     [ -d "/lib/modules/$$(uname -r)/build" ]; then \
			echo host; else echo vm; fi)
endif

# The kernel the module is built for.  On the VM side, found among installed
# kernels by selftests/vm/find-kver when first used (not at parse time: on a
# fresh machine "make deps" has yet to install one).
ifeq ($(RUN_ON),host)
KVER		?= $(shell uname -r)
KDIR		?= /lib/modules/$(KVER)/build
else
KVER		?= $(eval KVER := $(shell selftests/vm/find-kver 2>/dev/null))$(KVER)
KDIR		?= /usr/src/linux-headers-$(KVER)
VM_KERNEL	?= /boot/vmlinuz-$(KVER)
endif

# The second LTS kernel the module is built and tested against in the VM:
# Debian 12 ships 6.12 beside 6.1 (bookworm-security).  KVER2 is looked up
# when first used, like KVER.
SECOND_SERIES	?= 6.12
KVER2		?= $(eval KVER2 := $(shell selftests/vm/find-kver --series $(SECOND_SERIES) 2>/dev/null))$(KVER2)

# Where gochan.ko is built: here, or (for another kernel) a directory the
# sources are copied into, so each kernel's objects stay apart.
MODULE_DIR	?= $(CURDIR)

# Extra options for selftests/vm/gochan-vm (e.g. VM_ARGS="--accel tcg").
VM_ARGS		?=
# Longest a whole guest run may take, in seconds.
VM_TIMEOUT	?= 1200

# Debian packages: to build and run the host-side tests (mandoc and man-db lint the
# manual pages of tools/man), then to boot the VM.
# gochan-bridge (tools/bridge): hiredis, OpenSSL for its TLS, and for its
# tests and benchmark redis-server (redis-tools ships it as redis-check-rdb;
# the redis-server package would also start a system service) and the
# openssl tool that makes the tests' certificates.
BRIDGE_DEPS	:= libhiredis-dev libssl-dev redis-tools openssl
DEPS		:= gcc make libc6-dev binutils pkgconf xz-utils linux-source \
		   liburing-dev libbpf-dev bpftool kmod dwarves \
		   clang libelf-dev zlib1g-dev mandoc man-db \
		   $(BRIDGE_DEPS)
DEPS_VM		:= linux-image-amd64 linux-headers-amd64 qemu-system-x86 \
		   busybox-static cpio \
		   linux-image-$(SECOND_SERIES)-amd64 linux-headers-$(SECOND_SERIES)-amd64
# Go is only the scheduler's and channels' peer in make bench; Boehm GC the collector's.
BENCH_DEPS	:= golang-go libgc-dev

SELFTEST_DIRS	:= $(patsubst %/Makefile,%,$(wildcard selftests/*/Makefile))
TOOL_DIRS	:= $(patsubst %/Makefile,%,$(wildcard tools/*/Makefile tools/bench/*/Makefile))
HOST_TEST_DIRS	:= $(patsubst %/Makefile,%,$(shell grep -l '^run_tests_host[[:space:]]*:' \
			$(addsuffix /Makefile,$(SELFTEST_DIRS)) /dev/null))
LIB_HAS_CHECK	:= $(shell grep -l '^check[[:space:]]*:' lib/Makefile 2>/dev/null)
# tools/bench/*/ with a "bench_host" target: benchmarks that need no module (the
# runtime vs Go, the allocator vs its peers).
BENCH_HOST_DIRS	:= $(patsubst %/Makefile,%,$(shell grep -l '^bench_host[[:space:]]*:' \
			$(addsuffix /Makefile,$(TOOL_DIRS)) /dev/null))

# kselftest_harness.h and kselftest.h, from Debian's kernel source tarball.
KSFT_INC	:= $(CURDIR)/build/kselftest
KSFT_STAMP	:= $(KSFT_INC)/.stamp

SUBMAKE_ARGS	= KSFT_INC=$(KSFT_INC) $(if $(filter 1,$(WERROR)),WERROR=1)
KBUILD_WERROR	= $(if $(filter 1,$(WERROR)),KCFLAGS=-Werror)

# $(RUN) [OPTIONS] -- CMD: run CMD where the module is loaded, from the top
# of the tree (mk/run); $(RUN2) the same on the second kernel, with the
# module built for it; $(RUN2_DEBUG) with the module of a GOCHAN_DEBUG=1
# build (stall points, kmod/debug.h).
RUN	= mk/run --on $(RUN_ON) --ko gochan.ko --timeout $(VM_TIMEOUT) \
	  $(if $(filter vm,$(RUN_ON)),--kernel $(VM_KERNEL) $(VM_ARGS))
RUN2	= mk/run --on vm --ko build/kmod/$(KVER2)/gochan.ko --timeout $(VM_TIMEOUT) \
	  --kernel /boot/vmlinuz-$(KVER2) $(VM_ARGS)
RUN2_DEBUG = mk/run --on vm --ko build/kmod/$(KVER2)-debug/gochan.ko --timeout $(VM_TIMEOUT) \
	  --kernel /boot/vmlinuz-$(KVER2) $(VM_ARGS)

.PHONY: all deps module lib selftests tools check check-run demo demo-run \
	bench bench-run install uninstall modules_install clean help

all: module lib selftests tools

deps:
	mk/install-deps $(DEPS) $(if $(filter vm,$(RUN_ON)),$(DEPS_VM))

# W=1, in a copy of the headers with the kernel's vmlinux for module BTF
# (mk/build-module says why).
module:
	@MAKE='$(MAKE)' mk/build-module '$(KVER)' '$(KDIR)' '$(MODULE_DIR)' $(KBUILD_WERROR)

lib:
	$(if $(wildcard lib/Makefile),$(MAKE) -C lib $(SUBMAKE_ARGS))

# From the tarball of the "linux-source" package of DEPS.
$(KSFT_STAMP):
	@mk/kselftest-headers $(KSFT_INC)

# selftests/kchan copies the gochan tool built by tools/gochan, and every
# sub-make rebuilds libgochan.a when stale: one at a time, in this order.
tools: lib
	$(foreach d,$(TOOL_DIRS),$(MAKE) -C $(d) $(SUBMAKE_ARGS);)

selftests: lib tools $(KSFT_STAMP)
	$(foreach d,$(SELFTEST_DIRS),$(MAKE) -C $(d) $(SUBMAKE_ARGS);)

# The packages first; KVER is looked up only when this recipe is expanded,
# after them, so it finds the kernel they brought.
check: WERROR := 1
check: deps
	$(MAKE) WERROR=1 all
	$(check-steps)

# The tests alone, on what is built.
check-run:
	$(check-steps)

# $(call tap-step,NAME,LOG,COMMAND): run COMMAND, showing its output and
# keeping it in LOG; a failure that printed no TAP "not ok" gets one, so the
# count at the end cannot miss it.
define tap-step
@rc=0; $(3) 2>&1 | tee $(2) || rc=$$?; \
if [ $$rc -ne 0 ] && ! grep -q '^not ok' $(2); then \
	echo "not ok - $(1) # exit status $$rc" | tee -a $(2); \
fi
endef

# The module selftests again on the second kernel, with the module built
# for it (warning-free with W=1 there too); then the selftests that force a
# race with the stall points of a GOCHAN_DEBUG=1 module (each directory's
# TEST_DEBUG_PROGS; with a plain module they skip).
define check-second-kernel
@echo "== module selftests (vm, $(or $(KVER2),no $(SECOND_SERIES) kernel))"
$(call tap-step,module selftests on $(SECOND_SERIES),build/check/module-$(or $(KVER2),$(SECOND_SERIES)).log,\
	$(if $(KVER2),\
	$(MAKE) -s module KVER=$(KVER2) MODULE_DIR=$(CURDIR)/build/kmod/$(KVER2) \
		$(if $(filter 1,$(WERROR)),WERROR=1) >/dev/null && \
	$(RUN2) --tap -- guest-run-tests \
	$$(SUBMAKE_ARGS='$(SUBMAKE_ARGS)' mk/list-tests $(SELFTEST_DIRS)),\
	echo "no $(SECOND_SERIES) kernel with headers installed (make deps)" >&2; false))
@echo "== race selftests (vm, $(or $(KVER2),no $(SECOND_SERIES) kernel), GOCHAN_DEBUG=1 module)"
$(call tap-step,race selftests on $(SECOND_SERIES),build/check/race-$(or $(KVER2),$(SECOND_SERIES)).log,\
	$(if $(KVER2),\
	$(MAKE) -s module KVER=$(KVER2) MODULE_DIR=$(CURDIR)/build/kmod/$(KVER2)-debug \
		GOCHAN_DEBUG=1 $(if $(filter 1,$(WERROR)),WERROR=1) >/dev/null && \
	$(RUN2_DEBUG) --tap -- guest-run-tests \
	$$(SUBMAKE_ARGS='$(SUBMAKE_ARGS)' mk/list-tests --var TEST_DEBUG_PROGS $(SELFTEST_DIRS)),\
	echo "no $(SECOND_SERIES) kernel with headers installed (make deps)" >&2; false))
endef

define check-steps
@rm -rf build/check && mkdir -p build/check
@echo "== host-side tests"
$(call tap-step,host-side tests,build/check/host.log,\
	selftests/vm/guest-run-tests -t 0 \
	$(if $(LIB_HAS_CHECK),'$(MAKE) -s -C lib check') \
	$(foreach d,$(HOST_TEST_DIRS),'$(MAKE) -s -C $(d) run_tests_host $(SUBMAKE_ARGS)'))
@echo "== module selftests ($(RUN_ON), $(KVER))"
$(call tap-step,module selftests,build/check/module-$(KVER).log,\
	$(RUN) --tap -- guest-run-tests \
	$$(SUBMAKE_ARGS='$(SUBMAKE_ARGS)' mk/list-tests $(SELFTEST_DIRS)))
$(if $(filter vm,$(RUN_ON)),$(check-second-kernel))
@echo "== summary"
@for log in build/check/*.log; do \
	printf '# %s: %s\n' "$$(basename "$$log" .log)" "$$(selftests/common/tap-summary "$$log" | tail -n 1)"; \
done
@mk/coverage/run totals
@selftests/common/tap-summary build/check/*.log
endef

# The debug kernels, built from Debian's kernel source by mk/debug-kernel
# and cached outside the tree in /var/cache/gochan/debug-kernel/<key>/ (20
# to 50 min each on 2 cores, once per key): "6.1" and "6.12" with KASAN,
# KFENCE, UBSAN, lockdep and kmemleak; "6.12-kcsan" with KCSAN (a kernel of
# its own: Kconfig excludes it beside KASAN), lockdep and kmemleak.
# check-debug runs every module selftest under each of DEBUG_KERNELS, then
# a kmemleak scan, and fails on any report; check-kcsan does the same under
# KCSAN and fails on a data race that names the module.  "make -s
# debug-kernel-cached" exits 0 when every kernel of DEBUG_KERNELS is there.
DEBUG_KERNELS	?= 6.1 6.12
KCSAN_KERNEL	:= 6.12-kcsan

.PHONY: debug-kernel debug-kernel-kcsan debug-kernel-cached check-debug check-kcsan

debug-kernel:
	$(foreach k,$(DEBUG_KERNELS),mk/debug-kernel --kernel $(k) build &&) true

debug-kernel-kcsan:
	mk/debug-kernel --kernel $(KCSAN_KERNEL) build

debug-kernel-cached:
	@$(foreach k,$(DEBUG_KERNELS),mk/debug-kernel --kernel $(k) cached &&) true

# $(call debug-check,KERNELS): the module selftests under each debug kernel,
# each its own guest and log (build/debug/<kernel>/check/module.log); all
# of them run, and the recipe fails if one did.
define debug-check
@$(foreach k,$(1),mk/debug-kernel --kernel $(k) need &&) true
$(MAKE) WERROR=1 lib selftests tools
@rc=0; for k in $(1); do \
	SUBMAKE_ARGS='$(SUBMAKE_ARGS)' VM_ARGS='$(VM_ARGS)' \
		mk/debug-kernel --kernel $$k check $(2) || rc=1; \
done; exit $$rc
endef

# KCSAN watches memory accesses, and its guest is the slowest: it runs the
# selftests that drive the module (the uapi's, the fuzzer, the stress
# runs, lib/kchan's), not those whose time goes to userspace
# (the Redis bridge, bpftool and gochan-top), which check-debug covers.
KCSAN_DIRS	?= $(filter-out selftests/bridge selftests/trace,$(SELFTEST_DIRS))

check-debug:
	$(call debug-check,$(DEBUG_KERNELS),$(SELFTEST_DIRS))

check-kcsan:
	$(call debug-check,$(KCSAN_KERNEL),$(KCSAN_DIRS))

demo: deps
	$(MAKE) demo-run

# The demo, then the runtime's fan-in example, under gochan-top when it was
# built (mk/demo).
demo-run: module tools
	@mk/demo $(RUN)

bench: deps
	$(if $(BENCH_DEPS),mk/install-deps $(BENCH_DEPS))
	$(MAKE) bench-run

# One-CPU benchmarks get a guest of their own under gochan-vm --icount: a
# TCG guest's clock then counts instructions, and its figures are the same
# on every run (KVM ignores --icount and keeps real time).
BENCH_ONE_CPU_ARGS := $(if $(filter vm,$(RUN_ON)),--icount --cpus 1)

# The module's benchmarks (mk/bench-kchan), then those that need no module.
bench-run: module tools
	@mk/bench-kchan '$(BENCH_ONE_CPU_ARGS)' $(RUN)
	@$(foreach d,$(BENCH_HOST_DIRS),echo; $(MAKE) -s -C $(d) bench_host $(SUBMAKE_ARGS);)

install: lib
	$(MAKE) -C lib install
	$(MAKE) -C tools/man install

uninstall:
	$(MAKE) -C lib uninstall
	$(MAKE) -C tools/man uninstall

modules_install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install

clean:
	@if [ -d "$(KDIR)" ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean; \
	else \
		rm -f gochan.ko gochan.o gochan.mod gochan.mod.[co] modules.order \
			Module.symvers .*.cmd kmod/*.o kmod/.*.cmd; \
	fi
	rm -rf build

help:
	@echo 'Targets:'
	@echo '  all (default)    module, lib, selftests, tools'
	@echo '  deps             apt-get install the Debian packages that are missing'
	@echo '  module           gochan.ko against KDIR (W=1; -Werror with WERROR=1)'
	@echo '  lib              build/lib: libgochan.so.0, libgochan.a, gochan.pc'
	@echo '  selftests        build/selftests/*/ (static kselftest programs)'
	@echo '  tools            build/tools/*/'
	@echo '  check            deps, all with WERROR=1, host-side tests, module'
	@echo '                   selftests; ends with "N passed, N failed"'
	@echo '  demo, bench      the demo / the benchmarks with the module loaded'
	@echo '  debug-kernel     build the debug kernels of DEBUG_KERNELS once (KASAN, lockdep,'
	@echo '                   kmemleak...; 6.1 and 6.12); debug-kernel-kcsan: the KCSAN one'
	@echo '  check-debug      the module selftests under each debug kernel, then kmemleak'
	@echo '  check-kcsan      the module selftests under the KCSAN kernel (6.12)'
	@echo '  debug-kernel-cached  exit 0 if the debug kernels are built, 1 if not'
	@echo '  fuzz, fuzz-vm    the uapi fuzzer (FUZZ_CALLS, FUZZ_SEED) in the debug / Debian guest'
	@echo '  stress           the long stress (STRESS_SECONDS, 600) in the debug guest'
	@echo '  soak             the allocator, scheduler, context and collector soaks'
	@echo '                   (SOAK_SECONDS, 60 a test); gc-soak: the collector'"'"'s alone'
	@echo '  coverage         lines and branches of lib/ and kmod/ the tests run (gcovr; HTML in'
	@echo '                   build/coverage/html); coverage-kernel: the kernel that measures kmod/'
	@echo '  install          the library, headers and manual pages (PREFIX, DESTDIR)'
	@echo '  uninstall        remove what install put down (same PREFIX, DESTDIR)'
	@echo '  modules_install  the module, into /lib/modules (DESTDIR)'
	@echo '  clean            everything built'
	@echo 'Variables:'
	@echo '  RUN_ON=host|vm   where the module is loaded (now: $(RUN_ON))'
	@echo '  KVER=, KDIR=     kernel to build for (default: $(if $(filter host,$(RUN_ON)),uname -r,selftests/vm/find-kver))'
	@echo '  VM_ARGS=         more selftests/vm/gochan-vm options, e.g. --accel tcg'
	@echo '  VM_TIMEOUT=      seconds a whole guest run may take ($(VM_TIMEOUT))'
	@echo '  WERROR=1         warnings are errors (make check sets it)'
	@echo '  GOCHAN_DEBUG=1   module with the stall points of the race selftests'
	@echo '                   (kmod/debug.h; make check builds one for them)'

# Targets of their own (stress, fuzz ...) live in mk/targets/*.mk, one concern each.
-include $(wildcard mk/targets/*.mk)
