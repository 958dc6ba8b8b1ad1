/* SPDX-License-Identifier: MIT */
/*
 * Description: randomized alloc/free from several threads with cross-thread frees, thread
 * churn (caches released with live objects, freed later by other threads), and the heap
 * checker at every quiescent point. Every object carries a stamp checked before it is freed,
 * so two live objects overlapping is caught. GA_STRESS_SCALE (default 100) scales the work
 * in percent (the sanitizer builds run smaller).
 */
#include "internal.h"
#include "tap.h"

#include <pthread.h>

enum { NTHREADS = 4, NSLOTS = 2048, MAILBOX = 512 };

struct obj {
	void *p;
	size_t n;
	uint64_t id;
};

struct mailbox {
	pthread_mutex_t lock;
	struct obj o[MAILBOX];
	int n;
};

static struct obj slots[NTHREADS][NSLOTS];
static struct mailbox mbox[NTHREADS];
static pthread_barrier_t barrier;
static long ops_per_round;
static int rounds;
static _Atomic int failures;
static _Atomic uint64_t total_ops, remote_frees;
static char checkmsg[512];

static void stamp(struct obj *o)
{
	unsigned char *b = o->p;

	if (o->n > 8) {
		memcpy(b, &o->id, 8);
		b[o->n - 1] = (unsigned char)o->id;
	} else {
		for (size_t i = 0; i < o->n; i++)
			b[i] = (unsigned char)(o->id + i);
	}
}

static bool stamped(const struct obj *o)
{
	const unsigned char *b = o->p;
	uint64_t id;

	if (o->n > 8) {
		memcpy(&id, b, 8);
		return id == o->id && b[o->n - 1] == (unsigned char)o->id;
	}
	for (size_t i = 0; i < o->n; i++)
		if (b[i] != (unsigned char)(o->id + i))
			return false;
	return true;
}

static void release(struct obj *o)
{
	if (!o->p)
		return;
	if (!stamped(o)) {
		if (atomic_fetch_add(&failures, 1) < 5)
			printf("# object %p (size %zu, id %lu) clobbered\n", o->p, o->n,
			       (unsigned long)o->id);
	}
	gfree(o->p);
	o->p = NULL;
}

static size_t pick_size(unsigned *seed, unsigned *flags)
{
	unsigned r = (unsigned)rand_r(seed) % 1000;

	*flags = (r & 1) ? GALLOC_NOSCAN : 0;
	if (r < 300)
		return (size_t)rand_r(seed) % 17; /* tiny when noscan */
	if (r < 850)
		return (size_t)rand_r(seed) % 1024;
	if (r < 990)
		return 1024 + (size_t)rand_r(seed) % (32768 - 1024);
	return 32769 + (size_t)rand_r(seed) % (512 * 1024);
}

static void one_op(int me, unsigned *seed, uint64_t *nextid)
{
	struct obj *o = &slots[me][(unsigned)rand_r(seed) % NSLOTS];
	unsigned r = (unsigned)rand_r(seed) % 100, flags;

	if (r < 15 && o->p) {
		/* hand it to another thread, which frees it */
		int to = (me + 1 + rand_r(seed) % (NTHREADS - 1)) % NTHREADS;
		struct mailbox *m = &mbox[to];
		pthread_mutex_lock(&m->lock);
		if (m->n < MAILBOX) {
			m->o[m->n++] = *o;
			o->p = NULL;
		}
		pthread_mutex_unlock(&m->lock);
		release(o);
		return;
	}
	if (r < 20 && o->p && o->n > 8) {
		/* grow or shrink, keeping the stamp */
		size_t n = pick_size(seed, &flags);
		if (n < 9)
			n = 9;
		void *q = grealloc(o->p, n, 0);
		if (q) {
			o->p = q;
			uint64_t id;
			memcpy(&id, q, 8);
			if (id != o->id && atomic_fetch_add(&failures, 1) < 5)
				printf("# realloc lost the stamp\n");
			o->n = n;
			stamp(o);
		}
		return;
	}
	release(o);
	o->n = pick_size(seed, &flags);
	o->id = ++*nextid * NTHREADS + (uint64_t)me;
	if (r < 25)
		o->p = galloc_aligned(o->n, (size_t)64 << (rand_r(seed) % 8), flags);
	else
		o->p = galloc(o->n, flags);
	if (!o->p) {
		atomic_fetch_add(&failures, 1);
		return;
	}
	stamp(o);
}

static void drain_mailbox(int me)
{
	struct mailbox *m = &mbox[me];
	struct obj tmp[MAILBOX];
	int n;

	pthread_mutex_lock(&m->lock);
	n = m->n;
	memcpy(tmp, m->o, sizeof(struct obj) * (size_t)n);
	m->n = 0;
	pthread_mutex_unlock(&m->lock);
	for (int i = 0; i < n; i++)
		release(&tmp[i]);
	atomic_fetch_add(&remote_frees, (uint64_t)n);
}

struct worker {
	int me;
	unsigned seed;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	uint64_t nextid = (uint64_t)w->seed << 32;

	for (int round = 0; round < rounds; round++) {
		for (long i = 0; i < ops_per_round; i++) {
			one_op(w->me, &w->seed, &nextid);
			if ((i & 63) == 0)
				drain_mailbox(w->me);
		}
		atomic_fetch_add(&total_ops, (uint64_t)ops_per_round);
		/* quiescent point: everyone stops, thread 0 checks the heap */
		pthread_barrier_wait(&barrier);
		if (w->me == 0 && galloc_check(checkmsg, sizeof(checkmsg))) {
			printf("# round %d: %s\n", round, checkmsg);
			atomic_fetch_add(&failures, 1);
		}
		pthread_barrier_wait(&barrier);
	}
	return NULL;
}

static int scale(void)
{
	const char *s = getenv("GA_STRESS_SCALE");
	int v = s ? atoi(s) : 100;

	return v > 0 ? v : 100;
}

/* Four threads, three generations of them: objects outlive the threads (and caches) that
 * allocated them and are freed by the next generation. */
static void threads_alloc_free_cross_and_churn(void)
{
	struct galloc_stats st;
	int epochs = 3;

	ops_per_round = 50000L * scale() / 100;
	rounds = 10;
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++)
		pthread_mutex_init(&mbox[i].lock, NULL);
	for (int e = 0; e < epochs; e++) {
		pthread_t t[NTHREADS];
		struct worker w[NTHREADS];
		for (int i = 0; i < NTHREADS; i++) {
			w[i].me = i;
			w[i].seed = (unsigned)(e * 100 + i + 1);
			pthread_create(&t[i], NULL, worker, &w[i]);
		}
		for (int i = 0; i < NTHREADS; i++)
			pthread_join(t[i], NULL);
		CHECK(galloc_check(checkmsg, sizeof(checkmsg)) == 0, "after epoch %d: %s", e,
		      checkmsg);
	}
	/* the main thread frees what is left: all remote frees into released spans */
	for (int i = 0; i < NTHREADS; i++) {
		drain_mailbox(i);
		for (int k = 0; k < NSLOTS; k++)
			release(&slots[i][k]);
	}
	CHECK(galloc_check(checkmsg, sizeof(checkmsg)) == 0, "at the end: %s", checkmsg);
	galloc_stats(&st);
	uint64_t inuse = st.tiny_inuse;
	for (unsigned c = 0; c < GALLOC_NUM_CLASSES; c++)
		inuse += st.cls[c].inuse;
	CHECK(inuse == 0, "%lu objects still in use", (unsigned long)inuse);
	CHECK(failures == 0, "%d failures", failures);
	printf("# %lu operations, %lu cross-thread frees, heap in use %lu KiB, released %lu KiB\n",
	       (unsigned long)total_ops, (unsigned long)remote_frees,
	       (unsigned long)(st.heap_inuse >> 10), (unsigned long)(st.heap_released >> 10));
}

int main(int argc, char **argv)
{
	TEST(threads_alloc_free_cross_and_churn);
	return tap_any_failed;
}
