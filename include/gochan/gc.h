/* SPDX-License-Identifier: MIT */
/*
 * gochan/gc.h - a garbage collector for goroutines: Go's concurrent tri-colour mark-sweep
 * with the hybrid write barrier, over the span heap of <gochan/alloc.h>.
 *
 * Non-generational, non-moving, concurrent (runtime/mgc.go). A cycle has Go's four phases:
 *   1. sweep termination  stop the world (briefly): every span swept, the barrier on;
 *   2. mark               concurrent: roots and grey objects are scanned by background
 *                         workers (about a quarter of the Ps) and by goroutines that
 *                         allocate (assists, in proportion to their allocation); objects
 *                         allocated meanwhile are black; each goroutine's stack is scanned
 *                         once, while that goroutine alone is stopped;
 *   3. mark termination   stop the world (briefly): the barrier off;
 *   4. sweep              concurrent and lazy: a span is swept before it is allocated from
 *                         again, a background goroutine sweeps the rest; empty spans go back
 *                         to the page heap and, through its scavenger, to the OS.
 * A cycle starts when the heap reaches its goal (below), or at go_gc().
 *
 * What is collected: only objects from go_new() and go_new_typed(). Memory from malloc(),
 * galloc() and mmap() is neither collected nor scanned (except registered roots, below).
 * An object is live while it is reachable from a root through pointers held in collected
 * objects. A pointer anywhere inside an object (an interior pointer) keeps it alive; a
 * pointer one past its end does not (it points into the next object): keep one to the
 * object itself.
 *
 * Roots:
 *   - every goroutine's stack and saved registers, scanned conservatively (any word that
 *     points into an object counts): a parked goroutine from its saved stack pointer, a
 *     running one when it reaches a safe point (an allocation, a channel operation, a yield,
 *     a park, a system call bracket) or is interrupted by the runtime's signal (SIGURG, the
 *     one the scheduler uses for hogs), a goroutine in a system call from the stack pointer
 *     saved by go_syscall_enter();
 *   - the data and bss of the program and of every library it has loaded, conservatively,
 *     except libgochan's own tables (they point at the heap's metadata, never at objects).
 *     Thread-local variables (__thread) are not roots;
 *   - the ranges registered with go_gc_root_add() (for pointers kept in malloc'd or mmap'd
 *     memory);
 *   - objects with a finalizer that has not run yet keep what they point to (not themselves).
 *
 * Threads: only goroutines may allocate collected objects or store pointers to them through
 * the barrier (the main goroutine of go_run included). A thread that is not a goroutine
 * cannot be stopped at a safe point, and its stack and registers cannot be scanned: go_new()
 * from such a thread, or a barrier store from one while the collector is marking, prints
 * "gochan: fatal error: <call> from a thread that is not a goroutine" and aborts (a
 * programmer error, as Go's fatal errors). Other threads may read collected objects they
 * reach through a root (a global, a registered root). Collections happen only while go_run()
 * runs; one in progress when go_run() returns is finished there.
 *
 * Conventions: functions returning int return 0 or a -errno value; none sets errno. A
 * misuse that would corrupt the heap (gfree() of a collected object, a non-goroutine thread
 * allocating) is reported on stderr and aborts.
 *
 * Environment (read at the first go_run() that allocates, as Go reads them at start):
 *   GOGC=<percent>|off      the heap goal's growth (default 100), see go_gc_set_percent();
 *   GOMEMLIMIT=<bytes>[KiB|MiB|GiB|TiB]|off   the soft memory limit, see
 *                           go_gc_set_memory_limit();
 *   GODEBUG=gctrace=1       one line per cycle on stderr (GOCHAN_GCTRACE=1 too): Go's
 *                           format, fields documented in the README;
 *   GODEBUG=gccheckmark=1   the verify mode (GOCHAN_GCVERIFY=1 too): after each concurrent
 *                           mark, the heap is marked again from the roots with the world
 *                           stopped, and a reachable object that concurrent marking left
 *                           white aborts the program naming it (for tests: slow pauses).
 */
#ifndef GOCHAN_GC_H
#define GOCHAN_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Allocation ---------------------------------------------------------------------------- */

/* The object holds no pointer to collected memory: it comes from a noscan span and is never
 * scanned. */
#define GO_NEW_NOSCAN 0x1u

/*
 * go_new - a collected object of size bytes, zeroed.
 * Without GO_NEW_NOSCAN the object is scanned conservatively: every aligned word that points
 * into a collected object keeps that object alive. Objects up to 32 KiB come from size
 * classes (aligned to 16, or to 8 in the 8- and 24-byte classes; a noscan object under 16
 * bytes takes a 16-byte slot: tiny objects are never collected), larger ones have pages of
 * their own. size 0 gives a unique minimum-size object.
 * Returns NULL only when out of memory. Aborts when called from a thread that is not a
 * goroutine (see Threads above).
 */
void *go_new(size_t size, unsigned flags);

/*
 * struct go_type - the layout of a type, for precise scanning (Go's _type, reduced).
 * @size:    bytes of one element (its sizeof)
 * @ptrdata: bytes of the prefix of an element that may hold pointers (a multiple of 8, at
 *           most size); 0: no pointers at all (the object is noscan)
 * @ptrmask: one bit per 8-byte word of that prefix, least significant bit first, 1 where
 *           the word is a pointer (to collected memory or not: it is looked up); NULL: every
 *           word of the prefix is one
 * @name:    for diagnostics (the verify mode names it)
 * Words the mask leaves out are never looked at: an integer there keeps nothing alive.
 */
struct go_type {
	size_t size;
	size_t ptrdata;
	const uint64_t *ptrmask;
	const char *name;
};

/*
 * go_new_typed - an array of n elements of type t, zeroed, scanned precisely by t's
 * pointer mask (n == 1 for one object). The object is noscan when t->ptrdata is 0.
 * Returns NULL when out of memory or when t->size * n overflows; aborts on an invalid t
 * (ptrdata not a multiple of 8 or larger than size) and as go_new() does.
 */
void *go_new_typed(const struct go_type *t, size_t n);

/*
 * GO_TYPE_DEFINE(name, T, field...) - define "static const struct go_type name" for the
 * struct T whose pointer fields are the fields named (up to 16; each 8-byte aligned, within
 * the first 64 words of T). For example:
 *	struct node { long key; struct node *left, *right; };
 *	GO_TYPE_DEFINE(node_type, struct node, left, right);
 *	struct node *n = go_new_typed(&node_type, 1);
 * A type with no pointer: GO_TYPE_DEFINE(name, T) (then go_new_typed() gives noscan objects).
 */
#define GO_TYPE_DEFINE(name, T, ...)                                                       \
	static const uint64_t name##_ptrmask_[1] = { GO_TYPE_MASK_(T, ##__VA_ARGS__) };     \
	static const struct go_type name = {                                               \
		sizeof(T),                                                                 \
		(size_t)(64 - __builtin_clzll(GO_TYPE_MASK_(T, ##__VA_ARGS__) | 1)) * 8 *  \
			(GO_TYPE_MASK_(T, ##__VA_ARGS__) != 0),                            \
		name##_ptrmask_, #T,                                                       \
	}

/* ---- The write barrier --------------------------------------------------------------------- */

/*
 * Which stores need the barrier: every store of a pointer into
 *   - a slot of a collected object (its fields, array elements),
 *   - a global or static variable (data, bss),
 *   - a range registered with go_gc_root_add();
 * and not:
 *   - a goroutine's own stack (locals, arguments; its stack is scanned as a whole),
 *   - a noscan object (it holds no pointers the collector cares about),
 *   - the fields of an object just returned by go_new() before any pointer to it has been
 *     stored anywhere but the stack (objects are allocated black while marking),
 *   - a non-pointer word (an integer, a pointer to memory that is not collected: those are
 *     harmless either way).
 * Reads need nothing. A store that should have used it may let the collector free an object
 * still in use: the verify mode (GODEBUG=gccheckmark=1) is the way to find one.
 *
 * go_wb - "*slot = ptr" with the barrier. While the collector is not marking it costs a load
 * of the old value, one load of the flag and one predictable branch; while it marks, both
 * the old value of *slot and ptr are shaded grey (Go's hybrid barrier: Yuasa's deletion
 * barrier and Dijkstra's insertion barrier), so that neither can be lost by a store into an
 * object already scanned.
 * The old value is read before the store and the flag after it (Go reads the flag first, but
 * Go's compiler puts no safe point inside the barrier; here the runtime's signal may stop a
 * goroutine at any instruction): a store the world stopped before is part of what marking
 * starts from, and one it stopped after is shaded, or has both values in registers or on
 * the stack, which mark termination scans (lib/gc/internal.h).
 * GO_WB(lvalue, value) - the same for any pointer-typed lvalue, type-checked:
 *	GO_WB(n->left, child);
 * go_wb_memmove / go_wb_memclr - memmove and memset(0) into memory holding pointers (a
 * struct copied into a collected object, an array slice); every word is shaded as go_wb
 * would. n is in bytes; dst and src need no alignment (their aligned words are the ones
 * scanned).
 */
extern uint32_t go_wb_enabled_; /* private: 1 while marking */
void go_wb_slow_(void *old, void *ptr);

static inline void go_wb(void **slot, void *ptr)
{
	void *old = *(void *volatile *)slot;

	__asm__ volatile("" ::: "memory");
	*(void *volatile *)slot = ptr;
	__asm__ volatile("" ::: "memory");
	if (__builtin_expect(__atomic_load_n(&go_wb_enabled_, __ATOMIC_RELAXED) != 0, 0))
		go_wb_slow_(old, ptr);
}

#define GO_WB(lvalue, value)                                                               \
	do {                                                                               \
		__typeof__(lvalue) *go_wb_slot_ = &(lvalue);                               \
		__typeof__(lvalue) go_wb_val_ = (value);                                   \
		_Static_assert(__builtin_classify_type(lvalue) == 5,                       \
			       "GO_WB stores a pointer");                                   \
		go_wb((void **)go_wb_slot_, (void *)go_wb_val_);                           \
	} while (0)

void *go_wb_memmove(void *dst, const void *src, size_t n);
void *go_wb_memclr(void *dst, size_t n);

/* ---- Roots --------------------------------------------------------------------------------- */

/*
 * go_gc_root_add - scan [p, p + len) conservatively at every cycle, for collected pointers
 * kept in memory the collector does not see (malloc'd, mmap'd, a thread's own structures).
 * Stores of collected pointers into the range need the barrier (above). Any thread may call
 * it. Returns 0; -EINVAL (len 0, or p NULL); -EEXIST (p is registered already); -ENOMEM.
 * go_gc_root_remove - stop scanning the range registered at p. Returns 0; -ENOENT.
 */
int go_gc_root_add(const void *p, size_t len);
int go_gc_root_remove(const void *p);

/*
 * go_keep_alive - Go's runtime.KeepAlive: p (any pointer) is live at least until this call
 * (so that a finalizer cannot run before it, e.g. while an fd it closes is still in use).
 */
void go_keep_alive(const void *p);

/* ---- Collections --------------------------------------------------------------------------- */

/*
 * go_gc - a full collection: waits for a cycle in progress, runs a new one (mark and sweep)
 * and returns once every span is swept: go_gc_read_stats() then counts only the objects it
 * found live (large objects included), and the memory of the others is back in the heap.
 * Finalizers of the objects it found unreachable are queued (they run on a goroutine of their
 * own, soon after; not during this call).
 * Returns 0; -EPERM outside a goroutine.
 */
int go_gc(void);

/*
 * go_gc_set_finalizer - run fn(obj, arg) once obj is unreachable (Go's SetFinalizer).
 * obj must be the start of a collected object. fn runs on the finalizer goroutine, one
 * finalizer at a time, after the cycle that found obj unreachable (never during marking);
 * obj and everything it reaches stay alive until then, and are freed by a later cycle
 * unless fn stored obj somewhere reachable. Each finalizer runs at most once, even if fn
 * makes obj reachable again. arg is kept alive with the finalizer (it is scanned as a
 * pointer). Finalizers of objects still reachable when the program ends do not run.
 * fn NULL removes obj's finalizer.
 * Returns 0; -EINVAL (obj is not the start of a collected object); -EEXIST (obj has a
 * finalizer already: remove it first); -ENOMEM.
 */
int go_gc_set_finalizer(void *obj, void (*fn)(void *obj, void *arg), void *arg);

/* ---- Pacing -------------------------------------------------------------------------------- */

/*
 * go_gc_set_percent - Go's debug.SetGCPercent: the heap goal is the heap found live by the
 * last cycle times (1 + pct / 100); pct < 0 turns collections off (except go_gc() and the
 * memory limit). Returns the previous setting. Default: $GOGC ("off" is -1), else 100.
 */
int go_gc_set_percent(int pct);

/*
 * go_gc_set_memory_limit - Go's debug.SetMemoryLimit: a soft limit on the memory the
 * collected heap may use (its spans, free pages not yet returned to the OS, metadata). As
 * the heap nears it, the goal is lowered (never below what the last cycle found live plus a
 * little), and cycles come more often. bytes < 0 only reads it. INT64_MAX means no limit.
 * Returns the previous limit. Default: $GOMEMLIMIT (bytes, or with a KiB/MiB/GiB/TiB
 * suffix; "off"), else none.
 */
int64_t go_gc_set_memory_limit(int64_t bytes);

/* ---- Statistics ---------------------------------------------------------------------------- */

/*
 * struct go_gc_stats - what go_gc_read_stats() fills (Go's MemStats and GCStats, reduced).
 * @size: in: sizeof(struct go_gc_stats) as the caller knows it (the struct may grow).
 * Sizes are in bytes, times in nanoseconds.
 */
struct go_gc_stats {
	uint32_t size;
	int32_t gc_percent;        /* the setting (GOGC) */
	uint64_t cycles;           /* completed cycles */
	uint64_t forced_cycles;    /* of those, started by go_gc() */
	uint64_t heap_live;        /* collected objects allocated and not yet found dead: bytes
				    * found live by the last cycle plus those allocated since */
	uint64_t heap_objects;     /* the same in objects */
	uint64_t heap_marked;      /* bytes the last cycle found live */
	uint64_t heap_goal;        /* the cycle after this one starts before heap_live gets
				    * here */
	uint64_t heap_trigger;     /* where the next cycle starts */
	uint64_t memory_limit;     /* the setting (GOMEMLIMIT) */
	uint64_t total_alloc;      /* bytes of collected objects ever allocated */
	uint64_t total_objects;    /* objects ever allocated */
	uint64_t total_freed;      /* bytes freed by sweeping */
	uint64_t total_freed_objects;
	uint64_t stacks_bytes;     /* goroutine stack bytes scanned by the last cycle */
	uint64_t globals_bytes;    /* data, bss and registered roots scanned per cycle */
	uint64_t pause_total;      /* every stop-the-world pause ever, added up */
	uint64_t pause_max;        /* the longest */
	uint64_t last_sweep_term_pause; /* the last cycle's two pauses */
	uint64_t last_mark_term_pause;
	uint64_t last_cycle_ns;    /* the last cycle's length, from its first pause to the end
				    * of its second */
	uint64_t last_end;         /* CLOCK_MONOTONIC when the last cycle's mark ended */
	uint64_t mark_cpu_ns;      /* time spent marking, all cycles: background workers ... */
	uint64_t assist_cpu_ns;    /* ... and assists (allocating goroutines) */
	uint64_t finalizers_run;
	uint64_t finalizers_queued; /* waiting to run */
	/* The last (up to) 256 pauses, oldest first from pause_first (a ring, as Go's PauseNs):
	 * pause_ns[(pause_first + i) % 256] for i < pause_count; pause_end the CLOCK_MONOTONIC
	 * end of each, pause_kind 0 for sweep termination, 1 for mark termination. */
	uint32_t pause_first;
	uint32_t pause_count;
	uint64_t pause_ns[256];
	uint64_t pause_end[256];
	uint8_t pause_kind[256];
};

/*
 * go_gc_read_stats - a snapshot (counters move while goroutines run; go_gc() first for
 * figures that reflect a finished collection). A cycle in progress is waited for: its
 * figures are read between cycles. Any thread may call it.
 * Returns 0; -EINVAL (st NULL, or st->size smaller than the fields up to pause_first).
 */
int go_gc_read_stats(struct go_gc_stats *st);

/* ---- Channels and contexts ----------------------------------------------------------------- */

/*
 * Collected channels and contexts are declared where channels and contexts are, with their
 * semantics and errors:
 *   <gochan/chan.h>     go_chan_new(): an in-process channel that is a collected object (its
 *                       ring scanned, or not with GO_CHAN_NOSCAN; its copies barriered); a
 *                       goroutine blocked on it keeps it alive through its stack, and once
 *                       unreachable it is reclaimed with whatever it has buffered.
 *                       go_chan_new_fd(): a collected handle to a kernel channel fd, whose
 *                       finalizer closes the fd it owns.
 *                       go_chan_free() does not free them (a handle's fd is closed early).
 *   <gochan/context.h>  go_ctx_background_gc(): the root of collected contexts; every context
 *                       made under it, its Done channel and its AfterFunc handles are
 *                       collected (ref and release do nothing on them).
 * Explicit go_chan_free() and go_ctx_release() stay for channels and contexts made by
 * go_chan_make(), go_chan_from_fd() and under go_ctx_background(): programs that do not use
 * the collector never meet it. Values in those channels, and in kernel channels, are not
 * scanned: a pointer to a collected object must travel in a go_chan_new() channel.
 */

/* ---- private: the helpers of the macros above ------------------------------------------------ */

#define GO_TYPE_MASK_(T, ...) (0 GO_TYPE_FOR_EACH_(GO_TYPE_BIT_, T, ##__VA_ARGS__))
#define GO_TYPE_BIT_(T, f)                                                                 \
	| ((uint64_t)1 << (offsetof(T, f) / 8 % 64)) *                                     \
		  (sizeof(char[offsetof(T, f) % 8 == 0 && offsetof(T, f) < 512 ? 1 : -1]) != 0)
#define GO_TYPE_FOR_EACH_(m, T, ...)                                                       \
	GO_TYPE_FE_N_(_, ##__VA_ARGS__, GO_TYPE_FE16_, GO_TYPE_FE15_, GO_TYPE_FE14_,          \
		      GO_TYPE_FE13_, GO_TYPE_FE12_, GO_TYPE_FE11_, GO_TYPE_FE10_, GO_TYPE_FE9_, \
		      GO_TYPE_FE8_, GO_TYPE_FE7_, GO_TYPE_FE6_, GO_TYPE_FE5_, GO_TYPE_FE4_,     \
		      GO_TYPE_FE3_, GO_TYPE_FE2_, GO_TYPE_FE1_, GO_TYPE_FE0_)(m, T, ##__VA_ARGS__)
#define GO_TYPE_FE_N_(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, \
		      _16, N, ...) N
#define GO_TYPE_FE0_(m, T)
#define GO_TYPE_FE1_(m, T, a) m(T, a)
#define GO_TYPE_FE2_(m, T, a, ...) m(T, a) GO_TYPE_FE1_(m, T, __VA_ARGS__)
#define GO_TYPE_FE3_(m, T, a, ...) m(T, a) GO_TYPE_FE2_(m, T, __VA_ARGS__)
#define GO_TYPE_FE4_(m, T, a, ...) m(T, a) GO_TYPE_FE3_(m, T, __VA_ARGS__)
#define GO_TYPE_FE5_(m, T, a, ...) m(T, a) GO_TYPE_FE4_(m, T, __VA_ARGS__)
#define GO_TYPE_FE6_(m, T, a, ...) m(T, a) GO_TYPE_FE5_(m, T, __VA_ARGS__)
#define GO_TYPE_FE7_(m, T, a, ...) m(T, a) GO_TYPE_FE6_(m, T, __VA_ARGS__)
#define GO_TYPE_FE8_(m, T, a, ...) m(T, a) GO_TYPE_FE7_(m, T, __VA_ARGS__)
#define GO_TYPE_FE9_(m, T, a, ...) m(T, a) GO_TYPE_FE8_(m, T, __VA_ARGS__)
#define GO_TYPE_FE10_(m, T, a, ...) m(T, a) GO_TYPE_FE9_(m, T, __VA_ARGS__)
#define GO_TYPE_FE11_(m, T, a, ...) m(T, a) GO_TYPE_FE10_(m, T, __VA_ARGS__)
#define GO_TYPE_FE12_(m, T, a, ...) m(T, a) GO_TYPE_FE11_(m, T, __VA_ARGS__)
#define GO_TYPE_FE13_(m, T, a, ...) m(T, a) GO_TYPE_FE12_(m, T, __VA_ARGS__)
#define GO_TYPE_FE14_(m, T, a, ...) m(T, a) GO_TYPE_FE13_(m, T, __VA_ARGS__)
#define GO_TYPE_FE15_(m, T, a, ...) m(T, a) GO_TYPE_FE14_(m, T, __VA_ARGS__)
#define GO_TYPE_FE16_(m, T, a, ...) m(T, a) GO_TYPE_FE15_(m, T, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif /* GOCHAN_GC_H */
