/* SPDX-License-Identifier: MIT */
/*
 * lib/context/context.c - Go's context package (context/context.go) on lib/chan.
 *
 * Kinds: the two static roots; cancel contexts (WithCancel, WithDeadline/Timeout, WithKchan);
 * value contexts; without-cancel contexts. A cancel context registers with its nearest
 * cancelable ancestor ("cancel parent", found through value contexts, stopped by
 * without-cancel and the roots), in that ancestor's children list.
 *
 * Locking: ctx->mu protects err, cause, done's creation, children, afs, timer_armed,
 * released, and the links of the children and AfterFuncs registered with it. No call into
 * the scheduler (go_ready through a channel close, go_spawn, timers) is made with a mu
 * held: a goroutine may be switched out in any of them (when sysmon took its P). Order: a
 * parent's mu before a child's channel lock; never two contexts' mu at once (a cancel
 * detaches a whole children list under the parent's mu, then cancels each child with only
 * the child's own mu).
 *
 * References:
 *   users  the API's references (go_ctx_ref/release) plus one per child context. When it
 *          drops to 0 the context is detached (release_last) and gives up ...
 *   refs   ... the memory reference it held for its users; other memory references: an
 *          armed timer, a kchan watcher, an AfterFunc handle, a cancel in progress (a
 *          detached child on the canceller's work list; a cancel parent being
 *          unlinked from). At 0 the memory is freed.
 *   While a context is linked in its cancel parent's children, its users count is > 0 (the
 *   last release unlinks it first), so the parent may take a memory ref on it. The other
 *   way round, a memory reference on a child keeps nothing above it alive: its parent
 *   chain is held only while it is not released (see unlink_from_parent).
 *
 * Collected contexts (gc: the tree under go_ctx_background_gc, <gochan/context.h>): the
 * contexts, their Done channels and AfterFunc records are go_new() objects (lib/gc/chanctx.c
 * has the root). Counts are kept as for the others, but the users count never drops to 0
 * (ref and release do nothing) and nothing is freed here: the collector frees what is
 * unreachable. So every pointer store into one after it was published (the children and
 * AfterFunc lists, the canceller's work list) goes through the write barrier (CTX_SET);
 * stores into one just made, before it is published, need none (<gochan/gc.h>). What holds a
 * collected context without the collector seeing it must keep it reachable: the scheduler's
 * timer heap (an armed deadline: the context is on the pinned list, a registered root, while
 * the timer holds its memory reference), goroutines' arguments (watcher, AfterFunc runner,
 * deadline canceller: scanned with their G).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gochan/context.h>
#include <gochan/gc.h>
#include <gochan/kchan.h>

#include "../internal.h"

/* lib/gc's, weak so that lib/context links without the collector (selftests/chan, its
 * pthread shim): a collected context exists only under go_ctx_background_gc (lib/gc), which
 * brings them. */
#pragma weak go_new
#pragma weak go_chan_new
#pragma weak go_chan_new_fd
#pragma weak go_gc_root_add
#pragma weak go_wb_slow_
#pragma weak go_wb_enabled_

/* A pointer store into a context or an AfterFunc record after it was published: through the
 * write barrier when it is collected (gc). */
#define CTX_SET(gc, lvalue, value)                                                         \
	do {                                                                               \
		if (gc)                                                                    \
			GO_WB(lvalue, value);                                              \
		else                                                                       \
			(lvalue) = (value);                                                \
	} while (0)

enum ctx_kind { CTX_ROOT, CTX_CANCEL, CTX_VALUE, CTX_WITHOUT };

struct go_ctx_stop {
	struct go_ctx_stop *next, *prev;     /* in cc->afs, under cc->mu */
	struct go_ctx_stop *hnext;           /* in cc->stops, under cc->mu */
	struct go_ctx *cc;                   /* registered with (memory ref), or NULL */
	void (*fn)(void *);
	void *arg;
	bool linked;                         /* under cc->mu */
	bool gc;                             /* fixed: a collected object (never freed here) */
	int refs;                            /* the list's or runner's + the handle's, which
					      * cc holds (cc->stops) until its last release (a
					      * collected one: while reachable) */
};

/* The handle of an AfterFunc on a context that is never cancelled: fn never runs, so
 * nothing is allocated and every go_ctx_stop() says true. */
static struct go_ctx_stop never_stop;

/*
 * struct go_ctx - one context. Fields say what protects them; "fixed" ones are set before
 * the context is returned to its maker and never change.
 * Invariants: err != 0 once cancelled, never back to 0; then done, once made, is closed.
 * A context linked in its cancel parent's children (linked) has users > 0, and its parent
 * had err == 0 when it was linked. refs >= 1 while users > 0.
 */
struct go_ctx {
	enum ctx_kind kind;                  /* fixed */
	long users;                          /* atomic: API references + one per child */
	long refs;                           /* atomic: memory references (References, above) */
	struct go_ctx *parent;               /* fixed; user ref; NULL for the roots */

	/* CTX_VALUE */
	const void *key;                     /* fixed */
	void *value;                         /* fixed */

	/* CTX_CANCEL */
	go_mutex_t mu;
	int err;                             /* set once (0 -> -errno) under mu, store_release;
					      * read without it (load_acquire, or relaxed under mu) */
	int cause;                           /* under mu; set with err */
	struct go_chan *done;                /* made once under mu (store_release), lazily;
					      * read without it (load_acquire) */
	struct go_ctx *cparent;              /* the cancel parent we are linked in, or NULL:
					      * set when linked, under cparent->mu */
	struct go_ctx *sib_next, *sib_prev;  /* in cparent->children, under cparent->mu */
	bool linked;                         /* under cparent->mu */
	bool released;                       /* under mu: the last user reference is gone */
	struct go_ctx *children;             /* under mu */
	struct go_ctx_stop *afs;             /* under mu: the AfterFuncs registered here */
	struct go_ctx_stop *stops;           /* under mu: the stop handles given out here,
					      * each holding a reference on its AfterFunc;
					      * dropped by the last release */
	struct go_ctx *work_next;            /* a canceller's work list (owned by it) */
	int64_t deadline;                    /* fixed; -1: none of its own */
	int deadline_cause;                  /* fixed */
	struct go_timer timer;
	bool timer_armed;                    /* under mu: timer holds a memory reference */
	int kfd;                             /* fixed; with_kchan: the fd (done owns it), else -1 */
	bool gc;                             /* fixed: a collected context (its parent's) */
	struct go_ctx *pin_next, *pin_prev;  /* gc: on the pinned list, under pinned.lock */
};

static struct go_ctx background = { .kind = CTX_ROOT, .deadline = -1, .kfd = -1 };
static struct go_ctx todo = { .kind = CTX_ROOT, .deadline = -1, .kfd = -1 };
/* the collected contexts' root (go_ctx_background_gc, lib/gc/chanctx.c) */
struct go_ctx _go_ctx_background_gc = { .kind = CTX_ROOT, .deadline = -1, .kfd = -1,
					.gc = true };

GOCHAN_API struct go_ctx *go_ctx_background(void) { return &background; }
GOCHAN_API struct go_ctx *go_ctx_todo(void) { return &todo; }

/* ---- References -------------------------------------------------------------------------- */

/* Contexts allocated by malloc and not yet freed (go_ctx_debug_live); relaxed atomic. */
static long ctx_live;

static void ctx_put(struct go_ctx *c)
{
	if (fetch_add(&c->refs, -1) != 1 || c->gc)
		return;
	go_chan_free(load_relaxed(&c->done));
	free(c);
	fetch_add_relaxed(&ctx_live, -1);
}

static void ctx_get(struct go_ctx *c)
{
	fetch_add_relaxed(&c->refs, 1);
}

static void af_put(struct go_ctx_stop *af)
{
	if (fetch_add(&af->refs, -1) != 1)
		return;
	if (af->cc)
		ctx_put(af->cc);
	if (!af->gc)
		free(af);
}

/*
 * The pinned list: collected contexts whose deadline timer is armed. The timer sits in the
 * scheduler's timer heap, which the collector does not scan, and fires with the context's
 * address: so the context must stay reachable meanwhile (Go's timer heap is scanned, and its
 * closure holds the context). The list's head is a registered root; links are barriered.
 */
static struct {
	go_mutex_t lock;
	struct go_ctx *head;
	pthread_once_t once;
} pinned = { .once = PTHREAD_ONCE_INIT };

static void pinned_init(void)
{
	if (go_gc_root_add(&pinned.head, sizeof(pinned.head)) < 0)
		abort();        /* -ENOMEM at the first deadline: nothing sane to do */
}

static void pin(struct go_ctx *c)
{
	pthread_once(&pinned.once, pinned_init);
	_go_mutex_lock(&pinned.lock);
	GO_WB(c->pin_prev, NULL);
	GO_WB(c->pin_next, pinned.head);
	if (pinned.head)
		GO_WB(pinned.head->pin_prev, c);
	GO_WB(pinned.head, c);
	_go_mutex_unlock(&pinned.lock);
}

static void unpin(struct go_ctx *c)
{
	_go_mutex_lock(&pinned.lock);
	if (c->pin_prev)
		GO_WB(c->pin_prev->pin_next, c->pin_next);
	else
		GO_WB(pinned.head, c->pin_next);
	if (c->pin_next)
		GO_WB(c->pin_next->pin_prev, c->pin_prev);
	GO_WB(c->pin_next, NULL);
	GO_WB(c->pin_prev, NULL);
	_go_mutex_unlock(&pinned.lock);
}

/* The armed timer's memory reference (and, collected, its pin). */
static void timer_ref_get(struct go_ctx *c)
{
	if (c->gc)
		pin(c);
	ctx_get(c);
}

static void timer_ref_put(struct go_ctx *c)
{
	if (c->gc)
		unpin(c);
	ctx_put(c);
}

/*
 * Publish c's Done channel d: a release store (readers load it without mu), with go_wb's
 * barrier when c is collected, open-coded: the slot held NULL (nothing to shade on that
 * side), and d is shaded, for c may be black already and d white (made before the cycle
 * began) and about to leave this goroutine's stack. The flag is read after the store, as
 * go_wb does (<gochan/gc.h>).
 */
static void done_publish(struct go_ctx *c, struct go_chan *d)
{
	store_release(&c->done, d);
	if (c->gc && __atomic_load_n(&go_wb_enabled_, __ATOMIC_RELAXED))
		go_wb_slow_(NULL, d);
}

/* The nearest cancelable context at or above c, or NULL. */
static struct go_ctx *cancel_ancestor(struct go_ctx *c)
{
	while (c) {
		switch (c->kind) {
		case CTX_CANCEL:
			return c;
		case CTX_VALUE:
			c = c->parent;
			break;
		default:
			return NULL;
		}
	}
	return NULL;
}

GOCHAN_API struct go_ctx *go_ctx_ref(struct go_ctx *c)
{
	if (c->kind != CTX_ROOT && !c->gc)
		fetch_add_relaxed(&c->users, 1);
	return c;
}

/* Unlink c from p's children (p is c's cancel parent, alive), if still there. No mu held. */
static void unlink_child(struct go_ctx *p, struct go_ctx *c)
{
	_go_mutex_lock(&p->mu);
	if (c->linked) {
		if (c->sib_prev)
			CTX_SET(p->gc, c->sib_prev->sib_next, c->sib_next);
		else
			CTX_SET(p->gc, p->children, c->sib_next);
		if (c->sib_next)
			CTX_SET(p->gc, c->sib_next->sib_prev, c->sib_prev);
		CTX_SET(p->gc, c->sib_next, NULL);
		CTX_SET(p->gc, c->sib_prev, NULL);
		c->linked = false;
	}
	_go_mutex_unlock(&p->mu);
}

/*
 * A cancel's unlink of c from its cancel parent. The canceller may hold only a memory
 * reference on c (a deadline's timer, a kchan watcher), which keeps nothing above c alive:
 * the parent is read under c->mu, where !released means c still holds its user reference on
 * its parent chain (release_last sets released before it drops that), and is kept by a
 * memory reference of ours for the unlink. Once c is released, release_last unlinks it.
 */
static void unlink_from_parent(struct go_ctx *c)
{
	struct go_ctx *p;

	_go_mutex_lock(&c->mu);
	p = c->released ? NULL : c->cparent;
	if (p)
		ctx_get(p);
	_go_mutex_unlock(&c->mu);
	if (!p)
		return;
	unlink_child(p, c);
	ctx_put(p);
}

/* The last user reference of c is gone: detach it quietly, then drop its hold on its
 * parent (iteratively: a long chain of contexts can go at once). */
static void release_last(struct go_ctx *c)
{
	while (c) {
		struct go_ctx *parent = c->parent;
		struct go_ctx_stop *afs = NULL, *stops = NULL;
		bool had_timer = false;

		if (c->kind == CTX_CANCEL) {
			_go_mutex_lock(&c->mu);
			c->released = true;
			if (!load_relaxed(&c->err))
				store_release(&c->err, -ECANCELED);
			afs = c->afs;
			c->afs = NULL;
			for (struct go_ctx_stop *af = afs; af; af = af->next)
				af->linked = false;
			had_timer = c->timer_armed;
			c->timer_armed = false;
			stops = c->stops;
			c->stops = NULL;
			_go_mutex_unlock(&c->mu);
			if (c->cparent)		/* alive: we still hold our parent */
				unlink_child(c->cparent, c);
			if (had_timer && go_timer_stop(&c->timer))
				timer_ref_put(c);
			while (afs) {
				struct go_ctx_stop *next = afs->next;

				af_put(afs);      /* the list's reference: it will not run */
				afs = next;
			}
			while (stops) {
				struct go_ctx_stop *next = stops->hnext;

				af_put(stops);    /* the handle's: nobody may call stop now */
				stops = next;
			}
		}
		ctx_put(c);
		c = NULL;
		if (parent && parent->kind != CTX_ROOT &&
		    fetch_add(&parent->users, -1) == 1)
			c = parent;
	}
}

GOCHAN_API void go_ctx_release(struct go_ctx *c)
{
	if (!c || c->kind == CTX_ROOT || c->gc)
		return;
	if (fetch_add(&c->users, -1) == 1)
		release_last(c);
}

/* ---- Cancellation --------------------------------------------------------------------------- */

static void af_run(void *arg)
{
	struct go_ctx_stop *af = arg;

	af->fn(af->arg);
	af_put(af);
}

static void af_start(struct go_ctx_stop *af)
{
	/* Go runs f in its own goroutine; without a scheduler, run it here. */
	if (go_spawn(af_run, af) < 0)
		af_run(af);
}

/*
 * Cancel one context: record err/cause, close Done, take its children and AfterFuncs.
 * Children are pushed on *work with a memory reference each, unlinked. Returns false if it
 * was already cancelled.
 */
static bool cancel_one(struct go_ctx *c, int err, int cause, bool close_kernel,
		       struct go_ctx **work)
{
	struct go_ctx_stop *afs;
	struct go_chan *done;
	bool had_timer;

	_go_mutex_lock(&c->mu);
	if (load_relaxed(&c->err)) {
		_go_mutex_unlock(&c->mu);
		return false;
	}
	c->cause = cause ? cause : err;
	store_release(&c->err, err);
	done = load_relaxed(&c->done);
	for (struct go_ctx *ch = c->children, *next; ch; ch = next) {
		next = ch->sib_next;
		ch->linked = false;
		CTX_SET(c->gc, ch->sib_next, NULL);
		CTX_SET(c->gc, ch->sib_prev, NULL);
		ctx_get(ch);
		CTX_SET(c->gc, ch->work_next, *work);
		*work = ch;         /* (the canceller's stack) */
	}
	CTX_SET(c->gc, c->children, NULL);
	afs = c->afs;
	CTX_SET(c->gc, c->afs, NULL);
	for (struct go_ctx_stop *af = afs; af; af = af->next)
		af->linked = false;
	had_timer = c->timer_armed;
	c->timer_armed = false;
	_go_mutex_unlock(&c->mu);

	/* Close Done with no lock held: the close readies its waiters, and a goroutine may be
	 * switched out in any call into the scheduler. A Done made from now on is made closed
	 * (go_ctx_done sees err). */
	if (done && (c->kfd < 0 || close_kernel))
		go_chan_close(done);          /* kernel: -EPIPE if another process closed it */
	if (had_timer && go_timer_stop(&c->timer))
		timer_ref_put(c);
	while (afs) {
		struct go_ctx_stop *next = afs->next;

		af_start(afs);            /* the list's reference goes to the runner */
		afs = next;
	}
	return true;
}

/* Go's cancelCtx.cancel(removeFromParent, err, cause), over the whole subtree. */
static void cancel_tree(struct go_ctx *c, int err, int cause, bool close_kernel)
{
	struct go_ctx *work = NULL;

	if (!cancel_one(c, err, cause, close_kernel, &work))
		return;
	GO_DEBUG_HOOK(ctx_unlink);
	unlink_from_parent(c);
	cause = c->cause;         /* ours to read: we set it */
	while (work) {
		struct go_ctx *ch = work;

		work = ch->work_next;
		cancel_one(ch, err, cause, true, &work);
		ctx_put(ch);
	}
}

GOCHAN_API int go_ctx_cancel_cause(struct go_ctx *c, int cause)
{
	if (c->kind != CTX_CANCEL)
		return -EINVAL;
	cancel_tree(c, -ECANCELED, cause, true);
	return 0;
}

GOCHAN_API int go_ctx_cancel(struct go_ctx *c)
{
	return go_ctx_cancel_cause(c, 0);
}

/* ---- Construction ----------------------------------------------------------------------------- */

static struct go_ctx *ctx_new(enum ctx_kind kind, struct go_ctx *parent)
{
	/* collected: scanned conservatively (parent, lists, done, a value's pointer); its
	 * fields are set before it is published, with no barrier */
	struct go_ctx *c = parent->gc ? go_new(sizeof(*c), 0) : calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->gc = parent->gc;
	if (!c->gc)		/* (collected ones are freed by the collector, uncounted) */
		fetch_add_relaxed(&ctx_live, 1);
	c->kind = kind;
	c->users = 1;
	c->refs = 1;
	c->deadline = -1;
	c->kfd = -1;
	c->parent = go_ctx_ref(parent);
	return c;
}

/* Register the new cancel context c with its cancel parent (Go's propagateCancel). */
static void propagate_cancel(struct go_ctx *c)
{
	struct go_ctx *p = cancel_ancestor(c->parent);
	int err, cause;

	if (!p)
		return;
	_go_mutex_lock(&p->mu);
	err = load_relaxed(&p->err);
	cause = p->cause;
	if (!err) {
		CTX_SET(c->gc, c->cparent, p);
		CTX_SET(c->gc, c->sib_prev, NULL);
		CTX_SET(c->gc, c->sib_next, p->children);
		if (p->children)
			CTX_SET(p->gc, p->children->sib_prev, c);
		CTX_SET(p->gc, p->children, c);
		c->linked = true;
	}
	_go_mutex_unlock(&p->mu);
	if (err)
		cancel_tree(c, err, cause, true);
}

GOCHAN_API int go_ctx_with_cancel(struct go_ctx **out, struct go_ctx *parent)
{
	struct go_ctx *c = ctx_new(CTX_CANCEL, parent);

	if (!c)
		return -ENOMEM;
	propagate_cancel(c);
	*out = c;
	return 0;
}

GOCHAN_API int go_ctx_with_cancel_cause(struct go_ctx **out, struct go_ctx *parent)
{
	return go_ctx_with_cancel(out, parent);
}

static void deadline_cancel(void *arg)
{
	struct go_ctx *c = arg;

	cancel_tree(c, -ETIMEDOUT, c->deadline_cause, true);
	timer_ref_put(c);             /* the timer's reference */
}

/* The timer function runs on the scheduler's stack, where it must not block: the cancel
 * (locks, closing channels, AfterFuncs) runs in a goroutine of its own, as Go's
 * time.AfterFunc does. */
static void deadline_fire(struct go_timer *t, void *arg)
{
	(void)t;
	if (go_spawn(deadline_cancel, arg) < 0)
		deadline_cancel(arg);
}

GOCHAN_API int go_ctx_with_deadline_cause(struct go_ctx **out, struct go_ctx *parent,
					  int64_t deadline_ns, int cause)
{
	int64_t pd;
	struct go_ctx *c;

	if (go_ctx_deadline(parent, &pd) && pd <= deadline_ns)
		return go_ctx_with_cancel(out, parent);   /* the parent's is sooner */
	c = ctx_new(CTX_CANCEL, parent);
	if (!c)
		return -ENOMEM;
	c->deadline = deadline_ns;
	c->deadline_cause = cause;
	propagate_cancel(c);
	if (go_now() >= deadline_ns) {
		cancel_tree(c, -ETIMEDOUT, cause, true);
	} else {
		bool armed;

		/* The timer holds a memory reference; started with no lock held (see
		 * cancel_one), then recorded unless a cancel came in between. */
		timer_ref_get(c);
		if (go_timer_start(&c->timer, deadline_ns, deadline_fire, c) < 0) {
			timer_ref_put(c);
			go_ctx_release(c);
			return -EPERM;
		}
		_go_mutex_lock(&c->mu);
		armed = !load_relaxed(&c->err);
		c->timer_armed = armed;
		_go_mutex_unlock(&c->mu);
		if (!armed && go_timer_stop(&c->timer))
			timer_ref_put(c);
	}
	*out = c;
	return 0;
}

GOCHAN_API int go_ctx_with_deadline(struct go_ctx **out, struct go_ctx *parent, int64_t deadline_ns)
{
	return go_ctx_with_deadline_cause(out, parent, deadline_ns, 0);
}

GOCHAN_API int go_ctx_with_timeout(struct go_ctx **out, struct go_ctx *parent, int64_t timeout_ns)
{
	return go_ctx_with_deadline_cause(out, parent, go_now() + timeout_ns, 0);
}

GOCHAN_API int go_ctx_with_timeout_cause(struct go_ctx **out, struct go_ctx *parent,
					 int64_t timeout_ns, int cause)
{
	return go_ctx_with_deadline_cause(out, parent, go_now() + timeout_ns, cause);
}

GOCHAN_API int go_ctx_with_value(struct go_ctx **out, struct go_ctx *parent, const void *key,
				 void *value)
{
	struct go_ctx *c = ctx_new(CTX_VALUE, parent);

	if (!c)
		return -ENOMEM;
	c->key = key;
	c->value = value;
	*out = c;
	return 0;
}

GOCHAN_API int go_ctx_without_cancel(struct go_ctx **out, struct go_ctx *parent)
{
	struct go_ctx *c = ctx_new(CTX_WITHOUT, parent);

	if (!c)
		return -ENOMEM;
	*out = c;
	return 0;
}

/* ---- Kernel-channel Done -------------------------------------------------------------------- */

#define WATCH_SLICE_NS (100 * 1000 * 1000LL)

/* Parks on the kernel channel; a close (by anyone) cancels the context. Polls in slices to
 * notice a release (the scheduler's go_poll cannot be cancelled). */
static void kchan_watch(void *arg)
{
	struct go_ctx *c = arg;

	for (;;) {
		int r = go_poll(c->kfd, POLLIN, go_now() + WATCH_SLICE_NS);
		struct gochan_stat st;
		bool quit;

		_go_mutex_lock(&c->mu);
		quit = c->released || load_relaxed(&c->err);
		_go_mutex_unlock(&c->mu);
		if (quit)
			break;
		if (r == -ETIMEDOUT)
			continue;
		if (r < 0 || (gochan_stat(c->kfd, &st) == 0 && (st.flags & GOCHAN_STAT_CLOSED))) {
			cancel_tree(c, -ECANCELED, 0, false);
			break;
		}
		go_sleep(1000000);   /* readable but not closed: someone sent on it; do not spin */
	}
	ctx_put(c);
}

GOCHAN_API int go_ctx_with_kchan(struct go_ctx **out, struct go_ctx *parent, int fd)
{
	struct go_chan *done;
	struct go_ctx *c;
	int kfd, ret;

	if (fd < 0) {
		kfd = gochan_make(0, 0, GOCHAN_CREATE_CLOEXEC);
	} else {
		int saved = errno;

		kfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (kfd < 0)
			kfd = -errno;
		errno = saved;
	}
	if (kfd < 0)
		return kfd;
	/* collected: a handle whose finalizer closes kfd once the context and whoever else
	 * took its Done are unreachable */
	ret = parent->gc ? go_chan_new_fd(&done, kfd, GO_CHAN_FD_OWN)
			 : go_chan_from_fd(&done, kfd, GO_CHAN_FD_OWN);
	if (ret < 0) {
		close(kfd);
		return ret;
	}
	c = ctx_new(CTX_CANCEL, parent);
	if (!c) {
		go_chan_free(done);
		return -ENOMEM;
	}
	c->kfd = kfd;
	done_publish(c, done);
	ctx_get(c);
	if (go_spawn(kchan_watch, c) < 0)
		ctx_put(c);                /* no watcher: remote closes are not seen */
	propagate_cancel(c);
	*out = c;
	return 0;
}

GOCHAN_API int go_ctx_fd(struct go_ctx *ctx)
{
	return ctx->kind == CTX_CANCEL && ctx->kfd >= 0 ? ctx->kfd : -EINVAL;
}

/* ---- Queries ---------------------------------------------------------------------------------- */

/*
 * A kernel Done may have been closed by another process before our watcher noticed: Err
 * must not say "live" once Done is closed, so a kchan context asks the kernel (one ioctl).
 */
static int ctx_err(struct go_ctx *c)
{
	int err = load_acquire(&c->err);
	struct gochan_stat st;

	if (!err && c->kfd >= 0 && gochan_stat(c->kfd, &st) == 0 && (st.flags & GOCHAN_STAT_CLOSED)) {
		cancel_tree(c, -ECANCELED, 0, false);
		err = load_acquire(&c->err);
	}
	return err;
}

GOCHAN_API int go_ctx_err(struct go_ctx *ctx)
{
	struct go_ctx *c = cancel_ancestor(ctx);

	return c ? ctx_err(c) : 0;
}

GOCHAN_API int go_ctx_cause(struct go_ctx *ctx)
{
	struct go_ctx *c = cancel_ancestor(ctx);
	int cause;

	if (!c || !ctx_err(c))
		return 0;
	_go_mutex_lock(&c->mu);
	cause = c->cause;
	_go_mutex_unlock(&c->mu);
	return cause;
}

GOCHAN_API struct go_chan *go_ctx_done(struct go_ctx *ctx)
{
	struct go_ctx *c = cancel_ancestor(ctx);
	struct go_chan *d;

	if (!c)
		return NULL;
	d = load_acquire(&c->done);
	if (d)
		return d;
	_go_mutex_lock(&c->mu);
	d = load_relaxed(&c->done);
	if (!d && (c->gc ? go_chan_new(&d, 0, 0, GO_CHAN_NOSCAN) : go_chan_make(&d, 0, 0)) == 0) {
		if (load_relaxed(&c->err))
			go_chan_close(d);
		done_publish(c, d);
	}
	_go_mutex_unlock(&c->mu);
	return d;
}

GOCHAN_API bool go_ctx_deadline(struct go_ctx *ctx, int64_t *deadline_ns)
{
	for (struct go_ctx *c = ctx; c; c = c->parent) {
		if (c->kind == CTX_ROOT || c->kind == CTX_WITHOUT)
			return false;
		if (c->kind == CTX_CANCEL && c->deadline >= 0) {
			if (deadline_ns)
				*deadline_ns = c->deadline;
			return true;
		}
	}
	return false;
}

GOCHAN_API void *go_ctx_value(struct go_ctx *ctx, const void *key)
{
	for (struct go_ctx *c = ctx; c; c = c->parent)
		if (c->kind == CTX_VALUE && c->key == key)
			return c->value;
	return NULL;
}

/* ---- AfterFunc ---------------------------------------------------------------------------------- */

GOCHAN_API int go_ctx_after_func(struct go_ctx *ctx, void (*fn)(void *), void *arg,
				 struct go_ctx_stop **stop)
{
	struct go_ctx *c = cancel_ancestor(ctx);
	struct go_ctx_stop *af;
	bool run_now = false, linked = false;

	if (!c) {			/* never cancelled: fn never runs */
		if (stop)
			*stop = &never_stop;
		return 0;
	}
	/* collected: scanned (its context, arg), kept by its handle and its list */
	af = ctx->gc ? go_new(sizeof(*af), 0) : calloc(1, sizeof(*af));
	if (!af)
		return -ENOMEM;
	af->gc = ctx->gc;
	af->fn = fn;
	af->arg = arg;
	af->refs = stop ? 2 : 1;
	ctx_get(c);
	af->cc = c;
	_go_mutex_lock(&c->mu);
	if (load_relaxed(&c->err)) {
		run_now = !c->released;
	} else {
		af->next = c->afs;
		if (c->afs)
			CTX_SET(c->gc, c->afs->prev, af);
		CTX_SET(c->gc, c->afs, af);
		af->linked = linked = true;
	}
	/* The handle lives until c's last release; a collected one while it is reachable
	 * (the collector frees it, so no list keeps it). */
	if (stop && !af->gc) {
		af->hnext = c->stops;
		c->stops = af;
	}
	_go_mutex_unlock(&c->mu);
	if (stop)
		*stop = af;
	if (run_now)
		af_start(af);
	else if (!linked)
		af_put(af);       /* never runs: only the handle's reference stays, if any */
	return 0;
}

GOCHAN_API bool go_ctx_stop(struct go_ctx_stop *af)
{
	struct go_ctx *c = af->cc;
	bool stopped = false;

	if (af == &never_stop)
		return true;
	_go_mutex_lock(&c->mu);
	if (af->linked) {
		if (af->prev)
			CTX_SET(c->gc, af->prev->next, af->next);
		else
			CTX_SET(c->gc, c->afs, af->next);
		if (af->next)
			CTX_SET(c->gc, af->next->prev, af->prev);
		af->linked = false;
		stopped = true;
	}
	_go_mutex_unlock(&c->mu);
	if (stopped)
		af_put(af);       /* the list's reference; the handle's stays with c */
	return stopped;
}

/* ---- Debugging counters ---------------------------------------------------------------------- */

GOCHAN_API long go_ctx_debug_live(void)
{
	return load_relaxed(&ctx_live);
}

GOCHAN_API long go_ctx_debug_children(struct go_ctx *ctx)
{
	long n = 0;

	if (ctx->kind != CTX_CANCEL)
		return -EINVAL;
	_go_mutex_lock(&ctx->mu);
	for (struct go_ctx *ch = ctx->children; ch; ch = ch->sib_next)
		n++;
	_go_mutex_unlock(&ctx->mu);
	return n;
}
