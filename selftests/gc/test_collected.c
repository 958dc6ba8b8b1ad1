/* SPDX-License-Identifier: MIT */
/*
 * Description: collected channels and contexts (<gochan/chan.h> go_chan_new and
 * go_chan_new_fd, <gochan/context.h> go_ctx_background_gc). A goroutine blocked on a
 * channel nothing else reaches keeps it, and what it buffers, alive through many cycles; an
 * unreachable channel is reclaimed with what it buffers (heap statistics, finalizers of the
 * values); values moving through channels while the collector marks are never lost (the
 * verify mode on); a collected kernel-channel handle closes its fd (/proc/self/fd); collected
 * contexts and their Done channels are reclaimed once cancelled and unreachable, while an
 * uncancelled child lives as long as its parent and an armed deadline keeps its context.
 *
 * "Nothing else reaches it" is made sure of by keeping the pointer only masked (XOR) where
 * the collector looks, and by making garbage on goroutines that exit (no stale copy on a
 * live stack). A finalizer on the object says whether the collector found it unreachable.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/gc.h>
#include <gochan/kchan.h>
#include <gochan/sched.h>

#include "../../lib/chan/internal.h"
#include "../../lib/gc/internal.h"
#include "helpers.h"
#include "tap.h" /* selftests/common */

extern bool _go_gc_verify_force; /* lib/gc/verify.c */

#define MASK ((uintptr_t)0x5a5a5a5a5a5a5a5aull)

/* check: ~address, not a pointer (an object pointing at itself, with a finalizer, would
 * never be finalized: its finalizer keeps what it points to, Go's rule for cycles) */
struct obj {
	uint64_t magic;
	uint64_t check;
	char pad[48];
};

#define OBJ_OK(o, m) ((o) && (o)->magic == (m) && (o)->check == ~(uint64_t)(uintptr_t)(o))

static __attribute__((noinline)) void scrub_stack(void)
{
	volatile char buf[8192];

	memset((char *)buf, 0, sizeof(buf));
}

/* Cycles until *count reaches n (at most 300 cycles); returns *count. */
static int gc_until(const int *count, int n)
{
	for (int i = 0; i < 300 && __atomic_load_n(count, __ATOMIC_RELAXED) < n; i++) {
		go_gc();
		go_sleep(1000000);
	}
	return __atomic_load_n(count, __ATOMIC_RELAXED);
}

static void count_fn(void *obj, void *arg)
{
	(void)obj;
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
}

static struct obj *new_obj(uint64_t magic)
{
	struct obj *o = go_new(sizeof(*o), 0);

	o->magic = magic;
	o->check = ~(uint64_t)(uintptr_t)o;
	return o;
}

/* Garbage, so that a freed channel's memory would be poisoned and reused. */
static void churn(void)
{
	for (int i = 0; i < 2000; i++)
		new_obj(0xdead);
}

static struct go_waitgroup wg;

/* Waits (2 s at most) until blocked() says the goroutines under test wait, then runs 50
 * cycles with garbage between them (and gives the cycles' finalizers some time). Returns
 * whether they were blocked before the cycles. */
static bool cycles_while_blocked(bool (*blocked)(void))
{
	bool was_blocked;

	for (int i = 0; i < 2000 && !blocked(); i++)
		go_sleep(1000000);
	was_blocked = blocked();
	for (int i = 0; i < 50; i++) {
		churn();
		go_gc();
		go_yield();
	}
	go_sleep(5000000);
	return was_blocked;
}

/* ---- a goroutine blocked on a channel keeps it alive -------------------------------------- */

static uintptr_t hidden_recv, hidden_send; /* masked channel pointers: not roots */
static int chan_fin, val_fin, recv_ok;

/* Receives on a channel that only its own stack will reach once it parks. */
static void receiver_g(void *arg)
{
	struct go_chan *c = (struct go_chan *)(__atomic_load_n(&hidden_recv, __ATOMIC_RELAXED) ^
					       MASK);
	struct obj *o = NULL;
	bool ok = false;

	(void)arg;
	go_chan_recv(c, &o, &ok);
	recv_ok = ok && OBJ_OK(o, 0xa1);
	go_wg_done(&wg);
}

/* Fills a cap-1 channel with one object and blocks sending a second: the first is reached
 * only through the ring, the second only through its stack, the channel only through its
 * stack (the sudog). */
static void sender_g(void *arg)
{
	struct go_chan *c = (struct go_chan *)(__atomic_load_n(&hidden_send, __ATOMIC_RELAXED) ^
					       MASK);
	struct obj *volatile a = new_obj(0xb1);
	struct obj *b = new_obj(0xb2);

	(void)arg;
	CHECK(go_gc_set_finalizer(a, count_fn, &val_fin) == 0, "finalizer a");
	CHECK(go_gc_set_finalizer(b, count_fn, &val_fin) == 0, "finalizer b");
	CHECK(go_chan_send(c, (void *)&a) == 0, "send a");
	a = NULL;
	CHECK(go_chan_send(c, &b) == 0, "send b");   /* blocks: the ring is full */
	go_wg_done(&wg);
}

static __attribute__((noinline)) void make_blocked(void)
{
	struct go_chan *r, *s;

	CHECK(go_chan_new(&r, sizeof(void *), 0, 0) == 0, "go_chan_new");
	CHECK(go_chan_new(&s, sizeof(void *), 1, 0) == 0, "go_chan_new");
	CHECK(go_gc_set_finalizer(r, count_fn, &chan_fin) == 0, "finalizer r");
	CHECK(go_gc_set_finalizer(s, count_fn, &chan_fin) == 0, "finalizer s");
	__atomic_store_n(&hidden_recv, (uintptr_t)r ^ MASK, __ATOMIC_RELAXED);
	__atomic_store_n(&hidden_send, (uintptr_t)s ^ MASK, __ATOMIC_RELAXED);
	go_wg_add(&wg, 2);
	go_spawn(receiver_g, NULL);
	go_spawn(sender_g, NULL);
}

static bool both_blocked(void)
{
	struct go_chan *r = (struct go_chan *)(hidden_recv ^ MASK);
	struct go_chan *s = (struct go_chan *)(hidden_send ^ MASK);

	return load_relaxed(&r->recvq.first) && load_relaxed(&s->sendq.first);
}

static void blocked_main(void *arg)
{
	struct go_chan *c;
	struct obj *o, *got;
	bool ok;

	(void)arg;
	make_blocked();
	scrub_stack();
	CHECK(cycles_while_blocked(both_blocked), "the receiver and the sender are not blocked");
	/* no channel nor value was found unreachable: the blocked goroutines' stacks hold the
	 * channels, the ring holds its value */
	CHECK(chan_fin == 0, "%d channels with blocked goroutines were collected", chan_fin);
	CHECK(val_fin == 0, "%d values in or bound for a channel were collected", val_fin);
	if (chan_fin || val_fin)
		return; /* (using them now would touch freed memory) */

	/* they still work: the receiver gets a value, the sender's two arrive in order */
	c = (struct go_chan *)(hidden_recv ^ MASK);
	o = new_obj(0xa1);
	CHECK(go_chan_send(c, &o) == 0, "send to the blocked receiver");
	c = (struct go_chan *)(hidden_send ^ MASK);
	got = NULL;
	CHECK(go_chan_recv(c, &got, &ok) == 0 && ok && OBJ_OK(got, 0xb1), "the buffered value");
	got = NULL;
	CHECK(go_chan_recv(c, &got, &ok) == 0 && ok && OBJ_OK(got, 0xb2),
	      "the blocked sender's value");
	go_wg_wait(&wg);
	CHECK(recv_ok, "the blocked receiver got a wrong value");
}

static void blocked_goroutine_keeps_its_channel(void)
{
	ga_gc_poison = true;
	chan_fin = val_fin = recv_ok = 0;
	CHECK(run(2, blocked_main, NULL) == 0, "go_run");
}

/* ---- a select over many cases holds its channels ------------------------------------------ */

/* More cases than a select keeps on its stack (SELECT_STACK_CASES): its scratch is malloc'd. */
#define NSEL 40
#define SEL_WAKE 17	/* the case the test sends on */

static uintptr_t hidden_sel[NSEL]; /* masked channel pointers: not roots */
static int sel_fin, sel_got;
static bool sel_ok;

/* Selects on NSEL channels from a case array in malloc'd memory, which the collector does
 * not scan: while it waits only the select itself holds the channels. */
static void big_selector_g(void *arg)
{
	struct go_select_case *cases = calloc(NSEL, sizeof(*cases));
	struct obj *o = NULL;
	int r;

	(void)arg;
	CHECK(cases, "calloc");
	if (!cases)
		return;
	for (int i = 0; i < NSEL; i++)
		cases[i] = GO_RECV_CASE((struct go_chan *)(__atomic_load_n(&hidden_sel[i],
									    __ATOMIC_RELAXED) ^ MASK),
					&o);
	r = go_select(cases, NSEL);
	sel_got = r;
	sel_ok = r >= 0 && cases[r].ok && OBJ_OK(o, 0xe1);
	free(cases);
	go_wg_done(&wg);
}

static __attribute__((noinline)) void make_big_select(void)
{
	for (int i = 0; i < NSEL; i++) {
		struct go_chan *c;

		CHECK(go_chan_new(&c, sizeof(void *), 0, 0) == 0, "go_chan_new");
		CHECK(go_gc_set_finalizer(c, count_fn, &sel_fin) == 0, "finalizer");
		__atomic_store_n(&hidden_sel[i], (uintptr_t)c ^ MASK, __ATOMIC_RELAXED);
	}
	go_wg_add(&wg, 1);
	go_spawn(big_selector_g, NULL);
}

static bool big_select_blocked(void)
{
	for (int i = 0; i < NSEL; i++)
		if (!load_relaxed(&((struct go_chan *)(hidden_sel[i] ^ MASK))->recvq.first))
			return false;
	return true;
}

static __attribute__((noinline)) void wake_big_select(void)
{
	struct obj *o = new_obj(0xe1);

	CHECK(go_chan_send((struct go_chan *)(hidden_sel[SEL_WAKE] ^ MASK), &o) == 0, "send");
}

static void big_select_main(void *arg)
{
	(void)arg;
	make_big_select();
	scrub_stack();
	CHECK(cycles_while_blocked(big_select_blocked),
	      "the select is not blocked on every channel");
	/* none was found unreachable: the blocked select holds them all */
	CHECK(sel_fin == 0, "%d of %d channels of a blocked select were collected", sel_fin, NSEL);
	if (sel_fin)
		return; /* (waking it now would touch freed memory) */
	wake_big_select();
	go_wg_wait(&wg);
	CHECK(sel_got == SEL_WAKE && sel_ok, "select returned %d (ok %d), want %d", sel_got,
	      sel_ok, SEL_WAKE);
	/* and once it returned it holds nothing: they are collected (but for a stale copy or
	 * two on a stack) */
	scrub_stack();
	CHECK(gc_until(&sel_fin, NSEL - 2) >= NSEL - 2, "%d of %d channels collected after the "
	      "select returned", sel_fin, NSEL);
}

static void big_select_keeps_its_channels(void)
{
	ga_gc_poison = true;
	sel_fin = 0;
	sel_got = -1;
	sel_ok = false;
	CHECK(run(2, big_select_main, NULL) == 0, "go_run");
}

/* ---- unreachable channels are reclaimed with what they buffer ---------------------------- */

#define NCHAN 200
#define NBUF 16
#define VAL_SIZE 256

static int buf_fin;
static struct go_chan *kept[NCHAN]; /* a global: a root (data) */

/* NCHAN channels of NBUF buffered pointers each, to objects of VAL_SIZE bytes that nothing
 * else holds; with finalizers on the values (fin), into kept[] (keep) or dropped. */
static __attribute__((noinline)) void make_full_chans(bool fin, bool keep)
{
	for (int i = 0; i < NCHAN; i++) {
		struct go_chan *c;

		CHECK(go_chan_new(&c, sizeof(void *), NBUF, 0) == 0, "go_chan_new");
		for (int j = 0; j < NBUF; j++) {
			struct obj *o = go_new(VAL_SIZE, 0);

			o->magic = 0xc0 + (uint64_t)j;
			o->check = ~(uint64_t)(uintptr_t)o;
			if (fin)
				CHECK(go_gc_set_finalizer(o, count_fn, &buf_fin) == 0, "finalizer");
			CHECK(go_chan_try_send(c, &o) == 0, "buffered send");
		}
		if (keep)
			GO_WB(kept[i], c);
	}
}

struct full_args {
	bool fin, keep;
};

static void make_full_g(void *arg)
{
	struct full_args *a = arg;

	make_full_chans(a->fin, a->keep);
	scrub_stack();
	go_wg_done(&wg);
}

static void spawn_wait(void (*fn)(void *), void *arg)
{
	go_wg_add(&wg, 1);
	go_spawn(fn, arg);
	go_wg_wait(&wg);
}

static void unreachable_main(void *arg)
{
	struct full_args a = { .fin = false, .keep = false };
	struct go_gc_stats st0, st1, st2;
	uint64_t need = (uint64_t)NCHAN * NBUF * VAL_SIZE;

	(void)arg;
	go_gc();
	go_gc();
	st0 = stats();
	/* kept (a global holds the channels): the buffered values are live, found through
	 * the rings, and intact */
	a.keep = true;
	spawn_wait(make_full_g, &a);
	go_gc();
	go_gc();
	st1 = stats();
	CHECK(st1.heap_live >= st0.heap_live + need, "live %lu, before %lu, buffered %lu",
	      (unsigned long)st1.heap_live, (unsigned long)st0.heap_live, (unsigned long)need);
	for (int i = 0, bad = 0; i < NCHAN && !bad; i++) {
		struct obj *o = NULL;
		bool ok;

		CHECK(go_chan_len(kept[i]) == NBUF, "len %zu", go_chan_len(kept[i]));
		bad = go_chan_try_recv(kept[i], &o, &ok) != 0 || !ok || !OBJ_OK(o, 0xc0);
		CHECK(!bad, "channel %d: the first value was freed", i);
	}
	/* dropped: the channels and their values come back */
	for (int i = 0; i < NCHAN; i++)
		GO_WB(kept[i], (struct go_chan *)NULL);
	scrub_stack();
	go_gc();
	go_gc();
	st2 = stats();
	CHECK(st2.heap_live < st0.heap_live + need / 16, "live %lu, before %lu",
	      (unsigned long)st2.heap_live, (unsigned long)st0.heap_live);
	CHECK(st2.total_freed_objects - st1.total_freed_objects >= (uint64_t)NCHAN * NBUF,
	      "%lu objects freed", (unsigned long)(st2.total_freed_objects -
						    st1.total_freed_objects));

	/* never reachable from a root: the values are found unreachable (their finalizers
	 * run), and the memory comes back */
	a.keep = false;
	a.fin = true;
	spawn_wait(make_full_g, &a);
	CHECK(gc_until(&buf_fin, NCHAN * NBUF) == NCHAN * NBUF, "%d of %d values finalized",
	      buf_fin, NCHAN * NBUF);
	go_gc();
	go_gc();
	st2 = stats();
	CHECK(st2.heap_live < st0.heap_live + need / 16, "live %lu, before %lu",
	      (unsigned long)st2.heap_live, (unsigned long)st0.heap_live);
}

static void unreachable_channel_frees_its_buffer(void)
{
	ga_gc_poison = true;
	buf_fin = 0;
	CHECK(run(2, unreachable_main, NULL) == 0, "go_run");
}

/* ---- values in flight while the collector marks -------------------------------------------- */

#define NPROD 4
#define BATCH 32
/* Cycles to run while values move; a verified cycle takes about a second under TSan. With
 * the barrier left out of the channel's copies, 300 cycles lose a value in about half of the
 * runs on two CPUs (a check that can fail, not a proof). */
#ifdef __SANITIZE_THREAD__
#define MIN_CYCLES 30
#else
#define MIN_CYCLES 300
#endif

static struct go_waitgroup prod_wg, cons_wg, gc_wg;
static uint32_t stop_gc, stop_prod;
static uint64_t sent, received, gc_loops;

/* Makes a batch of objects, held only by its stack, then sends them one by one, clearing
 * each slot as it goes: values made before a cycle began move while it marks, from a stack
 * maybe not scanned yet to wherever the channel puts them. */
static void producer_g(void *arg)
{
	struct go_chan *c = arg;
	struct obj *volatile batch[BATCH];

	while (!__atomic_load_n(&stop_prod, __ATOMIC_RELAXED)) {
		for (int k = 0; k < BATCH; k++)
			batch[k] = new_obj(0xe0 + (uint64_t)(k & 7));
		for (int k = 0; k < BATCH; k++) {
			struct obj *o = batch[k];

			batch[k] = NULL;
			CHECK(go_chan_send(c, &o) == 0, "send");
			o = NULL;
		}
		__atomic_add_fetch(&sent, BATCH, __ATOMIC_RELAXED);
	}
	go_wg_done(&prod_wg);
}

/* Holds the last HELD values on its stack only, checking each as it goes: a value the
 * collector lost while it moved (a copy without the barrier) is freed and poisoned by the
 * sweep of a cycle while it is held, and fails the check. */
#define HELD 128

static void consumer_g(void *arg)
{
	struct go_chan *c = arg;
	struct obj *held[HELD] = { 0 }, *o;
	unsigned n = 0;
	bool ok;

	for (;; n++) {
		o = NULL;
		go_chan_recv(c, &o, &ok);
		if (!ok)
			break;
		if (held[n % HELD])
			CHECK(OBJ_OK(held[n % HELD], held[n % HELD]->magic) &&
			      (held[n % HELD]->magic & ~7ull) == 0xe0,
			      "a value was lost: %p", (void *)held[n % HELD]);
		held[n % HELD] = o;
		/* churn, so that a lost object would be reused */
		for (int k = 0; k < 4; k++)
			new_obj(0xdead);
		if (n % 16 == 0)
			go_yield();
		__atomic_add_fetch(&received, 1, __ATOMIC_RELAXED);
	}
	for (unsigned i = 0; i < HELD; i++)
		if (held[i])
			CHECK(OBJ_OK(held[i], held[i]->magic) && (held[i]->magic & ~7ull) == 0xe0,
			      "a value was lost: %p", (void *)held[i]);
	go_wg_done(&cons_wg);
}

static void gc_loop_g(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop_gc, __ATOMIC_RELAXED)) {
		go_gc();
		__atomic_add_fetch(&gc_loops, 1, __ATOMIC_RELAXED);
		go_yield();
	}
	go_wg_done(&gc_wg);
}

/* arg: the channel's capacity (0: every value is a direct hand-off or a blocked sender's) */
static void inflight_main(void *arg)
{
	size_t cap = (size_t)(uintptr_t)arg;
	struct go_chan *c;

	CHECK(go_chan_new(&c, sizeof(void *), cap, 0) == 0, "go_chan_new");
	sent = received = gc_loops = 0;
	stop_gc = stop_prod = 0;
	go_wg_add(&gc_wg, 1);
	go_spawn(gc_loop_g, NULL);
	go_wg_add(&prod_wg, NPROD);
	for (int i = 0; i < NPROD; i++)
		go_spawn(producer_g, c);
	go_wg_add(&cons_wg, 2);
	for (int i = 0; i < 2; i++)
		go_spawn(consumer_g, c);
	/* values move while at least MIN_CYCLES cycles run (at most about a minute; counted
	 * here, where go_gc_read_stats() would wait for each cycle to end) */
	for (int i = 0; i < 60000 && __atomic_load_n(&gc_loops, __ATOMIC_RELAXED) < MIN_CYCLES;
	     i++)
		go_sleep(1000000);
	__atomic_store_n(&stop_prod, 1, __ATOMIC_RELAXED);
	go_wg_wait(&prod_wg);
	go_chan_close(c);
	go_wg_wait(&cons_wg);
	__atomic_store_n(&stop_gc, 1, __ATOMIC_RELAXED);
	go_wg_wait(&gc_wg);
	/* every value arrived intact (consumer_g checks each) */
	CHECK(received == sent, "%lu of %lu values", (unsigned long)received,
	      (unsigned long)sent);
	CHECK(gc_loops >= MIN_CYCLES, "%lu cycles", (unsigned long)gc_loops);
}

/* The verify mode on: a value that concurrent marking left white while a goroutine could
 * still reach it (a copy without the barrier) aborts naming it. */
static void values_in_flight_survive_marking(void)
{
	ga_gc_poison = true;
	_go_gc_verify_force = true;
	CHECK(run(2, inflight_main, (void *)(uintptr_t)0) == 0, "go_run (unbuffered)");
	CHECK(run(2, inflight_main, (void *)(uintptr_t)8) == 0, "go_run (buffered)");
	_go_gc_verify_force = false;
}

/* ---- collected kernel-channel handles close their fds ---------------------------------------- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* (the DIR's own) */
}

#define NHANDLES 64

static int kept_fd = -1;
static struct go_chan *freed_handle;

/* NHANDLES handles owning an fd each, dropped; one that does not own its fd (kept_fd);
 * one freed explicitly (its fd closed at once). kernel: real channels (go_chan_new_fd),
 * else eventfds behind the same constructor past its channel check (_go_gc_chan_fd_new). */
static __attribute__((noinline)) void make_handles(bool kernel)
{
	struct go_chan *c;
	int fd;

	for (int i = 0; i <= NHANDLES + 1; i++) {
		fd = kernel ? gochan_make(8, 1, GOCHAN_CREATE_CLOEXEC)
			    : eventfd(0, EFD_CLOEXEC);
		CHECK(fd >= 0, "fd %d", fd);
		if (fd < 0)
			return;
		if (i == NHANDLES) {
			kept_fd = fd;
			CHECK((kernel ? go_chan_new_fd(&c, fd, 0)
				      : _go_gc_chan_fd_new(&c, fd, 0, 8, 1)) == 0, "new");
			continue;
		}
		CHECK((kernel ? go_chan_new_fd(&c, fd, GO_CHAN_FD_OWN)
			      : _go_gc_chan_fd_new(&c, fd, GO_CHAN_FD_OWN, 8, 1)) == 0, "new");
		if (i == NHANDLES + 1)
			freed_handle = c;
	}
	if (kernel) {
		uint64_t v = 7;

		/* a collected handle works as any */
		CHECK(go_chan_try_send(c, &v) == 0, "send on a collected handle");
	}
}

static void make_handles_g(void *arg)
{
	make_handles(arg != NULL);
	scrub_stack();
	go_wg_done(&wg);
}

static void handles_main(void *arg)
{
	struct go_gc_stats st0;
	int base, n, fd;

	go_gc();
	go_sleep(2000000);
	base = count_fds();
	st0 = stats();
	spawn_wait(make_handles_g, arg);
	CHECK(count_fds() == base + NHANDLES + 2, "%d fds, %d before", count_fds(), base);
	/* go_chan_free of a collected handle closes its fd at once (its finalizer goes) */
	fd = go_chan_fd(freed_handle);
	go_chan_free(freed_handle);
	CHECK(go_chan_fd(freed_handle) == -EBADF, "fd after go_chan_free: %d",
	      go_chan_fd(freed_handle));
	CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "go_chan_free left fd %d open", fd);
	freed_handle = NULL;
	scrub_stack();
	/* the dropped handles' finalizers close their fds */
	for (int i = 0; i < 300 && count_fds() > base + 1; i++) {
		go_gc();
		go_sleep(1000000);
	}
	n = count_fds();
	CHECK(n == base + 1, "%d fds, %d before: unreachable handles kept theirs", n, base);
	CHECK(stats().finalizers_run - st0.finalizers_run == NHANDLES,
	      "%lu finalizers ran", (unsigned long)(stats().finalizers_run -
						    st0.finalizers_run));
	/* the one that did not own its fd left it open */
	CHECK(fcntl(kept_fd, F_GETFD) >= 0, "a handle without GO_CHAN_FD_OWN closed its fd");
	close(kept_fd);
}

static void collected_handle_closes_its_fd(void)
{
	CHECK(run(2, handles_main, NULL) == 0, "go_run");
}

static void collected_kchan_handle_closes_its_fd(void)
{
	int fd = gochan_make(8, 1, GOCHAN_CREATE_CLOEXEC);

	if (fd < 0)
		SKIP_TEST("no kernel channels here (/dev/gochan: %s)", strerror(-fd));
	close(fd);
	CHECK(run(2, handles_main, (void *)1) == 0, "go_run");
}

/* ---- collected contexts --------------------------------------------------------------------- */

#define NCTX 500

static int ctx_fin, kept_fin, parent_fin, timer_fin;
static struct go_ctx *parent;   /* a global: a root */
static int64_t timed_deadline;
static int key;

/* NCTX cancelled children of parent (each with a Done channel and a value child, all with
 * finalizers), and NCTX / 10 children left uncancelled. */
static __attribute__((noinline)) void make_contexts(void)
{
	for (int i = 0; i < NCTX; i++) {
		struct go_ctx *c, *v;
		struct go_chan *d;
		bool ok = true;

		CHECK(go_ctx_with_cancel(&c, parent) == 0, "with_cancel");
		CHECK(go_ctx_with_value(&v, c, &key, new_obj(0xf0)) == 0, "with_value");
		d = go_ctx_done(v);
		CHECK(d, "done");
		CHECK(go_gc_set_finalizer(c, count_fn, &ctx_fin) == 0, "finalizer c");
		CHECK(go_gc_set_finalizer(v, count_fn, &ctx_fin) == 0, "finalizer v");
		CHECK(go_gc_set_finalizer(d, count_fn, &ctx_fin) == 0, "finalizer done");
		CHECK(go_ctx_cancel(c) == 0, "cancel");
		/* Done works as any channel: closed by the cancel */
		CHECK(go_chan_try_recv(d, NULL, &ok) == 0 && !ok, "done not closed");
		CHECK(go_ctx_err(v) == -ECANCELED, "err");
		go_ctx_release(c); /* (nothing, on a collected context) */
	}
	for (int i = 0; i < NCTX / 10; i++) {
		struct go_ctx *c;

		CHECK(go_ctx_with_cancel(&c, parent) == 0, "with_cancel");
		CHECK(go_gc_set_finalizer(c, count_fn, &kept_fin) == 0, "finalizer kept");
		CHECK(go_ctx_done(c), "done");
	}
}

/* A deadline context that nothing but its timer holds. Its own collection is seen through a
 * value only it reaches (its parent's), with a finalizer: the context itself points at
 * itself (its timer's argument), so a finalizer on it would keep it forever. */
static __attribute__((noinline)) void make_timed(void)
{
	struct obj *o = new_obj(0xf1);
	struct go_ctx *v, *c;

	CHECK(go_gc_set_finalizer(o, count_fn, &timer_fin) == 0, "finalizer timed");
	CHECK(go_ctx_with_value(&v, go_ctx_background_gc(), &key, o) == 0, "with_value");
	timed_deadline = go_now() + 1500 * 1000000LL;
	CHECK(go_ctx_with_deadline(&c, v, timed_deadline) == 0, "deadline");
}

static void make_contexts_g(void *arg)
{
	struct go_ctx *p;

	(void)arg;
	CHECK(go_ctx_with_cancel(&p, go_ctx_background_gc()) == 0, "parent");
	CHECK(go_gc_set_finalizer(p, count_fn, &parent_fin) == 0, "finalizer parent");
	GO_WB(parent, p);
	make_contexts();
	make_timed();
	scrub_stack();
	go_wg_done(&wg);
}

static void drop_parent_g(void *arg)
{
	(void)arg;
	CHECK(go_ctx_cancel(parent) == 0, "cancel parent");
	GO_WB(parent, (struct go_ctx *)NULL);
	scrub_stack();
	go_wg_done(&wg);
}

static void contexts_main(void *arg)
{
	struct go_gc_stats st0, st1, st2;
	int64_t deadline;

	(void)arg;
	go_gc();
	go_gc();
	st0 = stats();
	spawn_wait(make_contexts_g, NULL);
	deadline = timed_deadline;
	/* the cancelled ones, their value children and Done channels: unreachable */
	CHECK(gc_until(&ctx_fin, 3 * NCTX) == 3 * NCTX, "%d of %d finalized", ctx_fin,
	      3 * NCTX);
	go_gc();
	go_gc();
	st1 = stats();
	/* the uncancelled children stay with their parent, which a global holds (Go's rule) */
	CHECK(kept_fin == 0 && parent_fin == 0, "kept %d, parent %d finalized", kept_fin,
	      parent_fin);
	/* an armed deadline keeps its context (only the timer holds it) until it fires */
	if (go_now() < deadline - 200 * 1000000LL)
		CHECK(timer_fin == 0, "a context with an armed timer was collected");
	/* the parent cancelled and dropped: it and its children go */
	spawn_wait(drop_parent_g, NULL);
	CHECK(gc_until(&kept_fin, NCTX / 10) == NCTX / 10, "%d of %d finalized", kept_fin,
	      NCTX / 10);
	CHECK(gc_until(&parent_fin, 1) == 1, "parent not finalized");
	/* the deadline fired: its context goes too */
	go_sleep_until(deadline + 10 * 1000000LL);
	CHECK(gc_until(&timer_fin, 1) == 1, "the timed context not finalized after its deadline");
	/* and the memory of it all comes back */
	for (int i = 0; i < 4; i++)
		go_gc();
	st2 = stats();
	CHECK(st2.heap_live <= st0.heap_live + 16384, "live %lu, before %lu (%lu after the "
	      "first cancels)", (unsigned long)st2.heap_live, (unsigned long)st0.heap_live,
	      (unsigned long)st1.heap_live);
}

static void collected_contexts_are_reclaimed(void)
{
	ga_gc_poison = true;
	ctx_fin = kept_fin = parent_fin = timer_fin = 0;
	CHECK(run(2, contexts_main, NULL) == 0, "go_run");
}

int main(int argc, char **argv)
{
	TEST(blocked_goroutine_keeps_its_channel);
	TEST(big_select_keeps_its_channels);
	TEST(unreachable_channel_frees_its_buffer);
	TEST(values_in_flight_survive_marking);
	TEST(collected_handle_closes_its_fd);
	TEST(collected_kchan_handle_closes_its_fd);
	TEST(collected_contexts_are_reclaimed);
	return tap_any_failed;
}
