/* SPDX-License-Identifier: MIT */
/*
 * finalizer.c - finalizers (Go's mfinal.go). The root job that keeps what objects with a
 * finalizer point to: none yet (go_gc_set_finalizer comes next).
 */
#include "internal.h"

uint64_t _go_gc_finalizers_scan(struct gc_work *w)
{
	(void)w;
	return 0;
}
