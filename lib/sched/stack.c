/* SPDX-License-Identifier: MIT */
/*
 * stack.c - goroutine stacks: reserved, committed on touch, shrunk, overflow detected.
 *
 * C stacks cannot be copied (nothing knows where the pointers into them are), so where Go
 * grows a stack by copying it, gochan reserves stack_max bytes of address space per goroutine
 * (MAP_NORESERVE) and lets the kernel commit pages as the stack first touches them.
 *
 * Layout of an arena (one mmap, never unmapped):
 *
 *	base: PROT_NONE page | region 0 | region 1 | ... | region n-1
 *
 * and of region i (stack_max bytes):
 *
 *	region_lo: [guard page, if guarded] stack ... grows down ... | struct go_g | canary zone
 *
 * The G sits at the top of its region, under a GO_CANARY_BYTES zone of GO_CANARY_WORD; the
 * stack grows down from the G. A parked goroutine with a shallow stack touches one page.
 *
 * Overflow (see <gochan/sched.h> for the guarantees):
 *   - a guarded region's lowest page is PROT_NONE: the first touch below the stack faults;
 *   - an unguarded region overflows into the canary zone at the top of the region below it
 *     (region 0 into the arena's PROT_NONE page); every switch of either goroutine checks
 *     that zone (_go_stack_check_slow: the one above checks the zone below its stack, the
 *     one below, flagged check_above when the region above it is made unguarded, the zone at
 *     its own top) and aborts with a message when it was written.
 * Guards cost two VMAs each; only as many as a quarter of vm.max_map_count's headroom at
 * first use are made (stacks.guard_budget).
 *
 * Locking: stacks.lock guards the arena list and each arena's nused; a region, once handed
 * out, belongs to its G (reused through the scheduler's free lists).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define ARENA_BYTES_TARGET	(64ull << 20)
#define ARENA_REGIONS_MAX	256u

/* The stacks: under stacks.lock, but the mincore vector (under shrink.lock, below), and
 * arenas, also walked without a lock. */
static struct {
	go_lock_t lock;
	uint64_t nregions;		/* regions ever handed out (Gs made), minus released */
	struct go_arena *arenas;	/* newest first; pushed fully made (store_release) */
	struct go_arena *cur;		/* has unused regions of the current stack_max */
	uint64_t stack_max;		/* a region's size, set by _go_stacks_init (go_run) */
	size_t page;
	long guard_budget;		/* guarded regions still allowed */
	bool budget_known;
	unsigned char *mincore_vec;	/* the shrinker's, under shrink.lock */
	size_t mincore_len;
} stacks = { .page = 4096 };

/* shrink.lock (taken before stacks.lock, never under it) guards the mincore vector and the
 * cursor of the incremental cycle. The arena list is walked without stacks.lock: arenas are
 * only ever pushed at its head, fully made, with a release store. */
static struct {
	go_lock_t lock;
	struct go_arena *cursor;	/* next arena of the cycle in progress, or NULL */
} shrink;

/* Per-arena flags, one bit per region: guarded or not (a region keeps its guard forever).
 * A byte each was a byte of resident memory per goroutine. */
struct go_arena_ext {
	struct go_arena a;
	unsigned long guarded[];
};

static long count_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	long n = 0;
	int c;

	if (!f)
		return 1000;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static long read_max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
	long v = 65530;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v;
}

int _go_stacks_init(uint64_t stack_max)
{
	long page = sysconf(_SC_PAGESIZE);

	_go_lock(&stacks.lock);
	stacks.page = page > 0 ? (size_t)page : 4096;
	stacks.stack_max = (stack_max + stacks.page - 1) & ~(uint64_t)(stacks.page - 1);
	if (stacks.cur && stacks.cur->stack_max != stacks.stack_max)
		stacks.cur = NULL;
	if (!stacks.budget_known) {
		long headroom = read_max_map_count() - count_mappings();
		const char *env = getenv("GOCHAN_STACK_GUARDS");

		stacks.guard_budget = headroom > 0 ? headroom / 4 / 2 : 0;
		if (env && *env && strtol(env, NULL, 10) < stacks.guard_budget)
			stacks.guard_budget = strtol(env, NULL, 10);
		stacks.budget_known = true;
	}
	_go_unlock(&stacks.lock);
	return 0;
}

#define BITS_PER_UL		(8 * sizeof(unsigned long))
#define BITS_TO_LONGS(n)	(((n) + BITS_PER_UL - 1) / BITS_PER_UL)

static inline bool test_bit_ul(const unsigned long *map, uint32_t i)
{
	return map[i / BITS_PER_UL] >> (i % BITS_PER_UL) & 1;
}

static inline void set_bit_ul(unsigned long *map, uint32_t i)
{
	map[i / BITS_PER_UL] |= 1ul << (i % BITS_PER_UL);
}

static struct go_arena_ext *arena_new(void)
{
	uint64_t max = stacks.stack_max;
	uint32_t n = (uint32_t)(ARENA_BYTES_TARGET / max);
	struct go_arena_ext *ae;
	size_t len;
	char *base;

	if (n == 0)
		n = 1;
	if (n > ARENA_REGIONS_MAX)
		n = ARENA_REGIONS_MAX;
	ae = calloc(1, sizeof(*ae) + BITS_TO_LONGS(n) * sizeof(unsigned long));
	if (!ae)
		return NULL;
	len = stacks.page + (size_t)n * max;
	base = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		free(ae);
		return NULL;
	}
	/* A huge page would commit 2 MiB for a goroutine's first touch. */
	madvise(base, len, MADV_NOHUGEPAGE);
	if (mprotect(base, stacks.page, PROT_NONE) != 0) {
		munmap(base, len);
		free(ae);
		return NULL;
	}
	ae->a.base = base;
	ae->a.stack_max = max;
	ae->a.nregions = n;
	ae->a.next = stacks.arenas;
	store_release(&stacks.arenas, &ae->a);
	__atomic_fetch_add(&_go_sched.stats.stacks_mapped, (uint64_t)n, __ATOMIC_RELAXED);
	return ae;
}

static inline char *region_of(struct go_arena *a, uint32_t i)
{
	return a->base + stacks.page + (size_t)i * a->stack_max;
}

static inline struct go_g *g_of(struct go_arena *a, uint32_t i)
{
	uintptr_t top = (uintptr_t)region_of(a, i) + a->stack_max - GO_CANARY_BYTES;

	return (struct go_g *)((top - sizeof(struct go_g)) & ~(uintptr_t)63);
}

struct go_g *_go_stack_alloc(void)
{
	struct go_arena_ext *ae;
	struct go_arena *a;
	uint64_t *zone;
	struct go_g *g;
	uint32_t i;
	char *region;
	bool guarded = false;

	_go_lock(&stacks.lock);
	a = stacks.cur;
	if (!a || a->nused == a->nregions) {
		ae = arena_new();
		if (!ae) {
			_go_unlock(&stacks.lock);
			return NULL;
		}
		a = stacks.cur = &ae->a;
	}
	ae = (struct go_arena_ext *)a;
	i = a->nused;
	region = region_of(a, i);
	if (!test_bit_ul(ae->guarded, i) && stacks.guard_budget > 0) {
		if (mprotect(region, stacks.page, PROT_NONE) == 0) {
			set_bit_ul(ae->guarded, i);
			stacks.guard_budget--;
			stat_inc(&_go_sched.stats.stacks_guarded);
		} else {
			stacks.guard_budget = 0;	/* out of mappings: no more guards */
		}
	}
	guarded = test_bit_ul(ae->guarded, i);
	/* The zone is written before the lock is dropped: the next region's goroutine checks
	 * it from its first switch, maybe before this one's G is even made. */
	zone = (uint64_t *)(region + a->stack_max - GO_CANARY_BYTES);
	for (unsigned k = 0; k < GO_CANARY_BYTES / 8; k++)
		zone[k] = GO_CANARY_WORD;
	/* An overflow of ours lands in the top zone of the region below: its goroutine checks
	 * that zone at its switches too. Under the lock, as Gs are made: that one was made
	 * before ours (regions go in order) and is not cleared again until ours is. */
	if (!guarded && i > 0)
		store_relaxed(&g_of(a, i - 1)->check_above, true);
	g = g_of(a, i);
	memset(g, 0, sizeof(*g));
	g->gcscan_gen = load_relaxed(&_go_stacks_scan_gen); /* born scanned (below, GC) */
	stacks.nregions++;
	g->region_lo = region;
	g->stack_lo = region + (guarded ? stacks.page : 0);
	g->guarded = guarded;
	g->arena = a;
	g->status = Gs_IDLE;
	/* published last: the shrinker and the collector walk regions below nused unlocked */
	store_release(&a->nused, i + 1);
	_go_unlock(&stacks.lock);
	return g;
}

static void overflow(struct go_g *g, const char *what)
{
	fprintf(stderr, "gochan: fatal: goroutine %llu: stack overflow (%s; stack_max %llu bytes)\n",
		(unsigned long long)g->id, what, (unsigned long long)g->arena->stack_max);
	abort();
}

/* Has anything but the canary been written in the zone at zone_lo (16-byte aligned)? At
 * every switch of an unguarded goroutine, twice for some: 16-byte words, four chains. */
typedef uint64_t zone_v2 __attribute__((vector_size(16), may_alias));

static bool zone_written(const char *zone_lo)
{
	const zone_v2 *z = (const zone_v2 *)zone_lo;
	const zone_v2 w = { GO_CANARY_WORD, GO_CANARY_WORD };
	zone_v2 a = z[0] ^ w, b = z[1] ^ w, c = z[2] ^ w, d = z[3] ^ w;

	_Static_assert(GO_CANARY_BYTES % 64 == 0, "four 16-byte chains");
	for (unsigned i = 4; i < GO_CANARY_BYTES / 16; i += 4) {
		a |= z[i] ^ w;
		b |= z[i + 1] ^ w;
		c |= z[i + 2] ^ w;
		d |= z[i + 3] ^ w;
	}
	a |= b | c | d;
	return (a[0] | a[1]) != 0;
}

void _go_stack_check_slow(struct go_g *g)
{
	if (!g->guarded) {
		if ((char *)g->regs.sp < g->stack_lo && g->regs.sp)
			overflow(g, "its stack pointer is below its stack");
		/* (region 0: the arena's PROT_NONE page is below) */
		if (g->region_lo != g->arena->base + stacks.page &&
		    zone_written(g->region_lo - GO_CANARY_BYTES))
			overflow(g, "the canary below its stack was overwritten");
	}
	if (load_relaxed(&g->check_above) &&
	    zone_written(g->region_lo + g->arena->stack_max - GO_CANARY_BYTES))
		overflow(g, "the canary above it was overwritten, by the goroutine above");
}

void _go_stacks_for_each_g(void (*fn)(struct go_g *g, void *arg), void *arg)
{
	struct go_arena *a;
	uint32_t i, n;

	_go_lock(&stacks.lock);
	for (a = stacks.arenas; a; a = a->next) {
		n = load_relaxed(&a->nused);
		for (i = 0; i < n; i++)
			fn(g_of(a, i), arg);
	}
	_go_unlock(&stacks.lock);
}

/*
 * Give back every stack page; the regions are handed out again from the start. Only between
 * go_runs, when no goroutine runs and the free lists are dropped (stack_max changed).
 */
void _go_stacks_release_all(void)
{
	struct go_arena *a;

	_go_lock(&shrink.lock);
	shrink.cursor = NULL;
	_go_lock(&stacks.lock);
	for (a = stacks.arenas; a; a = a->next) {
		if (a->nused)
			madvise(region_of(a, 0), (size_t)a->nused * a->stack_max, MADV_DONTNEED);
		store_release(&a->nused, 0u);
	}
	stacks.nregions = 0;
	/* arenas of the current size are all reusable again: start from the newest one */
	stacks.cur = NULL;
	for (a = stacks.arenas; a; a = a->next)
		if (a->stack_max == stacks.stack_max) {
			stacks.cur = a;
			break;
		}
	_go_unlock(&stacks.lock);
	_go_unlock(&shrink.lock);
}

/* Shrink one G's stack, given which of its arena's pages are resident. */
static long shrink_one(struct go_arena *a, uint32_t i, const unsigned char *vec)
{
	struct go_g *g = g_of(a, i);
	char *region = region_of(a, i);
	size_t page = stacks.page;
	uint32_t st = load_acquire(&g->status);
	char *sp, *lo, *top_page, *cut;
	size_t first, k, resident = 0, lowest = SIZE_MAX;
	long released = 0;

	if ((st != Gs_WAITING && st != Gs_DEAD) || !cas(&g->status, st, st | Gs_SCAN))
		return 0;
	/* No frames live below sp (the switch left nothing in a red zone); a dead G has none. */
	sp = st == Gs_DEAD ? (char *)g : (char *)g->regs.sp;
	top_page = (char *)((uintptr_t)sp & ~(uintptr_t)(page - 1));
	lo = g->stack_lo;
	first = (size_t)(lo - a->base) / page;
	for (k = first; region_of(a, 0) + 0 <= a->base + k * page &&
	     a->base + k * page < top_page; k++) {
		if (vec[k] & 1) {
			resident++;
			if (lowest == SIZE_MAX)
				lowest = k;
		}
	}
	/* The seed's rule: under a quarter of what it holds is in use, keep half. */
	if (resident && (size_t)((char *)g - sp) < (resident * page) / 4) {
		cut = a->base + lowest * page + ((size_t)(top_page - (a->base + lowest * page)) / 2
						 & ~(page - 1));
		if (st == Gs_DEAD)
			cut = top_page;
		if (cut > a->base + lowest * page &&
		    madvise(a->base + lowest * page, (size_t)(cut - (a->base + lowest * page)),
			    MADV_DONTNEED) == 0)
			released = cut - (a->base + lowest * page);
	}
	(void)region;
	store_release(&g->status, st);
	return released;
}

static long shrink_arena(struct go_arena *a)
{
	uint32_t i, n = load_acquire(&a->nused);
	long released = 0;
	size_t need;

	if (!n)
		return 0;
	need = (stacks.page + (size_t)a->nregions * a->stack_max) / stacks.page;
	if (need > stacks.mincore_len) {
		unsigned char *v = realloc(stacks.mincore_vec, need);

		if (!v)
			return 0;
		stacks.mincore_vec = v;
		stacks.mincore_len = need;
	}
	if (mincore(a->base, need * stacks.page, stacks.mincore_vec) != 0)
		return 0;
	/* A region past a stale n is fresh or zeroed (status IDLE): shrink_one skips it. */
	for (i = 0; i < n; i++)
		released += shrink_one(a, i, stacks.mincore_vec);
	return released;
}

static void count_released(long released)
{
	__atomic_fetch_add(&_go_sched.stats.stack_bytes_released, (uint64_t)released,
			   __ATOMIC_RELAXED);
}

long _go_stacks_shrink(void)
{
	struct go_arena *a;
	long released = 0;

	_go_lock(&shrink.lock);
	for (a = load_acquire(&stacks.arenas); a; a = a->next)
		released += shrink_arena(a);
	_go_unlock(&shrink.lock);
	count_released(released);
	return released;
}

/* A slice of a shrink cycle: up to max arenas. Returns true when the cycle is complete. */
bool _go_stacks_shrink_step(unsigned max)
{
	long released = 0;
	bool done;

	_go_lock(&shrink.lock);
	if (!shrink.cursor)
		shrink.cursor = load_acquire(&stacks.arenas);
	while (max-- && shrink.cursor) {
		released += shrink_arena(shrink.cursor);
		shrink.cursor = shrink.cursor->next;
	}
	done = shrink.cursor == NULL;
	_go_unlock(&shrink.lock);
	count_released(released);
	return done;
}

GOCHAN_API long go_stacks_shrink(void)
{
	int saved = errno;
	long r = _go_stacks_shrink();

	errno = saved;
	return r;
}

/* ---- GC: stack scan generations (internal.h) ------------------------------------------------ */

uint32_t _go_stacks_scan_gen;
int64_t _go_stacks_unscanned;

void _go_stacks_scan_begin(uint32_t gen)
{
	_go_lock(&stacks.lock);
	/* the count first: a claim that sees the new generation finds it set */
	store_relaxed(&_go_stacks_unscanned, (int64_t)stacks.nregions);
	store_release(&_go_stacks_scan_gen, gen);
	_go_unlock(&stacks.lock);
}

bool _go_g_scan_claim(struct go_g *g)
{
	uint32_t gen = load_acquire(&_go_stacks_scan_gen);
	uint32_t old = load_acquire(&g->gcscan_gen);

	while (old != gen) {
		if (cas(&g->gcscan_gen, old, gen)) {
			fetch_add(&_go_stacks_unscanned, -1);
			return true;
		}
		old = load_acquire(&g->gcscan_gen);
	}
	return false;
}

struct go_g *_go_stacks_next_g(struct go_stacks_iter *it)
{
	struct go_arena *a;

	if (it->done)
		return NULL;
	a = it->a ? it->a : load_acquire(&stacks.arenas);
	while (a) {
		if (it->i < load_acquire(&a->nused)) {
			it->a = a;
			return g_of(a, it->i++);
		}
		a = a->next;
		it->i = 0;
	}
	it->done = true;
	return NULL;
}
