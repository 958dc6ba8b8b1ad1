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
#include <signal.h>
#include <string.h>
#include <ucontext.h>

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

/*
 * reg.lock is held only in the runtime (in_runtime > 0) when its holder is a goroutine, as
 * fin.lock is: a stop-the-world waits for the holder to let go at its safe point instead of
 * stopping it, lock held, in program code, where the verify mode's scan of the registered
 * roots (the world stopped: verify.c) would wait for it forever. Nothing under it allocates:
 * malloc may wait for its own lock, which a goroutine stopped in program code may hold, and
 * a stop-the-world would then wait for us.
 */
static struct {
	go_lock_t lock;
	struct gc_range *v;
	size_t n, cap;
} reg;

static void reg_lock(void)
{
	struct go_g *g = _go_curg;

	if (g)
		g->m->in_runtime++;
	_go_lock(&reg.lock);
}

static void reg_unlock(void)
{
	_go_unlock(&reg.lock);
	if (_go_curg)
		_go_rt_exit(_go_m);
}

GOCHAN_API int go_gc_root_add(const void *p, size_t len)
{
	struct gc_range *v, *old;
	size_t cap;

	if (!p || !len)
		return -EINVAL;
	for (;;) {
		reg_lock();
		for (size_t i = 0; i < reg.n; i++)
			if (reg.v[i].lo == (uintptr_t)p) {
				reg_unlock();
				return -EEXIST;
			}
		if (reg.n < reg.cap) {
			reg.v[reg.n++] = (struct gc_range){ (uintptr_t)p, (uintptr_t)p + len };
			reg_unlock();
			return 0;
		}
		cap = reg.cap ? reg.cap * 2 : 16;
		reg_unlock();

		/* a bigger array, made with the lock dropped; then look again */
		v = malloc(cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		old = v;
		reg_lock();
		if (reg.cap < cap) {
			if (reg.n)
				memcpy(v, reg.v, reg.n * sizeof(*v));
			old = reg.v;
			reg.v = v;
			reg.cap = cap;
		}
		reg_unlock();
		free(old); /* (no scan uses it now: scans hold the lock) */
	}
}

GOCHAN_API int go_gc_root_remove(const void *p)
{
	int err = -ENOENT;

	reg_lock();
	for (size_t i = 0; i < reg.n; i++)
		if (reg.v[i].lo == (uintptr_t)p) {
			reg.v[i] = reg.v[--reg.n];
			err = 0;
			break;
		}
	reg_unlock();
	return err;
}

/* Scan every registered range (under the lock: a range may not go while it is scanned). The
 * caller is in the runtime, or has stopped the world. */
uint64_t _go_gc_registered_roots_scan(struct gc_work *w)
{
	uint64_t bytes = 0;

	_go_lock(&reg.lock);
	for (size_t i = 0; i < reg.n; i++) {
		_go_gc_scan_range(w, (const void *)reg.v[i].lo, (const void *)reg.v[i].hi);
		bytes += reg.v[i].hi - reg.v[i].lo;
	}
	_go_unlock(&reg.lock);
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
	default: /* SYSCALL, or RUNNING but stopped (stw.c, or waiting in the signal handler) */
		if (g->gcsp)
			return _go_gc_scan_stack(w, g, g->gcsp, g->gcregs, 16);
		/* RUNNING with no saved stack pointer while the world is stopped: its M switched
		 * away from it (to its scheduler) and has not stored its next status yet; the
		 * switch saved its stack pointer and registers in regs (proc.c, execute) */
		if (st == Gs_RUNNING && _go_stw_pending())
			return _go_gc_scan_stack(w, g, g->regs.sp, NULL, 0);
		_go_gc_fatal("goroutine %llu (status %u) is running while its stack is scanned",
			     (unsigned long long)g->id, st);
	}
}

/* ---- root jobs of the concurrent mark (Go's markroot) ------------------------------------- */

/*
 * Jobs [0, ndata) are the data segments, ndata the registered roots, ndata + 1 the
 * finalizers; then one job per goroutine, taken in the order of the stack iterator (under
 * its spinlock). A goroutine running program code cannot be scanned by another thread: it is
 * asked (the signal, or GO_SAFEPOINT_GC at its next runtime call) and the job moves on;
 * _go_gc_stacks_stragglers comes back for those until _go_stacks_unscanned is 0.
 */
static struct {
	uint32_t next;     /* next fixed job (atomic) */
	uint32_t nfixed;
	uint32_t done;     /* fixed jobs finished (atomic) */
	uint32_t it_lock;  /* spinlock over it */
	struct go_stacks_iter it;
	bool it_done;
} jobs;

uint64_t _go_gc_stack_bytes_scanned;
uint64_t _go_gc_global_bytes_scanned;

void _go_gc_roots_begin(void)
{
	jobs.nfixed = (uint32_t)data.nseg + 2;
	store_relaxed(&jobs.next, 0);
	store_relaxed(&jobs.done, 0);
	memset(&jobs.it, 0, sizeof(jobs.it));
	jobs.it_done = false;
	store_relaxed(&_go_gc_stack_bytes_scanned, 0);
	store_relaxed(&_go_gc_global_bytes_scanned, 0);
}

bool _go_gc_roots_done(void)
{
	return load_acquire(&jobs.done) == jobs.nfixed &&
	       load_acquire(&_go_stacks_unscanned) == 0;
}

/* Signal g's M (at most every 100 us) to stop g for its scan. */
static void ask_running(struct go_g *g)
{
	static int64_t last;
	struct go_m *m = load_relaxed(&g->m);
	int64_t now = _go_nanotime();

	if (!m || now - load_relaxed(&last) < 100000)
		return;
	store_relaxed(&last, now);
	if (load_relaxed(&m->curg) == g)
		pthread_kill(m->thread, SIGURG);
}

bool _go_gc_try_scan_g(struct gc_work *w, struct go_g *g, struct go_g *self)
{
	uint32_t gen = load_acquire(&_go_stacks_scan_gen), st;
	uint64_t bytes = 0;

	if (load_acquire(&g->gcscan_gen) == gen)
		return true;
	if (g == self) {
		if (_go_g_scan_claim(g))
			bytes = _go_gc_scan_self(w, g);
		goto out;
	}
	st = load_acquire(&g->status);
	switch (st) {
	case Gs_IDLE:
	case Gs_DEAD:
		/* nothing on its stack is live (newproc claims it before it runs again) */
		_go_g_scan_claim(g);
		return true;
	case Gs_RUNNABLE:
	case Gs_WAITING:
	case Gs_SYSCALL:
		/* held: it cannot run (or leave its system call) until the bit is cleared */
		if (!cas(&g->status, st, st | Gs_SCAN))
			return false;
		if (_go_g_scan_claim(g))
			bytes = _go_gc_scan_stopped_g(w, g, self);
		store_release(&g->status, st);
		goto out;
	case Gs_RUNNING:
		if (load_acquire(&g->gcscan_wait) && _go_g_scan_claim(g)) {
			/* waiting in the signal handler: its registers and sp saved there */
			bytes = _go_gc_scan_stack(w, g, g->gcsp, g->gcregs, 16);
			g->gcsp = NULL;
			store_release(&g->gcscan_wait, 0u);
			_go_futex_wake(&g->gcscan_wait, 1);
			goto out;
		}
		ask_running(g);
		return false;
	default:
		return false; /* someone else holds it (the shrinker): later */
	}
out:
	fetch_add_relaxed(&_go_gc_stack_bytes_scanned, bytes);
	return true;
}

bool _go_gc_root_job(struct gc_work *w, struct go_g *self)
{
	uint32_t i = load_relaxed(&jobs.next);
	struct go_g *g;

	if (i < jobs.nfixed) {
		i = fetch_add_relaxed(&jobs.next, 1);
		if (i < jobs.nfixed) {
			uint64_t bytes = 0;

			if (i < data.nseg)
				bytes = _go_gc_data_roots_scan(w, i);
			else if (i == data.nseg)
				bytes = _go_gc_registered_roots_scan(w);
			else
				_go_gc_finalizers_scan(w);
			fetch_add_relaxed(&_go_gc_global_bytes_scanned, bytes);
			fetch_add(&jobs.done, 1);
			return true;
		}
	}
	if (load_acquire(&jobs.it_done))
		return false;
	_go_gc_spin_lock(&jobs.it_lock);
	g = _go_stacks_next_g(&jobs.it);
	if (!g)
		store_release(&jobs.it_done, true);
	_go_gc_spin_unlock(&jobs.it_lock);
	if (!g)
		return false;
	_go_gc_try_scan_g(w, g, self);
	return true;
}

/* Every goroutine not scanned yet: another try each (a lap over all of them). */
void _go_gc_stacks_stragglers(struct gc_work *w, struct go_g *self)
{
	struct go_stacks_iter it = { 0 };
	struct go_g *g;

	if (!load_acquire(&_go_stacks_unscanned))
		return;
	while ((g = _go_stacks_next_g(&it)) != NULL)
		_go_gc_try_scan_g(w, g, self);
}

/*
 * The runtime's signal interrupted g in program code while marking wants its stack: wait
 * here, registers saved, until a marker scans it (_go_gc_try_scan_g). In the handler: no
 * lock, no allocation; only the futex.
 */
void _go_gc_signal(struct go_m *m, struct go_g *g, void *ucv)
{
	ucontext_t *uc = ucv;
	uint32_t gen = load_acquire(&_go_stacks_scan_gen);

	/* (a goroutine in a bracketed system call is scanned from there, without it) */
	if (load_acquire(&_go_gc.phase) != GC_MARK ||
	    load_acquire(&g->gcscan_gen) == gen || load_acquire(&g->status) != Gs_RUNNING)
		return;
	for (int i = 0; i < 16; i++)
		g->gcregs[i] = (uintptr_t)uc->uc_mcontext.gregs[REG_R8 + i];
	g->gcsp = (char *)uc->uc_mcontext.gregs[REG_RSP] - 128; /* the red zone */
	store_release(&g->gcscan_wait, 1u);
	while (load_acquire(&g->gcscan_wait) &&
	       load_acquire(&_go_gc.phase) == GC_MARK) {
		/* A stop of the world meanwhile (go_set_maxprocs's, while the markers that would
		 * scan us are being stopped): stop with it, here, registers saved, then wait on. */
		if (load_acquire(&_go_safepoint) & GO_SAFEPOINT_STW)
			_go_stw_sigpark(m, uc);
		else
			_go_futex_wait(&g->gcscan_wait, 1u, 1000000);
	}
	store_release(&g->gcscan_wait, 0u);
	memset(g->gcregs, 0, sizeof(g->gcregs));
}

/*
 * Mark termination, the world stopped: the stacks of goroutines stopped in program code or
 * at a safe point. One of them may have stored a pointer between go_wb's store and its read
 * of the flag (<gochan/gc.h>): the old and the new value are then in its registers or on
 * its stack, and shaded here.
 */
struct sigstopped_arg {
	struct gc_work *w;
	struct go_m *me;
};

static void sigstopped_one(struct go_m *m, void *argv)
{
	struct sigstopped_arg *a = argv;
	struct go_g *g = load_relaxed(&m->curg);

	if (m == a->me || !g || !_go_stw_m_stopped(m) || !g->gcsp ||
	    (load_acquire(&g->status) & ~(uint32_t)Gs_SCAN) != Gs_RUNNING)
		return;
	fetch_add_relaxed(&_go_gc_stack_bytes_scanned, _go_gc_scan_stack(a->w, g, g->gcsp, g->gcregs, 16));
}

void _go_gc_scan_sigstopped(struct gc_work *w)
{
	struct sigstopped_arg a = { w, _go_curg->m };

	_go_for_each_m(sigstopped_one, &a);
}
