/* SPDX-License-Identifier: MIT */
/*
 * bench-chan - channels, select and contexts on the M:N scheduler, the same loops as
 * go/main.go (Go's twin). Prints one line per benchmark: "name<TAB>procs<TAB>ns/op".
 *
 *   bench-chan [-p procs] [-t ms] [name...]
 *
 * Each benchmark runs with a growing operation count until one run lasts -t ms (default
 * 300), then four more runs of that count; it reports the best time per operation of the
 * five (the machines are shared: the best run is the least disturbed one). Go's twin
 * does the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/sched.h>
#include <gochan/time.h>

static int64_t target_ns = 300 * 1000000LL;

/* ---- unbuffered ping-pong: per round trip ---------------------------------------------- */

struct pp { struct go_chan *ping, *pong; long n; struct go_waitgroup wg; };

static void pp_echo(void *p)
{
	struct pp *s = p;
	long v;

	for (long i = 0; i < s->n; i++) {
		go_chan_recv(s->ping, &v, NULL);
		go_chan_send(s->pong, &v);
	}
	go_wg_done(&s->wg);
}

static int64_t bench_pingpong(long n)
{
	struct pp s = { .n = n };
	long v = 0;

	go_chan_make(&s.ping, sizeof(long), 0);
	go_chan_make(&s.pong, sizeof(long), 0);
	go_wg_add(&s.wg, 1);
	int64_t t0 = go_now();

	go_spawn(pp_echo, &s);
	for (long i = 0; i < n; i++) {
		go_chan_send(s.ping, &i);
		go_chan_recv(s.pong, &v, NULL);
	}
	go_wg_wait(&s.wg);
	int64_t t = go_now() - t0;

	go_chan_free(s.ping);
	go_chan_free(s.pong);
	return t;
}

/* ---- buffered cap 128 producer/consumer: per element --------------------------------------- */

struct pc { struct go_chan *c; long n; struct go_waitgroup wg; };

static void pc_producer(void *p)
{
	struct pc *s = p;

	for (long i = 0; i < s->n; i++)
		go_chan_send(s->c, &i);
	go_wg_done(&s->wg);
}

static int64_t bench_buffered(long n)
{
	struct pc s = { .n = n };
	long v;

	go_chan_make(&s.c, sizeof(long), 128);
	go_wg_add(&s.wg, 1);
	int64_t t0 = go_now();

	go_spawn(pc_producer, &s);
	for (long i = 0; i < n; i++)
		go_chan_recv(s.c, &v, NULL);
	go_wg_wait(&s.wg);
	int64_t t = go_now() - t0;

	go_chan_free(s.c);
	return t;
}

/* ---- select over 4 channels, 1 ready: per select (with the send that readies it) ------------ */

static int64_t bench_select4(long n)
{
	struct go_chan *c[4];
	long v = 1, got;

	for (int i = 0; i < 4; i++)
		go_chan_make(&c[i], sizeof(long), 1);
	int64_t t0 = go_now();

	for (long i = 0; i < n; i++) {
		go_chan_send(c[i & 3], &v);
		struct go_select_case cs[4] = {
			GO_RECV_CASE(c[0], &got), GO_RECV_CASE(c[1], &got),
			GO_RECV_CASE(c[2], &got), GO_RECV_CASE(c[3], &got),
		};

		go_select(cs, 4);
	}
	int64_t t = go_now() - t0;

	for (int i = 0; i < 4; i++)
		go_chan_free(c[i]);
	return t;
}

/* ---- timers (lib/time): Go's time.NewTimer(d) then t.Stop(), per pair ---------------------- */

static int64_t bench_timer_create_stop(long n)
{
	struct go_time_timer *t;
	int64_t t0 = go_now();

	for (long i = 0; i < n; i++) {
		if (go_time_new_timer(&t, 3600LL * 1000000000LL) < 0)
			return -1;
		go_time_stop(t);
		go_time_free(t);	/* (Go's collector frees it; here the caller) */
	}
	return go_now() - t0;
}

/* ---- select on a pending timer's channel and a ready one: per select (with its send) ------- */

static int64_t bench_select_timer_ready(long n)
{
	struct go_time_timer *t;
	struct go_chan *ready;
	int64_t when;
	long v = 1, got;

	if (go_time_new_timer(&t, 3600LL * 1000000000LL) < 0)
		return -1;
	go_chan_make(&ready, sizeof(long), 1);
	int64_t t0 = go_now();

	for (long i = 0; i < n; i++) {
		go_chan_send(ready, &v);
		struct go_select_case cs[2] = {
			GO_RECV_CASE(go_time_chan(t), &when), GO_RECV_CASE(ready, &got),
		};

		go_select(cs, 2);
	}
	int64_t d = go_now() - t0;

	go_time_stop(t);
	go_time_free(t);
	go_chan_free(ready);
	return d;
}

/* ---- select-4 server ping-pong: per round trip -------------------------------------------- */

struct srv { struct go_chan *req[4], *reply; long n; struct go_waitgroup wg; };

static void srv_run(void *p)
{
	struct srv *s = p;
	long v;

	for (long i = 0; i < s->n; i++) {
		struct go_select_case cs[4] = {
			GO_RECV_CASE(s->req[0], &v), GO_RECV_CASE(s->req[1], &v),
			GO_RECV_CASE(s->req[2], &v), GO_RECV_CASE(s->req[3], &v),
		};

		go_select(cs, 4);
		go_chan_send(s->reply, &v);
	}
	go_wg_done(&s->wg);
}

static int64_t bench_select4_server(long n)
{
	struct srv s = { .n = n };
	long v;

	for (int i = 0; i < 4; i++)
		go_chan_make(&s.req[i], sizeof(long), 0);
	go_chan_make(&s.reply, sizeof(long), 0);
	go_wg_add(&s.wg, 1);
	int64_t t0 = go_now();

	go_spawn(srv_run, &s);
	for (long i = 0; i < n; i++) {
		go_chan_send(s.req[i & 3], &i);
		go_chan_recv(s.reply, &v, NULL);
	}
	go_wg_wait(&s.wg);
	int64_t t = go_now() - t0;

	for (int i = 0; i < 4; i++)
		go_chan_free(s.req[i]);
	go_chan_free(s.reply);
	return t;
}

/* ---- WithCancel + cancel of a tree of 1000 children: per child ------------------------------- */

enum { TREE = 1000 };

static int64_t bench_ctx_tree(long n)
{
	static struct go_ctx *kids[TREE];
	long rounds = (n + TREE - 1) / TREE;
	int64_t t0 = go_now();

	for (long r = 0; r < rounds; r++) {
		struct go_ctx *root;

		go_ctx_with_cancel(&root, go_ctx_background());
		for (int i = 0; i < TREE; i++)
			go_ctx_with_cancel(&kids[i], root);
		go_ctx_cancel(root);
		for (int i = 0; i < TREE; i++)
			go_ctx_release(kids[i]);
		go_ctx_release(root);
	}
	return (go_now() - t0) * n / (rounds * TREE);
}

/* ---- the same, 1000 goroutines blocked on Done: per child ------------------------------------ */

struct dw { struct go_ctx *ctx; struct go_waitgroup *wg; };

static void done_wait(void *p)
{
	struct dw *d = p;

	go_chan_recv(go_ctx_done(d->ctx), NULL, NULL);
	go_wg_done(d->wg);
}

static int64_t bench_ctx_tree_waiters(long n)
{
	static struct dw d[TREE];
	long rounds = (n + TREE - 1) / TREE;
	int64_t t0 = go_now();

	for (long r = 0; r < rounds; r++) {
		struct go_waitgroup wg = { 0 };
		struct go_ctx *root;

		go_ctx_with_cancel(&root, go_ctx_background());
		go_wg_add(&wg, TREE);
		for (int i = 0; i < TREE; i++) {
			go_ctx_with_cancel(&d[i].ctx, root);
			d[i].wg = &wg;
			go_spawn(done_wait, &d[i]);
		}
		go_ctx_cancel(root);
		go_wg_wait(&wg);
		for (int i = 0; i < TREE; i++)
			go_ctx_release(d[i].ctx);
		go_ctx_release(root);
	}
	return (go_now() - t0) * n / (rounds * TREE);
}

/* ---- driver ------------------------------------------------------------------------------- */

static const struct bench {
	const char *name;
	int64_t (*fn)(long n);
	long start;
} benches[] = {
	{ "pingpong_unbuffered", bench_pingpong, 1000 },
	{ "buffered128_prodcons", bench_buffered, 10000 },
	{ "select4_one_ready", bench_select4, 10000 },
	{ "select4_server_pingpong", bench_select4_server, 1000 },
	{ "ctx_cancel_tree1000", bench_ctx_tree, 1000 },
	{ "ctx_cancel_tree1000_waiters", bench_ctx_tree_waiters, 1000 },
	{ "timer_create_stop", bench_timer_create_stop, 10000 },
	{ "select_timer_and_ready", bench_select_timer_ready, 10000 },
};

struct args { int argc; char **argv; unsigned procs; };

static void bench_main(void *p)
{
	struct args *a = p;

	for (size_t b = 0; b < sizeof(benches) / sizeof(benches[0]); b++) {
		bool want = a->argc == 0;

		for (int i = 0; i < a->argc; i++)
			want |= !strcmp(a->argv[i], benches[b].name);
		if (!want)
			continue;
		long n = benches[b].start;
		int64_t t = benches[b].fn(n);

		while (t < target_ns && n < (1L << 40)) {
			long next = t > 0 ? (long)((double)n * target_ns / t * 1.2) : n * 10;

			if (next > n * 10)
				next = n * 10;
			if (next <= n)
				next = n * 2;
			n = next;
			t = benches[b].fn(n);
		}
		/* The machine is shared: report the best of five runs of that length. */
		for (int r = 0; r < 4; r++) {
			int64_t t2 = benches[b].fn(n);

			if (t2 < t)
				t = t2;
		}
		printf("%s\t%u\t%.1f\n", benches[b].name, a->procs, (double)t / n);
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	struct go_config cfg = { .size = sizeof(cfg) };
	struct args a = { 0 };
	int opt, ret;

	while ((opt = getopt(argc, argv, "p:t:")) != -1) {
		switch (opt) {
		case 'p':
			cfg.maxprocs = (uint32_t)atoi(optarg);
			break;
		case 't':
			target_ns = atol(optarg) * 1000000LL;
			break;
		default:
			fprintf(stderr, "usage: %s [-p procs] [-t ms] [name...]\n", argv[0]);
			return 2;
		}
	}
	a.argc = argc - optind;
	a.argv = argv + optind;
	a.procs = cfg.maxprocs;
	ret = go_run_config(&cfg, bench_main, &a);
	if (ret < 0) {
		fprintf(stderr, "bench-chan: go_run: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
