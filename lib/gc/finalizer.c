/* SPDX-License-Identifier: MIT */
/*
 * finalizer.c - finalizers (Go's mfinal.go and the finalizer specials of mheap.go).
 *
 * A finalizer is a special (struct gc_special) on the list of its object's span (s->specials,
 * s->nfinal) and on the global list fin.all, both under fin.lock. Its life:
 *   set       go_gc_set_finalizer: on both lists;
 *   kept      every cycle, the finalizers root job marks what the object points to and the
 *             argument, not the object itself (Go's markrootSpans): so the object alone
 *             decides whether it is reachable, and what it reaches is there for fn;
 *   queued    the sweep of its span (ga_gc_finalizer_hook, before the span's mark bits are
 *             read) finds the object unmarked: the special leaves both lists for fin.queue,
 *             and the object is marked, so this sweep keeps it (and the root job keeps the
 *             queue's objects and arguments alive until they run);
 *   run       on a goroutine of the collector's (one at a time, after the cycle: never
 *             during marking), once; the special is freed. The object is collected by a
 *             later cycle unless fn made it reachable again, and then never finalized again
 *             (Go: once per SetFinalizer).
 * Decision beside Go's: Go runs finalizers on one long-lived goroutine that parks; here a
 * goroutine is spawned when a cycle or go_gc() leaves finalizers queued and none runs
 * (fin.running), and it ends once the queue is empty: nothing stays parked between cycles.
 *
 * fin.lock is taken only in the runtime (in_runtime > 0: by go_gc_set_finalizer, by sweepers,
 * by the root job's marker) or with the world stopped by its holder, so that no stop-the-
 * world finds a stopped goroutine holding it.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

struct gc_special {
	struct gc_special *next, *prev; /* fin.all, or fin.queue (next only) */
	struct gc_special *snext;       /* its span's list */
	void *obj;
	void (*fn)(void *obj, void *arg);
	void *arg;
};

static struct {
	go_lock_t lock;
	struct gc_special *all;         /* set, not queued */
	struct gc_special *queue, **tail; /* queued, oldest first */
	uint64_t nqueued;               /* changed under lock, read without: atomics */
	bool running;                   /* a goroutine runs the queue */
	uint64_t nrun;
} fin = { .tail = &fin.queue };

static void fin_lock(void)
{
	_go_lock(&fin.lock);
}

static void fin_unlock(void)
{
	_go_unlock(&fin.lock);
}

static void all_unlink(struct gc_special *sp)
{
	if (sp->prev)
		sp->prev->next = sp->next;
	else
		fin.all = sp->next;
	if (sp->next)
		sp->next->prev = sp->prev;
}

GOCHAN_API int go_gc_set_finalizer(void *obj, void (*fn)(void *obj, void *arg), void *arg)
{
	struct ga_span *s = ga_gc_span_of((uintptr_t)obj);
	struct gc_special *sp, **pp, *nsp = NULL;
	struct go_g *g = _go_curg;
	int err = 0;

	if (!s || (s->spc < 2 ? (uintptr_t)obj != s->base
			      : ((uintptr_t)obj - s->base) % s->elemsize != 0))
		return -EINVAL;
	if (fn && !(nsp = calloc(1, sizeof(*nsp))))
		return -ENOMEM;
	if (g)
		g->m->in_runtime++;
	fin_lock();
	for (pp = (struct gc_special **)&s->specials; (sp = *pp) != NULL; pp = &sp->snext)
		if (sp->obj == obj)
			break;
	if (!fn) {
		if (sp) {
			*pp = sp->snext;
			all_unlink(sp);
			s->nfinal--;
			free(sp);
		}
	} else if (sp) {
		err = -EEXIST;
	} else {
		nsp->obj = obj;
		nsp->fn = fn;
		nsp->arg = arg;
		nsp->snext = s->specials;
		s->specials = nsp;
		s->nfinal++;
		nsp->next = fin.all;
		if (fin.all)
			fin.all->prev = nsp;
		fin.all = nsp;
		nsp = NULL;
	}
	fin_unlock();
	if (g)
		_go_rt_exit(_go_m);
	free(nsp);
	return err;
}

/* The sweep of s is about to read its mark bits (collected.c): queue the finalizers of its
 * unmarked objects, and mark those objects for this sweep. */
static void fin_sweep_hook(struct ga_span *s)
{
	struct gc_special *sp, **pp;

	fin_lock();
	for (pp = (struct gc_special **)&s->specials; (sp = *pp) != NULL;) {
		size_t idx = s->spc < 2 ? 0
					: (size_t)((((uint64_t)((uintptr_t)sp->obj - s->base)) *
						    s->divmul) >> 32);
		uint64_t bit = 1ull << (idx % 64);

		if (load_relaxed(&s->gcmarks[idx / 64]) & bit) {
			pp = &sp->snext;
			continue;
		}
		*pp = sp->snext;
		s->nfinal--;
		all_unlink(sp);
		sp->next = NULL;
		*fin.tail = sp;
		fin.tail = &sp->next;
		fetch_add_relaxed(&fin.nqueued, 1);
		fetch_or(&s->gcmarks[idx / 64], bit);
	}
	fin_unlock();
}

/* What an object with a finalizer points to, and its argument; the queued objects. */
uint64_t _go_gc_finalizers_scan(struct gc_work *w)
{
	uint64_t n = 0;

	fin_lock();
	for (struct gc_special *sp = fin.all; sp; sp = sp->next, n++) {
		_go_gc_scan_object_contents(w, (uintptr_t)sp->obj);
		_go_gc_shade(w, (uintptr_t)sp->arg);
	}
	for (struct gc_special *sp = fin.queue; sp; sp = sp->next, n++) {
		_go_gc_shade(w, (uintptr_t)sp->obj);
		_go_gc_shade(w, (uintptr_t)sp->arg);
	}
	fin_unlock();
	return n * sizeof(struct gc_special);
}

static void fin_run(void *arg)
{
	(void)arg;
	for (;;) {
		struct gc_special *sp;
		struct go_m *m = _go_curg->m;

		m->in_runtime++;
		fin_lock();
		sp = fin.queue;
		if (sp) {
			fin.queue = sp->next;
			if (!fin.queue)
				fin.tail = &fin.queue;
			fetch_add_relaxed(&fin.nqueued, -1);
		} else {
			fin.running = false;
		}
		fin_unlock();
		_go_rt_exit(_go_m);
		if (!sp)
			return;
		/* (sp->obj stays on this goroutine's stack, a root, while fn runs) */
		sp->fn(sp->obj, sp->arg);
		fetch_add_relaxed(&fin.nrun, 1);
		go_keep_alive(sp->obj);
		free(sp);
	}
}

void _go_gc_finalizers_start(void)
{
	struct go_g *g = _go_curg;
	bool start = false;

	if (!g || !load_relaxed(&fin.nqueued))
		return;
	g->m->in_runtime++;
	fin_lock();
	if (fin.queue && !fin.running)
		start = fin.running = true;
	fin_unlock();
	_go_rt_exit(_go_m);
	if (start && go_spawn(fin_run, NULL) < 0) {
		fin_lock();
		fin.running = false;
		fin_unlock();
	}
}

void _go_gc_finalizers_init(void)
{
	ga_gc_finalizer_hook = fin_sweep_hook;
}

void _go_gc_finalizers_stats(uint64_t *run, uint64_t *queued)
{
	*run = load_relaxed(&fin.nrun);
	*queued = load_relaxed(&fin.nqueued);
}

/* go_run ended: no goroutine runs the queue any more (a later go_run starts one). */
void _go_gc_finalizers_run_end(void)
{
	fin_lock();
	fin.running = false;
	fin_unlock();
}
