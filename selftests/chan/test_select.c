/* SPDX-License-Identifier: MIT */
/*
 * Description: select: ready cases, default, deadlines, nil and duplicate cases, waking by
 * send/receive/close, two selects meeting, many cases, the GO_SELECT form, uniform choice
 * (after golang/go runtime/chan_test.go: TestSelfSelect, TestSelectStress,
 * TestSelectFairness, TestPseudoRandomSend, TestSelectDuplicateChannel).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include <gochan/chan.h>
#include <gochan/sched.h>

#include "tap.h"
#include "queued.h"


static void ready_case_is_taken(void)
{
	struct go_chan *a, *b;
	long v = 5, got = 0;

	go_chan_make(&a, sizeof(long), 1);
	go_chan_make(&b, sizeof(long), 1);
	go_chan_send(b, &v);
	struct go_select_case cs[] = { GO_RECV_CASE(a, &got), GO_RECV_CASE(b, &got) };

	/* Only b has a value: b is chosen, whatever the random order. */
	for (int i = 0; i < 20; i++) {
		int r = go_select(cs, 2);

		CHECK(r == 1 && cs[1].ok && got == 5, "r %d ok %d got %ld", r, cs[1].ok, got);
		go_chan_send(b, &v);
	}
	/* A send case with room is ready too. */
	struct go_select_case ss[] = { GO_SEND_CASE(b, &v), GO_SEND_CASE(a, &v) };

	CHECK(go_select(ss, 2) == 1 && ss[1].ok, "send to the one with room");
	go_chan_free(a);
	go_chan_free(b);
}

static void default_when_nothing_ready(void)
{
	struct go_chan *a;
	long v = 1;

	go_chan_make(&a, sizeof(long), 0);
	struct go_select_case cs[] = { GO_RECV_CASE(a, &v), GO_SEND_CASE(a, &v) };

	/* Unbuffered, nobody waiting: neither case can proceed; default is taken. */
	CHECK(go_try_select(cs, 2) == -EAGAIN, "try_select");
	/* No cases and a default: default. */
	CHECK(go_try_select(NULL, 0) == -EAGAIN, "empty try_select");
	go_chan_free(a);
}

static void deadline_expires(void)
{
	struct go_chan *a;
	long v;
	int64_t t0 = go_now();

	go_chan_make(&a, sizeof(long), 0);
	struct go_select_case cs[] = { GO_RECV_CASE(a, &v) };

	/* Nothing ready: -ETIMEDOUT at the deadline, not before. */
	CHECK(go_select_until(cs, 1, t0 + 30 * MS) == -ETIMEDOUT, "timeout");
	CHECK(go_now() - t0 >= 30 * MS, "early");
	/* The select left no waiter behind. */
	CHECK(queued(a, false) == 0, "stale sudog");
	/* Only nil cases and a deadline: sleeps to it. */
	struct go_select_case nc[] = { GO_RECV_CASE(NULL, &v) };

	t0 = go_now();
	CHECK(go_select_until(nc, 1, t0 + 10 * MS) == -ETIMEDOUT, "nil-only timeout");
	CHECK(go_now() - t0 >= 10 * MS, "early");
	go_chan_free(a);
}

struct late_send {
	struct go_chan *c;
	long v;
};

static void late_sender(void *p)
{
	struct late_send *l = p;

	go_sleep(30 * MS);
	go_chan_send(l->c, &l->v);
}

static void negative_deadline_means_none(void)
{
	struct late_send l[3];
	long v = 0;
	bool ok = false;
	int r;

	for (int i = 0; i < 3; i++) {
		l[i].v = 10 + i;
		go_chan_make(&l[i].c, sizeof(long), 0);
		go_spawn(late_sender, &l[i]);
	}
	/* A negative deadline is none (as -1 is for go_poll and kernel channels): each call
	 * waits for the send 30 ms later. */
	struct go_select_case cs[] = { GO_RECV_CASE(l[0].c, &v) };

	r = go_select_until(cs, 1, -1);
	CHECK(r == 0 && cs[0].ok && v == 10, "go_select_until(-1): %d, %ld", r, v);
	r = go_chan_recv_until(l[1].c, &v, &ok, -1);
	CHECK(r == 0 && ok && v == 11, "go_chan_recv_until(-1): %d, %ld", r, v);
	r = -1;
	GO_SELECT {
	GO_CASE_RECV(l[2].c, &v, &ok)
		r = 0;
	GO_DEADLINE(-1)
		r = -ETIMEDOUT;
	}
	CHECK(r == 0 && ok && v == 12, "GO_DEADLINE(-1): %d, %ld", r, v);
	for (int i = 0; i < 3; i++)
		go_chan_free(l[i].c);
}

static void nil_cases_never_chosen(void)
{
	struct go_chan *a;
	long v = 3, got;

	go_chan_make(&a, sizeof(long), 1000);
	struct go_select_case cs[] = {
		GO_RECV_CASE(NULL, &got), GO_SEND_CASE(NULL, &v), GO_RECV_CASE(a, &got),
		GO_SEND_CASE(NULL, &v),
	};

	for (int i = 0; i < 500; i++) {
		go_chan_send(a, &v);
		/* Only case 2 has a channel. */
		CHECK(go_select(cs, 4) == 2, "nil case chosen");
	}
	/* Only nil cases, with a default: default. */
	struct go_select_case nc[] = { GO_RECV_CASE(NULL, &got), GO_SEND_CASE(NULL, &v) };

	CHECK(go_try_select(nc, 2) == -EAGAIN, "nil-only default");
	go_chan_free(a);
}

static void duplicate_channels_allowed(void)
{
	struct go_chan *a;
	long v = 1, got;
	int hits[3] = { 0 };

	go_chan_make(&a, sizeof(long), 1);
	struct go_select_case cs[] = { GO_RECV_CASE(a, &got), GO_RECV_CASE(a, &got),
				       GO_RECV_CASE(a, &got) };

	/* The same channel in several cases: each is chosen sometimes (and locked once). */
	for (int i = 0; i < 600; i++) {
		go_chan_send(a, &v);
		int r = go_select(cs, 3);

		CHECK(r >= 0 && r < 3, "r %d", r);
		if (r >= 0 && r < 3)
			hits[r]++;
	}
	CHECK(hits[0] > 100 && hits[1] > 100 && hits[2] > 100, "%d %d %d", hits[0], hits[1], hits[2]);
	go_chan_free(a);
}

/* Go's TestPseudoRandomSend: select { case c <- 0: case c <- 1: } sends both values. */
struct prs { struct go_chan *c; struct go_waitgroup *wg; int n; };

static void prs_sender(void *p)
{
	struct prs *s = p;
	long zero = 0, one = 1;

	for (int i = 0; i < s->n; i++) {
		struct go_select_case cs[] = { GO_SEND_CASE(s->c, &zero), GO_SEND_CASE(s->c, &one) };

		go_select(cs, 2);
	}
	go_wg_done(s->wg);
}

static void pseudo_random_send(void)
{
	size_t caps[] = { 0, 10 };

	for (int k = 0; k < 2; k++) {
		struct go_waitgroup wg = { 0 };
		struct prs s = { .wg = &wg, .n = 1000 };
		long v, ones = 0;

		go_chan_make(&s.c, sizeof(long), caps[k]);
		go_wg_add(&wg, 1);
		go_spawn(prs_sender, &s);
		for (int i = 0; i < s.n; i++) {
			go_chan_recv(s.c, &v, NULL);
			ones += v;
		}
		go_wg_wait(&wg);
		/* Both cases are chosen about half of the time. */
		CHECK(ones > 300 && ones < 700, "cap %zu: %ld ones of 1000", caps[k], ones);
		go_chan_free(s.c);
	}
}

struct waker { struct go_chan *c; int what; long v; struct go_waitgroup *wg; int ret; };

static void waker_run(void *p)
{
	struct waker *w = p;
	long v = w->v;

	go_sleep(10 * MS);
	if (w->what == 0)
		w->ret = go_chan_send(w->c, &v);
	else if (w->what == 1)
		w->ret = go_chan_recv(w->c, &w->v, NULL);
	else
		w->ret = go_chan_close(w->c);
	go_wg_done(w->wg);
}

static void blocked_select_woken(void)
{
	for (int what = 0; what < 3; what++) {
		struct go_waitgroup wg = { 0 };
		struct go_chan *a, *b, *quiet;
		long in = 0, out = 77;

		go_chan_make(&a, sizeof(long), 0);
		go_chan_make(&b, sizeof(long), 0);
		go_chan_make(&quiet, sizeof(long), 0);
		struct waker w = { .c = what == 1 ? b : a, .what = what, .v = 41, .wg = &wg };
		struct go_select_case cs[] = {
			GO_RECV_CASE(quiet, &in), GO_RECV_CASE(a, &in), GO_SEND_CASE(b, &out),
		};

		go_wg_add(&wg, 1);
		go_spawn(waker_run, &w);
		int r = go_select(cs, 3);

		go_wg_wait(&wg);
		if (what == 0) {
			/* a send wakes the receive case with the value */
			CHECK(r == 1 && cs[1].ok && in == 41, "send: r %d in %ld", r, in);
		} else if (what == 1) {
			/* a receive takes the send case's value */
			CHECK(r == 2 && cs[2].ok && w.v == 77, "recv: r %d v %ld", r, w.v);
		} else {
			/* a close wakes the receive case with ok = false */
			CHECK(r == 1 && !cs[1].ok && in == 0, "close: r %d ok %d", r, cs[1].ok);
		}
		/* The select's other sudogs were dequeued. */
		CHECK(queued(quiet, false) == 0 && queued(a, false) == 0 && queued(b, true) == 0,
		      "stale sudogs");
		go_chan_free(a);
		go_chan_free(b);
		go_chan_free(quiet);
	}
	/* A send case blocked in select fails as a blocked send does when the channel closes:
	 * -EPIPE (Go panics in both), that case's ok false. */
	struct go_waitgroup wg = { 0 };
	struct go_chan *c;
	long v = 1;

	int r;

	go_chan_make(&c, sizeof(long), 0);
	struct waker w = { .c = c, .what = 2, .wg = &wg };
	struct go_select_case cs[] = { GO_SEND_CASE(c, &v) };

	go_wg_add(&wg, 1);
	go_spawn(waker_run, &w);
	r = go_select(cs, 1);
	CHECK(r == -EPIPE && !cs[0].ok, "send case on close: %d", r);
	go_wg_wait(&wg);
	go_chan_free(c);
}

/* Sharp edge: a send case on a closed channel follows go_chan_send's rule, -EPIPE (Go
 * panics on both), in every select form, ready at once or not; the case's ok is false.
 * (go_select used to return the case's index with ok = false.) */
static void send_case_on_closed_is_epipe(void)
{
	struct go_chan *c, *quiet;
	long v = 1;
	int r;

	go_chan_make(&c, sizeof(long), 1);
	go_chan_make(&quiet, sizeof(long), 0);
	go_chan_close(c);
	struct go_select_case cs[] = { GO_RECV_CASE(quiet, NULL), GO_SEND_CASE(c, &v) };

	cs[1].ok = true;
	r = go_select(cs, 2);
	CHECK(r == -EPIPE && !cs[1].ok, "select: %d", r);
	r = go_try_select(cs, 2);
	CHECK(r == -EPIPE, "try_select: %d", r);
	r = go_select_until(cs, 2, go_now() + MS);
	CHECK(r == -EPIPE, "select_until: %d", r);
	/* The plain forms say the same. */
	CHECK(go_chan_send(c, &v) == -EPIPE, "send");
	CHECK(go_chan_send_until(c, &v, go_now() + MS) == -EPIPE, "send_until");
	/* The readable form takes it as an error: GO_SELECT_ERROR's body runs. */
	int err = 0;

	GO_SELECT {
	GO_CASE_SEND(c, &v)
		err = 1;
	GO_SELECT_ERROR
		err = go_select_err;
	}
	CHECK(err == -EPIPE, "GO_SELECT: %d", err);
	go_chan_free(c);
	go_chan_free(quiet);
}

/* Go's TestSelfSelect: goroutines each select { case c <- me: case v := <-c: } on one
 * channel must pair with each other, never with themselves. */
struct self { struct go_chan *c; long me; struct go_waitgroup *wg; int n; _Atomic int *bad; };

static void self_select(void *p)
{
	struct self *s = p;

	for (int i = 0; i < s->n; i++) {
		long in = -1;
		struct go_select_case cs[] = { GO_SEND_CASE(s->c, &s->me), GO_RECV_CASE(s->c, &in) };
		int r = go_select(cs, 2);

		if (r == 1 && in == s->me)
			(*s->bad)++;
	}
	go_wg_done(s->wg);
}

static void self_select_never_pairs_with_itself(void)
{
	size_t caps[] = { 0, 10 };

	for (int k = 0; k < 2; k++) {
		struct go_waitgroup wg = { 0 };
		struct self s[2];
		_Atomic int bad = 0;
		struct go_chan *c;

		go_chan_make(&c, sizeof(long), caps[k]);
		for (int i = 0; i < 2; i++) {
			s[i] = (struct self){ .c = c, .me = i, .wg = &wg, .n = (int)tap_scale(2000),
					      .bad = &bad };
			go_wg_add(&wg, 1);
			go_spawn(self_select, &s[i]);
		}
		go_wg_wait(&wg);
		/* Unbuffered: a goroutine never receives its own value. (Buffered it may: Go's test
		 * only checks that nothing hangs.) */
		if (caps[k] == 0)
			CHECK(bad == 0, "%d self-pairings", (int)bad);
		go_chan_free(c);
	}
}

static void many_cases(void)
{
	enum { N = 200 };
	struct go_chan *c[N];
	struct go_select_case cs[N];
	long v = 8, got[N];

	for (int i = 0; i < N; i++) {
		go_chan_make(&c[i], sizeof(long), 1);
		cs[i] = GO_RECV_CASE(c[i], &got[i]);
	}
	/* More cases than the stack scratch: still exactly the ready one. */
	go_chan_send(c[137], &v);
	CHECK(go_select(cs, N) == 137 && got[137] == 8, "ready one of 200");
	CHECK(go_try_select(cs, N) == -EAGAIN, "none ready");
	CHECK(go_select_until(cs, N, go_now() + 5 * MS) == -ETIMEDOUT, "timeout");
	for (int i = 0; i < N; i++) {
		CHECK(queued(c[i], false) == 0, "stale %d", i);
		go_chan_free(c[i]);
	}
}

static void readable_form(void)
{
	struct go_chan *jobs, *results;
	long job = 0, res = 99;
	bool ok = false;
	int path = -1;

	go_chan_make(&jobs, sizeof(long), 1);
	go_chan_make(&results, sizeof(long), 0);

	/* Nothing ready: the default body runs. */
	GO_SELECT {
	GO_CASE_RECV(jobs, &job, &ok)
		path = 0;
	GO_CASE_SEND(results, &res)
		path = 1;
	GO_DEFAULT
		path = 2;
	}
	CHECK(path == 2, "default: path %d", path);

	/* A job is waiting: its body runs, with ok. */
	long j = 12;

	go_chan_send(jobs, &j);
	GO_SELECT {
	GO_CASE_RECV(jobs, &job, &ok)
		path = 0;
	GO_CASE_SEND(results, &res)
		path = 1;
	GO_DEFAULT
		path = 2;
	}
	CHECK(path == 0 && ok && job == 12, "recv: path %d ok %d job %ld", path, ok, job);

	/* A timeout body. */
	int64_t t0 = go_now();

	GO_SELECT {
	GO_CASE_RECV(jobs, &job, &ok)
		path = 0;
	GO_TIMEOUT(15 * MS)
		path = 3;
	}
	CHECK(path == 3 && go_now() - t0 >= 15 * MS, "timeout: path %d", path);

	/* Cases from a loop, and break leaving the select. */
	struct go_chan *cs[12];

	for (int i = 0; i < 12; i++)
		go_chan_make(&cs[i], sizeof(long), 1);
	go_chan_send(cs[10], &j);
	path = -1;
	GO_SELECT {
		for (int i = 0; i < 12; i++)
			GO_CASE_RECV(cs[i], &job, &ok) {
				path = i;
				break;
			}
	}
	CHECK(path == 10, "loop cases: path %d", path);
	for (int i = 0; i < 12; i++)
		go_chan_free(cs[i]);
	go_chan_free(jobs);
	go_chan_free(results);
}

/*
 * Uniform choice: 4 always-ready channels, many selects; chi-square against uniform with
 * 3 degrees of freedom. The bound 40 is p < 1e-8: a correct select fails it about once in
 * a hundred million runs, a biased one (e.g. always the first ready) at once.
 */
static void select_fairness_chi_square(void)
{
	enum { K = 4 };
	const long trials = 40000;
	struct go_chan *c[K];
	struct go_select_case cs[K];
	long counts[K] = { 0 }, v = 1, got;

	for (int i = 0; i < K; i++) {
		go_chan_make(&c[i], sizeof(long), 1);
		go_chan_send(c[i], &v);
		cs[i] = GO_RECV_CASE(c[i], &got);
	}
	for (long t = 0; t < trials; t++) {
		int r = go_select(cs, K);

		if (r < 0 || r >= K) {
			CHECK(0, "r %d", r);
			break;
		}
		counts[r]++;
		go_chan_send(c[r], &v);
	}
	double expect = (double)trials / K, chi = 0;

	for (int i = 0; i < K; i++)
		chi += (counts[i] - expect) * (counts[i] - expect) / expect;
	printf("# fairness: %ld %ld %ld %ld, chi-square %.2f (3 dof)\n", counts[0], counts[1],
	       counts[2], counts[3], chi);
	CHECK(chi < 40.0, "chi-square %.2f", chi);
	for (int i = 0; i < K; i++)
		go_chan_free(c[i]);
}

/* Go's TestSelectStress: four channels (two unbuffered, two buffered), each fed by a plain
 * sender and by selects, drained by plain receivers and by selects; every value arrives. */
struct ss {
	struct go_chan *c[4];
	long n;
	struct go_waitgroup *wg;
	_Atomic long received[4];
};

struct ssarg { struct ss *s; int k; };

static void ss_plain_send(void *p)
{
	struct ssarg *a = p;

	for (long i = 0; i < a->s->n; i++)
		go_chan_send(a->s->c[a->k], &i);
	go_wg_done(a->s->wg);
}

static void ss_plain_recv(void *p)
{
	struct ssarg *a = p;
	long v;

	for (long i = 0; i < a->s->n; i++) {
		go_chan_recv(a->s->c[a->k], &v, NULL);
		a->s->received[a->k]++;
	}
	go_wg_done(a->s->wg);
}

static void ss_select_send(void *p)
{
	struct ss *s = p;
	long left[4], v = 1;
	struct go_select_case cs[4];

	for (int k = 0; k < 4; k++)
		left[k] = s->n;
	for (;;) {
		int live = 0;

		for (int k = 0; k < 4; k++) {
			cs[k] = GO_SEND_CASE(left[k] ? s->c[k] : NULL, &v);
			live += left[k] > 0;
		}
		if (!live)
			break;
		int r = go_select(cs, 4);

		left[r]--;
	}
	go_wg_done(s->wg);
}

static void ss_select_recv(void *p)
{
	struct ss *s = p;
	long left[4], v;
	struct go_select_case cs[4];

	for (int k = 0; k < 4; k++)
		left[k] = s->n;
	for (;;) {
		int live = 0;

		for (int k = 0; k < 4; k++) {
			cs[k] = GO_RECV_CASE(left[k] ? s->c[k] : NULL, &v);
			live += left[k] > 0;
		}
		if (!live)
			break;
		int r = go_select(cs, 4);

		left[r]--;
		s->received[r]++;
	}
	go_wg_done(s->wg);
}

static void select_stress(void)
{
	struct go_waitgroup wg = { 0 };
	struct ss s = { .n = tap_scale(10000), .wg = &wg };
	struct ssarg a[4];

	go_chan_make(&s.c[0], sizeof(long), 0);
	go_chan_make(&s.c[1], sizeof(long), 0);
	go_chan_make(&s.c[2], sizeof(long), 2);
	go_chan_make(&s.c[3], sizeof(long), 3);
	for (int k = 0; k < 4; k++) {
		a[k] = (struct ssarg){ .s = &s, .k = k };
		go_wg_add(&wg, 2);
		go_spawn(ss_plain_send, &a[k]);
		go_spawn(ss_plain_recv, &a[k]);
	}
	go_wg_add(&wg, 2);
	go_spawn(ss_select_send, &s);
	go_spawn(ss_select_recv, &s);
	go_wg_wait(&wg);
	/* Each channel carried 2n values: n from each kind of sender, taken by the two kinds
	 * of receiver together. */
	for (int k = 0; k < 4; k++) {
		CHECK(s.received[k] == 2 * s.n, "chan %d: %ld of %ld", k, (long)s.received[k],
		      2 * s.n);
		CHECK(go_chan_len(s.c[k]) == 0, "left over");
		go_chan_free(s.c[k]);
	}
}

int main(int argc, char **argv)
{
	TEST(ready_case_is_taken);
	TEST(default_when_nothing_ready);
	TEST(deadline_expires);
	TEST(negative_deadline_means_none);
	TEST(nil_cases_never_chosen);
	TEST(duplicate_channels_allowed);
	TEST(pseudo_random_send);
	TEST(blocked_select_woken);
	TEST(self_select_never_pairs_with_itself);
	TEST(many_cases);
	TEST(readable_form);
	TEST(select_fairness_chi_square);
	TEST(select_stress);
	TEST(send_case_on_closed_is_epipe);
	return tap_any_failed;
}
