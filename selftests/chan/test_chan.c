/* SPDX-License-Identifier: MIT */
/*
 * Description: in-process channels: Go's rules for unbuffered rendezvous, buffered FIFO,
 * close, nil channels, len/cap, zero-size elements and timed operations
 * (after golang/go runtime/chan_test.go: TestChan, TestMultiConsumer, TestNonblockRecvRace).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gochan/chan.h>
#include <gochan/sched.h>

#include "tap.h"
#include "queued.h"

static bool wait_queued(struct go_chan *c, bool senders, unsigned n)
{
	int64_t end = go_now() + 10000 * MS;

	while (queued(c, senders) < n) {
		if (go_now() > end)
			return false;
		go_sleep(100000);
	}
	return true;
}

struct peer {
	struct go_chan *c;
	long v;
	int ret;
	bool ok;
	_Atomic int done;
	struct go_waitgroup *wg;
};

static void peer_send(void *p)
{
	struct peer *a = p;

	a->ret = go_chan_send(a->c, &a->v);
	a->done = 1;
	if (a->wg)
		go_wg_done(a->wg);
}

static void peer_recv(void *p)
{
	struct peer *a = p;

	a->v = -1;
	a->ret = go_chan_recv(a->c, &a->v, &a->ok);
	a->done = 1;
	if (a->wg)
		go_wg_done(a->wg);
}

static void unbuffered_recv_blocks_until_send(void)
{
	struct go_waitgroup wg = { 0 };
	struct peer a = { .wg = &wg };
	long v = 42;

	go_chan_make(&a.c, sizeof(long), 0);
	go_wg_add(&wg, 1);
	go_spawn(peer_recv, &a);
	/* The receiver is queued and has not returned. */
	CHECK(wait_queued(a.c, false, 1), "receiver never queued");
	CHECK(!a.done, "receive returned before any send");
	/* A send hands the value over directly. */
	CHECK(go_chan_send(a.c, &v) == 0, "send");
	go_wg_wait(&wg);
	CHECK(a.ret == 0 && a.ok && a.v == 42, "ret %d ok %d v %ld", a.ret, a.ok, a.v);
	go_chan_free(a.c);
}

static void unbuffered_send_blocks_until_recv(void)
{
	struct go_waitgroup wg = { 0 };
	struct peer a = { .v = 7, .wg = &wg };
	long v = 0;
	bool ok;

	go_chan_make(&a.c, sizeof(long), 0);
	go_wg_add(&wg, 1);
	go_spawn(peer_send, &a);
	CHECK(wait_queued(a.c, true, 1), "sender never queued");
	/* An unbuffered send does not complete without a receiver. */
	CHECK(!a.done, "send returned with no receiver");
	CHECK(go_chan_len(a.c) == 0, "unbuffered len %zu", go_chan_len(a.c));
	CHECK(go_chan_recv(a.c, &v, &ok) == 0 && ok && v == 7, "recv v %ld", v);
	go_wg_wait(&wg);
	CHECK(a.ret == 0, "send ret %d", a.ret);
	go_chan_free(a.c);
}

static void try_ops_and_len_cap(void)
{
	size_t caps[] = { 0, 1, 8, 100 };

	for (unsigned k = 0; k < 4; k++) {
		struct go_chan *c;
		long v = 0;
		bool ok;

		CHECK(go_chan_make(&c, sizeof(long), caps[k]) == 0, "make");
		/* A non-blocking receive from an empty channel fails. */
		CHECK(go_chan_try_recv(c, &v, &ok) == -EAGAIN, "try_recv on empty, cap %zu", caps[k]);
		for (size_t i = 0; i < caps[k]; i++) {
			v = (long)i;
			CHECK(go_chan_try_send(c, &v) == 0, "try_send %zu", i);
			CHECK(go_chan_len(c) == i + 1, "len %zu", go_chan_len(c));
		}
		/* A full channel (or unbuffered with no receiver) refuses a non-blocking send. */
		CHECK(go_chan_try_send(c, &v) == -EAGAIN, "try_send on full, cap %zu", caps[k]);
		CHECK(go_chan_cap(c) == caps[k], "cap %zu", go_chan_cap(c));
		CHECK(go_chan_elem_size(c) == sizeof(long), "elem size");
		for (size_t i = 0; i < caps[k]; i++) {
			CHECK(go_chan_try_recv(c, &v, &ok) == 0 && ok && v == (long)i,
			      "FIFO: got %ld want %zu", v, i);
		}
		go_chan_free(c);
	}
	/* make rejects absurd sizes. */
	struct go_chan *c;

	CHECK(go_chan_make(&c, GO_CHAN_ELEM_SIZE_MAX + 1, 1) == -EINVAL, "elem size max");
	CHECK(go_chan_make(&c, 1 << 16, SIZE_MAX / 2) == -EINVAL, "overflow");
}

static void blocked_senders_are_fifo(void)
{
	enum { N = 8 };
	struct go_waitgroup wg = { 0 };
	struct peer p[N];
	struct go_chan *c;
	long v, first = 100;

	go_chan_make(&c, sizeof(long), 1);
	go_chan_send(c, &first);
	for (int i = 0; i < N; i++) {
		p[i] = (struct peer){ .c = c, .v = i, .wg = &wg };
		go_wg_add(&wg, 1);
		go_spawn(peer_send, &p[i]);
		/* queue them one at a time so arrival order is known */
		CHECK(wait_queued(c, true, (unsigned)i + 1), "sender %d not queued", i);
	}
	/* The buffered element first, then the blocked senders in arrival order: a freed slot
	 * takes the oldest blocked sender's element. */
	go_chan_recv(c, &v, NULL);
	CHECK(v == 100, "first %ld", v);
	for (int i = 0; i < N; i++) {
		go_chan_recv(c, &v, NULL);
		CHECK(v == i, "got %ld want %d", v, i);
	}
	go_wg_wait(&wg);
	go_chan_free(c);
}

static void blocked_receivers_are_fifo(void)
{
	enum { N = 8 };
	struct go_waitgroup wg = { 0 };
	struct peer p[N];
	struct go_chan *c;

	go_chan_make(&c, sizeof(long), 0);
	for (int i = 0; i < N; i++) {
		p[i] = (struct peer){ .c = c, .wg = &wg };
		go_wg_add(&wg, 1);
		go_spawn(peer_recv, &p[i]);
		CHECK(wait_queued(c, false, (unsigned)i + 1), "receiver %d not queued", i);
	}
	for (long i = 0; i < N; i++)
		go_chan_send(c, &i);
	go_wg_wait(&wg);
	/* The first receiver to block gets the first value. */
	for (int i = 0; i < N; i++)
		CHECK(p[i].v == i && p[i].ok, "receiver %d got %ld", i, p[i].v);
	go_chan_free(c);
}

static void close_rules(void)
{
	struct go_chan *c;
	long v = 1;

	/* Close of the nil channel is an error (Go panics). */
	CHECK(go_chan_close(NULL) == -EINVAL, "close nil");
	go_chan_make(&c, sizeof(long), 2);
	CHECK(go_chan_close(c) == 0, "close");
	/* Close of a closed channel is an error (Go panics). */
	CHECK(go_chan_close(c) == -EPIPE, "close twice");
	/* Send on a closed channel is an error (Go panics), blocking or not. */
	CHECK(go_chan_send(c, &v) == -EPIPE, "send on closed");
	CHECK(go_chan_try_send(c, &v) == -EPIPE, "try_send on closed");
	CHECK(go_chan_send_until(c, &v, go_now() + MS) == -EPIPE, "send_until on closed");
	go_chan_free(c);
}

static void recv_after_close_drains_then_zero(void)
{
	size_t caps[] = { 0, 3 };

	for (int k = 0; k < 2; k++) {
		struct go_chan *c;
		long v;
		bool ok;

		go_chan_make(&c, sizeof(long), caps[k]);
		for (long i = 1; i <= (long)caps[k]; i++)
			go_chan_send(c, &i);
		go_chan_close(c);
		/* Buffered values are still received after close, in order. */
		for (long i = 1; i <= (long)caps[k]; i++) {
			CHECK(go_chan_recv(c, &v, &ok) == 0 && ok && v == i, "drain %ld: %ld", i, v);
		}
		/* Then every receive returns at once with ok false and the zero value. */
		for (int r = 0; r < 3; r++) {
			v = -5;
			ok = true;
			CHECK(go_chan_recv(c, &v, &ok) == 0 && !ok && v == 0, "closed: ok %d v %ld", ok, v);
			v = -5;
			CHECK(go_chan_try_recv(c, &v, &ok) == 0 && !ok && v == 0, "try closed");
			CHECK(go_chan_recv_until(c, &v, &ok, go_now()) == 0 && !ok, "until closed");
		}
		CHECK(go_chan_len(c) == 0, "len after drain");
		go_chan_free(c);
	}
}

static void close_wakes_every_blocked_party(void)
{
	enum { N = 16 };
	struct go_waitgroup wg = { 0 };
	struct peer r[N], s[N];
	struct go_chan *rc, *sc;

	go_chan_make(&rc, sizeof(long), 0);
	go_chan_make(&sc, sizeof(long), 0);
	for (int i = 0; i < N; i++) {
		r[i] = (struct peer){ .c = rc, .wg = &wg, .ok = true };
		s[i] = (struct peer){ .c = sc, .wg = &wg, .v = i };
		go_wg_add(&wg, 2);
		go_spawn(peer_recv, &r[i]);
		go_spawn(peer_send, &s[i]);
	}
	CHECK(wait_queued(rc, false, N) && wait_queued(sc, true, N), "not all blocked");
	go_chan_close(rc);
	go_chan_close(sc);
	go_wg_wait(&wg);
	/* Every blocked receiver gets ok = false and the zero value; every blocked sender
	 * -EPIPE. */
	for (int i = 0; i < N; i++) {
		CHECK(r[i].ret == 0 && !r[i].ok && r[i].v == 0, "receiver %d: ok %d v %ld", i,
		      r[i].ok, r[i].v);
		CHECK(s[i].ret == -EPIPE, "sender %d: %d", i, s[i].ret);
	}
	go_chan_free(rc);
	go_chan_free(sc);
}

static void forever_recv(void *p)
{
	(void)p;
	go_chan_recv(NULL, NULL, NULL);
	tap_failed = 1;   /* never reached */
}

static void nil_channel_blocks_forever(void)
{
	long v = 0;
	bool ok;

	/* Non-blocking operations on nil never proceed. */
	CHECK(go_chan_try_send(NULL, &v) == -EAGAIN, "try_send nil");
	CHECK(go_chan_try_recv(NULL, &v, &ok) == -EAGAIN, "try_recv nil");
	/* Timed ones time out. */
	int64_t t0 = go_now();

	CHECK(go_chan_recv_until(NULL, &v, &ok, t0 + 20 * MS) == -ETIMEDOUT, "recv_until nil");
	CHECK(go_chan_send_until(NULL, &v, t0 + 20 * MS) == -ETIMEDOUT, "send_until nil");
	CHECK(go_now() - t0 >= 20 * MS, "returned early");
	CHECK(go_chan_len(NULL) == 0 && go_chan_cap(NULL) == 0, "len/cap nil");
	/* A blocking receive never returns (the goroutine is abandoned at the end). */
	go_spawn(forever_recv, NULL);
	go_sleep(20 * MS);
}

static void zero_size_elements(void)
{
	struct go_waitgroup wg = { 0 };
	struct peer a = { .wg = &wg };
	struct go_chan *c;
	bool ok;

	/* Signal channels: NULL element pointers, counts only. */
	go_chan_make(&c, 0, 3);
	for (int i = 0; i < 3; i++)
		CHECK(go_chan_try_send(c, NULL) == 0, "send %d", i);
	CHECK(go_chan_try_send(c, NULL) == -EAGAIN, "full");
	CHECK(go_chan_len(c) == 3, "len");
	for (int i = 0; i < 3; i++)
		CHECK(go_chan_recv(c, NULL, &ok) == 0 && ok, "recv %d", i);
	go_chan_free(c);

	go_chan_make(&c, 0, 0);
	a.c = c;
	go_wg_add(&wg, 1);
	go_spawn(peer_recv, &a);
	CHECK(go_chan_send(c, NULL) == 0, "unbuffered signal");
	go_wg_wait(&wg);
	CHECK(a.ok, "receiver ok");
	go_chan_close(c);
	CHECK(go_chan_recv(c, NULL, &ok) == 0 && !ok, "closed signal channel");
	go_chan_free(c);
}

static void timed_operations(void)
{
	struct go_waitgroup wg = { 0 };
	struct peer a = { .wg = &wg, .v = 9 };
	struct go_chan *c;
	long v = 0;
	bool ok;
	int64_t t0;

	go_chan_make(&c, sizeof(long), 0);
	t0 = go_now();
	/* Nothing to receive: gives up at the deadline, not before. */
	CHECK(go_chan_recv_until(c, &v, &ok, t0 + 30 * MS) == -ETIMEDOUT, "recv_until");
	CHECK(go_now() - t0 >= 30 * MS, "early by %lld", (long long)(go_now() - t0));
	CHECK(go_chan_send_until(c, &v, go_now() + 10 * MS) == -ETIMEDOUT, "send_until");
	/* The timed-out waiters left the queues. */
	CHECK(queued(c, true) == 0 && queued(c, false) == 0, "stale waiters");
	/* A ready operation completes even with a past deadline. */
	a.c = c;
	go_wg_add(&wg, 1);
	go_spawn(peer_send, &a);
	CHECK(wait_queued(c, true, 1), "sender");
	CHECK(go_chan_recv_until(c, &v, &ok, 0) == 0 && ok && v == 9, "past deadline, ready");
	go_wg_wait(&wg);
	/* A timed receive woken by a send before its deadline. */
	a = (struct peer){ .c = c, .wg = &wg, .v = 11 };
	go_wg_add(&wg, 1);
	go_spawn(peer_send, &a);
	CHECK(go_chan_recv_until(c, &v, &ok, go_now() + 5000 * MS) == 0 && ok && v == 11, "woken");
	go_wg_wait(&wg);
	go_chan_free(c);
}

/* ---- without a scheduler ------------------------------------------------------------------ */

/* After 3 s, whoever is still blocked on c gets a partner: its deadline was missed. */
struct unstick {
	struct go_chan *c;
	_Atomic int stop;
	_Atomic int unstuck;
};

static void *unstick_thread(void *p)
{
	struct unstick *u = p;
	int64_t start = go_now();
	long v = 0;

	while (!atomic_load(&u->stop)) {
		if (go_now() - start > 3000 * MS &&
		    (go_chan_try_send(u->c, &v) == 0 || go_chan_try_recv(u->c, &v, NULL) == 0)) {
			atomic_fetch_add(&u->unstuck, 1);
			start = go_now();
		}
		usleep(10000);
	}
	return NULL;
}

static void timed_ops_without_scheduler(void)
{
	struct unstick u = { 0 };
	struct go_chan *other;
	struct go_select_case cs[2];
	pthread_t t;
	int64_t t0, dt;
	long v = 1;
	int r;

	/* (main's thread, no go_run: the deadline needs no scheduler) */
	CHECK(go_maxprocs() == 0, "a scheduler runs");
	go_chan_make(&u.c, sizeof(long), 0);
	go_chan_make(&other, sizeof(long), 0);
	pthread_create(&t, NULL, unstick_thread, &u);

	/* A receive nobody sends to gives up at its deadline, not before. */
	t0 = go_now();
	r = go_chan_recv_until(u.c, &v, NULL, t0 + 10 * MS);
	dt = go_now() - t0;
	CHECK(r == -ETIMEDOUT && dt >= 10 * MS, "recv_until(+10 ms) returned %d after %.1f ms%s",
	      r, dt / 1e6, atomic_load(&u.unstuck) ? " (when another thread sent)" : "");
	/* So does a send nobody receives. */
	t0 = go_now();
	r = go_chan_send_until(u.c, &v, t0 + 10 * MS);
	dt = go_now() - t0;
	CHECK(r == -ETIMEDOUT && dt >= 10 * MS, "send_until(+10 ms) returned %d after %.1f ms%s",
	      r, dt / 1e6, atomic_load(&u.unstuck) ? " (when another thread received)" : "");
	/* And a select. */
	cs[0] = GO_RECV_CASE(u.c, &v);
	cs[1] = GO_RECV_CASE(other, &v);
	t0 = go_now();
	r = go_select_until(cs, 2, t0 + 10 * MS);
	dt = go_now() - t0;
	CHECK(r == -ETIMEDOUT && dt >= 10 * MS, "select_until(+10 ms) returned %d after %.1f ms",
	      r, dt / 1e6);
	/* The timed-out waiters left the queues. */
	CHECK(queued(u.c, true) == 0 && queued(u.c, false) == 0, "stale waiters");
	atomic_store(&u.stop, 1);
	pthread_join(t, NULL);
	go_chan_free(u.c);
	go_chan_free(other);
}

struct thread_timed {
	struct go_chan *c;
	int r1, r2;
	long v;
	int64_t dt1;
	_Atomic int first_done;
};

static void *thread_timed_run(void *p)
{
	struct thread_timed *t = p;
	int64_t t0 = go_now();

	t->r1 = go_chan_recv_until(t->c, &t->v, NULL, t0 + 10 * MS);
	t->dt1 = go_now() - t0;
	atomic_store(&t->first_done, 1);
	t->r2 = go_chan_recv_until(t->c, &t->v, NULL, go_now() + 10000 * MS);
	return NULL;
}

static void timed_ops_from_a_thread(void)
{
	struct thread_timed t = { 0 };
	pthread_t th;
	long v = 42;

	go_chan_make(&t.c, sizeof(long), 0);
	pthread_create(&th, NULL, thread_timed_run, &t);
	/* A thread's timed receive with the scheduler running: it gives up at its deadline,
	 * then, waiting again, is woken by a goroutine's send. */
	while (!atomic_load(&t.first_done))
		go_sleep(MS);
	CHECK(go_chan_send_until(t.c, &v, go_now() + 10000 * MS) == 0, "send");
	GO_SYSCALL(pthread_join(th, NULL));
	CHECK(t.r1 == -ETIMEDOUT && t.dt1 >= 10 * MS, "first: %d after %.1f ms", t.r1, t.dt1 / 1e6);
	CHECK(t.r2 == 0 && t.v == 42, "second: %d, %ld", t.r2, t.v);
	go_chan_free(t.c);
}

/* ---- freeing -------------------------------------------------------------------------------- */

/* In a child: free a channel a goroutine is blocked on (forbidden: it must abort, loudly). */
static void free_blocked_recv(void *p)
{
	go_chan_recv(p, NULL, NULL);
}

static void free_blocked_main(void *p)
{
	struct go_chan *c;

	(void)p;
	go_chan_make(&c, sizeof(long), 0);
	go_spawn(free_blocked_recv, c);
	if (!wait_queued(c, false, 1))
		_exit(3);
	go_chan_free(c);
	_exit(0);	/* freed silently: the waiter's select or wake would touch freed memory */
}

static void free_with_blocked_waiter_aborts(void)
{
	char buf[4096];
	int fds[2], status = 0;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

#ifdef __SANITIZE_THREAD__
	SKIP_TEST("ThreadSanitizer cannot start threads in a child forked while threads run");
#endif
	CHECK(pipe(fds) == 0, "pipe");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 2);
		alarm(20);
		go_run(free_blocked_main, NULL);
		_exit(2);
	}
	close(fds[1]);
	while (got + 1 < sizeof(buf) && (r = read(fds[0], buf + got, sizeof(buf) - got - 1)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	/* go_chan_free aborted, saying why */
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x (%s)", status,
	      WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "freed silently" : "?");
	CHECK(strstr(buf, "go_chan_free") && strstr(buf, "blocked"), "message: %s", buf);
}

struct big { unsigned char b[4096]; };
struct bigsend { struct go_chan *c; struct go_waitgroup *wg; };

static void big_sender(void *p)
{
	struct bigsend *b = p;
	struct big local;     /* on this goroutine's stack: a receiver copies from here */

	for (int i = 0; i < 4096; i++)
		local.b[i] = (unsigned char)(i * 7);
	go_chan_send(b->c, &local);
	go_wg_done(b->wg);
}

static void large_elements_copied_whole(void)
{
	static struct big want, out;
	struct go_waitgroup wg = { 0 };
	struct bigsend bs = { .wg = &wg };

	for (int i = 0; i < 4096; i++)
		want.b[i] = (unsigned char)(i * 7);
	go_chan_make(&bs.c, sizeof(struct big), 0);
	go_wg_add(&wg, 1);
	go_spawn(big_sender, &bs);
	CHECK(wait_queued(bs.c, true, 1), "sender");
	/* Unbuffered: copied straight from the blocked sender's stack. */
	go_chan_recv(bs.c, &out, NULL);
	CHECK(!memcmp(&want, &out, sizeof(out)), "4 KiB element differs (direct)");
	go_wg_wait(&wg);
	go_chan_free(bs.c);
	/* Buffered: through the ring. */
	memset(&out, 0, sizeof(out));
	go_chan_make(&bs.c, sizeof(struct big), 2);
	go_chan_send(bs.c, &want);
	go_chan_recv(bs.c, &out, NULL);
	CHECK(!memcmp(&want, &out, sizeof(out)), "4 KiB element differs (ring)");
	go_chan_free(bs.c);
}

/* Go's TestMultiConsumer: producers and consumers share one channel; the sum and count
 * received equal those sent. */
struct mc {
	struct go_chan *c;
	struct go_waitgroup *wg;
	long n;
	_Atomic long sum, count;
};

static void mc_consume(void *p)
{
	struct mc *m = p;
	long v, s = 0, k = 0;
	bool ok;

	while (go_chan_recv(m->c, &v, &ok) == 0 && ok) {
		s += v;
		k++;
	}
	m->sum += s;
	m->count += k;
	go_wg_done(m->wg);
}

static void multi_consumer(void)
{
	size_t caps[] = { 0, 1, 64 };

	for (int k = 0; k < 3; k++) {
		struct go_waitgroup wg = { 0 };
		struct mc m = { .wg = &wg, .n = tap_scale(20000) };
		long want = 0;

		go_chan_make(&m.c, sizeof(long), caps[k]);
		for (int i = 0; i < 4; i++) {
			go_wg_add(&wg, 1);
			go_spawn(mc_consume, &m);
		}
		for (long i = 0; i < m.n; i++) {
			go_chan_send(m.c, &i);
			want += i;
		}
		go_chan_close(m.c);
		go_wg_wait(&wg);
		CHECK(m.count == m.n && m.sum == want, "cap %zu: count %ld sum %ld want %ld", caps[k],
		      (long)m.count, (long)m.sum, want);
		go_chan_free(m.c);
	}
}

/* Sharp edge: a NULL element pointer on a channel whose elements have bytes is a bug of the
 * caller; every send form must refuse it and move nothing (it used to send the slot's stale
 * bytes and return 0). */
static void null_elem_send_is_einval(void)
{
	size_t caps[] = { 0, 2 };

	for (int k = 0; k < 2; k++) {
		struct go_chan *c, *sig;
		struct go_select_case cs[1];
		long v = -1;
		bool ok;

		go_chan_make(&c, sizeof(long), caps[k]);
		/* Every send form: -EINVAL, nothing sent. */
		CHECK(go_chan_try_send(c, NULL) == -EINVAL, "try_send NULL, cap %zu", caps[k]);
		CHECK(go_chan_send_until(c, NULL, go_now() + MS) == -EINVAL,
		      "send_until NULL, cap %zu", caps[k]);
		CHECK(go_chan_send(c, NULL) == -EINVAL, "send NULL, cap %zu", caps[k]);
		cs[0] = GO_SEND_CASE(c, NULL);
		CHECK(go_try_select(cs, 1) == -EINVAL, "try_select send NULL, cap %zu", caps[k]);
		CHECK(go_select_until(cs, 1, go_now() + MS) == -EINVAL,
		      "select_until send NULL, cap %zu", caps[k]);
		/* Nothing is in the channel afterwards. */
		CHECK(go_chan_len(c) == 0, "len %zu, cap %zu", go_chan_len(c), caps[k]);
		CHECK(go_chan_try_recv(c, &v, &ok) == -EAGAIN, "a value was sent, cap %zu", caps[k]);
		/* A NULL receive buffer stays allowed: the value is discarded. */
		if (caps[k]) {
			v = 3;
			go_chan_send(c, &v);
			CHECK(go_chan_recv(c, NULL, &ok) == 0 && ok, "recv into NULL");
		}
		go_chan_free(c);

		/* A signal channel (elem_size 0) takes NULL, as before. */
		go_chan_make(&sig, 0, 1);
		CHECK(go_chan_try_send(sig, NULL) == 0, "signal send NULL");
		go_chan_free(sig);
	}
}

int main(int argc, char **argv)
{
	TEST(unbuffered_recv_blocks_until_send);
	TEST(unbuffered_send_blocks_until_recv);
	TEST(try_ops_and_len_cap);
	TEST(blocked_senders_are_fifo);
	TEST(blocked_receivers_are_fifo);
	TEST(close_rules);
	TEST(recv_after_close_drains_then_zero);
	TEST(close_wakes_every_blocked_party);
	TEST(nil_channel_blocks_forever);
	TEST(zero_size_elements);
	TEST(timed_operations);
	TEST_NO_SCHED(timed_ops_without_scheduler);
	TEST(timed_ops_from_a_thread);
	TEST_NO_SCHED(free_with_blocked_waiter_aborts);
	TEST(large_elements_copied_whole);
	TEST(multi_consumer);
	TEST(null_elem_send_is_einval);
	return tap_any_failed;
}
