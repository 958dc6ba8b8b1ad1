/* SPDX-License-Identifier: MIT */
/*
 * Description: stress: many goroutines doing random channel operations (plain, try, timed,
 * select with and without deadlines) over channels of every capacity; every value must
 * arrive exactly once, and each receiver must see each producer's values on one channel in
 * the order they were sent (FIFO).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include <gochan/chan.h>
#include <gochan/sched.h>

#include "tap.h"
#include "../common/rand.h"

enum { NCH = 8, NPROD = 16, NCONS = 16 };

struct item { uint32_t prod, seq; };

struct world {
	struct go_chan *ch[NCH];
	long per_prod;
	_Atomic uint64_t *seen;          /* bitmap over prod * per_prod */
	_Atomic long received, dup, order_bad;
	struct go_waitgroup prod_wg, cons_wg;
};

struct worker { struct world *w; uint32_t id; uint64_t rng; };

static uint32_t rnd(struct worker *k)
{
	return (uint32_t)xorshift64(&k->rng);
}

static void producer(void *p)
{
	struct worker *k = p;
	struct world *w = k->w;

	for (uint32_t s = 0; s < w->per_prod; s++) {
		struct item it = { k->id, s };
		int r;

		switch (rnd(k) % 4) {
		case 0:
			r = go_chan_send(w->ch[rnd(k) % NCH], &it);
			break;
		case 1: {
			struct go_select_case cs[3];

			for (int i = 0; i < 3; i++)
				cs[i] = GO_SEND_CASE(w->ch[rnd(k) % NCH], &it);
			r = go_select(cs, 3) >= 0 ? 0 : -1;
			break;
		}
		case 2:
			r = go_chan_send_until(w->ch[rnd(k) % NCH], &it, go_now() + 1 * MS);
			if (r == -ETIMEDOUT)
				r = go_chan_send(w->ch[rnd(k) % NCH], &it);
			break;
		default: {
			struct go_chan *c = w->ch[rnd(k) % NCH];

			while ((r = go_chan_try_send(c, &it)) == -EAGAIN)
				go_yield();
			break;
		}
		}
		if (r != 0)
			w->order_bad++;      /* a send never fails here */
	}
	go_wg_done(&w->prod_wg);
}

/* Picks a channel this consumer has not yet seen closed and drained, or -1. */
static int live_pick(struct worker *k, const bool *dead)
{
	int start = (int)(rnd(k) % NCH);

	for (int i = 0; i < NCH; i++)
		if (!dead[(start + i) % NCH])
			return (start + i) % NCH;
	return -1;
}

static void consumer(void *p)
{
	struct worker *k = p;
	struct world *w = k->w;
	int64_t last[NPROD][NCH];
	bool dead[NCH] = { false };
	int ndead = 0;

	for (int i = 0; i < NPROD; i++)
		for (int j = 0; j < NCH; j++)
			last[i][j] = -1;
	while (ndead < NCH) {
		struct item it;
		bool ok = false;
		int c = live_pick(k, dead);

		switch (rnd(k) % 3) {
		case 0:
			/* timed: a consumer blocked on one channel while every producer waits
			 * on another would deadlock (in Go as well) */
			if (go_chan_recv_until(w->ch[c], &it, &ok, go_now() + 1 * MS) == -ETIMEDOUT)
				c = -1;
			break;
		case 1: {
			struct go_select_case cs[NCH];

			for (int i = 0; i < NCH; i++)      /* dead ones as nil cases */
				cs[i] = GO_RECV_CASE(dead[i] ? NULL : w->ch[i], &it);
			c = go_select_until(cs, NCH, go_now() + 2 * MS);
			if (c >= 0)
				ok = cs[c].ok;
			break;
		}
		default:
			if (go_chan_try_recv(w->ch[c], &it, &ok) == -EAGAIN) {
				c = -1;
				go_yield();
			}
			break;
		}
		if (c < 0)
			continue;
		if (!ok) {                /* closed and drained: the producers are done */
			dead[c] = true;
			ndead++;
			continue;
		}
		uint64_t bit = (uint64_t)it.prod * (uint64_t)w->per_prod + it.seq;

		if (atomic_fetch_or(&w->seen[bit / 64], 1ull << (bit % 64)) & (1ull << (bit % 64)))
			w->dup++;
		if ((int64_t)it.seq <= last[it.prod][c])
			w->order_bad++;
		last[it.prod][c] = it.seq;
		w->received++;
	}
	go_wg_done(&w->cons_wg);
}

static void random_operations_keep_every_value_once_in_order(void)
{
	static struct world w;
	struct worker prods[NPROD], cons[NCONS];
	size_t caps[NCH] = { 0, 0, 1, 1, 4, 16, 64, 0 };

	memset(&w, 0, sizeof(w));
	w.per_prod = tap_scale(20000);
	w.seen = calloc((size_t)(NPROD * w.per_prod / 64 + 1), sizeof(uint64_t));
	for (int i = 0; i < NCH; i++)
		go_chan_make(&w.ch[i], sizeof(struct item), caps[i]);
	for (uint32_t i = 0; i < NCONS; i++) {
		cons[i] = (struct worker){ .w = &w, .id = i, .rng = 0x9e3779b9u * (i + 1) };
		go_wg_add(&w.cons_wg, 1);
		go_spawn(consumer, &cons[i]);
	}
	for (uint32_t i = 0; i < NPROD; i++) {
		prods[i] = (struct worker){ .w = &w, .id = i, .rng = 0x85ebca6bu * (i + 7) };
		go_wg_add(&w.prod_wg, 1);
		go_spawn(producer, &prods[i]);
	}
	go_wg_wait(&w.prod_wg);
	/* Close: the consumers drain what is buffered, then see ok = false on each channel;
	 * the close wakes those blocked in recv. */
	for (int i = 0; i < NCH; i++)
		go_chan_close(w.ch[i]);
	go_wg_wait(&w.cons_wg);
	/* Every value arrived exactly once, in order per producer and channel. */
	CHECK(w.received == NPROD * w.per_prod, "received %ld of %ld", (long)w.received,
	      NPROD * w.per_prod);
	CHECK(w.dup == 0, "%ld duplicates", (long)w.dup);
	CHECK(w.order_bad == 0, "%ld out of order", (long)w.order_bad);
	for (int i = 0; i < NCH; i++)
		go_chan_free(w.ch[i]);
	free(w.seen);
}

/* A ring of goroutines passing a token around, many laps: every hop is a parked
 * goroutine woken by its neighbour (the scheduler's park/ready paths, nothing else). */
struct ring { struct go_chan *in, *out; long laps; struct go_waitgroup *wg; };

static void ring_node(void *p)
{
	struct ring *r = p;
	long v;

	for (long i = 0; i < r->laps; i++) {
		go_chan_recv(r->in, &v, NULL);
		v++;
		go_chan_send(r->out, &v);
	}
	go_wg_done(r->wg);
}

static void token_ring(void)
{
	enum { N = 64 };
	struct go_waitgroup wg = { 0 };
	struct go_chan *c[N + 1];
	struct ring r[N];
	long laps = tap_scale(200), v = 0;

	for (int i = 0; i <= N; i++)
		go_chan_make(&c[i], sizeof(long), i % 3 == 0 ? 0 : 1);
	for (int i = 0; i < N; i++) {
		r[i] = (struct ring){ .in = c[i], .out = c[i + 1], .laps = laps, .wg = &wg };
		go_wg_add(&wg, 1);
		go_spawn(ring_node, &r[i]);
	}
	for (long l = 0; l < laps; l++) {
		go_chan_send(c[0], &v);
		go_chan_recv(c[N], &v, NULL);
	}
	go_wg_wait(&wg);
	/* Each lap adds one per node. */
	CHECK(v == laps * N, "token %ld want %ld", v, laps * N);
	for (int i = 0; i <= N; i++)
		go_chan_free(c[i]);
}

int main(int argc, char **argv)
{
	TEST(random_operations_keep_every_value_once_in_order);
	TEST(token_ring);
	return tap_any_failed;
}
