/* SPDX-License-Identifier: MIT */
/*
 * lib/gc internals, grouped by the file that defines them.
 *
 * Glossary (Go's, runtime/mgc.go):
 *   white, grey, black  an object not marked yet; marked, its pointers not scanned yet (it
 *                  waits in a work buffer); marked and scanned (or noscan, or allocated
 *                  while the collector marks: allocated black).
 *   shade          make a white object grey (a no-op on grey and black ones).
 *   cycle          one collection; gc.cycle counts them (the one in progress included).
 *   phase          OFF (not marking: sweeping, or nothing), MARK (concurrent marking),
 *                  MARKTERM (mark termination, the world stopped).
 *   root job       a unit of root scanning: a data/bss segment, the registered roots, the
 *                  finalizers, one goroutine's stack.
 *   work buffer    a batch of grey objects (Go's workbuf); each P has two (struct gc_work),
 *                  full ones go to a global list where any marker takes them.
 *   scan work      bytes scanned: what the pacer plans and assists pay in.
 *   assist credit  bytes a goroutine may still allocate (g->gcassist > 0) or owes (< 0)
 *                  while the collector marks, at the assist ratio (scan work per byte).
 *   oblet          a 128 KiB piece of a large object, scanned as one unit of work.
 *   controller     the goroutine that runs the cycles (gc.c); workers, the goroutines that
 *                  mark in the background (worker.c); the sweeper, the one that sweeps.
 *
 * The cycle (gc.c), Go's four phases:
 *   sweep termination  (world stopped) sweeping is done; cycle++, phase MARK, the barrier on,
 *                      the stacks of goroutines stopped in program code scanned
 *   mark               roots and grey objects scanned by workers and assists; every
 *                      goroutine's stack scanned once, each while that goroutine is stopped
 *                      (parked, runnable, in a system call, at a safe point, or by signal)
 *   mark termination   (world stopped) no grey object, no root job and no unscanned stack
 *                      left (else the world restarts and marking goes on): phase OFF, the
 *                      barrier off, every cache's current spans back to central, sweep
 *                      generation + 2 (every span unswept), the next goal
 *   sweep              lazy (a span is swept before it is allocated from again) and the
 *                      background sweeper; finalizers of the dead queued as spans are swept
 *
 * The invariant marking keeps (Go's hybrid barrier, proposal 17503): once a goroutine's stack
 * is scanned it stays black without being scanned again, because every pointer store outside
 * stacks shades both the pointer overwritten and the pointer stored (go_wb), objects are
 * allocated black, and stacks are scanned one goroutine at a time while it is stopped. So a
 * white object the mutator can reach is reachable from a grey object or an unscanned stack:
 * when no grey object and no unscanned stack is left, every reachable object is black.
 * A goroutine stopped by the signal may have read the barrier's flag before the world
 * stopped and store after it restarts: its stack is scanned while the world is stopped
 * (sweep termination), registers included, so that what it stores was shaded.
 *
 * Mark bits are only set while the phase is MARK (or MARKTERM): a bit set outside would be
 * taken for the next cycle's. So every shade first checks the phase, in the runtime
 * (in_runtime > 0), where no stop-the-world can change it.
 *
 * Lock order: cycle.lock (gc.c) -> roots.reg.lock -> fin.lock -> lib/alloc's locks;
 * gc.work.lock and roots' stack iterator lock are spinlocks and leaves: a signal handler may
 * take them, on an M whose goroutine was not in the runtime, which never holds them there.
 * No lock of lib/gc is held across a call that may switch goroutines.
 */
#ifndef GOCHAN_LIB_GC_INTERNAL_H
#define GOCHAN_LIB_GC_INTERNAL_H

#include <gochan/gc.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../alloc/internal.h"
#include "../sched/internal.h"

#define gc_likely(x) __builtin_expect(!!(x), 1)
#define gc_unlikely(x) __builtin_expect(!!(x), 0)

/* Scanning reads memory the program writes concurrently and, conservatively, any word of a
 * stack or a data segment (redzones included): no sanitizer may instrument it. */
#if defined(__clang__)
#define GC_NOSANITIZE __attribute__((no_sanitize("address", "thread", "undefined")))
#else
#define GC_NOSANITIZE                                                                        \
	__attribute__((no_sanitize_address, no_sanitize_thread, no_sanitize_undefined))
#endif

enum gc_phase { GC_OFF = 0, GC_MARK, GC_MARKTERM };

/* ---- mark.c: grey objects, scanning, draining --------------------------------------------------- */

#define GC_WBUF_BYTES 4096
#define GC_WBUF_OBJS ((GC_WBUF_BYTES - 16) / 8)
#define GC_OBLET_BYTES (128 * 1024)

struct gc_wbuf {
	struct gc_wbuf *next;
	uint32_t n;
	uint32_t pad;
	uintptr_t obj[GC_WBUF_OBJS]; /* grey objects: an object's start, or an oblet's */
};
_Static_assert(sizeof(struct gc_wbuf) == GC_WBUF_BYTES, "work buffers are one page");

/*
 * struct gc_work - one marker's grey objects (Go's gcWork): a P's, or a marker's own (a
 * signal handler's, the verify mode's). A P's is used by one thread at a time: goroutines on
 * that P, in the runtime (in_runtime > 0), and the world-stopping controller.
 * buf holds pushes and pops; buf2 a second buffer, so that a marker at a buffer's edge
 * does not move one to and from the global list at every push and pop.
 * verify: marking the verify mode's check bits (verify.c) instead of the mark bits.
 */
struct gc_work {
	struct gc_wbuf *buf, *buf2;
	uint64_t bytes_marked; /* bytes of the objects this one marked (to gc.bytes_marked) */
	uint64_t scan_work;    /* bytes it scanned */
	bool verify;
	bool verify_lax;       /* verify: what is being scanned may hold stale words (below) */
	uintptr_t scanning;    /* verify: the object being scanned, for the report */
};

/* The global list of full buffers, and the empty ones (gc.work). */
struct gc_workq {
	uint32_t lock;         /* spinlock */
	struct gc_wbuf *full;
	struct gc_wbuf *empty;
	uint64_t nfull;        /* atomic reads */
};

void _go_gc_spin_lock(uint32_t *l);
void _go_gc_spin_unlock(uint32_t *l);
void _go_gc_work_init(struct gc_work *w);
void _go_gc_work_flush(struct gc_work *w);          /* every grey object to the global list */
bool _go_gc_work_empty(const struct gc_work *w);
bool _go_gc_work_peek_empty(const struct gc_work *w); /* from another thread: a hint */
void _go_gc_work_dispose(struct gc_work *w);        /* flush, and give its buffers back */
void _go_gc_work_discard_all(void);                 /* the global list emptied, unscanned */
/* Shade the object p points into, if it is a collected object (p: any word). */
void _go_gc_shade(struct gc_work *w, uintptr_t p);
/* Shade every aligned word of [lo, hi) (conservative roots, stacks). */
void _go_gc_scan_range(struct gc_work *w, const void *lo, const void *hi);
/* Scan the object at obj (its start) without marking it (finalizers' objects). */
void _go_gc_scan_object_contents(struct gc_work *w, uintptr_t obj);
/* Scan grey objects until none is left (here or on the global list), or until budget bytes
 * were scanned. A bounded drain (budget >= 0) also ends within 32 objects of a stop-the-world
 * being asked for (GO_SAFEPOINT_STW: the stopper waits for the caller's next safe point);
 * budget < 0: no limit, no stop (the world stopped, or the heap's tests). Returns the scan
 * work done. */
int64_t _go_gc_drain(struct gc_work *w, int64_t budget);
bool _go_gc_work_available(void);                   /* some full buffer on the global list */
/* The verify mode's hook: object at obj of span s (index idx) was reached by w; returns
 * whether it is an allocated object (to follow). */
bool _go_gc_verify_reached(struct gc_work *w, struct ga_span *s, uintptr_t obj, size_t idx);
bool _go_gc_verify_marked(struct ga_span *s, uintptr_t obj); /* its mark bit */

/* ---- alloc.c: allocation ------------------------------------------------------------------ */

/*
 * struct gc_p - what the collector keeps per P (gc.c: _go_gc_p(p)), used by the thread
 * running that P only, in the runtime, as the P's allocator cache is: the cache collected
 * objects come from, and its grey objects.
 */
struct gc_p {
	struct ga_cache *cache;
	struct gc_work w;
	uint32_t flush_gen;    /* gc.flush_gen when this P last flushed its grey objects;
	                        * written by its owner, store_release after the flush, read by
	                        * the cycle's goroutine on another P (worker.c) */
	bool want_cycle;       /* its heap_live crossed the trigger: the controller is told */
};

/* An object of size bytes from pp's cache, zeroed, black while the collector marks, counted
 * for the pacer: t NULL, conservative (noscan with GO_NEW_NOSCAN); else n elements of t. */
void *_go_gc_alloc(struct gc_p *pp, size_t size, unsigned flags, const struct go_type *t,
		   size_t n);

/* ---- roots.c ------------------------------------------------------------------------------ */

void _go_gc_data_roots_collect(void);               /* the segments, before a cycle's pauses */
size_t _go_gc_data_roots_count(void);
uint64_t _go_gc_data_roots_scan(struct gc_work *w, size_t i); /* returns bytes scanned */
uint64_t _go_gc_registered_roots_scan(struct gc_work *w);
void _go_gc_exclude_more(void *ranges, size_t *n);  /* gc.c: its own tables (struct gc_range) */
uint64_t _go_gc_scan_stack(struct gc_work *w, struct go_g *g, const void *sp,
			   const uintptr_t *regs, int nregs);
uint64_t _go_gc_scan_self(struct gc_work *w, struct go_g *g);
uint64_t _go_gc_scan_stopped_g(struct gc_work *w, struct go_g *g, struct go_g *self);
/* Root jobs of a cycle: _go_gc_roots_begin (sweep termination), then any marker takes the
 * next job; false when none is left to take. */
void _go_gc_roots_begin(void);
bool _go_gc_root_job(struct gc_work *w, struct go_g *self);
bool _go_gc_roots_done(void);                       /* every job taken and finished */
/* g (not running program code: parked, runnable, in a system call) scanned if it was not;
 * running ones are signalled (their handler scans them). Returns whether g is scanned. */
bool _go_gc_try_scan_g(struct gc_work *w, struct go_g *g, struct go_g *self);
void _go_gc_stacks_stragglers(struct gc_work *w, struct go_g *self);
/* The world stopped: the stacks of every goroutine stopped in program code (the signal). */
void _go_gc_scan_sigstopped(struct gc_work *w);
extern uint64_t _go_gc_stack_bytes_scanned;         /* this cycle's (atomic) */
extern uint64_t _go_gc_global_bytes_scanned;

/* ---- worker.c: background workers, assists, safe points ------------------------------------- */

void _go_gc_workers_start(void);                    /* this run's worker goroutines */
void _go_gc_workers_wake(void);                     /* marking began, or work came */
bool _go_gc_assist(struct go_g *g, struct gc_p *pp); /* g owes (gcassist < 0): pay; false:
							* it could not, the caller yields */
void _go_gc_safepoint(struct go_m *m, struct go_g *g);
void _go_gc_signal(struct go_m *m, struct go_g *g, void *uc);
bool _go_gc_mark_done(void);                        /* nothing left to mark, as far as seen */
void _go_gc_mark_concurrent(struct go_g *self);     /* the cycle's goroutine marks: until done */
extern uint32_t _go_gc_workers_busy;                /* workers with work in hand (atomic) */

/* ---- sweep.c ------------------------------------------------------------------------------ */

void _go_gc_sweep_finish(void);                     /* sweep every unswept span now */
void _go_gc_sweeper_start(void);                    /* this run's background sweeper */
void _go_gc_sweeper_wake(void);

/* ---- pacer.c ------------------------------------------------------------------------------ */

void _go_gc_pacer_init(void);                       /* GOGC, GOMEMLIMIT, the first goal */
void _go_gc_pacer_mark_begin(void);                 /* the assist ratio for this cycle */
void _go_gc_pacer_mark_end(uint64_t marked);        /* the next goal and trigger */
int64_t _go_gc_pacer_assist_debt(int64_t bytes);    /* scan work owed for allocating bytes */
uint64_t _go_gc_heap_goal(uint64_t marked);

/* ---- verify.c ----------------------------------------------------------------------------- */

bool _go_gc_verify_enabled(void);
void _go_gc_verify(struct go_g *self);              /* world stopped, marking done */

/* ---- trace.c ------------------------------------------------------------------------------ */

void _go_gc_trace_cycle(void);                      /* GODEBUG=gctrace=1: the last cycle */
bool _go_gc_trace_enabled(void);

/* ---- finalizer.c -------------------------------------------------------------------------- */

uint64_t _go_gc_finalizers_scan(struct gc_work *w); /* the finalizers root job */
void _go_gc_finalizers_start(void);                 /* queued ones: run them */
void _go_gc_finalizers_init(void);
void _go_gc_finalizers_run_end(void);
void _go_gc_finalizers_stats(uint64_t *run, uint64_t *queued);

/* ---- gc.c: the collector's state and the cycle ---------------------------------------------------- */

struct gc_cycle_times {
	int64_t start;             /* sweep termination's stop began */
	int64_t mark_start;        /* the world restarted, marking */
	int64_t markterm_start;    /* mark termination's stop began */
	int64_t end;               /* the world restarted after it */
	uint64_t heap_start;       /* heap_live when it started */
	uint64_t heap_end;         /* ... when marking ended */
	uint64_t marked;
	uint64_t goal;
	uint64_t mark_ns;          /* worker and assist time in this cycle */
	uint64_t assist_ns;
	uint32_t nprocs;
	uint32_t restarts;         /* mark terminations tried too early */
	bool forced;
};

struct gc_state {
	uint32_t phase;            /* enum gc_phase; atomic reads */
	uint32_t cycle;            /* cycles started (the one marking included) */
	uint64_t heap_lo, heap_hi; /* the arenas' extent when marking began: shade's filter */
	struct gc_workq work;
	uint32_t flush_gen;        /* bumped to ask every P to flush its grey objects */

	/* pacing (pacer.c) */
	int32_t percent;           /* GOGC; < 0: off */
	int64_t memory_limit;      /* GOMEMLIMIT; INT64_MAX: none */
	uint64_t heap_goal;        /* bytes */
	uint64_t heap_trigger;     /* a cycle starts when heap_live gets here */
	double trigger_ratio;      /* trigger = marked * (1 + trigger_ratio) */
	double assist_work_per_byte;
	int64_t bg_credit;         /* scan work done by workers beyond what assists owe */

	/* heap accounting, bytes (atomic) */
	int64_t heap_live;         /* marked by the last cycle, plus allocated since (spans
				    * taken by caches count whole, less what they give back) */
	uint64_t heap_marked;      /* found live by the last cycle */
	uint64_t bytes_marked;     /* this cycle's, summed at mark termination */
	uint64_t scan_work;        /* this cycle's scan work (atomic) */
	uint64_t total_alloc, total_objects;

	/* statistics */
	uint64_t cycles_done, forced;
	uint64_t stacks_bytes, globals_bytes;
	uint64_t pause_total, pause_max, last_pause[2], last_cycle_ns, last_end;
	uint64_t mark_ns, assist_ns;
	int64_t start_ns;          /* the first cycle's start (for gctrace's @s and %) */
	uint64_t cpu_total_ns;     /* GC time over all cycles (gctrace's %) */
	struct gc_cycle_times last;
	uint32_t pause_first, pause_count;
	uint64_t pause_ns[256], pause_end[256];
	uint8_t pause_kind[256];
};
extern struct gc_state _go_gc;

struct gc_p *_go_gc_p(struct go_p *p);   /* p's, its cache made on first use */
uint32_t _go_gc_p_flush_gen(uint32_t i); /* P i's flush_gen, read from any thread */
struct gc_p *_go_gc_p_at(uint32_t i);    /* by P id, NULL if never used */
void _go_gc_init(void);
void _go_gc_heap_bounds(void);           /* gc.heap_lo, gc.heap_hi from the arenas now */
void _go_gc_request(void);               /* the trigger: ask the controller for a cycle */
void _go_gc_controller_wake(void);       /* the mark may be done: look */
void _go_gc_fatal(const char *fmt, ...) __attribute__((noreturn, cold, format(printf, 1, 2)));

/* Mark from explicit roots and sweep, with no scheduler and no other thread using the
 * collected heap (the heap's own tests): every object reachable from roots[0..n) (words)
 * survives; pp's is the only cache that allocated collected objects. */
void _go_gc_collect_roots(struct gc_p *pp, const uintptr_t *roots, size_t n);
/* The same in two halves, for a test to drain in between: begin shades the roots into
 * pp->w; end drains what is left, then sweeps. */
void _go_gc_collect_begin(struct gc_p *pp, const uintptr_t *roots, size_t n);
void _go_gc_collect_end(struct gc_p *pp);

#ifdef GOCHAN_DEBUG_HOOKS
/* A test's code, run by the controller once marking has begun (the barrier on, the world
 * running, its own stack scanned) and before any marker starts (selftests/gc). */
extern void (*_go_gc_debug_mark_begun)(void);
#endif

#endif /* GOCHAN_LIB_GC_INTERNAL_H */
