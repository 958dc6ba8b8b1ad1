/* SPDX-License-Identifier: MIT */
/*
 * Description: the contexts' soak (make soak-sched, not make check): for $SOAK_SECONDS
 * (default 60), goroutines build random trees (cancel, value, deadlines of 0-4 ms,
 * without-cancel) under roots of their own and under one shared root, hand references to
 * watcher goroutines waiting on Done, register AfterFuncs (some stopped later), then cancel
 * and release in random orders, sleeping between steps so that deadlines fire while their
 * chains are released. ASan and TSan builds watch the memory; the test checks that a closed
 * Done means an error, that a cancel reaches every cancelable descendant, that no AfterFunc
 * runs twice, nor after a stop that said it would not.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/sched.h>

#include "../common/env.h"
#include "tap.h"
#include "../common/rand.h"

enum { NBUILDERS = 8, MAXNODES = 40 };
enum kind { K_CANCEL, K_VALUE, K_DEADLINE, K_WITHOUT };

/* AfterFunc records: a byte each, indexed by a sequence (wrapping after 4M). */
#define AF_SLOTS (1u << 22)
enum { AF_PENDING = 1, AF_RAN, AF_STOPPED };
static _Atomic uint8_t af_state[AF_SLOTS];
static _Atomic uint32_t af_seq;

static struct {
	int64_t end;
	struct go_ctx *shared;
	_Atomic long trees, nodes, cancels, watchers, afs, af_runs, deadlines_fired;
	_Atomic long done_without_err, late_cancel, missed_cancel, af_twice, af_after_stop;
	struct go_waitgroup builders, watchers_wg;
} soak;

struct builder {
	uint64_t rng;
};

static uint32_t rnd(struct builder *b)
{
	return (uint32_t)xorshift64(&b->rng);
}

static void af_fn(void *arg)
{
	uint32_t i = (uint32_t)(uintptr_t)arg;
	uint8_t prev = atomic_exchange(&af_state[i], AF_RAN);

	if (prev == AF_RAN)
		atomic_fetch_add(&soak.af_twice, 1);
	else if (prev == AF_STOPPED)
		atomic_fetch_add(&soak.af_after_stop, 1);
	atomic_fetch_add(&soak.af_runs, 1);
}

struct watch {
	struct go_ctx *ctx;
	int64_t timeout;
};

static void watcher(void *p)
{
	struct watch *w = p;
	struct go_chan *d = go_ctx_done(w->ctx);

	if (d) {
		struct go_select_case c[] = { GO_RECV_CASE(d, NULL) };

		if (go_select_until(c, 1, go_now() + w->timeout) == 0 && !go_ctx_err(w->ctx))
			atomic_fetch_add(&soak.done_without_err, 1);
	} else {
		go_sleep(w->timeout);
	}
	go_ctx_release(w->ctx);
	free(w);
	go_wg_done(&soak.watchers_wg);
}

/* Stop node i's AfterFunc, if it kept a handle: true means the function never runs. While
 * node i is still referenced: the handle belongs to the context (<gochan/context.h>). */
static void stop_after_func(struct go_ctx_stop **stop, const uint32_t *af_idx, int i)
{
	if (stop[i] && go_ctx_stop(stop[i])) {
		uint8_t prev = atomic_exchange(&af_state[af_idx[i]], AF_STOPPED);

		if (prev == AF_RAN)
			atomic_fetch_add(&soak.af_after_stop, 1);
	}
	stop[i] = NULL;
}

static void one_tree(struct builder *b)
{
	struct go_ctx *node[MAXNODES + 1];
	bool cancelable[MAXNODES + 1];	/* reached by the root's cancel */
	bool held[MAXNODES + 1];
	struct go_ctx_stop *stop[MAXNODES + 1];
	uint32_t af_idx[MAXNODES + 1];
	static int key;
	int n = 5 + (int)(rnd(b) % (MAXNODES - 5)), i;
	bool shared = rnd(b) % 4 == 0;

	if (shared) {
		node[0] = go_ctx_ref(soak.shared);
	} else if (go_ctx_with_cancel(&node[0], go_ctx_background()) < 0) {
		return;
	}
	cancelable[0] = !shared;
	held[0] = true;
	stop[0] = NULL;
	for (i = 1; i <= n; i++) {
		int parent = (int)(rnd(b) % (uint32_t)i);
		uint32_t k = rnd(b) % 20;
		enum kind kind = k < 8 ? K_CANCEL : k < 12 ? K_VALUE : k < 19 ? K_DEADLINE
								  : K_WITHOUT;
		int r;

		switch (kind) {
		case K_CANCEL:
			r = go_ctx_with_cancel(&node[i], node[parent]);
			break;
		case K_VALUE:
			r = go_ctx_with_value(&node[i], node[parent], &key, b);
			break;
		case K_DEADLINE:
			r = go_ctx_with_timeout(&node[i], node[parent],
						(int64_t)(rnd(b) % 4000) * 1000);
			break;
		default:
			r = go_ctx_without_cancel(&node[i], node[parent]);
			break;
		}
		if (r < 0)
			break;
		cancelable[i] = kind != K_WITHOUT && cancelable[parent];
		held[i] = true;
		stop[i] = NULL;
		if (rnd(b) % 4 == 0) {
			af_idx[i] = atomic_fetch_add(&af_seq, 1) % AF_SLOTS;
			atomic_store(&af_state[af_idx[i]], AF_PENDING);
			go_ctx_after_func(node[i], af_fn, (void *)(uintptr_t)af_idx[i],
					  rnd(b) % 2 ? &stop[i] : NULL);
			atomic_fetch_add(&soak.afs, 1);
		}
		if (rnd(b) % 3 == 0) {
			struct watch *w = malloc(sizeof(*w));

			if (w) {
				w->ctx = go_ctx_ref(node[i]);
				w->timeout = (int64_t)(rnd(b) % 3000) * 1000;
				go_wg_add(&soak.watchers_wg, 1);
				if (go_spawn(watcher, w) < 0) {
					go_ctx_release(w->ctx);
					free(w);
					go_wg_done(&soak.watchers_wg);
				} else {
					atomic_fetch_add(&soak.watchers, 1);
				}
			}
		}
	}
	n = i - 1;
	atomic_fetch_add(&soak.nodes, n + 1);

	/* Some nodes go early (released, or cancelled and released), in random order. */
	for (int step = 0; step < n / 2; step++) {
		i = 1 + (int)(rnd(b) % (uint32_t)n);
		if (!held[i])
			continue;
		if (rnd(b) % 2 && go_ctx_cancel(node[i]) == 0)
			atomic_fetch_add(&soak.cancels, 1);
		if (rnd(b) % 4 == 0)
			go_sleep((int64_t)(rnd(b) % 1000) * 1000);	/* deadlines fire */
		stop_after_func(stop, af_idx, i);
		go_ctx_release(node[i]);
		held[i] = false;
	}
	/* The root's cancel reaches every cancelable node still held. */
	if (!shared && rnd(b) % 2) {
		go_ctx_cancel(node[0]);
		atomic_fetch_add(&soak.cancels, 1);
		for (i = 1; i <= n; i++) {
			if (!held[i] || !cancelable[i] || go_ctx_err(node[i]))
				continue;
			/* Not yet: another cancel (a deadline's) of an ancestor has its
			 * subtree in hand and is still on its way (counted, printed). */
			atomic_fetch_add(&soak.late_cancel, 1);
			struct go_select_case c[] = { GO_RECV_CASE(go_ctx_done(node[i]), NULL) };

			if (go_select_until(c, 1, go_now() + 2000 * MS) != 0)
				atomic_fetch_add(&soak.missed_cancel, 1);
		}
	}
	/* The rest, root first or last. */
	if (rnd(b) % 2) {
		go_ctx_release(node[0]);
		held[0] = false;
	}
	for (i = n; i >= 0; i--) {
		if (held[i]) {
			stop_after_func(stop, af_idx, i);
			go_ctx_release(node[i]);
		}
		if (rnd(b) % 8 == 0)
			go_sleep((int64_t)(rnd(b) % 500) * 1000);
	}
	atomic_fetch_add(&soak.trees, 1);
}

static void builder_run(void *p)
{
	struct builder *b = p;

	while (go_now() < soak.end)
		one_tree(b);
	go_wg_done(&soak.builders);
}

static void context_storms(void)
{
	struct builder b[NBUILDERS];
	int64_t start = go_now();

	soak.end = start + env_long("SOAK_SECONDS", 60) * 1000 * MS;
	go_ctx_with_cancel(&soak.shared, go_ctx_background());
	go_wg_add(&soak.builders, NBUILDERS);
	for (int i = 0; i < NBUILDERS; i++) {
		b[i].rng = ((uint64_t)start * (2 * i + 1)) | 1;
		go_spawn(builder_run, &b[i]);
	}
	go_wg_wait(&soak.builders);
	go_ctx_cancel(soak.shared);
	go_ctx_release(soak.shared);
	go_wg_wait(&soak.watchers_wg);
	go_sleep(50 * MS);	/* AfterFuncs started by the last cancels */
	printf("# %ld trees, %ld contexts, %ld cancels, %ld watchers, %ld AfterFuncs (%ld ran)\n",
	       (long)soak.trees, (long)soak.nodes, (long)soak.cancels, (long)soak.watchers,
	       (long)soak.afs, (long)soak.af_runs);
	printf("# %ld contexts not yet cancelled when their root's cancel returned (another "
	       "cancel of an ancestor was under way)\n", (long)soak.late_cancel);
	/* Done closed means an error; a cancel reached every cancelable descendant; an
	 * AfterFunc ran at most once, and never after a stop that said it would not. */
	CHECK(soak.done_without_err == 0, "%ld Done closed without an error",
	      (long)soak.done_without_err);
	CHECK(soak.missed_cancel == 0, "%ld contexts missed their root's cancel (2 s)",
	      (long)soak.missed_cancel);
	CHECK(soak.af_twice == 0, "%ld AfterFuncs ran twice", (long)soak.af_twice);
	CHECK(soak.af_after_stop == 0, "%ld AfterFuncs ran after a successful stop",
	      (long)soak.af_after_stop);
	CHECK(soak.trees > 0, "no tree built");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	TEST(context_storms);
	return tap_any_failed;
}
