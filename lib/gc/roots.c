/* SPDX-License-Identifier: MIT */
/*
 * roots.c - the roots (Go's markroot): the data and bss of the program and its libraries,
 * the ranges registered with go_gc_root_add(), and goroutine stacks.
 *
 * Data and bss: every writable PT_LOAD segment dl_iterate_phdr() reports, scanned
 * conservatively, less libgochan's own: its whole segment when it is a shared object, and
 * its big tables (the arena map's head bits, the heap, the central lists, the collector's
 * state) when it is linked into the program. Collected when a cycle begins, outside any
 * stop-the-world (dl_iterate_phdr takes the loader's lock, which a stopped thread may hold).
 *
 * A goroutine's stack is [sp, g): the G sits at the top of its stack region (sched/stack.c).
 * sp is where it stopped: the context switch pushed its callee-saved registers there (parked,
 * runnable); or the registers were saved in g->gcregs (stopped in the runtime, in a system
 * call, or in the hog signal's handler, g->gcsp). Its G's own fields that may hold a pointer
 * it was handed (go_spawn's arg, go_ready's value, its park's argument) are scanned too.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- data and bss --------------------------------------------------------------------------- */

struct gc_range {
	uintptr_t lo, hi;
};

#define GC_MAX_SEGMENTS 256

static struct {
	struct gc_range seg[GC_MAX_SEGMENTS];
	size_t nseg;
	uintptr_t self_base; /* libgochan's load address, when it is a shared object */
	bool self_known;
} data;

/* libgochan's tables: never roots (pointers to metadata, or to nothing) */
static void excluded(struct gc_range *x, size_t *n)
{
#define EXCLUDE(v) (x[(*n)++] = (struct gc_range){ (uintptr_t)&(v), (uintptr_t)&(v) + sizeof(v) })
	EXCLUDE(ga_arena_heads);
	EXCLUDE(ga_heap);
	EXCLUDE(ga_central);
	EXCLUDE(ga_gc_central);
	EXCLUDE(_go_gc);
	EXCLUDE(data);
	_go_gc_exclude_more(x, n);
#undef EXCLUDE
}

/* Add [lo, hi) less every excluded range. */
static void add_segment(uintptr_t lo, uintptr_t hi, const struct gc_range *x, size_t nx)
{
	while (lo < hi) {
		uintptr_t cut = hi, next = hi;

		for (size_t i = 0; i < nx; i++) {
			if (x[i].lo <= lo && lo < x[i].hi) { /* lo is excluded: skip past */
				lo = x[i].hi;
				cut = next = 0;
				break;
			}
			if (lo < x[i].lo && x[i].lo < cut) {
				cut = x[i].lo;
				next = x[i].hi;
			}
		}
		if (!cut)
			continue;
		if (data.nseg < GC_MAX_SEGMENTS)
			data.seg[data.nseg++] = (struct gc_range){ lo, cut };
		lo = next;
	}
}

struct phdr_arg {
	struct gc_range x[16];
	size_t nx;
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *argv)
{
	struct phdr_arg *arg = argv;

	(void)size;
	/* libgochan.so itself (the program, name "", may have it linked in: then its tables
	 * are excluded one by one) */
	if (data.self_known && info->dlpi_addr == data.self_base && info->dlpi_name &&
	    info->dlpi_name[0])
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		add_segment(info->dlpi_addr + ph->p_vaddr,
			    info->dlpi_addr + ph->p_vaddr + ph->p_memsz, arg->x, arg->nx);
	}
	return 0;
}

void _go_gc_data_roots_collect(void)
{
	struct phdr_arg arg = { .nx = 0 };

	if (!data.self_known) {
		Dl_info di;

		if (dladdr((void *)go_gc, &di) && di.dli_fbase)
			data.self_base = (uintptr_t)di.dli_fbase;
		data.self_known = true;
	}
	excluded(arg.x, &arg.nx);
	data.nseg = 0;
	dl_iterate_phdr(phdr_cb, &arg);
}

size_t _go_gc_data_roots_count(void)
{
	return data.nseg;
}

uint64_t _go_gc_data_roots_scan(struct gc_work *w, size_t i)
{
	_go_gc_scan_range(w, (const void *)data.seg[i].lo, (const void *)data.seg[i].hi);
	return data.seg[i].hi - data.seg[i].lo;
}

/* ---- registered roots ----------------------------------------------------------------------- */

static struct {
	pthread_mutex_t lock;
	struct gc_range *v;
	size_t n, cap;
} reg = { .lock = PTHREAD_MUTEX_INITIALIZER };

GOCHAN_API int go_gc_root_add(const void *p, size_t len)
{
	int err = 0;

	if (!p || !len)
		return -EINVAL;
	pthread_mutex_lock(&reg.lock);
	for (size_t i = 0; i < reg.n; i++)
		if (reg.v[i].lo == (uintptr_t)p) {
			err = -EEXIST;
			goto out_unlock;
		}
	if (reg.n == reg.cap) {
		size_t cap = reg.cap ? reg.cap * 2 : 16;
		struct gc_range *v = realloc(reg.v, cap * sizeof(*v));

		if (!v) {
			err = -ENOMEM;
			goto out_unlock;
		}
		reg.v = v;
		reg.cap = cap;
	}
	reg.v[reg.n++] = (struct gc_range){ (uintptr_t)p, (uintptr_t)p + len };
out_unlock:
	pthread_mutex_unlock(&reg.lock);
	return err;
}

GOCHAN_API int go_gc_root_remove(const void *p)
{
	int err = -ENOENT;

	pthread_mutex_lock(&reg.lock);
	for (size_t i = 0; i < reg.n; i++)
		if (reg.v[i].lo == (uintptr_t)p) {
			reg.v[i] = reg.v[--reg.n];
			err = 0;
			break;
		}
	pthread_mutex_unlock(&reg.lock);
	return err;
}

/* Scan every registered range (under the lock: a range may not go while it is scanned). */
uint64_t _go_gc_registered_roots_scan(struct gc_work *w)
{
	uint64_t bytes = 0;

	pthread_mutex_lock(&reg.lock);
	for (size_t i = 0; i < reg.n; i++) {
		_go_gc_scan_range(w, (const void *)reg.v[i].lo, (const void *)reg.v[i].hi);
		bytes += reg.v[i].hi - reg.v[i].lo;
	}
	pthread_mutex_unlock(&reg.lock);
	return bytes;
}

/* ---- goroutine stacks --------------------------------------------------------------------- */

/* g's fields that may hold a pointer handed to it */
GC_NOSANITIZE static void scan_g_fields(struct gc_work *w, struct go_g *g)
{
	_go_gc_shade(w, (uintptr_t)g->arg);
	_go_gc_shade(w, (uintptr_t)load_relaxed(&g->param));
	_go_gc_shade(w, (uintptr_t)g->park_arg);
}

/* The stack of g from sp, and nregs of its saved registers. g cannot run meanwhile. */
GC_NOSANITIZE uint64_t _go_gc_scan_stack(struct gc_work *w, struct go_g *g, const void *sp,
					 const uintptr_t *regs, int nregs)
{
	const char *top = (const char *)g;

	for (int i = 0; i < nregs; i++)
		_go_gc_shade(w, regs[i]);
	scan_g_fields(w, g);
	if ((const char *)sp < g->stack_lo || (const char *)sp > top)
		_go_gc_fatal("goroutine %llu: stack pointer %p outside its stack [%p, %p)",
			     (unsigned long long)g->id, sp, (void *)g->stack_lo, (const void *)top);
	_go_gc_scan_range(w, sp, top);
	return (uint64_t)(top - (const char *)sp);
}

/* The running goroutine's own stack, from here up. */
__attribute__((noinline)) uint64_t _go_gc_scan_self(struct gc_work *w, struct go_g *g)
{
	uintptr_t regs[6];
	void *sp;

	GO_SAVE_CALLEE_REGS(regs, &sp);
	return _go_gc_scan_stack(w, g, sp, regs, 6);
}

/*
 * g is stopped (the world is, or g is parked, runnable, in a system call or stopped in the
 * runtime, and made unable to run by the caller): scan its stack from where it stopped.
 * self is the caller's own G. Returns the bytes scanned.
 */
uint64_t _go_gc_scan_stopped_g(struct gc_work *w, struct go_g *g, struct go_g *self)
{
	uint32_t st = load_acquire(&g->status) & ~(uint32_t)Gs_SCAN;

	if (g == self)
		return _go_gc_scan_self(w, g);
	switch (st) {
	case Gs_IDLE:
	case Gs_DEAD:
		return 0;
	case Gs_RUNNABLE:
	case Gs_WAITING:
		/* the context switch pushed its callee-saved registers at regs.sp */
		return _go_gc_scan_stack(w, g, g->regs.sp, NULL, 0);
	default: /* SYSCALL, or RUNNING but stopped (stw.c) */
		if (!g->gcsp)
			_go_gc_fatal("goroutine %llu (status %u) is running while its stack is scanned",
				     (unsigned long long)g->id, st);
		return _go_gc_scan_stack(w, g, g->gcsp, g->gcregs, 16);
	}
}
