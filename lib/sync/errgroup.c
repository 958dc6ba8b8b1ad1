/* SPDX-License-Identifier: MIT */
/*
 * errgroup.c - golang.org/x/sync/errgroup's Group: goroutines counted in a wait group,
 * the first error kept (a CAS from 0) and, with a context, cancelling it; the limit is a
 * weighted semaphore of one token per running goroutine (x/sync uses a buffered channel
 * of tokens: the same FIFO order for the goroutines waiting to start).
 *
 * Invariants: g->wg's count == goroutines started and not ended (plus a go in progress);
 * while g->limited, g->sem.cur == those of them that took a token. g->err goes 0 -> the
 * first error, once. g->limited and g->sem.size change only in go_errgroup_set_limit, with
 * no token held.
 */
#include <errno.h>
#include <stdlib.h>

#include <gochan/context.h>

#include "internal.h"

struct errgroup_call {
	struct go_errgroup *g;
	int (*fn)(void *arg);
	void *arg;
	bool token;		/* took one of the limit's tokens */
};

GOCHAN_API int go_errgroup_init(struct go_errgroup *g, struct go_ctx *parent,
				struct go_ctx **ctx)
{
	int err;

	*g = (struct go_errgroup)GO_ERRGROUP_INIT;
	err = go_ctx_with_cancel_cause(&g->ctx, parent);
	if (err)
		return err;
	*ctx = g->ctx;
	return 0;
}

GOCHAN_API void go_errgroup_destroy(struct go_errgroup *g)
{
	if (g->ctx) {
		go_ctx_release(g->ctx);
		g->ctx = NULL;
	}
}

static void errgroup_done(struct errgroup_call *c)
{
	struct go_errgroup *g = c->g;

	if (c->token)
		go_semaphore_release(&g->sem, 1);
	free(c);
	go_wg_done(&g->wg);	/* g may be gone once the count is 0 */
}

static void errgroup_run(void *arg)
{
	struct errgroup_call *c = arg;
	struct go_errgroup *g = c->g;
	int err = c->fn(c->arg);

	if (err != 0 && cas(&g->err, 0, err) && g->ctx)
		go_ctx_cancel_cause(g->ctx, err);
	errgroup_done(c);
}

/* Start c's goroutine (its token, if any, taken). */
static int errgroup_start(struct errgroup_call *c)
{
	struct go_errgroup *g = c->g;
	int err;

	go_wg_add(&g->wg, 1);
	err = go_spawn(errgroup_run, c);
	if (err)
		errgroup_done(c);
	return err;
}

static struct errgroup_call *call_new(struct go_errgroup *g, int (*fn)(void *), void *arg)
{
	struct errgroup_call *c = malloc(sizeof(*c));

	if (c)
		*c = (struct errgroup_call){ .g = g, .fn = fn, .arg = arg };
	return c;
}

GOCHAN_API int go_errgroup_go(struct go_errgroup *g, int (*fn)(void *arg), void *arg)
{
	struct errgroup_call *c = call_new(g, fn, arg);

	if (!c)
		return -ENOMEM;
	if (load_relaxed(&g->limited)) {
		/* No context: the wait ends only when a token comes (x/sync's send on sem). */
		go_semaphore_acquire(&g->sem, NULL, 1);
		c->token = true;
	}
	return errgroup_start(c);
}

GOCHAN_API int go_errgroup_try_go(struct go_errgroup *g, int (*fn)(void *arg), void *arg)
{
	bool limited = load_relaxed(&g->limited);
	struct errgroup_call *c;

	if (limited && !go_semaphore_try_acquire(&g->sem, 1))
		return -EAGAIN;		/* x/sync's failed send on sem */
	c = call_new(g, fn, arg);
	if (!c) {
		if (limited)
			go_semaphore_release(&g->sem, 1);
		return -ENOMEM;
	}
	c->token = limited;
	return errgroup_start(c);
}

GOCHAN_API int go_errgroup_set_limit(struct go_errgroup *g, int n)
{
	go_lock_t *l = (go_lock_t *)&g->sem.lock;
	int err = 0;

	_go_lock(l);
	if (g->sem.cur != 0 || g->sem.head != NULL) {
		err = -EBUSY;	/* x/sync panics: "modify limit while ... still active" */
	} else if (n < 0) {
		store_relaxed(&g->limited, 0u);
	} else {
		g->sem.size = n;
		store_relaxed(&g->limited, 1u);
	}
	_go_unlock(l);
	return err;
}

GOCHAN_API int go_errgroup_wait(struct go_errgroup *g)
{
	int err;

	go_wg_wait(&g->wg);
	err = load_acquire(&g->err);
	if (g->ctx)
		go_ctx_cancel_cause(g->ctx, err);
	return err;
}
