/* SPDX-License-Identifier: MIT */
/*
 * Description: a remote free that must notify a span's holder (GA_XF_NOTIFY), held in flight
 * while the holder goes on: the span must not go back to the heap before the notification
 * is done, nor be listed twice after it. Needs the debug build's hook (ga_debug_notify_hook,
 * GA_DEBUG), which stops the notifying thread between its push and central's lock; without
 * it (plain build) the tests are skipped.
 */
#include "internal.h"
#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>

static char checkmsg[512];

#define HEAP_OK() CHECK(galloc_check(checkmsg, sizeof(checkmsg)) == 0, "heap: %s", checkmsg)

#define OBJ 4096 /* two objects per one-page span */

#ifdef GA_DEBUG
static sem_t in_hook, go;
static struct ga_span *_Atomic held;

/* The notification of s waits here until the test lets it go. */
static void hold_notification(struct ga_span *s)
{
	struct ga_span *none = NULL;

	if (!atomic_compare_exchange_strong(&held, &none, s))
		return; /* only the first one */
	sem_post(&in_hook);
	sem_wait(&go);
}

static void *free_remotely(void *p)
{
	gfree(p);
	return NULL;
}

/* Free p on another thread whose notification is held; returns that thread. */
static pthread_t free_and_hold(void *p)
{
	pthread_t t;

	atomic_store(&held, NULL);
	sem_init(&in_hook, 0, 0);
	sem_init(&go, 0, 0);
	ga_debug_notify_hook = hold_notification;
	pthread_create(&t, NULL, free_remotely, p);
	sem_wait(&in_hook);
	return t;
}

static void let_go(pthread_t t)
{
	sem_post(&go);
	pthread_join(t, NULL);
	ga_debug_notify_hook = NULL;
}

/* Fill the cache's budget of kept empty spans with another class's (of two-page spans, so
 * as to leave the heap's stash of one-page spans alone): emptied spans of the class under
 * test then go to the release batch, on their way to the heap. */
static void use_up_keep_budget(void)
{
	enum { SIZE = 2 * GA_PAGE_SIZE, N = GA_KEEP_PAGES / 2 + 8 };
	void *b[N];

	for (int i = 0; i < N; i++)
		b[i] = galloc(SIZE, 0);
	for (int i = 0; i < N; i++)
		gfree(b[i]);
	CHECK(ga_tls_cache->kept_pages == GA_KEEP_PAGES, "setup: %u pages kept",
	      ga_tls_cache->kept_pages);
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* n objects of OBJ bytes, all at distinct addresses (then freed). */
static void distinct_objects(int n)
{
	void **p = calloc((size_t)n, sizeof(*p));
	int dup = 0;

	for (int i = 0; i < n; i++)
		p[i] = galloc(OBJ, 0);
	qsort(p, (size_t)n, sizeof(*p), cmp_ptr);
	for (int i = 1; i < n; i++)
		if (p[i] == p[i - 1] && dup++ < 4)
			printf("# %p handed out twice\n", p[i]);
	CHECK(dup == 0, "%d of %d objects at an address already handed out", dup, n);
	for (int i = 0; i < n; i++)
		if (i == 0 || p[i] != p[i - 1])
			gfree(p[i]);
	free(p);
}

/*
 * The owner collects the remote free whose notification is held, the span empties and, the
 * keep budget used up, is bound for the heap; then the notification arrives (issue 26 #1:
 * the span was released twice, the cache's partial list dropped).
 */
static void *emptied_while_notified(void *arg)
{
	struct ga_cache *c;
	struct ga_span *s;
	void *x, *y, *z, *w, *v, *u, *t, *a1, *a2;
	pthread_t r;

	use_up_keep_budget();
	c = ga_tls_cache;
	x = galloc(OBJ, 0);
	y = galloc(OBJ, 0);
	s = ga_span_of_fast(x);
	z = galloc(OBJ, 0); /* s exhausted: parked in the full list, NOTIFY armed */
	CHECK(ga_span_of_fast(y) == s && ga_span_full(s) &&
		      atomic_load(&s->xfree) == GA_XF_NOTIFY,
	      "setup: span not parked armed (xfree %#lx)", (unsigned long)atomic_load(&s->xfree));
	gfree(y); /* back to the partial list, still armed (NOTIFY is disarmed lazily) */
	r = free_and_hold(x);
	CHECK(held == s, "setup: the held notification is for %p, not %p", (void *)held, (void *)s);

	w = galloc(OBJ, 0); /* z's span's second slot */
	v = galloc(OBJ, 0); /* s again: y's slot */
	u = galloc(OBJ, 0); /* s's remote frees collected: x's slot */
	CHECK(v == y && u == x, "setup: the owner did not collect x (v %p u %p, x %p y %p)", v, u,
	      x, y);
	t = galloc(OBJ, 0); /* a third span; s exhausted again */
	gfree(v);
	gfree(u); /* s empty, beyond the keep budget */
	printf("# span %#lx emptied: %s, release batch of %u\n", (unsigned long)s->base,
	       s->state == GA_SPAN_CACHE ? "still the cache's" : "given away", c->nrelease);

	let_go(r); /* the notification arrives */
	a1 = galloc(OBJ, 0);
	a2 = galloc(OBJ, 0); /* a refill: the cache drains its unfull stack */
	HEAP_OK();
	galloc_scavenge(SIZE_MAX); /* the release batch to the heap */
	HEAP_OK();
	distinct_objects(64);
	HEAP_OK();
	gfree(z);
	gfree(w);
	gfree(t);
	gfree(a1);
	gfree(a2);
	return arg;
}

/*
 * The owner parks the span full while the notification is held, so unarmed; the notifier
 * then queues it, and a local free finds it full, unarmed and queued (the debug build checks
 * the span there).
 */
static void *parked_while_notified(void *arg)
{
	void *x, *y, *z, *w, *v, *u, *t;
	struct ga_span *s;
	pthread_t r;

	x = galloc(OBJ, 0);
	y = galloc(OBJ, 0);
	s = ga_span_of_fast(x);
	z = galloc(OBJ, 0); /* s parked, armed */
	gfree(y);           /* back to partial, still armed */
	r = free_and_hold(x);
	w = galloc(OBJ, 0);
	v = galloc(OBJ, 0);
	u = galloc(OBJ, 0); /* x's block collected */
	t = galloc(OBJ, 0); /* s exhausted again: parked while notifying */
	CHECK(v == y && u == x && ga_span_full(s) && !(atomic_load(&s->xfree) & GA_XF_NOTIFY),
	      "setup: span not parked unarmed (xfree %#lx)", (unsigned long)atomic_load(&s->xfree));
	let_go(r);
	CHECK(atomic_load(&s->in_unfull), "the notifier did not queue the span");
	gfree(v); /* a local free into it, full and queued */
	gfree(u);
	HEAP_OK();
	distinct_objects(16);
	gfree(z);
	gfree(w);
	gfree(t);
	HEAP_OK();
	return arg;
}

/*
 * The owner's thread exits while the notification is held: its cache hands the span, now
 * empty, to central, which must leave it for the notification to free.
 */
static void *exit_while_notified(void *arg)
{
	void **x = arg, *y, *z;

	*x = galloc(OBJ, 0);
	y = galloc(OBJ, 0);
	z = galloc(OBJ, 0); /* parks x's span, armed */
	gfree(y);
	gfree(z);
	return NULL; /* x still alive, to be freed by the test */
}

static void *released_while_notified(void *arg)
{
	pthread_t owner, r;
	struct ga_span *s;
	void *x, *a[4];

	pthread_create(&owner, NULL, exit_while_notified, &x);
	pthread_join(owner, NULL); /* its cache released: x's span went to central, armed */
	s = ga_span_of_fast(x);
	CHECK(s->state == GA_SPAN_PARTIAL && atomic_load(&s->xfree) == GA_XF_NOTIFY,
	      "setup: x's span in state %u, xfree %#lx", s->state,
	      (unsigned long)atomic_load(&s->xfree));
	r = free_and_hold(x);
	/* another cache takes the span from central (collecting the free), empties it and hands
	 * it back: it must stay out of the heap until the notification is done */
	for (int i = 0; i < 4; i++)
		a[i] = galloc(OBJ, 0);
	for (int i = 0; i < 4; i++)
		gfree(a[i]);
	galloc_cache_flush();
	printf("# span %#lx emptied and flushed: state %u\n", (unsigned long)s->base, s->state);
	/* were it in the heap, the next span would be it, emptied here into the release batch */
	use_up_keep_budget();
	distinct_objects(8);
	let_go(r);
	HEAP_OK();
	distinct_objects(64);
	HEAP_OK();
	return arg;
}
#endif

static void late_notification_after_span_emptied(void)
{
#ifdef GA_DEBUG
	pthread_t t;

	pthread_create(&t, NULL, emptied_while_notified, NULL); /* a cache of its own */
	pthread_join(t, NULL);
	HEAP_OK();
#else
	SKIP_TEST("needs the debug build's notification hook");
#endif
}

static void late_notification_of_a_parked_span(void)
{
#ifdef GA_DEBUG
	pthread_t t;

	pthread_create(&t, NULL, parked_while_notified, NULL);
	pthread_join(t, NULL);
	HEAP_OK();
#else
	SKIP_TEST("needs the debug build's notification hook");
#endif
}

static void late_notification_after_cache_released(void)
{
#ifdef GA_DEBUG
	pthread_t t;

	pthread_create(&t, NULL, released_while_notified, NULL);
	pthread_join(t, NULL);
	HEAP_OK();
#else
	SKIP_TEST("needs the debug build's notification hook");
#endif
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	TEST(late_notification_after_span_emptied);
	TEST(late_notification_of_a_parked_span);
	TEST(late_notification_after_cache_released);
	return tap_any_failed;
}
