// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a guest-side fuzzer of the whole gochan uapi.
 *
 *   gochan-fuzz [-s SEED] [-n CALLS] [-w WORKERS] [-t SECS] [-v]
 *
 * WORKERS processes (default 8) share a pool of channels made before they
 * fork, and each adds channels, named channels, dups and SCM_RIGHTS copies of
 * its own.  Each picks operations at random from its seed (derived from the
 * master SEED and its index) and issues system calls on them: create, open,
 * unlink, send / receive by ioctl and by read / write (lengths right and
 * wrong), close, stat, select (random cases, duplicate fds, fds that are no
 * channel, bad pointers, huge counts), poll and epoll, fork (children that
 * are SIGKILLed while blocked), SCM_RIGHTS, io_uring (READ, WRITE, POLL_ADD
 * on channel fds; URING_CMD: the module's SEND, RECV, SELECT and CANCEL
 * commands, queued and cancelled, and random ones; a quarter of them
 * issued from io-wq with IOSQE_ASYNC; rings torn down under queued
 * commands), random ioctl
 * numbers, fdinfo, the name list of /dev/gochan; with random struct sizes,
 * flags, reserved fields and pointers (NULL, kernel, non-canonical,
 * unmapped, read-only, straddling the end of a mapping), under a timer
 * signal that interrupts blocking calls.  The run stops after CALLS system
 * calls in all (default 200000) or SECS seconds.
 *
 * What it checks, besides the kernel log the runner scans:
 *  - every call's result is in the set the uapi header allows for it;
 *  - channels a worker made and has shared with nobody are *modelled*: the
 *    worker knows their exact content (a FIFO of tags), so it checks every
 *    value received, every EAGAIN / EPIPE / end-of-channel, the poll mask
 *    and GOCHAN_IOC_STAT's len after each call: nothing lost, duplicated,
 *    reordered or corrupted, even when a call faults half-way;
 *  - values received from shared channels must be well formed (elements of
 *    16 bytes or more carry a tag and its hash), and no tag may be received
 *    twice (a bitmap in shared memory).
 *
 * On the first failure it prints the master seed, the worker, its call
 * number and a command line that replays that worker alone from the same
 * seed (-w1 -W<worker>; the other workers' interleaving is not replayed,
 * so a race may need the full command line), then exits 1.  Output is TAP
 * with one result, so guest-run-tests and tools/tap-summary count it; a
 * line every million calls tells the rate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <liburing.h>
#include <linux/gochan.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define PAGE		4096ul

#define NW_MAX		64		/* workers */
#define SEQ_BITS	22		/* tags per worker the dup bitmap covers */
#define POOL_MAX	48		/* fds a worker holds at most */
#define NSHARED		12		/* channels made before the fork */
#define MQ		160		/* values a model holds: 2 * capacity, and more */
#define MODEL_CAP	64		/* largest modelled capacity */
#define M_HIST		24		/* calls a model remembers */
#define SCRATCH		(512 * 1024)	/* a worker's good buffer */
#define IO_BUFS		8		/* io_uring operations in flight */

/* ---- shared state ------------------------------------------------------ */

struct shm {
	uint64_t seed;
	uint64_t target;		/* calls in all */
	int64_t end_ns;			/* stop time (CLOCK_MONOTONIC) */
	int64_t start_ns;
	uint64_t calls;			/* calls so far, all workers */
	uint64_t seq[NW_MAX];		/* next tag sequence per worker */
	uint64_t shared_rx;		/* tagged values received, shared chans */
	uint64_t model_rx;		/* values checked against a model */
	uint64_t forks, kills;
	uint64_t cmd_moved;		/* gochan io_uring commands that moved a value */
	uint64_t cmd_cancelled;		/* ... that ended ECANCELED or ETIMEDOUT */
	int failed;
	char why[1024];
	uint8_t seen[NW_MAX][(1u << SEQ_BITS) / 8];
};

static struct shm *shm;
static int nworkers = 8;
static int me;				/* worker index */
static uint64_t ncall;			/* this worker's calls */
static bool verbose;
static const char *argv0;
static int only_worker = -1;
static bool no_ro_out;			/* -x ro-out */

/* ---- random ------------------------------------------------------------ */

static uint64_t rs;

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(void)
{
	rs += 0x9e3779b97f4a7c15ull;
	return mix64(rs);
}

static uint32_t rn(uint32_t n)		/* 0..n-1 */
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static bool one_in(uint32_t n)
{
	return rn(n) == 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- failure ----------------------------------------------------------- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void pool_dump(void);

/*
 * Call logs: rings of the last few calls, one line each, printed when the
 * worker fails.  A model keeps the calls on its channel (m_note()); the
 * worker keeps every call that made, closed or used an fd by number,
 * whatever the channel (w_note()).
 */
typedef char note_line[120];

/* Line *n of @ring (of @cap lines), "call N: " and then @fmt; returns its
 * length. */
static int note_vadd(note_line *ring, unsigned int cap, unsigned int *n,
		     const char *fmt, va_list ap)
{
	char *h = ring[(*n)++ % cap];
	int k = snprintf(h, sizeof(note_line), "call %" PRIu64 ": ", ncall);

	return k + vsnprintf(h + k, sizeof(note_line) - k, fmt, ap);
}

static void note_dump(const note_line *ring, unsigned int cap, unsigned int n)
{
	for (unsigned int i = n < cap ? 0 : n - cap; i != n; i++)
		fprintf(stderr, "#   %s\n", ring[i % cap]);
}

#define W_LOG 64
static note_line wlog[W_LOG];
static unsigned int nwlog;

static void w_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void w_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	note_vadd(wlog, W_LOG, &nwlog, fmt, ap);
	va_end(ap);
}

struct model;
static const struct model *fail_model;	/* the channel the current check is about */
static void m_dump(const struct model *m);

static void fail(const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the logs of the first worker to fail only */
	if (!__atomic_load_n(&shm->failed, __ATOMIC_SEQ_CST)) {
		if (fail_model)
			m_dump(fail_model);
		fprintf(stderr, "# worker %d: its last calls on fds:\n", me);
		note_dump(wlog, W_LOG, nwlog);
		pool_dump();
	}
	if (!__atomic_exchange_n(&shm->failed, 1, __ATOMIC_SEQ_CST))
		snprintf(shm->why, sizeof(shm->why),
			 "worker %d call %" PRIu64 ": %s\n"
			 "# reproduce: %s -s %" PRIu64 " -w %d -n %" PRIu64 "%s"
			 "   (this worker alone: add -W %d)",
			 me, ncall, msg, argv0, shm->seed, nworkers,
			 shm->target, no_ro_out ? " -x ro-out" : "", me);
	_exit(1);
}

/* Count one system call; false once the run is over. */
static bool tick(void)
{
	uint64_t n = __atomic_add_fetch(&shm->calls, 1, __ATOMIC_RELAXED);

	ncall++;
	if (n % 1000000 == 0 && n <= shm->target) {
		double secs = (now_ns() - shm->start_ns) / 1e9;

		printf("# gochan-fuzz: %" PRIu64 " calls, %.0f s, %.0f calls/s\n",
		       n, secs, n / (secs > 0 ? secs : 1));
	}
	return n <= shm->target;
}

static bool done(void)
{
	return shm->failed || __atomic_load_n(&shm->calls, __ATOMIC_RELAXED) >= shm->target ||
	       now_ns() >= shm->end_ns;
}

/* err must be 0 or in the -1-terminated list; else fail. */
#define ALLOW(what, err, ...) allow(what, err, (const int[]){ __VA_ARGS__, -1 })

static void allow(const char *what, int err, const int *ok)
{
	if (!err)
		return;
	for (; *ok != -1; ok++)
		if (*ok == err)
			return;
	fail("%s: unexpected errno %d (%s)", what, err, strerror(err));
}

/* ---- values ------------------------------------------------------------ */

/* An element carrying tag: word 0 is the tag, word k is mix64(tag ^ k)
 * (the last word cut short); elements under 8 bytes are mix64(tag)'s low
 * bytes.  Elements of 16 bytes or more can be recognised as well formed. */
static void fill(void *p, uint32_t es, uint64_t tag)
{
	unsigned char *b = p;

	if (es < 8) {
		uint64_t v = mix64(tag);

		memcpy(b, &v, es);
		return;
	}
	for (uint32_t off = 0; off < es; off += 8) {
		uint64_t v = off ? mix64(tag ^ (off / 8)) : tag;
		uint32_t n = es - off < 8 ? es - off : 8;

		memcpy(b + off, &v, n);
	}
}

static bool well_formed(const void *p, uint32_t es, uint64_t *tag)
{
	static unsigned char want[GOCHAN_ELEM_SIZE_MAX];

	memcpy(tag, p, 8);
	fill(want, es, *tag);
	return memcmp(want, p, es) == 0;
}

static uint64_t new_tag(void)
{
	uint64_t seq = __atomic_add_fetch(&shm->seq[me], 1, __ATOMIC_RELAXED);

	return ((uint64_t)me << 32) | seq;
}

/*
 * A receive buffer is filled with this before a read(2) of shared values, so
 * that a malformed value tells bytes the kernel never wrote (still poison)
 * from bytes it wrote wrong.
 */
#define POISON_BYTE	0xa5
#define POISON_WORD	(0x0101010101010101ull * POISON_BYTE)

/* A value arrived on a channel no model covers. */
static void got_shared(const void *p, uint32_t es, const char *via)
{
	uint64_t tag, seq;
	unsigned int w;
	uint8_t bit;

	if (es < 16)
		return;
	if (!well_formed(p, es, &tag)) {
		char words[8 * 17 + 1] = "", *o = words;
		uint32_t nw = es / 8 < 8 ? es / 8 : 8, poisoned = 0;

		for (uint32_t i = 0; i < nw; i++) {
			uint64_t v;

			memcpy(&v, (const char *)p + i * 8, 8);
			o += sprintf(o, " %016" PRIx64, v);
			poisoned += v == POISON_WORD;
		}
		fail("%s: malformed %u-byte value (first %u words; %u still poison):%s", via, es,
		     nw, poisoned, words);
	}
	w = tag >> 32;
	seq = tag & 0xffffffffu;
	if (w >= NW_MAX || !seq)
		fail("%s: bad tag %#" PRIx64, via, tag);
	__atomic_add_fetch(&shm->shared_rx, 1, __ATOMIC_RELAXED);
	if (seq >= (1u << SEQ_BITS))
		return;
	bit = 1u << (seq % 8);
	if (__atomic_fetch_or(&shm->seen[w][seq / 8], bit, __ATOMIC_SEQ_CST) & bit)
		fail("%s: tag %#" PRIx64 " received twice", via, tag);
}

/* ---- the pool ---------------------------------------------------------- */

/* A channel only this worker (and no child, no other worker) can reach:
 * its content is known exactly. */
struct model {
	uint32_t es, cap;
	bool closed;
	unsigned int head, len;
	unsigned int given_max;		/* at most this many of the front values
					 * were given back by a faulting receive:
					 * they are outside the ring, so a send
					 * may find room with len >= cap */
	uint64_t q[MQ];
	int refs;
	/* The last M_HIST calls on this channel, as m_note() saw them: printed
	 * when the model and the kernel part, since the call that parts them
	 * may be one that checks another channel (a select's other cases). */
	note_line hist[M_HIST];
	unsigned int nhist;
};

enum kind { K_CHAN, K_DEV, K_OTHER };

struct ent {
	int fd;
	enum kind kind;
	uint32_t es, cap;		/* K_CHAN */
	bool can_send, can_recv;	/* named fds opened with less access */
	struct model *m;		/* NULL: shared, not modelled */
	uint64_t id;			/* K_CHAN: the channel's id, from STAT at add() */
};

static struct ent pool[POOL_MAX];
static int npool;
static int dev = -1;

static struct ent *pick(void)
{
	return npool ? &pool[rn(npool)] : NULL;
}

static struct ent *pick_chan(bool modelled)
{
	for (int i = 0; i < 8; i++) {
		struct ent *e = pick();

		if (e && e->kind == K_CHAN && (modelled ? !!e->m : !e->m))
			return e;
	}
	return NULL;
}

/*
 * Add e to the pool; st is a STAT of e.fd (K_CHAN only).  Every STAT of the
 * fd must name the same channel again: an fd that reached another one (a
 * channel freed under its file, its memory reused) would show as another
 * id.  e.id, when known (a write-back, or the entry e copies), must be it.
 */
static void add_stat(struct ent e, const struct gochan_stat *st)
{
	if (e.kind == K_CHAN) {
		if ((e.id && st->id != e.id) || st->elem_size != e.es || st->capacity != e.cap)
			fail("fd %d being added (channel %" PRIu64 ", es %u cap %u) reaches "
			     "channel %" PRIu64 " (es %u cap %u)", e.fd, e.id, e.es, e.cap,
			     (uint64_t)st->id, st->elem_size, st->capacity);
		e.id = st->id;
	}
	w_note("fd %d added (kind %d, es %u, cap %u, %s)%s", e.fd, e.kind, e.es, e.cap,
	       e.m ? "modelled" : "shared", npool == POOL_MAX ? ", pool full: closed" : "");
	if (npool == POOL_MAX) {
		/* e's reference was never counted: free a model nobody holds */
		close(e.fd);
		if (e.m && !e.m->refs)
			free(e.m);
		return;
	}
	if (e.m)
		e.m->refs++;
	pool[npool++] = e;
}

/* The same, with the STAT made here. */
static void add(struct ent e)
{
	struct gochan_stat st = { .size = sizeof(st) };

	if (e.kind == K_CHAN) {
		if (ioctl(e.fd, GOCHAN_IOC_STAT, &st))
			fail("STAT of fd %d being added: %s", e.fd, strerror(errno));
		tick();
	}
	add_stat(e, &st);
}

/* On failure: every fd of the pool, and the channel a STAT finds behind it
 * now (an fd reaching a channel it was not made on shows here). */
static void pool_dump(void)
{
	fprintf(stderr, "# worker %d: its fds (made on channel id -> what STAT says now):\n", me);
	for (int i = 0; i < npool; i++) {
		const struct ent *e = &pool[i];
		struct gochan_stat st = { .size = sizeof(st) };

		if (e->kind != K_CHAN) {
			fprintf(stderr, "#   fd %d: %s\n", e->fd, e->kind == K_DEV ? "/dev/gochan" : "other");
			continue;
		}
		if (ioctl(e->fd, GOCHAN_IOC_STAT, &st)) {
			fprintf(stderr, "#   fd %d: id %" PRIu64 " -> STAT: %s\n", e->fd, e->id,
				strerror(errno));
			continue;
		}
		fprintf(stderr, "#   fd %d: id %" PRIu64 " es %u cap %u %s -> id %" PRIu64
			" es %u cap %u len %u%s\n", e->fd, e->id, e->es, e->cap,
			e->m ? "modelled" : "shared", (uint64_t)st.id, st.elem_size, st.capacity,
			st.len, st.id != e->id ? "  <== another channel" : "");
	}
}

static void drop(struct ent *e)
{
	w_note("fd %d closed (%s)", e->fd, e->m ? "modelled" : "shared");
	close(e->fd);
	tick();
	if (e->m && !--e->m->refs)
		free(e->m);
	*e = pool[--npool];
}

/* Remember a call on m's channel, with the model's state after it. */
static void m_note(struct model *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void m_note(struct model *m, const char *fmt, ...)
{
	char *h = m->hist[m->nhist % M_HIST];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = note_vadd(m->hist, M_HIST, &m->nhist, fmt, ap);
	va_end(ap);
	if (k < (int)sizeof(note_line))
		snprintf(h + k, sizeof(note_line) - k, " -> len %u given<=%u closed %d",
			 m->len, m->given_max, m->closed);
}

/* fail() about m's channel: its history, on stderr (TAP comments). */
static void m_dump(const struct model *m)
{
	fprintf(stderr, "# worker %d: the last calls on this channel (es %u cap %u):\n",
		me, m->es, m->cap);
	note_dump(m->hist, M_HIST, m->nhist);
}

/* Values given back can stay out of the ring while it fills again, so
 * len is unbounded in theory: sends to a model this full are skipped. */
static bool m_full(const struct model *m, uint32_t n)
{
	return m && m->len + n + 2 > MQ;
}

static void m_push(struct model *m, uint64_t tag)
{
	if (m->len >= MQ)
		fail("model overflow");
	m->q[(m->head + m->len++) % MQ] = tag;
}

static uint64_t m_pop(struct model *m)
{
	uint64_t t = m->q[m->head];

	if (m->given_max)
		m->given_max--;
	m->head = (m->head + 1) % MQ;
	m->len--;
	return t;
}

/* A receive of up to n values faulted after taking them: they went back
 * to the front, out of the ring. */
static void m_gave_back(struct model *m, uint32_t n)
{
	if (n > m->len)
		n = m->len;
	if (n > m->given_max)
		m->given_max = n;
}

/* Can a send find room?  1 surely, 0 surely not, -1 either. */
static int m_room(const struct model *m)
{
	if (m->closed)
		return 1;
	if (m->len < m->cap)
		return 1;
	return m->len - m->given_max < m->cap ? -1 : 0;
}

/* Compare n received elements at p with the model's front and pop them. */
static void m_take(struct model *m, const unsigned char *p, uint32_t n,
		   const char *via)
{
	static unsigned char want[GOCHAN_ELEM_SIZE_MAX];

	fail_model = m;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t tag;

		if (!m->len)
			fail("%s: received an element the model does not have", via);
		tag = m_pop(m);
		fill(want, m->es, tag);
		if (memcmp(want, p + (size_t)i * m->es, m->es)) {
			int at = -1;

			for (unsigned int k = 0; k < m->len; k++) {
				fill(want, m->es, m->q[(m->head + k) % MQ]);
				if (!memcmp(want, p + (size_t)i * m->es, m->es))
					at = k + 1;
			}
			fail("%s: element %u of %u is not tag %#" PRIx64 " (%u-byte "
			     "elements, cap %u, len %u, given back <= %u): it is the "
			     "model's value %d after it (-1: none)", via, i, n, tag,
			     m->es, m->cap, m->len + 1, m->given_max, at);
		}
		__atomic_add_fetch(&shm->model_rx, 1, __ATOMIC_RELAXED);
	}
}

/* After a call on a modelled channel: the kernel's len and closed must be
 * the model's. */
static void m_check(struct ent *e, const char *via)
{
	struct gochan_stat st = { .size = sizeof(st) };

	if (!e->m)
		return;
	tick();
	if (ioctl(e->fd, GOCHAN_IOC_STAT, &st))
		fail("%s: STAT failed: %s", via, strerror(errno));
	if (st.id != e->id) {
		fail_model = e->m;
		fail("%s: fd %d reaches channel %" PRIu64 ", not channel %" PRIu64
		     " it was made on", via, e->fd, (uint64_t)st.id, e->id);
	}
	if (st.len != e->m->len || !!(st.flags & GOCHAN_STAT_CLOSED) != e->m->closed ||
	    st.elem_size != e->m->es || st.capacity != e->m->cap ||
	    st.send_waiters || st.recv_waiters) {
		fail_model = e->m;
		fail("%s: STAT len %u closed %u waiters %u/%u, model len %u "
		     "closed %u", via, st.len, st.flags & GOCHAN_STAT_CLOSED,
		     st.send_waiters, st.recv_waiters, e->m->len, e->m->closed);
	}
}

/* ---- pointers ---------------------------------------------------------- */

static unsigned char *scratch;		/* SCRATCH bytes, read-write */
static unsigned char *edge;		/* a RW page, then a PROT_NONE page */
static unsigned char *ro;		/* a read-only page, for values */
static unsigned char *ro_struct;	/* another, for structs */
static void *hole;			/* an unmapped page */

enum ptr_kind { P_GOOD, P_NULL, P_KERNEL, P_NONCANON, P_HOLE, P_EDGE, P_RO, P_NR };

/* A pointer for len bytes: usually good, else one of the bad kinds. */
static void *ptr(size_t len, enum ptr_kind *kind)
{
	enum ptr_kind k = one_in(6) ? (enum ptr_kind)(1 + rn(P_NR - 1)) : P_GOOD;

	if (len > SCRATCH)
		len = SCRATCH;
	*kind = k;
	switch (k) {
	case P_NULL:	 return NULL;
	case P_KERNEL:	 return (void *)(one_in(2) ? 0xffffffff81000000ul :
						     0xffff888000001000ul);
	case P_NONCANON: return (void *)0xdead000000000000ul;
	case P_HOLE:	 return one_in(2) ? hole : (void *)0x10000ul;
	case P_EDGE:	 return edge + PAGE - rn(len < PAGE ? len : PAGE);	/* < len mapped */
	case P_RO:	 return ro;
	default:	 return scratch + rn(64) * 8 % (SCRATCH - len + 1);
	}
}

/* ---- struct buffers ---------------------------------------------------- */

/* A struct of ksize bytes is sent with a size field that is usually right,
 * sometimes smaller (below VER0), larger with a zero or nonzero tail, or
 * out of range; it sits in scratch, at the edge of a mapping, in read-only
 * memory or nowhere. */
struct sbuf {
	unsigned char *p;
	uint32_t size;
	bool valid;			/* the size and tail pass the kernel's rules */
	bool good;			/* valid, and p is plain writable memory */
	bool ro;			/* valid, p readable but not writable */
	bool bad;			/* p (partly) unreadable */
};

static unsigned char sbuf_mem[2 * 4096 + 64];

static void *sbuf_make(struct sbuf *s, const void *st, uint32_t ksize, uint32_t ver0)
{
	uint32_t size = ksize;
	enum ptr_kind pk = P_GOOD;
	uint32_t r = rn(24);

	if (r == 0)
		size = rn(ver0);
	else if (r == 1)
		size = ksize + 8 * (1 + rn(4));
	else if (r == 2)
		size = one_in(2) ? 4097 : 0xffffffffu;
	else if (r == 3)
		size = 4096;
	memset(sbuf_mem, 0, sizeof(sbuf_mem));
	memcpy(sbuf_mem, st, ksize);
	memcpy(sbuf_mem, &size, 4);
	s->valid = size >= ver0 && size <= 4096;
	if (size > ksize && size <= 4096 && one_in(2)) {
		sbuf_mem[ksize + rn(size - ksize)] = 1 + rn(255);
		s->valid = false;
	}
	s->size = size;
	s->good = s->valid;
	s->ro = s->bad = false;
	s->p = sbuf_mem;
	if (one_in(12)) {
		uint32_t n = size <= 4096 ? size : ksize;

		s->good = false;
		switch (rn(4)) {
		case 0:
			do
				s->p = ptr(n, &pk);
			while (pk == P_GOOD || pk == P_RO);
			if (pk == P_EDGE)
				memcpy(s->p, sbuf_mem, edge + PAGE - s->p);
			s->bad = true;
			break;
		case 1:	/* read-only: copied in fine, the write-back faults */
			if (no_ro_out && (ksize == sizeof(struct gochan_xfer) ||
					  ksize == sizeof(struct gochan_select))) {
				s->p = hole;
				s->bad = true;
				break;
			}
			/* At least the whole struct: with a size field under 4 bytes
			 * (n < 4) the kernel still reads 4, and must not find the
			 * last call's struct there (it did: "a bad struct
			 * succeeded", as the stale one was valid). */
			mprotect(ro_struct, PAGE, PROT_READ | PROT_WRITE);
			memcpy(ro_struct, sbuf_mem, n > PAGE ? PAGE : n > ksize ? n : ksize);
			mprotect(ro_struct, PAGE, PROT_READ);
			s->p = ro_struct;
			s->ro = s->valid && n <= PAGE;
			s->bad = !s->ro;
			break;
		case 2:
			s->p = edge + PAGE - (n > 1 ? 1 + rn(n - 1) : 0);
			memcpy(s->p, sbuf_mem, edge + PAGE - s->p);
			s->bad = true;
			break;
		default:
			s->p = hole;
			s->bad = true;
		}
	}
	return s->p;
}

/* ---- signals ----------------------------------------------------------- */

static volatile sig_atomic_t nsig;

static void on_alarm(int sig)
{
	(void)sig;
	nsig++;
}

/* Around a call that may block: a timer interrupts it every 1-3 ms. */
static void timer_on(void)
{
	struct itimerval it = { { 0, 1000 + rn(2000) }, { 0, 1000 + rn(2000) } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void timer_off(void)
{
	struct itimerval it = { 0 };

	setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- operations -------------------------------------------------------- */

static int err_of(long ret)
{
	return ret < 0 ? errno : 0;
}

static const uint32_t shared_es[NSHARED] = { 0, 1, 8, 16, 16, 24, 64, 4096, 16, 40, 16, 65536 };
static const uint32_t shared_cap[NSHARED] = { 0, 4, 0, 0, 1, 8, 64, 2, 256, 0, 3, 1 };

static void op_create(void)
{
	static const uint32_t es[] = { 0, 1, 8, 16, 33, 4096 };
	static const uint32_t caps[] = { 0, 1, 2, 8, 64 };
	struct gochan_create cr = { .size = sizeof(cr) };
	struct sbuf sb;
	void *arg;
	int fd, err;

	cr.elem_size = one_in(10) ? (uint32_t)rnd() : es[rn(ARRAY_SIZE(es))];
	cr.capacity = one_in(10) ? (uint32_t)rnd() >> rn(32) : caps[rn(ARRAY_SIZE(caps))];
	cr.flags = one_in(10) ? (uint32_t)rnd() : rn(4);
	if (one_in(16))
		cr.reserved[rn(3)] = rnd();
	arg = sbuf_make(&sb, &cr, sizeof(cr), GOCHAN_CREATE_SIZE_VER0);
	fd = ioctl(one_in(20) && npool ? pick()->fd : dev, GOCHAN_IOC_CREATE, arg);
	tick();
	err = err_of(fd);
	ALLOW("CREATE", err, EINVAL, E2BIG, ENOSPC, ENOMEM, EMFILE, ENFILE, EFAULT, ENOTTY);
	if (fd < 0)
		return;
	if (cr.capacity > MODEL_CAP || cr.elem_size > 4096 || sb.ro || !sb.good) {
		/* Too large to model, or made by a struct we did not see
		 * written back: share-less but unmodelled. */
		struct ent e = { fd, K_CHAN, cr.elem_size, cr.capacity, true, true, NULL, 0 };
		struct gochan_stat st = { .size = sizeof(st) };

		if (ioctl(fd, GOCHAN_IOC_STAT, &st))
			fail("STAT of a new channel: %s", strerror(errno));
		tick();
		e.es = st.elem_size;
		e.cap = st.capacity;
		add_stat(e, &st);
		return;
	}
	struct model *m = calloc(1, sizeof(*m));

	m->es = cr.elem_size;
	m->cap = cr.capacity;
	m_note(m, "CREATE fd %d flags %#x", fd, cr.flags);
	/* the id written back must be the one STAT gives (add() checks) */
	add((struct ent){ fd, K_CHAN, cr.elem_size, cr.capacity, true, true, m,
			  ((struct gochan_create *)arg)->id });
	m_check(&pool[npool - 1], "CREATE");
}

static uint32_t xfer_flags(__s64 *deadline)
{
	uint32_t r = rn(16);

	*deadline = 0;
	if (r < 10)
		return GOCHAN_XFER_NONBLOCK;
	if (r < 13) {
		*deadline = now_ns() + (one_in(3) ? -1000 : (int64_t)rn(2000000));
		return GOCHAN_XFER_DEADLINE;
	}
	if (r == 13)
		return (uint32_t)rnd();
	if (r == 14) {
		*deadline = rnd();
		return GOCHAN_XFER_DEADLINE | GOCHAN_XFER_NONBLOCK;
	}
	return 0;	/* blocking: the timer interrupts it */
}

/* GOCHAN_IOC_SEND / RECV on a random fd. */
static void op_xfer(bool send)
{
	struct ent *e = one_in(30) ? pick() : pick_chan(!one_in(3));
	struct gochan_xfer x = { .size = sizeof(x) };
	uint32_t es = e && e->kind == K_CHAN ? e->es : 8;
	enum ptr_kind pk;
	struct sbuf sb;
	unsigned char *buf;
	uint64_t tag = 0;
	void *arg;
	int ret, err;

	if (!e || (send && m_full(e->m, 1)))
		return;
	x.flags = xfer_flags(&x.deadline_ns);
	if (one_in(20))
		x.reserved0 = 1;
	if (one_in(20))
		x.reserved[rn(2)] = rnd();
	buf = ptr(es, &pk);
	if (send && es && pk == P_GOOD) {
		tag = new_tag();
		fill(buf, es, tag);
	}
	if (send && es && pk == P_RO) {
		/* Readable: a good source, if it fits the page. */
		tag = new_tag();
		mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
		fill(ro, es < PAGE ? es : PAGE, tag);
		mprotect(ro, PAGE, PROT_READ);
		if (es > PAGE)
			pk = P_EDGE;
	}
	x.buf = (uintptr_t)buf;
	arg = sbuf_make(&sb, &x, sizeof(x), GOCHAN_XFER_SIZE_VER0);
	if (!(x.flags & GOCHAN_XFER_NONBLOCK) || x.flags & ~GOCHAN_XFER_FLAGS)
		timer_on();
	ret = ioctl(e->fd, send ? GOCHAN_IOC_SEND : GOCHAN_IOC_RECV, arg);
	err = err_of(ret);
	timer_off();
	tick();
	ALLOW(send ? "SEND" : "RECV", err, EAGAIN, ETIMEDOUT, EPIPE, EINTR, EFAULT,
	      EBADF, EINVAL, E2BIG, ENOTTY);
	if (e->kind != K_CHAN)
		return;
	if (!e->m) {
		if (!send && !err && sb.good && ((struct gochan_xfer *)arg)->ok == 1 &&
		    pk == P_GOOD)
			got_shared(buf, es, "RECV");
		return;
	}
	struct model *m = e->m;
	bool well = (sb.good || sb.ro) && !(x.flags & ~GOCHAN_XFER_FLAGS) &&
		    !x.reserved0 && !x.reserved[0] && !x.reserved[1];
	bool buf_ok = !es || pk == P_GOOD || (send && pk == P_RO);

	fail_model = m;

	if (!well) {
		if (!err)
			fail("%s with a bad struct succeeded: size %u valid %d good %d ro %d "
			     "bad %d at %s%+td, flags %#x reserved0 %u reserved %#llx %#llx "
			     "deadline %lld",
			     send ? "SEND" : "RECV", sb.size, sb.valid, sb.good, sb.ro, sb.bad,
			     sb.p == sbuf_mem ? "sbuf" : sb.p == ro_struct ? "ro_struct" :
			     (sb.p >= edge && sb.p <= edge + 2 * PAGE) ? "edge" : "other",
			     sb.p == sbuf_mem || sb.p == ro_struct ? (ptrdiff_t)0 :
			     (sb.p >= edge && sb.p <= edge + 2 * PAGE) ?
			     (ptrdiff_t)(sb.p - (edge + PAGE)) : (ptrdiff_t)(uintptr_t)sb.p,
			     x.flags, x.reserved0, (unsigned long long)x.reserved[0],
			     (unsigned long long)x.reserved[1], (long long)x.deadline_ns);
	} else if (send) {
		if (!buf_ok) {
			if (err != EFAULT && !(m->closed && err == EPIPE))
				fail("SEND from a bad buffer: %s", strerror(err));
		} else if (m->closed) {
			if (err != EPIPE)
				fail("SEND on a closed channel: %s", strerror(err));
		} else if (m_room(m) == 1) {
			/* SEND writes nothing back: a read-only struct is
			 * fine. */
			if (err)
				fail("SEND with room in the ring: %s", strerror(err));
			m_push(m, tag);
		} else if (m_room(m) < 0) {
			if (!err)
				m_push(m, tag);
			else if (err != EAGAIN && err != ETIMEDOUT && err != EINTR)
				fail("SEND, maybe room: %s", strerror(err));
		} else if (err != EAGAIN && err != ETIMEDOUT && err != EINTR) {
			fail("SEND on a full channel: %s", err ? strerror(err) : "succeeded");
		}
	} else {
		struct gochan_xfer *xo = arg;

		if (m->len && buf_ok && sb.ro) {
			/* ok cannot be written back: EFAULT, and the header
			 * says a faulting RECV takes nothing (m_check()
			 * below sees whether it did). */
			if (err != EFAULT)
				fail("RECV with a read-only struct: %s",
				     err ? strerror(err) : "succeeded");
		} else if (m->len && buf_ok) {
			if (err)
				fail("RECV with %u buffered: %s", m->len, strerror(err));
			if (xo->ok != 1)
				fail("RECV with %u buffered: ok = %u", m->len, xo->ok);
			m_take(m, buf, 1, "RECV");
		} else if (m->len) {
			if (err != EFAULT)
				fail("RECV into a bad buffer: %s", err ? strerror(err) : "succeeded");
			m_gave_back(m, 1);
		} else if (m->closed) {
			if (err && !((sb.ro || !buf_ok) && err == EFAULT))
				fail("RECV on a closed, drained channel: %s", strerror(err));
			if (!err && xo->ok != 0)
				fail("RECV on a closed, drained channel: ok = %u", xo->ok);
		} else if (err != EAGAIN && err != ETIMEDOUT && err != EINTR &&
			   !(err == EFAULT && (!buf_ok || sb.ro))) {
			fail("RECV on an empty channel: %s", err ? strerror(err) : "succeeded");
		}
	}
	m_note(m, "%s flags %#x pk %d struct %s: err %d ok %u", send ? "SEND" : "RECV",
	       x.flags, pk, sb.good ? "good" : sb.ro ? "ro" : "bad", err,
	       err ? 0 : ((struct gochan_xfer *)arg)->ok);
	m_check(e, send ? "SEND" : "RECV");
}

/* read(2) / write(2) of a random length. */
static void op_rw(bool wr)
{
	struct ent *e = one_in(30) ? pick() : pick_chan(!one_in(3));
	uint32_t es, n;
	size_t len, room;
	enum ptr_kind pk;
	unsigned char *buf;
	uint64_t tags[MQ + 8];
	bool blocking;
	long ret;
	int err, fl;

	if (!e)
		return;
	es = e->kind == K_CHAN ? e->es : 8;
	n = rn(e->m ? 10 : 40);
	len = (size_t)n * es;
	if (es && (size_t)n * es > SCRATCH / 2)
		n = SCRATCH / 2 / es, len = (size_t)n * es;
	if (one_in(10) && es != 1)
		len += 1 + rn(es ? es - 1 : 7);		/* not whole elements */
	if (one_in(50) && !e->m && !wr)	/* a write sends only values we made */
		len = rnd() >> rn(64);
	if (wr && m_full(e->m, n + 1))
		return;
	buf = ptr(len, &pk);
	if (len > SCRATCH && pk == P_GOOD)
		len = (size_t)n * es;
	if (wr && pk == P_RO && es && len <= PAGE) {
		/* Readable: a good source. */
		mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
		for (uint32_t i = 0; i < n && i < ARRAY_SIZE(tags); i++) {
			tags[i] = new_tag();
			fill(ro + (size_t)i * es, es, tags[i]);
		}
		mprotect(ro, PAGE, PROT_READ);
	}
	/* the bytes of buf that are there: at the edge, fewer than len */
	room = pk == P_EDGE ? (size_t)(edge + PAGE - buf) : len;
	if (wr && (pk == P_GOOD || pk == P_EDGE) && es) {
		for (uint32_t i = 0; i < n && i < ARRAY_SIZE(tags); i++) {
			unsigned char tmp[GOCHAN_ELEM_SIZE_MAX];

			tags[i] = new_tag();
			fill(tmp, es, tags[i]);
			if ((size_t)i * es < room)
				memcpy(buf + (size_t)i * es, tmp,
				       room - (size_t)i * es < es ? room - (size_t)i * es : es);
		}
	}
	if (!wr && !e->m && (pk == P_GOOD || pk == P_EDGE))
		memset(buf, POISON_BYTE, room);
	fl = fcntl(e->fd, F_GETFL);
	tick();
	blocking = fl >= 0 && !(fl & O_NONBLOCK);
	if (blocking)
		timer_on();
	ret = wr ? write(e->fd, buf, len) : read(e->fd, buf, len);
	err = err_of(ret);
	timer_off();
	tick();
	if (e->kind == K_CHAN)
		ALLOW(wr ? "write" : "read", err, EAGAIN, EINTR, EINVAL, EFAULT, EBADF, EPIPE);
	if (e->kind != K_CHAN || ret <= 0 || !es || len > SCRATCH) {
		if (e->m && ret > 0 && !es)
			fail("%s on a signal channel returned %ld", wr ? "write" : "read", ret);
		goto check;
	}
	if (ret % es || (size_t)ret > len)
		fail("%s returned %ld for %zu bytes of %u-byte elements",
		     wr ? "write" : "read", ret, len, es);
	if (!e->m) {
		if (!wr && (pk == P_GOOD || pk == P_EDGE))
			for (long i = 0; i < ret / es; i++) {
				if (es >= 16 && !well_formed(buf + i * es, es, &(uint64_t){ 0 }))
					w_note("read of %zu bytes into %s+%#lx returned %ld: "
					       "element %ld is malformed", len,
					       pk == P_GOOD ? "scratch" : "edge",
					       (long)(buf - (pk == P_GOOD ? scratch : edge)), ret, i);
				got_shared(buf + i * es, es, "read");
			}
		return;
	}
	if (wr) {
		if (pk != P_GOOD && pk != P_RO)
			fail("write from a bad buffer (%d) returned %ld", pk, ret);
		for (long i = 0; i < ret / es; i++)
			m_push(e->m, tags[i]);
	} else {
		m_take(e->m, buf, ret / es, "read");
	}
check:
	if (e->m && e->kind == K_CHAN) {
		struct model *m = e->m;
		bool whole = es && len % es == 0;

		fail_model = m;

		/* A read into a bad buffer may have taken values it could not
		 * copy out: they went back to the front. */
		if (!wr && pk != P_GOOD && whole && len / es > (size_t)(ret > 0 ? ret : 0) / es)
			m_gave_back(m, len / es - (ret > 0 ? ret : 0) / es);
		/* What must have happened, given the model. */
		if (!len) {
			/* 0 at once; a signal channel refuses any length. */
			if (ret && !(!es && err == EINVAL) && !(pk != P_GOOD && err == EFAULT))
				fail("%s of 0 bytes returned %ld (%s), elem_size %u",
				     wr ? "write" : "read", ret, strerror(err), es);
		} else if (!es || !whole) {
			if (err != EINVAL && !(err == EFAULT && pk != P_GOOD))
				fail("%s of %zu bytes, %u-byte elements: %s", wr ? "write" : "read",
				     len, es, err ? strerror(err) : "no EINVAL");
		} else if (!wr && ret == 0 && len && !(m->closed && !m->len)) {
			fail("read returned 0 with %u buffered, closed %d", m->len, m->closed);
		} else if (!wr && err == EAGAIN && (m->len || m->closed)) {
			fail("read: EAGAIN with %u buffered, closed %d", m->len, m->closed);
		} else if (wr && err == EPIPE && !m->closed) {
			fail("write: EPIPE on an open channel");
		}
		m_note(m, "%s %zu bytes pk %d %s: ret %ld err %d", wr ? "write" : "read", len, pk,
		       blocking ? "blocking" : "nonblocking", ret, err);
		m_check(e, wr ? "write" : "read");
	}
}

static void op_close_chan(void)
{
	struct ent *e = one_in(20) ? pick() : pick_chan(!one_in(2));
	unsigned long arg = one_in(10) ? rnd() : 0;
	int err;

	if (!e || one_in(3))	/* closing is final: less often */
		return;
	err = err_of(ioctl(e->fd, GOCHAN_IOC_CLOSE, arg));
	tick();
	ALLOW("CLOSE", err, EPIPE, EINVAL, EBADF, ENOTTY);
	if (e->m && e->kind == K_CHAN) {
		fail_model = e->m;
		if (arg && err != EINVAL)
			fail("CLOSE with argument %#lx: %s", arg, strerror(err));
		if (!arg && (err ? err != EPIPE || !e->m->closed : e->m->closed))
			fail("CLOSE (closed before: %d): %s", e->m->closed,
			     err ? strerror(err) : "succeeded");
		if (!arg)
			e->m->closed = true;
		m_note(e->m, "CLOSE arg %#lx: err %d", arg, err);
		m_check(e, "CLOSE");
	}
}

static void op_stat(void)
{
	struct ent *e = pick();
	struct gochan_stat st = { .size = sizeof(st) };
	struct sbuf sb;
	void *arg;
	int err;

	if (!e)
		return;
	if (one_in(10))
		st.flags = rnd();
	arg = sbuf_make(&sb, &st, sizeof(st), GOCHAN_STAT_SIZE_VER0);
	err = err_of(ioctl(e->fd, GOCHAN_IOC_STAT, arg));
	tick();
	ALLOW("STAT", err, EINVAL, E2BIG, EFAULT, ENOTTY);
	if (!err && e->kind == K_CHAN && sb.good) {
		struct gochan_stat *o = arg;

		if (o->id != e->id)
			fail("STAT: fd %d reaches channel %" PRIu64 ", not channel %" PRIu64
			     " it was made on", e->fd, (uint64_t)o->id, e->id);
		if (o->elem_size != e->es || o->capacity != e->cap || o->reserved0 ||
		    o->reserved1 || (sb.size >= sizeof(st) && (o->reserved[0] || o->reserved[1])))
			fail("STAT: elem_size %u capacity %u (want %u %u), reserved not 0",
			     o->elem_size, o->capacity, e->es, e->cap);
	}
}

/*
 * A select set (GOCHAN_IOC_SELSET) made on @fd from @n cases of @case_size
 * bytes at @cases (@wild: sometimes with bad flags or reserved fields): its
 * fd, or -errno (the errors of the cases, as GOCHAN_IOC_SELECT has them,
 * and running out of fds).
 */
static int make_selset(int fd, const void *cases, uint32_t n, uint32_t case_size,
		       bool wild)
{
	struct gochan_selset ss = {
		.size = sizeof(ss), .flags = GOCHAN_SELSET_CLOEXEC,
		.cases = (uintptr_t)cases, .ncases = n, .case_size = case_size,
	};
	int set;

	if (wild && one_in(40))
		ss.flags = rnd();
	if (wild && one_in(40))
		ss.reserved[rn(2)] = 1;
	set = ioctl(fd, GOCHAN_IOC_SELSET, &ss);
	tick();
	if (set < 0) {
		int err = err_of(set);

		ALLOW("SELSET", err, EBADF, EINVAL, E2BIG, EMSGSIZE, EFAULT, ENOMEM,
		      EMFILE, ENFILE, ENOTTY);
		return -err;
	}
	return set;
}

/* op_select()'s call in the worker's log: its cases' fds and ops. */
static void sel_wnote(const char *what, const struct gochan_select_case *cs, uint32_t n,
		      int err, uint32_t index)
{
	char fds[64] = "";
	size_t k = 0;

	for (uint32_t i = 0; i < n && i < 8 && k < sizeof(fds); i++)
		k += snprintf(fds + k, sizeof(fds) - k, " %d%c", cs[i].fd,
			      cs[i].op == GOCHAN_OP_SEND ? 's' :
			      cs[i].op == GOCHAN_OP_RECV ? 'r' : '?');
	w_note("%s, cases%s: err %d index %u", what, n ? fds : " (not ours)", err, index);
}

static void op_select(void)
{
	static struct gochan_select_case cs[64];
	static struct ent *ce[64];
	struct gochan_select sel = { .size = sizeof(sel) };
	uint32_t n = rn(9), case_size = sizeof(cs[0]);
	struct sbuf sb;
	bool bad = false;
	int64_t dl = 0;
	void *arg, *cases = cs;
	int ret, err;

	if (one_in(30))
		n = rn(ARRAY_SIZE(cs));
	/* Exactly one case proceeds, so every send case can carry the same
	 * value (one tag, at the start of scratch's second half) and every
	 * receive case the same buffer (scratch's first half).  Modelled
	 * channels are left to op_select_model(): a model cannot follow a
	 * select that may pick one of them among bad cases. */
	uint64_t tag = new_tag();
	unsigned char *sendbuf = scratch + SCRATCH / 2, *recvbuf = scratch;

	uint32_t maxes = 0;

	memset(cs, 0, sizeof(cs));
	memset(ce, 0, sizeof(ce));
	for (uint32_t i = 0; i < n; i++) {
		struct ent *e = one_in(12) ? pick() : pick_chan(false);
		enum ptr_kind pk;

		if (e && e->m)
			e = NULL;
		ce[i] = e;
		cs[i].fd = e ? e->fd : -1;
		if (one_in(40))
			cs[i].fd = one_in(2) ? -1 : 1000 + (int)rn(10);
		cs[i].op = one_in(30) ? rn(5) : 1 + rn(2);
		if (e && e->kind == K_CHAN && e->es) {
			void *b = ptr(e->es, &pk);

			if (pk == P_GOOD)
				b = cs[i].op == GOCHAN_OP_SEND ? sendbuf : recvbuf;
			if (e->es > maxes)
				maxes = e->es;
			cs[i].buf = (uintptr_t)b;
		}
		if (one_in(60))
			cs[i].reserved = 1;
	}
	fill(sendbuf, maxes, tag);
	/* A read-only send buffer is a good source too: it must hold the
	 * same value (or fault, past its page). */
	mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
	fill(ro, maxes < PAGE ? maxes : PAGE, tag);
	mprotect(ro, PAGE, PROT_READ);
	sel.flags = rn(3) ? GOCHAN_SELECT_NONBLOCK : GOCHAN_SELECT_DEADLINE;
	if (sel.flags & GOCHAN_SELECT_DEADLINE)
		dl = now_ns() + (int64_t)rn(3000000);
	if (one_in(20))
		sel.flags = rnd(), dl = rnd();
	sel.deadline_ns = dl;
	if (one_in(20)) {
		switch (rn(6)) {
		case 0: n = GOCHAN_SELECT_CASES_MAX + 1 + rn(1000); break;
		case 1: n = 0xffffffffu; break;
		case 2: case_size = rn(GOCHAN_SELECT_CASE_SIZE_VER0); break;
		case 3: case_size = 4097 + rn(100); break;
		case 4: cases = edge + PAGE - 8 * (1 + rn(8)); break;
		default: cases = hole; break;
		}
		bad = true;
	}
	if (one_in(30)) {
		/* Bigger cases: zero tails, sometimes not. */
		static unsigned char big[64 * 40];

		memset(big, 0, sizeof(big));
		case_size = 40;
		for (uint32_t i = 0; i < n && i < 64; i++)
			memcpy(big + i * 40, &cs[i], sizeof(cs[i]));
		if (n && one_in(3))
			big[rn(n < 64 ? n : 64) * 40 + 24 + rn(16)] = 1;
		if (n > 64)
			n = 64;
		cases = big;
	}
	sel.cases = (uintptr_t)cases;
	sel.ncases = n;
	sel.case_size = case_size;
	if (one_in(30))
		sel.reserved[rn(2)] = 1;
	(void)bad;
	arg = sbuf_make(&sb, &sel, sizeof(sel), GOCHAN_SELECT_SIZE_VER0);
	/* One in three through a select set made from the same cases: the
	 * set's select takes the struct without cases. */
	if (sb.good && one_in(3)) {
		int set = make_selset(one_in(3) ? dev : (npool ? pick()->fd : dev),
				      cases, n, case_size, true);
		struct gochan_select *so = arg;

		if (set < 0)
			return;
		so->cases = 0;
		so->ncases = 0;
		so->case_size = 0;
		if (!(sel.flags & GOCHAN_SELECT_NONBLOCK))
			timer_on();
		ret = ioctl(set, GOCHAN_IOC_SELECT, arg);
		err = err_of(ret);
		timer_off();
		close(set);
		tick();
		sel_wnote("SELECT on a set", cs, cases == cs ? n : 0, err, so->index);
		ALLOW("SELECT on a set", err, EAGAIN, ETIMEDOUT, EPIPE, EINTR, EINVAL,
		      EFAULT, ENOMEM);
		if ((!err || err == EPIPE) && cases == cs) {
			if (so->index >= n)
				fail("SELECT on a set: index %u of %u cases", so->index, n);
			struct ent *e = ce[so->index];

			if (!err && e && e->kind == K_CHAN &&
			    cs[so->index].op == GOCHAN_OP_RECV && so->ok == 1 &&
			    cs[so->index].buf == (uintptr_t)recvbuf)
				got_shared(recvbuf, e->es, "SELECT on a set");
		}
		return;
	}
	if (!(sel.flags & GOCHAN_SELECT_NONBLOCK))
		timer_on();
	ret = ioctl(one_in(3) ? dev : (npool ? pick()->fd : dev), GOCHAN_IOC_SELECT, arg);
	err = err_of(ret);
	timer_off();
	tick();
	sel_wnote("SELECT", cs, cases == cs && sb.good ? n : 0, err,
		  sb.good ? ((struct gochan_select *)arg)->index : 0);
	ALLOW("SELECT", err, EAGAIN, ETIMEDOUT, EPIPE, EINTR, EBADF, EINVAL, E2BIG,
	      EMSGSIZE, EFAULT, ENOMEM, ENOTTY);
	if ((!err || err == EPIPE) && sb.good && cases == cs) {
		struct gochan_select *so = arg;

		if (so->index >= n)
			fail("SELECT: index %u of %u cases", so->index, n);
		struct ent *e = ce[so->index];

		if (!err && e && e->kind == K_CHAN && cs[so->index].op == GOCHAN_OP_RECV &&
		    so->ok == 1 && cs[so->index].buf == (uintptr_t)recvbuf)
			got_shared(recvbuf, e->es, "SELECT");
	}
}

/* op_select_model()'s call, in the history of every channel it named. */
static void sel_note(struct ent **ce, const struct gochan_select_case *cs, uint32_t n,
		     const struct gochan_select *sel, int err)
{
	for (uint32_t i = 0; i < n; i++)
		m_note(ce[i]->m, "model SELECT, case %u of %u (%s): err %d index %u ok %u", i, n,
		       cs[i].op == GOCHAN_OP_SEND ? "send" : "recv", err, sel->index, sel->ok);
}

/* A select whose outcome the model can follow: cases over modelled
 * channels only, well formed, good buffers, non-blocking. */
static void op_select_model(void)
{
	struct gochan_select_case cs[6];
	struct ent *ce[6];
	uint64_t tags[6];
	struct gochan_select sel = { .size = sizeof(sel), .flags = GOCHAN_SELECT_NONBLOCK };
	uint32_t n = 1 + rn(6);
	bool ready = false, maybe = false;
	int err;

	memset(cs, 0, sizeof(cs));
	for (uint32_t i = 0; i < n; i++) {
		struct ent *e = pick_chan(true);

		if (!e)
			return;
		ce[i] = e;
		cs[i].fd = e->fd;
		cs[i].op = 1 + rn(2);
		cs[i].buf = (uintptr_t)(scratch + i * 66000);
		if (cs[i].op == GOCHAN_OP_SEND) {
			if (m_full(e->m, 1))
				return;
			tags[i] = new_tag();
			fill(scratch + i * 66000, e->es, tags[i]);
			ready |= m_room(e->m) == 1;
			maybe |= m_room(e->m) != 0;
		} else {
			ready |= e->m->len || e->m->closed;
		}
	}
	sel.cases = (uintptr_t)cs;
	sel.ncases = n;
	sel.case_size = sizeof(cs[0]);
	if (one_in(2)) {
		/* The same select through a select set made for it: the model
		 * holds it to the same outcome. */
		int set = make_selset(dev, cs, n, sizeof(cs[0]), false);

		if (set < 0) {
			if (set != -EMFILE && set != -ENFILE && set != -ENOMEM)
				fail("model SELSET: %s", strerror(-set));
			return;
		}
		sel.cases = 0;
		sel.ncases = 0;
		sel.case_size = 0;
		err = err_of(ioctl(set, GOCHAN_IOC_SELECT, &sel));
		close(set);
	} else {
		err = err_of(ioctl(dev, GOCHAN_IOC_SELECT, &sel));
	}
	tick();
	if (!ready && (!maybe || err == EAGAIN)) {
		sel_note(ce, cs, n, &sel, err);
		if (err != EAGAIN)
			fail("model SELECT, no case ready: %s", err ? strerror(err) : "succeeded");
		return;
	}
	if (err && err != EPIPE)
		fail("model SELECT, a case ready: %s", strerror(err));
	if (sel.index >= n)
		fail("model SELECT: index %u of %u", sel.index, n);
	struct model *m = ce[sel.index]->m;

	fail_model = m;
	if (cs[sel.index].op == GOCHAN_OP_SEND) {
		if (m->closed != (err == EPIPE))
			fail("model SELECT: send case, closed %d: %s", m->closed, strerror(err));
		if (!m->closed) {
			if (!m_room(m))
				fail("model SELECT chose a send on a full channel");
			m_push(m, tags[sel.index]);
		}
	} else {
		if (err)
			fail("model SELECT: recv case: %s", strerror(err));
		if (m->len) {
			if (sel.ok != 1)
				fail("model SELECT: recv with %u buffered: ok %u", m->len, sel.ok);
			m_take(m, scratch + sel.index * 66000, 1, "SELECT");
		} else if (!m->closed || sel.ok != 0) {
			fail("model SELECT: recv on an empty channel (closed %d, ok %u)",
			     m->closed, sel.ok);
		}
	}
	sel_note(ce, cs, n, &sel, err);
	m_check(ce[sel.index], "SELECT");
}

static void op_poll(void)
{
	struct pollfd p[8];
	int n = 1 + rn(8), ret;

	for (int i = 0; i < n; i++) {
		struct ent *e = pick();

		p[i] = (struct pollfd){ e ? e->fd : -1, POLLIN | POLLOUT | POLLPRI, 0 };
	}
	ret = poll(p, n, 0);
	tick();
	if (ret < 0)
		ALLOW("poll", errno, EINTR, ENOMEM);
	for (int i = 0; i < n && ret >= 0; i++) {
		struct ent *e = NULL;

		for (int j = 0; j < npool; j++)
			if (pool[j].fd == p[i].fd)
				e = &pool[j];
		if (!e || !e->m)
			continue;
		struct model *m = e->m;
		short in = m->len || m->closed ? POLLIN : 0;
		short out = m_room(m) == 1 ? POLLOUT : 0;
		short hup = m->closed ? POLLHUP : 0;
		short mask = POLLIN | POLLHUP | (m_room(m) < 0 ? 0 : POLLOUT);

		if ((p[i].revents & mask) != ((in | out | hup) & mask))
			fail("poll: revents %#x, model len %u cap %u closed %d",
			     p[i].revents, m->len, m->cap, m->closed);
	}
}

static int ep = -1;

static void op_epoll(void)
{
	struct epoll_event ev[8];
	struct ent *e = pick();
	int err;

	if (ep < 0) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		tick();
	}
	if (e && !one_in(3)) {
		struct epoll_event one = { .events = rnd() & (EPOLLIN | EPOLLOUT | EPOLLET |
							     EPOLLONESHOT | EPOLLHUP) };

		err = err_of(epoll_ctl(ep, 1 + rn(3), e->fd, &one));
		tick();
		ALLOW("epoll_ctl", err, EEXIST, ENOENT, EPERM, EINVAL, ENOMEM);
	}
	err = err_of(epoll_wait(ep, ev, 8, one_in(10)));
	tick();
	ALLOW("epoll_wait", err, EINTR);
}

/* SCM_RIGHTS: pass an fd through a socketpair to ourselves. */
static int sp[2] = { -1, -1 };

static void op_scm(void)
{
	struct ent *e = pick();
	char cbuf[CMSG_SPACE(sizeof(int))];
	char b = 'x';
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd;

	if (!e || npool >= POOL_MAX)
		return;
	if (sp[0] < 0) {
		socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp);
		tick();
	}
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &e->fd, sizeof(int));
	if (sendmsg(sp[0], &mh, MSG_DONTWAIT) != 1)
		fail("sendmsg SCM_RIGHTS: %s", strerror(errno));
	tick();
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(sp[1], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
		fail("recvmsg SCM_RIGHTS: %s", strerror(errno));
	tick();
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		fail("recvmsg: no SCM_RIGHTS");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	struct ent n = *e;

	n.fd = fd;
	add(n);
}

static void op_dup_or_drop(void)
{
	struct ent *e = pick();

	if (!e)
		return;
	if (npool > 12 && (one_in(2) || npool >= POOL_MAX - 2)) {
		if (e->kind != K_DEV || e->fd != dev)
			drop(e);
		return;
	}
	struct ent n = *e;

	n.fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 3);
	tick();
	if (n.fd >= 0)
		add(n);
}

static const char *const odd_names[] = { "", "a b", "\x01", "very-long-name-that-goes-on-"
	"and-on-and-on-past-sixty-four-bytes-of-name", "\xff\xfe", "/", "." };

static const char *name_of(char *buf)
{
	const char *const *odd = odd_names;

	if (one_in(10))
		return odd[rn(ARRAY_SIZE(odd_names))];
	sprintf(buf, "fz-%u", rn(8));
	return buf;
}

static void op_named(void)
{
	char nb[32];
	const char *name = name_of(nb);
	enum ptr_kind pk = P_GOOD;
	void *np = one_in(12) ? ptr(8, &pk) : (void *)name;
	struct sbuf sb;
	void *arg;
	int ret, err;

	/* Whatever the pointer, the kernel finds one of our names there or
	 * faults: a stray name would outlive the run and hold its ring
	 * against max_total_bytes. */
	if (np != name) {
		if (pk == P_GOOD) {
			strcpy(np, name);
		} else if (pk == P_RO) {
			mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
			strcpy(np, name);
			mprotect(ro, PAGE, PROT_READ);
		} else if (pk == P_EDGE) {
			memset(np, 'x', edge + PAGE - (unsigned char *)np);
		}
	}

	if (one_in(4)) {
		struct gochan_unlink ul = { .size = sizeof(ul), .name = (uintptr_t)np };

		if (one_in(20))
			ul.flags = 1;
		arg = sbuf_make(&sb, &ul, sizeof(ul), GOCHAN_UNLINK_SIZE_VER0);
		err = err_of(ioctl(dev, GOCHAN_IOC_UNLINK, arg));
		tick();
		ALLOW("UNLINK", err, ENOENT, EPERM, EINVAL, ENAMETOOLONG, E2BIG, EFAULT);
		return;
	}
	struct gochan_open op = {
		.size = sizeof(op),
		.flags = one_in(10) ? (uint32_t)rnd() : rn(64),
		.name = (uintptr_t)np,
		.mode = one_in(10) ? (uint32_t)rnd() : 0600,
		.elem_size = one_in(4) ? 24 : 16,
		.capacity = rn(3) * 4,
	};

	if (one_in(20))
		op.reserved0 = 1;
	arg = sbuf_make(&sb, &op, sizeof(op), GOCHAN_OPEN_SIZE_VER0);
	ret = ioctl(dev, GOCHAN_IOC_OPEN, arg);
	err = err_of(ret);
	tick();
	ALLOW("OPEN", err, ENOENT, EEXIST, EACCES, ENAMETOOLONG, EINVAL, E2BIG, EFAULT,
	      ENOSPC, ENOMEM, EMFILE, ENFILE);
	if (ret >= 0) {
		struct gochan_stat st = { .size = sizeof(st) };

		if (ioctl(ret, GOCHAN_IOC_STAT, &st))
			fail("STAT of a named channel: %s", strerror(errno));
		tick();
		add_stat((struct ent){ ret, K_CHAN, st.elem_size, st.capacity,
				       !!(op.flags & GOCHAN_OPEN_SEND),
				       !!(op.flags & GOCHAN_OPEN_RECV), NULL,
				       sb.good ? ((struct gochan_open *)arg)->id : 0 }, &st);
	}
}

/* Random ioctl numbers: every one the module does not know is ENOTTY or
 * EINVAL, never a crash. */
static void op_bad_ioctl(void)
{
	struct ent *e = one_in(3) ? NULL : pick();
	static const unsigned long known[] = { GOCHAN_IOC_CREATE, GOCHAN_IOC_OPEN,
		GOCHAN_IOC_UNLINK, GOCHAN_IOC_SELECT, GOCHAN_IOC_SELSET, GOCHAN_IOC_SEND,
		GOCHAN_IOC_RECV, GOCHAN_IOC_CLOSE, GOCHAN_IOC_STAT, GOCHAN_IOC_CANCEL };
	unsigned long cmd;
	enum ptr_kind pk;
	int err;

	switch (rn(3)) {
	case 0: cmd = _IOC(rn(4), GOCHAN_IOC_MAGIC, rn(32), rn(1 << 14)); break;
	case 1: cmd = known[rn(ARRAY_SIZE(known))] ^ (1ul << rn(32)); break;
	default: cmd = (uint32_t)rnd(); break;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(known); i++)
		if (cmd == known[i])
			return;
	if (e && e->kind == K_OTHER)
		return;
	err = err_of(ioctl(e ? e->fd : dev, cmd, ptr(64, &pk)));
	tick();
	w_note("bad ioctl %#lx on fd %d: err %d", cmd, e ? e->fd : dev, err);
	/* The module's own magic: a number it does not know is refused
	 * whole (not matched by _IOC_NR alone).  Other numbers may be the
	 * VFS's (FIOCLEX, FIONBIO ...): anything but a crash. */
	if (_IOC_TYPE(cmd) == GOCHAN_IOC_MAGIC) {
		if (!err)
			fail("unknown ioctl %#lx succeeded", cmd);
		ALLOW("unknown ioctl", err, ENOTTY, EINVAL);
	}
}

static void op_proc(void)
{
	char path[64], b[4096];
	struct ent *e = pick();
	int fd;

	if (one_in(3)) {
		enum ptr_kind pk;
		size_t len = rn(3) ? sizeof(b) : rn(64);
		void *p = one_in(4) ? ptr(len, &pk) : b;
		long ret;

		fd = open(GOCHAN_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		tick();
		if (fd < 0)
			fail("open %s: %s", GOCHAN_DEVICE_PATH, strerror(errno));
		while ((ret = read(fd, p, len)) > 0)
			tick();
		tick();
		if (ret < 0)
			ALLOW("read /dev/gochan", errno, EFAULT, EINVAL);
		close(fd);
		tick();
		return;
	}
	if (!e)
		return;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", e->fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	tick();
	if (fd < 0)
		return;
	while (read(fd, b, sizeof(b)) > 0)
		tick();
	close(fd);
	tick();
}

/* ---- io_uring ---------------------------------------------------------- */

static struct io_uring ring;
static bool have_ring;
#define IOBUF_SIZE	(64 * 1024 + 65536)	/* 64 KiB transfers, and commands */
static unsigned char *iobuf[IO_BUFS];
static bool iobusy[IO_BUFS];		/* iobuf[i] owned by an operation in flight */
static bool have_files;			/* the ring has IO_BUFS registered-file slots */
/*
 * An operation issued from io-wq: dups of the fds it names, kept until its
 * CQE.  [0] is its own fd's, so that a CANCEL reaches its command however
 * the pool's fd changed meanwhile; [1 + i] a SELECT command's case i's:
 * io-wq looks the cases' fds up when it issues the command, and they must
 * still name the channels they were picked for (-1: none).
 */
static int slot_dup[IO_BUFS][1 + 4] = { [0 ... IO_BUFS - 1] = { -1, -1, -1, -1, -1 } };

static void slot_dup_close(int slot)
{
	for (unsigned i = 0; i < ARRAY_SIZE(slot_dup[slot]); i++) {
		if (slot_dup[slot][i] >= 0) {
			close(slot_dup[slot][i]);
			tick();
		}
		slot_dup[slot][i] = -1;
	}
}

/* A dup of fd above the pool's numbers, kept for slot's operation. */
static int slot_dup_add(int slot, unsigned i, int fd)
{
	slot_dup[slot][i] = fcntl(fd, F_DUPFD_CLOEXEC, 256);
	tick();
	return slot_dup[slot][i];
}
static int inflight;

/*
 * A gochan io_uring command in flight (IORING_OP_URING_CMD with a real
 * cmd_op), for checking its CQE: a RECV's element, or a SELECT's receive
 * case's, lands in iobuf[slot] when the CQE is posted.
 */
#define CMD_CASES	4
_Static_assert(ARRAY_SIZE(slot_dup[0]) == 1 + CMD_CASES, "a dup per case");
#define CMD_BUF_OFF	4096			/* iobuf: cases, then elements, */
#define CMD_CASE_BUF	16384			/* room per select case */
#define CMD_ARG_OFF	(CMD_BUF_OFF + CMD_CASES * CMD_CASE_BUF)	/* then the struct */
struct iocmd {
	uint32_t cmd_op;			/* 0: a random command */
	int fd;					/* submitted on (for cancelling) */
	uint32_t es;				/* RECV: element size */
	bool rbuf_ours;				/* RECV: buf is in iobuf[slot] */
	uint32_t ncases;			/* SELECT */
	uint32_t case_es[CMD_CASES];
	bool case_recv[CMD_CASES];	/* a receive case (into iobuf) */
};
static struct iocmd iocmd[IO_BUFS];

static void cmd_cqe(int slot, int res);

static void reap(bool wait)
{
	struct io_uring_cqe *cqe;

	while (inflight) {
		struct __kernel_timespec ts = { 0, 20 * 1000000 };
		int ret = wait ? io_uring_wait_cqe_timeout(&ring, &cqe, &ts) :
				 io_uring_peek_cqe(&ring, &cqe);

		tick();
		if (ret)
			return;
		uint64_t ud = cqe->user_data;
		int res = cqe->res;

		io_uring_cqe_seen(&ring, cqe);
		if (ud >> 32 == 0xca11)
			continue;	/* a cancel's own completion */
		inflight--;
		int op = ud >> 16 & 0xff, slot = ud & 0xff;
		uint32_t es = ud >> 40;

		iobusy[slot] = false;
		slot_dup_close(slot);
		if (!(ud >> 39 & 1))
			continue;	/* not a channel: any result will do */
		switch (op) {
		case IORING_OP_READ:
			if (res < 0)
				ALLOW("uring READ", -res, EAGAIN, EINTR, EINVAL, EFAULT,
				      ECANCELED, EBADF);
			else if (es)
				for (int i = 0; i < res / (int)es; i++)
					got_shared(iobuf[slot] + (size_t)i * es, es, "uring READ");
			break;
		case IORING_OP_WRITE:
			if (res < 0)
				ALLOW("uring WRITE", -res, EAGAIN, EINTR, EINVAL, EFAULT,
				      ECANCELED, EPIPE, EBADF);
			break;
		case IORING_OP_POLL_ADD:
			if (res < 0)
				ALLOW("uring POLL_ADD", -res, ECANCELED, EINVAL, EBADF);
			break;
		case IORING_OP_URING_CMD:
			cmd_cqe(slot, res);
			break;
		}
	}
}

static void cmd_cancel_all(void);

/*
 * Whether the kernel cancels queued uring_cmds itself when their ring goes
 * (6.7+: cancelable commands, the module's IO_URING_F_CANCEL path).
 */
static bool kernel_cancels_cmds(void)
{
	static int v = -1;
	struct utsname u;
	int major = 0, minor = 0;

	if (v < 0) {
		v = !uname(&u) && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
		    (major > 6 || (major == 6 && minor >= 7));
	}
	return v;
}

/* Leave io_uring: requests still in flight are cancelled by the kernel, and
 * their buffers are left to them (a new ring gets new ones).  The module's
 * queued commands are cancelled first, unless @leave_cmds_to_kernel and the
 * kernel cancels them itself (6.7+): on 6.1 a ring being torn down waits
 * for them, and warns after five minutes. */
static void uring_teardown(bool leave_cmds_to_kernel)
{
	if (!leave_cmds_to_kernel || !kernel_cancels_cmds())
		cmd_cancel_all();
	io_uring_queue_exit(&ring);
	tick();
	have_ring = false;
	inflight = 0;
	memset(iobusy, 0, sizeof(iobusy));
	for (int i = 0; i < IO_BUFS; i++)
		slot_dup_close(i);
}

/*
 * Submit the one SQE just prepared.  It must not stay in the ring: the
 * kernel looks its fd up when it consumes it, and by then this worker may
 * have closed that fd and made a modelled channel on the same number, which
 * a stale WRITE would then feed behind the model's back: a model would see
 * a value it never sent (one failure of that shape, "SEND: STAT len 5 ...
 * model len 4" with every call on the channel right, is not yet explained).
 * A submission that leaves it there (io_uring_enter failed, e.g. -EAGAIN
 * when no request could be allocated) is retried after reaping; if the SQE
 * still stays, the ring goes, and the SQE with it.  Returns whether it was
 * submitted.
 */
static bool uring_submit_one(void)
{
	for (int tries = 0; tries < 3; tries++) {
		int ret = io_uring_submit(&ring);

		tick();
		if (ret < 0)
			ALLOW("io_uring_enter", -ret, EAGAIN, EBUSY, EINTR, EINVAL, EBADF);
		if (!io_uring_sq_ready(&ring))
			return ret > 0;
		reap(true);
	}
	uring_teardown(false);
	return false;
}

/* The CQE of a URING_CMD on a channel fd (see "io_uring commands" in the
 * uapi header for what each may end with). */
static void cmd_cqe(int slot, int res)
{
	const struct iocmd *ic = &iocmd[slot];
	unsigned char *b = iobuf[slot] + CMD_BUF_OFF;
	int err = res < 0 ? -res : 0;
	bool moved = false;

	switch (ic->cmd_op) {
	case GOCHAN_IOC_SEND:
		if (res > 0)
			fail("uring SEND command: res %d", res);
		ALLOW("uring SEND command", err, EPIPE, ECANCELED, EAGAIN, ETIMEDOUT,
		      EFAULT, EBADF, EINVAL, E2BIG, ENOMEM);
		moved = res == 0;
		break;
	case GOCHAN_IOC_RECV:
		if (res > 1)
			fail("uring RECV command: res %d", res);
		ALLOW("uring RECV command", err, ECANCELED, EAGAIN, ETIMEDOUT,
		      EFAULT, EBADF, EINVAL, E2BIG, ENOMEM);
		moved = res == 1;
		if (moved && ic->rbuf_ours)
			got_shared(b, ic->es, "uring RECV command");
		break;
	case GOCHAN_IOC_SELECT:
		if (res < 0) {
			ALLOW("uring SELECT command", err, ECANCELED, EAGAIN, ETIMEDOUT,
			      EFAULT, EBADF, EINVAL, E2BIG, EMSGSIZE, ENOMEM);
			break;
		}
		uint32_t i = res & GOCHAN_SELECT_RES_INDEX;

		if (i >= ic->ncases || (res & ~(GOCHAN_SELECT_RES_INDEX |
						GOCHAN_SELECT_RES_OK | GOCHAN_SELECT_RES_CLOSED)) ||
		    ((res & GOCHAN_SELECT_RES_OK) && (res & GOCHAN_SELECT_RES_CLOSED)))
			fail("uring SELECT command: res %#x of %u cases", res, ic->ncases);
		/* a receive that got a value, or a send not refused by close */
		moved = ic->case_recv[i] ? res & GOCHAN_SELECT_RES_OK :
					   !(res & GOCHAN_SELECT_RES_CLOSED);
		if ((res & GOCHAN_SELECT_RES_OK) && ic->case_recv[i])
			got_shared(b + i * CMD_CASE_BUF, ic->case_es[i], "uring SELECT command");
		break;
	case GOCHAN_IOC_CANCEL:
		/* ECANCELED: io_uring's own cancel reached it in io-wq first */
		ALLOW("uring CANCEL command", err, ENOENT, EINVAL, E2BIG,
		      EFAULT, EBADF, ECANCELED);
		return;
	default:
		/* A cmd_op the module does not know, or a random area: it must
		 * be refused, whatever the reason. */
		ALLOW("uring URING_CMD", err, EOPNOTSUPP, EINVAL, ENOTTY,
		      EFAULT, E2BIG, EBADF, EAGAIN, ECANCELED, EPIPE, ETIMEDOUT, ENOMEM);
		return;
	}
	if (moved)
		__atomic_add_fetch(&shm->cmd_moved, 1, __ATOMIC_RELAXED);
	else if (err == ECANCELED || err == ETIMEDOUT)
		__atomic_add_fetch(&shm->cmd_cancelled, 1, __ATOMIC_RELAXED);
}

/* Flags and a deadline for a command: most end by themselves (at once, or
 * within 20 ms); a few wait until cancelled. */
static uint32_t cmd_flags(__s64 *deadline, uint32_t nonblock, uint32_t dl_flag)
{
	uint32_t r = rn(20);

	*deadline = 0;
	if (r < 5)
		return nonblock;
	if (r < 17) {
		*deadline = now_ns() + (int64_t)rn(20000000);
		return dl_flag;
	}
	if (r == 17)
		return (uint32_t)rnd();
	return 0;
}

/*
 * A gochan command (SEND, RECV, SELECT, CANCEL) on channel e: its structs
 * in iobuf[slot] (or a bad pointer, or a bad struct), with key 0-3 so
 * that a CANCEL may find it.  The module reads the structs when io_uring
 * issues the command: within io_uring_enter(), or later from io-wq when
 * @async (IOSQE_ASYNC).  Received elements land later, in iobuf[slot].
 */
static void cmd_prep(struct io_uring_sqe *sqe, struct ent *e, int slot, bool async)
{
	static const uint32_t ops[] = { GOCHAN_IOC_SEND, GOCHAN_IOC_RECV, GOCHAN_IOC_SELECT,
					GOCHAN_IOC_CANCEL };
	struct iocmd *ic = &iocmd[slot];
	unsigned char *b = iobuf[slot] + CMD_BUF_OFF;
	struct gochan_uring_cmd uc = { .key = rn(4) };

	_Static_assert(CMD_ARG_OFF + sizeof(sbuf_mem) <= IOBUF_SIZE, "iobuf too small");
	struct sbuf sb;
	void *arg = NULL;

	memset(ic, 0, sizeof(*ic));
	ic->cmd_op = ops[rn(ARRAY_SIZE(ops))];
	ic->fd = e->fd;
	if (ic->cmd_op == GOCHAN_IOC_SEND || ic->cmd_op == GOCHAN_IOC_RECV) {
		struct gochan_xfer x = { .size = sizeof(x) };

		x.flags = cmd_flags(&x.deadline_ns, GOCHAN_XFER_NONBLOCK, GOCHAN_XFER_DEADLINE);
		x.buf = (uintptr_t)b;
		if (one_in(16)) {
			enum ptr_kind pk;

			x.buf = (uintptr_t)ptr(e->es, &pk);
			if (pk == P_GOOD || pk == P_RO || pk == P_EDGE)
				x.buf = (uintptr_t)hole;	/* scratch changes before the CQE */
		}
		ic->es = e->es;
		ic->rbuf_ours = x.buf == (uintptr_t)b;
		if (ic->cmd_op == GOCHAN_IOC_SEND && e->es)
			fill(b, e->es, new_tag());
		else if (e->es)
			memset(b, POISON_BYTE, e->es);	/* a CQE's value never written shows */
		if (one_in(30))
			x.reserved[rn(2)] = rnd();
		arg = sbuf_make(&sb, &x, sizeof(x), GOCHAN_XFER_SIZE_VER0);
	} else if (ic->cmd_op == GOCHAN_IOC_SELECT) {
		struct gochan_select_case *cs = (void *)iobuf[slot];
		struct gochan_select sel = { .size = sizeof(sel) };
		uint64_t tag = new_tag();
		uint32_t n = rn(CMD_CASES + 1);	/* 0: EINVAL for a command */

		memset(cs, 0, CMD_CASES * sizeof(*cs));
		for (uint32_t i = 0; i < n; i++) {
			struct ent *c = pick_chan(false);

			if (!c || c->es > CMD_CASE_BUF) {
				n = i;
				break;
			}
			cs[i].fd = c->fd;
			if (async) {
				if (slot_dup_add(slot, 1 + i, c->fd) < 0) {
					n = i;
					break;
				}
				cs[i].fd = slot_dup[slot][1 + i];
			}
			cs[i].op = one_in(40) ? rn(4) : 1 + rn(2);
			cs[i].buf = (uintptr_t)(b + i * CMD_CASE_BUF);
			ic->case_es[i] = c->es;
			if (cs[i].op == GOCHAN_OP_SEND)
				fill(b + i * CMD_CASE_BUF, c->es, tag);
			else
				memset(b + i * CMD_CASE_BUF, POISON_BYTE, c->es);
			ic->case_recv[i] = cs[i].op == GOCHAN_OP_RECV;
		}
		ic->ncases = n;
		sel.flags = cmd_flags(&sel.deadline_ns, GOCHAN_SELECT_NONBLOCK,
				      GOCHAN_SELECT_DEADLINE);
		sel.cases = (uintptr_t)cs;
		sel.ncases = n;
		sel.case_size = sizeof(*cs);
		if (one_in(30))
			sel.cases = (uintptr_t)hole;
		arg = sbuf_make(&sb, &sel, sizeof(sel), GOCHAN_SELECT_SIZE_VER0);
	} else {
		struct gochan_cancel cn = { .size = sizeof(cn) };

		if (one_in(2))
			cn.flags = GOCHAN_CANCEL_ALL;
		else
			cn.key = rn(4);
		if (one_in(20))
			cn.flags = rnd();
		arg = sbuf_make(&sb, &cn, sizeof(cn), GOCHAN_CANCEL_SIZE_VER0);
		if (!one_in(4))
			uc.key = 0;	/* a CANCEL's own key must be 0 */
	}
	if (async && arg == sbuf_mem) {
		/* Issued from io-wq after this call has returned, when
		 * sbuf_mem holds another call's struct: the copy in the slot
		 * stays the command's until its CQE. */
		memcpy(iobuf[slot] + CMD_ARG_OFF, sbuf_mem, sizeof(sbuf_mem));
		arg = iobuf[slot] + CMD_ARG_OFF;
	} else if (async && (arg == ro_struct ||
			     ((unsigned char *)arg >= edge && (unsigned char *)arg <= edge + PAGE))) {
		/* So are ro_struct and the edge page, by the next call that
		 * picks them. */
		arg = hole;
	}
	uc.arg = (uintptr_t)arg;
	if (one_in(30))
		uc.arg = rnd();
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = e->fd;
	sqe->off = ic->cmd_op;			/* cmd_op */
	memcpy(sqe->cmd, &uc, sizeof(uc));
}

/* Ask the module to end this worker's commands on every channel it has
 * some in flight on, so that a full set of slots drains (on 6.1,
 * IORING_OP_ASYNC_CANCEL cannot reach them). */
static void cmd_cancel_all(void)
{
	for (int i = 0; i < IO_BUFS; i++) {
		struct gochan_cancel cn = { .size = sizeof(cn), .flags = GOCHAN_CANCEL_ALL };
		int err;

		if (!iobusy[i] || !iocmd[i].cmd_op)
			continue;
		/* The fd may be closed or another file by now: any error
		 * but a crash (closing it cancelled the command already). */
		err = err_of(ioctl(iocmd[i].fd, GOCHAN_IOC_CANCEL, &cn));
		tick();
		w_note("CANCEL ALL on fd %d (slot %d): err %d", iocmd[i].fd, i, err);
		ALLOW("CANCEL", err, ENOENT, ENOTTY, EBADF, EINVAL);
	}
}

static void op_uring(void)
{
	struct io_uring_sqe *sqe;
	struct ent *e = one_in(20) ? pick() : pick_chan(false);
	uint32_t es = e && e->kind == K_CHAN ? e->es : 8;
	int slot, op, ret;

	/* Modelled channels are never given to io_uring: an operation that
	 * completes later would move values behind the model's back. */
	if (!e || e->m)
		return;
	if (have_ring && inflight && one_in(100)) {
		/* A ring torn down under its queued commands: on 6.7+ the
		 * kernel cancels them through the module (IO_URING_F_CANCEL). */
		w_note("ring torn down with %d operations in flight", inflight);
		uring_teardown(true);
		return;
	}
	if (!have_ring) {
		struct io_uring_params p = { 0 };

		if (one_in(2))
			p.flags |= IORING_SETUP_SQE128;
		ret = io_uring_queue_init_params(16, &ring, &p);
		tick();
		if (ret == -EINVAL && (p.flags & IORING_SETUP_SQE128)) {
			memset(&p, 0, sizeof(p));
			ret = io_uring_queue_init_params(16, &ring, &p);
			tick();
		}
		if (ret)
			return;	/* io_uring off in this kernel */
		have_ring = true;
		/* A slot of registered files per iobuf, for the operations
		 * issued from io-wq (see below). */
		have_files = io_uring_register_files_sparse(&ring, IO_BUFS) == 0;
		tick();
		for (int i = 0; i < IO_BUFS; i++)
			iobuf[i] = malloc(IOBUF_SIZE);
	}
	if (inflight >= IO_BUFS - 1 || one_in(8)) {
		/* Cancel everything still parked and collect it. */
		cmd_cancel_all();
		sqe = io_uring_get_sqe(&ring);
		if (sqe) {
			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
			sqe->user_data = 0xca11ull << 32;
			if (!uring_submit_one() && !have_ring)
				return;
		}
		reap(true);
		if (inflight >= IO_BUFS - 1)
			return;
	}
	for (slot = 0; slot < IO_BUFS && iobusy[slot]; slot++)
		;
	if (slot == IO_BUFS)
		return;
	sqe = io_uring_get_sqe(&ring);
	if (!sqe)
		return;
	/* Half are commands: the module's own asynchronous path. */
	op = (int[]){ IORING_OP_READ, IORING_OP_WRITE, IORING_OP_POLL_ADD,
		      IORING_OP_URING_CMD, IORING_OP_URING_CMD,
		      IORING_OP_URING_CMD }[rn(6)];
	uint32_t n = 1 + rn(4);
	size_t len = (size_t)n * es;
	/* A quarter go straight to io-wq: issued from a worker thread, without
	 * the ring's uring_lock, where a ring teardown can cancel a command
	 * while its submission is still under way.  io-wq looks a plain fd
	 * up when it issues the request, after this call has returned and
	 * perhaps closed that fd and made a modelled channel on its number
	 * (one run failed so: "read: received an element the model does not
	 * have"), and also after a ring teardown: these go through the slot's
	 * registered file, which holds the file they were meant for. */
	bool sqe_async = have_files && one_in(4);

	if (sqe_async) {
		if (slot_dup_add(slot, 0, e->fd) < 0 ||
		    io_uring_register_files_update(&ring, slot, &e->fd, 1) != 1) {
			slot_dup_close(slot);
			sqe_async = false;
		}
		tick();
	}

	if (len > 64 * 1024)
		len = es, n = 1;
	if (one_in(10))
		len += 1;
	iocmd[slot].cmd_op = 0;
	switch (op) {
	case IORING_OP_READ:
		io_uring_prep_read(sqe, e->fd, iobuf[slot], len, 0);
		break;
	case IORING_OP_WRITE:
		for (uint32_t i = 0; i < n && es; i++)
			fill(iobuf[slot] + (size_t)i * es, es, new_tag());
		io_uring_prep_write(sqe, e->fd, iobuf[slot], len, 0);
		break;
	case IORING_OP_POLL_ADD:
		io_uring_prep_poll_add(sqe, e->fd, POLLIN | POLLOUT);
		break;
	default:
		if (e->kind == K_CHAN && !one_in(4)) {
			cmd_prep(sqe, e, slot, sqe_async);
			if (sqe_async)
				iocmd[slot].fd = slot_dup[slot][0];	/* for CANCEL */
			break;
		}
		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_URING_CMD;
		sqe->fd = e->fd;
		sqe->off = rn(4) ? rn(64) : (uint32_t)rnd();	/* cmd_op */
		for (int i = 0; i < 16; i++)
			((unsigned char *)sqe->cmd)[i] = one_in(2) ? 0 : rnd();
		if (one_in(4))
			sqe->addr = rnd();
		break;
	}
	sqe->user_data = (uint64_t)es << 40 | (uint64_t)(e->kind == K_CHAN) << 39 |
			 (uint64_t)op << 16 | slot;
	if (sqe_async) {
		sqe->fd = slot;
		sqe->flags |= IOSQE_ASYNC | IOSQE_FIXED_FILE;
	}
	if (uring_submit_one()) {
		inflight++;
		iobusy[slot] = true;
		w_note("uring op %d (cmd_op %#x%s) on fd %d, %zu bytes, slot %d", op,
		       iocmd[slot].cmd_op, sqe_async ? ", async" : "", e->fd, len, slot);
	} else {
		slot_dup_close(slot);
		w_note("uring op %d on fd %d: not submitted (ring %s)", op, e->fd,
		       have_ring ? "kept" : "torn down");
	}
	if (have_ring)
		reap(false);
}

/* ---- fork and kill ------------------------------------------------------- */

/* A child that blocks on a shared channel, to be SIGKILLed there (or to
 * finish first). */
static void op_fork(void)
{
	struct ent *e = pick_chan(false);
	pid_t pid;

	if (!e || !e->es || e->es > 4096)
		return;
	w_note("fork: a child on fd %d", e->fd);
	pid = fork();
	tick();
	if (pid < 0)
		return;
	if (pid == 0) {
		unsigned char b[4096 * 2];
		struct gochan_xfer x = { .size = sizeof(x), .buf = (uintptr_t)b };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(2);	/* never outlive the run by much */
		if (one_in(2)) {
			fill(b, e->es, new_tag());
			if (ioctl(e->fd, GOCHAN_IOC_SEND, &x) == 0)
				_exit(0);
		} else {
			if (ioctl(e->fd, GOCHAN_IOC_RECV, &x) == 0 && x.ok)
				got_shared(b, e->es, "RECV in a child");
		}
		_exit(0);
	}
	__atomic_add_fetch(&shm->forks, 1, __ATOMIC_RELAXED);
	if (one_in(4)) {
		/* Let it block first, sometimes. */
		struct timespec ts = { 0, 200000 };

		nanosleep(&ts, NULL);
	}
	if (!one_in(4)) {
		kill(pid, SIGKILL);
		__atomic_add_fetch(&shm->kills, 1, __ATOMIC_RELAXED);
	}
	tick();
	if (one_in(4)) {
		/* Reap later, in bulk: a killed child exits while we work. */
		return;
	}
	waitpid(pid, NULL, 0);
	tick();
}

/* ---- a worker ------------------------------------------------------------ */

static void worker(int idx, const int *shared)
{
	static const struct { void (*fn)(void); int weight; } ops[] = {
		{ op_create, 4 }, { NULL /* send */, 14 }, { NULL /* recv */, 14 },
		{ NULL /* write */, 8 }, { NULL /* read */, 8 }, { op_close_chan, 2 },
		{ op_stat, 4 }, { op_select, 8 }, { op_select_model, 6 }, { op_poll, 4 },
		{ op_epoll, 3 }, { op_scm, 2 }, { op_dup_or_drop, 5 }, { op_named, 4 },
		{ op_bad_ioctl, 3 }, { op_proc, 1 }, { op_uring, 6 }, { op_fork, 1 },
	};
	struct sigaction sa = { .sa_handler = on_alarm };
	int total = 0;

	me = idx;
	rs = mix64(shm->seed ^ mix64(0x5eed0000ull + idx));
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: blocking calls end */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);

	scratch = mmap(NULL, SCRATCH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	edge = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro_struct = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hole = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED || edge == MAP_FAILED || ro == MAP_FAILED ||
	    ro_struct == MAP_FAILED || hole == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	mprotect(edge + PAGE, PAGE, PROT_NONE);
	mprotect(ro + PAGE, PAGE, PROT_NONE);

	dev = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		fail("open %s: %s", GOCHAN_DEVICE_PATH, strerror(errno));
	add((struct ent){ dev, K_DEV, 0, 0, false, false, NULL, 0 });
	for (int i = 0; i < NSHARED; i++)
		add((struct ent){ shared[i], K_CHAN, shared_es[i], shared_cap[i], true, true, NULL, 0 });
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), pfd[2];

	if (efd >= 0)
		add((struct ent){ efd, K_OTHER, 0, 0, false, false, NULL, 0 });
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) == 0) {
		add((struct ent){ pfd[0], K_OTHER, 0, 0, false, false, NULL, 0 });
		add((struct ent){ pfd[1], K_OTHER, 0, 0, false, false, NULL, 0 });
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++)
		total += ops[i].weight;
	while (!done()) {
		int r = rn(total), i = 0;

		while (r >= ops[i].weight)
			r -= ops[i++].weight;
		fail_model = NULL;
		switch (i) {
		case 1: op_xfer(true); break;
		case 2: op_xfer(false); break;
		case 3: op_rw(true); break;
		case 4: op_rw(false); break;
		default: ops[i].fn(); break;
		}
		if ((ncall & 255) == 0)
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
	}
	if (have_ring) {
		struct io_uring_sqe *sqe;

		cmd_cancel_all();
		sqe = io_uring_get_sqe(&ring);

		if (sqe) {
			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
			sqe->user_data = 0xca11ull << 32;
			io_uring_submit(&ring);
		}
		reap(true);
		io_uring_queue_exit(&ring);
	}
	while (npool)
		drop(&pool[0]);
	while (wait(NULL) > 0)
		;
	_exit(0);
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr, "usage: %s [-s SEED] [-n CALLS] [-w WORKERS] [-W ONLY] [-t SECS] "
		"[-x ro-out]\n"
		"  -W ONLY    run worker ONLY of WORKERS alone (a replay)\n"
		"  -x ro-out  never put a struct the kernel writes back (RECV's, SELECT's)\n"
		"             in read-only memory (the module takes a value then fails\n"
		"             with EFAULT: see selftests/gochan/efault.c)\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = 0, calls = 200000;
	int secs = 0, opt, shared[NSHARED], rc = 0;
	bool have_seed = false;
	pid_t pids[NW_MAX];
	int64_t start;

	argv0 = argv[0];
	while ((opt = getopt(argc, argv, "s:n:w:W:t:x:vh")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); have_seed = true; break;
		case 'n': calls = strtoull(optarg, NULL, 0); break;
		case 'w': nworkers = atoi(optarg); break;
		case 'W': only_worker = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 'v': verbose = true; break;
		case 'x':
			if (strcmp(optarg, "ro-out"))
				usage();
			no_ro_out = true;
			break;
		default: usage();
		}
	}
	if (nworkers < 1 || nworkers > NW_MAX || only_worker >= nworkers)
		usage();
	if (!have_seed)
		seed = mix64((uint64_t)now_ns() ^ ((uint64_t)getpid() << 32));
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\n# gochan-fuzz: seed %" PRIu64 ", %d workers, %" PRIu64 " calls%s\n",
	       seed, only_worker >= 0 ? 1 : nworkers, calls,
	       only_worker >= 0 ? " (one worker replayed)" : "");
	if (access(GOCHAN_DEVICE_PATH, F_OK)) {
		printf("ok 1 gochan-fuzz # SKIP %s absent (module not loaded)\n",
		       GOCHAN_DEVICE_PATH);
		return 0;
	}
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		printf("not ok 1 gochan-fuzz # mmap: %s\n", strerror(errno));
		return 1;
	}
	shm->seed = seed;
	shm->target = calls;
	shm->end_ns = secs > 0 ? now_ns() + (int64_t)secs * 1000000000LL : INT64_MAX;

	/* The shared pool: made here, inherited by every worker. */
	dev = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	for (int i = 0; i < NSHARED; i++) {
		struct gochan_create cr = { .size = sizeof(cr), .elem_size = shared_es[i],
					    .capacity = shared_cap[i],
					    .flags = i % 3 == 1 ? GOCHAN_CREATE_NONBLOCK : 0 };

		shared[i] = dev < 0 ? -1 : ioctl(dev, GOCHAN_IOC_CREATE, &cr);
		if (shared[i] < 0) {
			printf("not ok 1 gochan-fuzz # making the shared channels: %s\n",
			       strerror(errno));
			return 1;
		}
	}
	close(dev);
	start = now_ns();
	shm->start_ns = start;
	for (int w = 0; w < nworkers; w++) {
		if (only_worker >= 0 && w != only_worker) {
			pids[w] = -1;
			continue;
		}
		pids[w] = fork();
		if (pids[w] == 0)
			worker(w, shared);
	}
	for (int i = 0; i < NSHARED; i++)
		close(shared[i]);
	for (int w = 0; w < nworkers; w++) {
		int status;

		if (pids[w] <= 0)
			continue;
		/* A worker stuck in the kernel is a failure too: wait at
		 * most until everyone else is long done. */
		while (waitpid(pids[w], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			rc = 1;
			if (!shm->failed)
				snprintf(shm->why, sizeof(shm->why),
					 "worker %d died (status %#x)\n# reproduce: %s -s %"
					 PRIu64 " -w %d -n %" PRIu64, w, status, argv0, seed,
					 nworkers, calls);
		}
	}
	/* The workers' names go, and their rings with them: a later test
	 * may count on max_total_bytes to the byte. */
	dev = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	for (unsigned int i = 0; i < 8 + ARRAY_SIZE(odd_names) && dev >= 0; i++) {
		char name[16];
		struct gochan_unlink ul = { .size = sizeof(ul), .name = (uintptr_t)name };

		if (i < 8)
			snprintf(name, sizeof(name), "fz-%u", i);
		else
			ul.name = (uintptr_t)odd_names[i - 8];
		ioctl(dev, GOCHAN_IOC_UNLINK, &ul);
	}
	double secs_run = (now_ns() - start) / 1e9;
	uint64_t done_calls = shm->calls < calls ? shm->calls : calls;

	printf("# gochan-fuzz: %" PRIu64 " calls in %.1f s: %.0f calls/s; %" PRIu64
	       " values checked against models, %" PRIu64 " tagged values from shared "
	       "channels, %" PRIu64 " forks, %" PRIu64 " SIGKILLs, io_uring commands: %"
	       PRIu64 " moved a value, %" PRIu64 " cancelled or timed out\n",
	       done_calls, secs_run, done_calls / (secs_run > 0 ? secs_run : 1),
	       shm->model_rx, shm->shared_rx, shm->forks, shm->kills, shm->cmd_moved,
	       shm->cmd_cancelled);
	if (rc || shm->failed) {
		printf("# gochan-fuzz: FAILED: %s\n", shm->why);
		printf("not ok 1 gochan-fuzz seed %" PRIu64 "\n", seed);
		return 1;
	}
	printf("ok 1 gochan-fuzz seed %" PRIu64 "\n", seed);
	return 0;
}
