/* SPDX-License-Identifier: MIT */
/*
 * once.c - sync.Once and sync.OnceValues (Go's sync/once.go, sync/oncefunc.go).
 *
 * once->done goes 0 -> 1 once, after fn returned, with once->m held: a caller that reads 1
 * (acquire) sees everything fn did. Callers that read 0 serialize on once->m; the one
 * that finds done still 0 under it runs fn. once->running names that caller while fn
 * runs (stored and cleared by it alone): a caller that reads its own go_self() there is
 * inside fn, and would wait for itself on once->m.
 */
#include <errno.h>

#include "internal.h"

static int once_slow(struct go_sync_once *once, void (*fn)(void *), void *arg)
{
	struct go_g *self = go_self();

	/* Only we store self there: reading it means we are in fn, further up our stack. */
	if (load_relaxed(&once->running) == self)
		return -EDEADLK;
	go_sync_mutex_lock(&once->m);
	if (!load_relaxed(&once->done)) {
		store_relaxed(&once->running, self);
		fn(arg);
		store_relaxed(&once->running, (struct go_g *)NULL);
		store_release(&once->done, 1u);
	}
	go_sync_mutex_unlock(&once->m);
	return 0;
}

GOCHAN_API int go_sync_once_do(struct go_sync_once *once, void (*fn)(void *arg), void *arg)
{
	/* The fast path, as Go's: one load once done. */
	if (likely(load_acquire(&once->done)))
		return 0;
	return once_slow(once, fn, arg);
}

struct once_value_call {
	struct go_sync_once_value *ov;
	int (*fn)(void *arg, void **value);
	void *arg;
};

static void once_value_run(void *arg)
{
	struct once_value_call *c = arg;
	void *v = NULL;

	c->ov->err = c->fn(c->arg, &v);
	c->ov->value = v;
}

GOCHAN_API int go_sync_once_value(struct go_sync_once_value *ov,
				  int (*fn)(void *arg, void **value), void *arg, void **value)
{
	struct once_value_call c = { ov, fn, arg };
	int r = go_sync_once_do(&ov->once, once_value_run, &c);

	if (r < 0)
		return r;
	/* err and value were written before done's release, which our acquire saw. */
	if (value)
		*value = ov->value;
	return ov->err;
}
