/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gochan-fuzz internals, grouped by the file that defines them.  What the
 * program does and checks: the top of main.c.
 *
 *   main.c   options, shared memory, the workers, the call count, the call
 *            logs, failure reports and the summary line
 *   model.c  values and their tags, the pool of fds, modelled channels
 *   ptr.c    the pointer generator, struct buffers, the special pages
 *   ops.c    the system-call operations, one op_*() each, and the timer
 *            that interrupts blocking calls
 *   uring.c  io_uring: the ring, its slots, commands, teardown, CQE checks
 *
 * Glossary:
 *   worker  one of the WORKERS processes.  Every global below is a
 *           worker's own but *shm, which all of them share.
 *   call    one system call, counted by tick(); the run ends after CALLS
 *           of them (or SECS seconds).
 *   pool    the fds a worker holds (struct ent), which operations pick.
 *   model   a channel only this worker can reach (struct model): its exact
 *           content, a FIFO of tags.
 *   shared  a channel the worker has no model of (made before the fork,
 *           named, too large to model, or made by a struct whose write-back
 *           it did not see): values from it are checked for form and
 *           uniqueness only.
 *   tag     worker << 32 | sequence number: the identity of a value sent,
 *           written into it (fill()).
 */
#ifndef GOCHAN_FUZZ_H
#define GOCHAN_FUZZ_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <linux/gochan.h>

#include "../common/clock.h"
#include "../common/rand.h"

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

/* ---- main.c: the run and its workers ----------------------------------- */

/* Shared by every worker (MAP_SHARED), made by main() before the fork. */
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
	uint64_t dups;			/* GOCHAN_IOC_DUPs that made an fd */
	uint64_t autoclosed;		/* modelled channels closed by their
					 * last sender's close(2) */
	int failed;
	char why[1024];
	uint8_t seen[NW_MAX][(1u << SEQ_BITS) / 8];
};

extern struct shm *shm;
extern int me;				/* worker index */
extern bool no_ro_out;			/* -x ro-out */

/* The random stream (splitmix64): a worker's, seeded by worker() from the
 * master seed and the worker's index. */
extern uint64_t rs;

static inline uint64_t rnd(void)
{
	return splitmix64(&rs);
}

static inline uint32_t rn(uint32_t n)	/* 0..n-1 */
{
	return splitmix64_below(&rs, n);
}

static inline bool one_in(uint32_t n)
{
	return rn(n) == 0;
}

/*
 * Call logs: rings of the last few calls, one line each, printed when the
 * worker fails.  A model keeps the calls on its channel (m_note()); the
 * worker keeps every call that made, closed or used an fd by number,
 * whatever the channel (w_note()).
 */
typedef char note_line[120];

int note_vadd(note_line *ring, unsigned int cap, unsigned int *n, const char *fmt, va_list ap);
void note_dump(const note_line *ring, unsigned int cap, unsigned int n);
void w_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct model;
extern const struct model *fail_model;	/* the channel the current check is about */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
bool tick(void);

/* err must be 0 or in the -1-terminated list; else fail. */
#define ALLOW(what, err, ...) allow(what, err, (const int[]){ __VA_ARGS__, -1 })

void allow(const char *what, int err, const int *ok);

/* ---- model.c: values, the pool, models --------------------------------- */

/*
 * A receive buffer is filled with this before a read(2) of shared values, so
 * that a malformed value tells bytes the kernel never wrote (still poison)
 * from bytes it wrote wrong.
 */
#define POISON_BYTE	0xa5
#define POISON_WORD	(0x0101010101010101ull * POISON_BYTE)

void fill(void *p, uint32_t es, uint64_t tag);
bool well_formed(const void *p, uint32_t es, uint64_t *tag);
uint64_t new_tag(void);
void got_shared(const void *p, uint32_t es, const char *via);

/* A channel only this worker (and no child, no other worker) can reach:
 * its content is known exactly.  Only the pool's fds hold its files (a
 * child of op_fork() closes them at once, io_uring never gets them, a
 * select set is closed by the call that made it), so with
 * GOCHAN_CREATE_CLOSE_ON_LAST_SENDER it is closed exactly when the pool's
 * last fd that can send on it goes (drop()). */
struct model {
	uint32_t es, cap;
	bool closed;
	bool autoclose;			/* made with CLOSE_ON_LAST_SENDER */
	int senders;			/* pool fds on it that can send */
	unsigned int head, len;
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
	bool can_send, can_recv;	/* its direction (CREATE, OPEN and DUP
					 * may give one only) */
	struct model *m;		/* NULL: shared, not modelled */
	uint64_t id;			/* K_CHAN: the channel's id, from STAT at add() */
};

extern struct ent pool[POOL_MAX];
extern int npool;
extern int dev;				/* the worker's /dev/gochan */

struct ent *pick(void);
struct ent *pick_chan(bool modelled);
void add_stat(struct ent e, const struct gochan_stat *st);
void add(struct ent e);
void pool_dump(void);
void drop(struct ent *e);

void m_note(struct model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void m_dump(const struct model *m);
bool m_full(const struct model *m, uint32_t n);
void m_push(struct model *m, uint64_t tag);
int m_room(const struct model *m);
void m_take(struct model *m, const unsigned char *p, uint32_t n, const char *via);
void m_check(struct ent *e, const char *via);

/* ---- ptr.c: pointers and struct buffers -------------------------------- */

extern unsigned char *scratch;		/* SCRATCH bytes, read-write */
extern unsigned char *edge;		/* a RW page, then a PROT_NONE page */
extern unsigned char *ro;		/* a read-only page, for values */
extern unsigned char *ro_struct;	/* another, for structs */
extern void *hole;			/* an unmapped page */

enum ptr_kind { P_GOOD, P_NULL, P_KERNEL, P_NONCANON, P_HOLE, P_EDGE, P_RO, P_NR };

void ptr_init(void);
void *ptr(size_t len, enum ptr_kind *kind);

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

#define SBUF_MEM	(2 * 4096 + 64)
extern unsigned char sbuf_mem[SBUF_MEM];	/* where a struct usually sits */

void *sbuf_make(struct sbuf *s, const void *st, uint32_t ksize, uint32_t ver0);

/* ---- ops.c: the operations --------------------------------------------- */

static inline int err_of(long ret)
{
	return ret < 0 ? errno : 0;
}

void on_alarm(int sig);			/* SIGALRM: the timer around blocking calls */

void op_create(void);
void op_xfer(bool send);
void op_rw(bool wr);
void op_close_chan(void);
void op_stat(void);
void op_select(void);
void op_select_model(void);
void op_poll(void);
void op_epoll(void);
void op_scm(void);
void op_dup_or_drop(void);
void op_named(void);
void op_bad_ioctl(void);
void op_proc(void);
void op_fork(void);
void unlink_names(int fd);

/* ---- uring.c: io_uring ------------------------------------------------- */

void op_uring(void);
void uring_end(void);

#endif /* GOCHAN_FUZZ_H */
