# SPDX-License-Identifier: GPL-2.0
#
# make bench-iprof: where the instructions of gochan-bench's round-trip,
# stream and bulk rows go, gochan beside the pipe, function by function
# (tools/bench/kchan/iprof-rows: each experiment counted by gochan-vm-iprof
# in a one-CPU TCG guest).  Not part of make bench: two guests per
# experiment, 46 in all.  The profiles stay in build/bench-iprof/.  The
# guests boot Debian's kernel: where the module is built for the running
# kernel instead (RUN_ON=host), give IPROF_ARGS="--ko PATH" one built for
# that kernel.
#
#   make bench-iprof [IPROF_ROWS="rt-64 stream-4k-64-64 bulk"] [IPROF_ARGS="-n 20000"]

IPROF_ROWS	?=
IPROF_ARGS	?=

.PHONY: bench-iprof

bench-iprof: module tools
	tools/bench/kchan/iprof-rows --ko gochan.ko $(if $(filter vm,$(RUN_ON)),--kernel $(VM_KERNEL)) \
		$(IPROF_ARGS) $(IPROF_ROWS)
