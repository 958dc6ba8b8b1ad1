/* SPDX-License-Identifier: MIT */
/*
 * check.c - galloc_check: walk the heap and verify the invariants stated in internal.h,
 * pagealloc.c, heap.c, central.c and cache.c. Takes every lock; the caller guarantees that no
 * other thread allocates or frees meanwhile (owner-side span fields are read without the
 * owner's consent).
 *
 * Where each span is: every list (central's, each cache's current span, partial and full
 * lists and release batch, the heap's stash, the caches' unfull stacks) is walked once, and
 * each span met is tagged, in a byte per arena page (k->where), with the list it is on. A
 * span met twice, a list that never ends, a span on no list or on one its state does not
 * allow, and a span in the heap still flagged in_unfull are each named; counting alone
 * would miss a span listed twice while another is on no list. Collected spans (collected.c)
 * are on the collected central lists (tagged as central's) or a cache's current span.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The list a span is on: ga_checker.where, one byte per arena page (the span's first). */
enum {
	GA_ON_NONE,
	GA_ON_CURRENT,         /* a cache's alloc[spc] */
	GA_ON_CACHE_PARTIAL,
	GA_ON_CACHE_FULL,
	GA_ON_RELEASE,         /* a cache's release batch */
	GA_ON_CENTRAL_PARTIAL,
	GA_ON_CENTRAL_FULL,
	GA_ON_STASH,
	GA_ON_GC_LARGE,        /* ga_gc_large's lists (collected.c) */
	GA_ON_LIST = 0x0f,
	GA_ON_UNFULL = 0x10,   /* besides, on a cache's unfull stack */
};

static const char *const ga_on_name[] = {
	[GA_ON_NONE] = "no list",
	[GA_ON_CURRENT] = "a cache's current span",
	[GA_ON_CACHE_PARTIAL] = "a cache's partial list",
	[GA_ON_CACHE_FULL] = "a cache's full list",
	[GA_ON_RELEASE] = "a cache's release batch",
	[GA_ON_CENTRAL_PARTIAL] = "central's partial list",
	[GA_ON_CENTRAL_FULL] = "central's full list",
	[GA_ON_STASH] = "the heap's stash",
	[GA_ON_GC_LARGE] = "the collected large objects' list",
};

struct ga_checker {
	char *msg;
	size_t len;
	int err;
	bool live; /* other threads may be freeing into the span meanwhile */
	uint64_t free_pages, scav_pages, inuse_pages, stash_pages;
	uint64_t small_spans[GA_NUM_SPC_ALL];
	uint64_t listed_spans[GA_NUM_SPC_ALL];
	uint64_t large_objects, large_bytes;
	uint8_t *where;   /* [arena index * GA_ARENA_PAGES + page]: GA_ON_* of the span there */
	size_t where_len; /* bytes mapped; 0 if the map failed (then lists are only counted) */
	size_t last;      /* index in ga_heap.arenas of the last arena looked up */
};

__attribute__((format(printf, 2, 3))) static bool ga_fail(struct ga_checker *k, const char *fmt,
							    ...)
{
	va_list ap;

	if (k->err)
		return false;
	k->err = -EUCLEAN;
	if (k->msg && k->len) {
		va_start(ap, fmt);
		vsnprintf(k->msg, k->len, fmt, ap);
		va_end(ap);
	}
	return false;
}

#define CHECK(k, cond, ...) ((cond) ? true : ga_fail((k), __VA_ARGS__))

/* Walk a block list of s: every block a carved slot start, no repeats. Returns the count. */
static uint32_t ga_check_blocks(struct ga_checker *k, struct ga_span *s, struct ga_block *b,
				uint64_t *seen, const char *what)
{
	uint32_t n = 0;
	uintptr_t end = s->base + (uintptr_t)s->carved * s->elemsize;

	for (; b; b = b->next) {
		uintptr_t a = (uintptr_t)b, i;

		if (!CHECK(k, a >= s->base && a < end && (a - s->base) % s->elemsize == 0,
			   "span %#lx: %s block %p is not a carved slot", (unsigned long)s->base,
			   what, (void *)b))
			return n;
		i = (a - s->base) / s->elemsize;
		if (!CHECK(k, !(seen[i / 64] & (1ull << (i % 64))),
			   "span %#lx: block %p twice in the free lists", (unsigned long)s->base,
			   (void *)b))
			return n;
		seen[i / 64] |= 1ull << (i % 64);
		if (++n > s->nelems)
			return n;
	}
	return n;
}

static void ga_check_small(struct ga_checker *k, struct ga_span *s)
{
	unsigned spc = s->spc, cls = ga_spc_class(spc);
	uint64_t seen[1024 / 64] = { 0 };
	uintptr_t xf = atomic_load(&s->xfree);
	uint32_t nfree, nx;

	if (!CHECK(k, spc < GA_NUM_SPC_ALL && cls > 0, "span %#lx: bad span class %u",
		   (unsigned long)s->base, spc))
		return;
	k->small_spans[spc]++;
	CHECK(k, s->elemsize == ga_class_size[cls] && s->npages == ga_class_npages[cls] &&
			 s->nelems == s->npages * GA_PAGE_SIZE / s->elemsize,
	      "span %#lx: geometry does not match class %u", (unsigned long)s->base, cls);
	CHECK(k, s->carved <= s->nelems, "span %#lx: carved %u > nelems %u",
	      (unsigned long)s->base, s->carved, s->nelems);
	for (uint32_t i = 0; i < s->nelems; i++) {
		uint64_t lo = (uint64_t)i * s->elemsize, hi = lo + s->elemsize - 1;
		if (!CHECK(k, ((lo * s->divmul) >> 32) == i && ((hi * s->divmul) >> 32) == i,
			   "class %u: divmul %u inexact at slot %u", cls, s->divmul, i))
			break;
	}
	nfree = ga_check_blocks(k, s, s->free, seen, "free");
	nx = ga_check_blocks(k, s, ga_xf_ptr(xf), seen, "xfree");
	CHECK(k, nx == ga_xf_cnt(xf), "span %#lx: xfree holds %u blocks, counts %u",
	      (unsigned long)s->base, nx, ga_xf_cnt(xf));
	CHECK(k, ga_span_used(s) + nfree == s->carved && nx <= ga_span_used(s),
	      "span %#lx (class %u): used %u + free %u != carved %u, or xfree %u > used",
	      (unsigned long)s->base, cls, ga_span_used(s), nfree, s->carved, nx);
	CHECK(k, (xf & GA_XF_FLAGS) != GA_XF_FLAGS && (k->live || !(xf & GA_XF_NOTIFYING)),
	      "span %#lx: notification state %#lx%s", (unsigned long)s->base,
	      (unsigned long)(xf & GA_XF_FLAGS), k->live ? "" : " at a quiescent point");
	/* (not "full => no free slot": ga_free_local_slow checks s just after the free into it) */
	CHECK(k, !ga_span_full(s) || s->state == GA_SPAN_CACHE,
	      "span %#lx: marked full (ucount %#x) out of a cache", (unsigned long)s->base,
	      s->ucount);
	switch (s->state) {
	case GA_SPAN_CACHE:
		CHECK(k, ga_span_cache(s) != NULL, "span %#lx: cached without owner",
		      (unsigned long)s->base);
		/* (a span that is not full may be armed: NOTIFY is disarmed lazily; one parked
		 * while notifying is not, but queued on the unfull stack by its notifier) */
		if (ga_span_full(s))
			CHECK(k, (xf & GA_XF_FLAGS) || nx || atomic_load(&s->in_unfull),
			      "span %#lx: full in cache, neither armed nor queued",
			      (unsigned long)s->base);
		break;
	case GA_SPAN_PARTIAL:
	case GA_SPAN_FULL:
		CHECK(k, ga_span_cache(s) == NULL, "span %#lx: in central with an owner",
		      (unsigned long)s->base);
		CHECK(k, (xf & GA_XF_FLAGS) || nx, "span %#lx: in central, not armed",
		      (unsigned long)s->base);
		if (s->state == GA_SPAN_FULL)
			CHECK(k, !s->free && s->carved == s->nelems,
			      "span %#lx: in central full list with free slots",
			      (unsigned long)s->base);
		else
			CHECK(k, (s->free || s->carved < s->nelems) &&
					 (ga_span_used(s) > 0 || atomic_load(&s->in_unfull) ||
					  (xf & GA_XF_NOTIFYING)),
			      "span %#lx: in central partial list, empty or without free slots",
			      (unsigned long)s->base);
		break;
	default:
		ga_fail(k, "span %#lx: small span in state %u", (unsigned long)s->base, s->state);
	}
	if (spc == GA_SPC_TINY) {
		/* a free block has no live tiny object; a handed-out one has at least one, except,
		 * live, between a remote free's last reference drop and its push */
		for (uint32_t i = 0; i < s->nelems; i++) {
			bool isfree = i >= s->carved || (seen[i / 64] & (1ull << (i % 64)));
			uint8_t r = atomic_load(&s->tinyref[i]);
			if (!CHECK(k, isfree ? r == 0 : (r > 0 || k->live),
				   "tiny span %#lx: block %u %s with %u references",
				   (unsigned long)s->base, i, isfree ? "free" : "in use", r))
				break;
		}
	}
}

/* A collected small span: its bits and counts (internal.h, "collected.c"). */
static void ga_check_collected(struct ga_checker *k, struct ga_span *s)
{
	unsigned spc = s->spc, cls = ga_spc_class(spc), n = s->nelems, fi = s->freeindex;
	uint32_t sg = __atomic_load_n(&ga_gc_sweepgen, __ATOMIC_RELAXED), used = 0;
	const uint64_t *ab = s->allocbits, *gm = s->gcmarks;

	if (!CHECK(k, spc < GA_NUM_SPC_ALL && cls > 0 && ab && gm,
		   "collected span %#lx: span class %u, bitmaps %p %p", (unsigned long)s->base,
		   spc, (void *)ab, (void *)gm))
		return;
	k->small_spans[spc]++;
	CHECK(k, s->elemsize == ga_class_size[cls] && s->npages == ga_class_npages[cls] &&
			 n == s->npages * GA_PAGE_SIZE / s->elemsize,
	      "collected span %#lx: geometry does not match class %u", (unsigned long)s->base, cls);
	CHECK(k, !atomic_load(&s->owner) && !atomic_load(&s->xfree) && !atomic_load(&s->in_unfull) &&
			 s->gcflags == GA_GCF_COLLECTED && fi <= n,
	      "collected span %#lx: owner %p, xfree %#lx, in_unfull %u, flags %#x, freeindex %u",
	      (unsigned long)s->base, (void *)atomic_load(&s->owner),
	      (unsigned long)atomic_load(&s->xfree), atomic_load(&s->in_unfull), s->gcflags, fi);
	for (unsigned w = 0; w < (n + 63) / 64; w++) {
		uint64_t slots = w == n / 64 ? (1ull << (n % 64)) - 1 : ~0ull;
		uint64_t below = fi >= (w + 1) * 64 ? ~0ull : fi > w * 64 ? (1ull << (fi - w * 64)) - 1 : 0;

		CHECK(k, (ab[w] | slots) == ~0ull && !(gm[w] & ~slots),
		      "collected span %#lx: bits past slot %u", (unsigned long)s->base, n);
		used += (uint32_t)__builtin_popcountll((ab[w] | below) & slots);
	}
	CHECK(k, used == ga_span_used(s), "collected span %#lx (class %u): %u slots allocated, "
	      "counts %u", (unsigned long)s->base, cls, used, ga_span_used(s));
	CHECK(k, !s->acache || (fi < n && s->acache == ~ab[fi / 64] >> (fi % 64)),
	      "collected span %#lx: allocation cache %#lx at freeindex %u", (unsigned long)s->base,
	      (unsigned long)s->acache, fi);
	CHECK(k, !(s->gcbits & GA_GCB_TYPED) == !s->ptrbits,
	      "collected span %#lx: typed %u, pointer bits %p", (unsigned long)s->base,
	      s->gcbits & GA_GCB_TYPED, (void *)s->ptrbits);
	switch (s->state) {
	case GA_SPAN_CACHE:
		CHECK(k, ga_span_cache(s) && s->sweepgen == sg,
		      "collected span %#lx: current span with cache %p, swept at %u (now %u)",
		      (unsigned long)s->base, (void *)ga_span_cache(s), s->sweepgen, sg);
		break;
	case GA_SPAN_PARTIAL:
	case GA_SPAN_FULL:
		CHECK(k, !ga_span_cache(s) && (s->sweepgen == sg || s->sweepgen == sg - 2) &&
				 (s->state == GA_SPAN_FULL) == (used == n),
		      "collected span %#lx: state %u with %u of %u slots, cache %p, swept at %u "
		      "(now %u)", (unsigned long)s->base, s->state, used, n,
		      (void *)ga_span_cache(s), s->sweepgen, sg);
		break;
	default:
		ga_fail(k, "collected span %#lx: state %u", (unsigned long)s->base, s->state);
	}
}

static void ga_check_arena(struct ga_checker *k, struct ga_arena *a)
{
	uint32_t maxfree = a->maxfree, searchw = a->searchw, nfree = 0, nscav = 0;

	CHECK(k, a->magic == GA_ARENA_MAGIC && a->base == (uintptr_t)a &&
			 !(a->base & GA_ARENA_MASK) && ga_arena_of(a) == a && ga_arena_head(a),
	      "arena %p: bad header, map entry or head bit", (void *)a);
	for (size_t w = 0; w < GA_ARENA_WORDS; w++) {
		CHECK(k, a->sum[w] == ga_word_summary(a->alloc[w]),
		      "arena %p: summary of word %zu stale", (void *)a, w);
		CHECK(k, !(a->scav[w] & a->alloc[w]), "arena %p: released page in use", (void *)a);
		nfree += (uint32_t)__builtin_popcountll(~a->alloc[w]);
		nscav += (uint32_t)__builtin_popcountll(a->scav[w]);
	}
	ga_arena_summarize(a);
	CHECK(k, maxfree >= a->maxfree && searchw <= a->searchw,
	      "arena %p: bounds maxfree/searchw %u/%u, exact %u/%u", (void *)a, maxfree, searchw,
	      a->maxfree, a->searchw);
	a->maxfree = maxfree; /* leave the bounds as they were: the checker changes nothing */
	a->searchw = searchw;
	CHECK(k, nfree == a->nfree && nscav == a->nscav, "arena %p: nfree/nscav %u/%u, counted %u/%u",
	      (void *)a, a->nfree, a->nscav, nfree, nscav);
	CHECK(k, ga_pages_count(a->alloc, 0, GA_ARENA_META_PAGES) == GA_ARENA_META_PAGES,
	      "arena %p: metadata page free", (void *)a);
	k->free_pages += nfree;
	k->scav_pages += nscav;
	for (size_t i = GA_ARENA_META_PAGES; i < GA_ARENA_PAGES && !k->err;) {
		struct ga_span *s = a->spans[i];
		bool alloc = a->alloc[i / 64] & (1ull << (i % 64));
		bool inuse = a->inuse[i / 64] & (1ull << (i % 64));
		bool stashed;

		if (!alloc) {
			CHECK(k, !s && !inuse, "arena %p: free page %zu mapped to a span", (void *)a, i);
			i++;
			continue;
		}
		stashed = s && s->state == GA_SPAN_STASHED;
		if (!CHECK(k, s && inuse != stashed && s->base == a->base + i * GA_PAGE_SIZE,
			   "arena %p: page %zu allocated, span %p does not start there", (void *)a,
			   i, (void *)s))
			return;
		if (!CHECK(k, s->npages >= 1 && i + s->npages <= GA_ARENA_PAGES,
			   "arena %p: span at page %zu overruns the arena", (void *)a, i))
			return;
		for (size_t j = i + 1; j < i + s->npages; j++)
			CHECK(k, a->spans[j] == s && (a->alloc[j / 64] & (1ull << (j % 64))) &&
					 !(a->inuse[j / 64] & (1ull << (j % 64))),
			      "arena %p: page %zu inside span %#lx inconsistent", (void *)a, j,
			      (unsigned long)s->base);
		if (stashed) {
			k->stash_pages += s->npages;
			i += s->npages;
			continue;
		}
		k->inuse_pages += s->npages;
		if (s->state == GA_SPAN_LARGE) {
			k->large_objects++;
			k->large_bytes += (uint64_t)s->npages * GA_PAGE_SIZE;
		} else if (s->gcmarks) {
			ga_check_collected(k, s);
		} else {
			ga_check_small(k, s);
		}
		i += s->npages;
	}
}

/*
 * One span, by its holder, at any time (remote frees may go on: xfree is read as one
 * snapshot). The debug build (VARIANT=debug, -DGA_DEBUG) runs it on the slow paths.
 */
int ga_span_check(struct ga_span *s, char *msg, size_t len)
{
	struct ga_checker k = { .msg = msg, .len = len, .live = true };

	ga_check_small(&k, s);
	return k.err;
}

void ga_fatal(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	/* no stdio buffer (no malloc): one write */
	memcpy(msg, "gochan alloc: ", 14);
	va_start(ap, fmt);
	n = vsnprintf(msg + 14, sizeof(msg) - 15, fmt, ap);
	va_end(ap);
	n = n < 0 ? 14 : 14 + (n < (int)sizeof(msg) - 15 ? n : (int)sizeof(msg) - 16);
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, (size_t)n) < 0)
		n = 0;
	abort();
}

void ga_span_assert(struct ga_span *s, const char *where)
{
	char msg[256];

	if (ga_span_check(s, msg, sizeof(msg)))
		ga_fatal("%s: %s", where, msg);
}

/* The tag of the first page of s, or NULL if s is not a span of a (non-huge) arena. */
static uint8_t *ga_check_where(struct ga_checker *k, struct ga_span *s)
{
	struct ga_arena *a = ga_arena_of((void *)s->base);
	size_t i = (s->base - (uintptr_t)a) / GA_PAGE_SIZE, idx = k->last;

	if (!a || a->huge_page || a->spans[i] != s || s->base != a->base + i * GA_PAGE_SIZE)
		return NULL;
	if (idx >= ga_heap.narenas || ga_heap.arenas[idx] != a)
		for (idx = 0; idx < ga_heap.narenas && ga_heap.arenas[idx] != a; idx++)
			;
	if (idx == ga_heap.narenas || (idx + 1) * GA_ARENA_PAGES > k->where_len)
		return NULL;
	k->last = idx;
	return &k->where[idx * GA_ARENA_PAGES + i];
}

/* s is on list `on`: it must be a span of the heap and on no other list. */
static bool ga_check_on(struct ga_checker *k, struct ga_span *s, unsigned on)
{
	uint8_t *w;

	if (!k->where_len)
		return true;
	w = ga_check_where(k, s);
	if (!CHECK(k, w, "span struct %p on %s is no span of the heap", (void *)s, ga_on_name[on]))
		return false;
	if (!CHECK(k, !(*w & GA_ON_LIST),
		   (*w & GA_ON_LIST) == on ? "span %#lx twice in %s%s" : "span %#lx on two lists: %s and %s",
		   (unsigned long)s->base, ga_on_name[*w & GA_ON_LIST],
		   (*w & GA_ON_LIST) == on ? "" : ga_on_name[on]))
		return false;
	*w |= (uint8_t)on;
	return true;
}

static void ga_check_list(struct ga_checker *k, struct ga_spanlist *l, unsigned spc,
			  unsigned state, struct ga_cache *owner, int full, unsigned on)
{
	size_t n = 0;

	for (struct ga_span *s = l->first; s && !k->err; s = s->next) {
		if (!ga_check_on(k, s, on))
			break;
		CHECK(k, s->spc == spc && s->state == state && ga_span_cache(s) == owner &&
				 (full < 0 || ga_span_full(s) == full) && (!s->next || s->next->prev == s),
		      "span %#lx: on the wrong list (spc %u state %u, list of spc %u state %u)",
		      (unsigned long)s->base, s->spc, s->state, spc, state);
		if (++n > l->n)
			break;
	}
	CHECK(k, n == l->n, "span list of spc %u: %zu spans, counts %zu", spc, n, l->n);
	k->listed_spans[spc] += n;
}

/*
 * c's unfull stack: spans flagged in_unfull, each on one stack at most, none in the heap
 * (they may have left c for central or another cache meanwhile: ga_unfull_replay).
 */
static void ga_check_unfull(struct ga_checker *k, struct ga_cache *c)
{
	if (!k->where_len)
		return; /* (without the tags, a cycle would not end) */
	for (struct ga_span *s = atomic_load(&c->unfull); s && !k->err; s = s->unfull_next) {
		uint8_t *w = ga_check_where(k, s);

		if (!CHECK(k, w, "cache %p: span struct %p on its unfull stack is no span of the heap",
			   (void *)c, (void *)s))
			return;
		if (!CHECK(k, !(*w & GA_ON_UNFULL), "span %#lx twice on unfull stacks",
			   (unsigned long)s->base))
			return;
		*w |= GA_ON_UNFULL;
		CHECK(k, atomic_load(&s->in_unfull) && s->state != GA_SPAN_STASHED,
		      "cache %p: span %#lx on its unfull stack: in_unfull %u, state %u", (void *)c,
		      (unsigned long)s->base, atomic_load(&s->in_unfull), s->state);
	}
}

/* The spans of a collected list's set `set` were swept in the generation it stands for. */
static void ga_check_sweepgen(struct ga_checker *k, struct ga_spanlist *l, unsigned set)
{
	uint32_t sg = __atomic_load_n(&ga_gc_sweepgen, __ATOMIC_RELAXED);
	uint32_t want = set == GA_GC_SWEPT(sg) ? sg : sg - 2;
	size_t n = 0;

	for (struct ga_span *s = l->first; s && !k->err && n++ <= l->n; s = s->next)
		CHECK(k, s->sweepgen == want, "collected span %#lx swept at %u, on a list of %u",
		      (unsigned long)s->base, s->sweepgen, want);
}

/* The lists each state allows (a bit per GA_ON_*). */
static unsigned ga_check_allowed(unsigned state)
{
	switch (state) {
	case GA_SPAN_CACHE:
		return 1u << GA_ON_CURRENT | 1u << GA_ON_CACHE_PARTIAL | 1u << GA_ON_CACHE_FULL |
		       1u << GA_ON_RELEASE;
	case GA_SPAN_PARTIAL:
		return 1u << GA_ON_CENTRAL_PARTIAL;
	case GA_SPAN_FULL:
		return 1u << GA_ON_CENTRAL_FULL;
	case GA_SPAN_STASHED:
		return 1u << GA_ON_STASH;
	case GA_SPAN_LARGE:
		return 1u << GA_ON_NONE | 1u << GA_ON_GC_LARGE;
	default:
		return 1u << GA_ON_NONE;
	}
}

/* After every list was walked: each span of the arenas is on exactly the list its state says. */
static void ga_check_placed(struct ga_checker *k)
{
	for (size_t idx = 0; idx < ga_heap.narenas && !k->err; idx++) {
		struct ga_arena *a = ga_heap.arenas[idx];

		if (a->huge_page)
			continue;
		for (size_t i = GA_ARENA_META_PAGES; i < GA_ARENA_PAGES && !k->err; i++) {
			struct ga_span *s = a->spans[i];
			uint8_t w = k->where[idx * GA_ARENA_PAGES + i];

			if (!s || s->base != a->base + i * GA_PAGE_SIZE)
				continue;
			CHECK(k, ga_check_allowed(s->state) & (1u << (w & GA_ON_LIST)),
			      "span %#lx (state %u, spc %u) on %s", (unsigned long)s->base, s->state,
			      s->spc, ga_on_name[w & GA_ON_LIST]);
			if (s->state == GA_SPAN_LARGE) {
				CHECK(k, !s->gcmarks == ((w & GA_ON_LIST) != GA_ON_GC_LARGE),
				      "large object %#lx: %scollected, on %s", (unsigned long)s->base,
				      s->gcmarks ? "" : "not ", ga_on_name[w & GA_ON_LIST]);
				continue;
			}
			if (s->state == GA_SPAN_STASHED) {
				CHECK(k, !atomic_load(&s->in_unfull) && !atomic_load(&s->xfree),
				      "span %#lx in the heap's stash with in_unfull %u (queued on "
				      "an unfull stack%s), remote frees %#lx",
				      (unsigned long)s->base, atomic_load(&s->in_unfull),
				      w & GA_ON_UNFULL ? "" : ": not found on any",
				      (unsigned long)atomic_load(&s->xfree));
				continue;
			}
			CHECK(k, !!atomic_load(&s->in_unfull) == !!(w & GA_ON_UNFULL),
			      "span %#lx: in_unfull %u, %s", (unsigned long)s->base,
			      atomic_load(&s->in_unfull),
			      w & GA_ON_UNFULL ? "on an unfull stack" : "on no unfull stack");
		}
	}
}

GA_EXPORT int galloc_check(char *msg, size_t len)
{
	struct ga_checker k = { .msg = msg, .len = len };

	if (msg && len)
		msg[0] = 0;
	ga_init();
	ga_lock_all();
	if (ga_heap.narenas) {
		/* under the locks: no arena comes meanwhile (mmap is no allocation of ours) */
		k.where_len = ga_heap.narenas * GA_ARENA_PAGES;
		k.where = mmap(NULL, k.where_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (k.where == MAP_FAILED) {
			k.where = NULL;
			k.where_len = 0;
		}
	}
	for (size_t i = 0; i < ga_heap.narenas; i++)
		ga_check_arena(&k, ga_heap.arenas[i]);
	/* the stash: every stashed span found in the arenas is on its list, and no other */
	for (size_t n = 1, pages = 0; n <= GA_STASH_MAX_PAGES && !k.err; n++) {
		for (struct ga_span *s = ga_heap.stash[n]; s && !k.err; s = s->next) {
			if (!ga_check_on(&k, s, GA_ON_STASH))
				break;
			CHECK(&k, s->state == GA_SPAN_STASHED && s->npages == n &&
					  ga_span_of_fast((void *)s->base) == s,
			      "stash of %zu pages: span %#lx (state %u, %u pages) does not belong",
			      n, (unsigned long)s->base, s->state, s->npages);
			if ((pages += n) > ga_heap.stash_pages)
				break;
		}
		if (n == GA_STASH_MAX_PAGES)
			CHECK(&k, pages == ga_heap.stash_pages && pages == k.stash_pages,
			      "stash: %zu pages listed, heap counts %lu, arenas hold %lu", pages,
			      (unsigned long)ga_heap.stash_pages, (unsigned long)k.stash_pages);
	}
	CHECK(&k, k.free_pages == ga_heap.free_pages && k.scav_pages == ga_heap.scav_pages &&
			  k.inuse_pages + ga_heap.huge_pages == ga_heap.inuse_pages,
	      "heap counters free/released/in-use %lu/%lu/%lu pages, counted %lu/%lu/%lu",
	      (unsigned long)ga_heap.free_pages, (unsigned long)ga_heap.scav_pages,
	      (unsigned long)ga_heap.inuse_pages, (unsigned long)k.free_pages,
	      (unsigned long)k.scav_pages, (unsigned long)(k.inuse_pages + ga_heap.huge_pages));
	for (unsigned spc = 0; spc < GA_SPC_GC0; spc++) {
		ga_check_list(&k, &ga_central[spc].partial, spc, GA_SPAN_PARTIAL, NULL, 0,
			      GA_ON_CENTRAL_PARTIAL);
		ga_check_list(&k, &ga_central[spc].full, spc, GA_SPAN_FULL, NULL, 0,
			      GA_ON_CENTRAL_FULL);
	}
	for (unsigned i = 0; i < GA_NUM_SPC; i++) {
		for (unsigned set = 0; set < 2; set++) {
			ga_check_list(&k, &ga_gc_central[i].partial[set], GA_SPC_GC0 + i,
				      GA_SPAN_PARTIAL, NULL, 0, GA_ON_CENTRAL_PARTIAL);
			ga_check_list(&k, &ga_gc_central[i].full[set], GA_SPC_GC0 + i, GA_SPAN_FULL,
				      NULL, 0, GA_ON_CENTRAL_FULL);
			ga_check_sweepgen(&k, &ga_gc_central[i].partial[set], set);
			ga_check_sweepgen(&k, &ga_gc_central[i].full[set], set);
		}
	}
	for (unsigned set = 0; set < 2 && !k.err; set++) {
		size_t n = 0;

		for (struct ga_span *s = ga_gc_large.spans[set].first; s && !k.err; s = s->next) {
			if (!ga_check_on(&k, s, GA_ON_GC_LARGE))
				break;
			if (++n > ga_gc_large.spans[set].n)
				break;
		}
		CHECK(&k, n == ga_gc_large.spans[set].n, "collected large objects: %zu listed, "
		      "counts %zu", n, ga_gc_large.spans[set].n);
		ga_check_sweepgen(&k, &ga_gc_large.spans[set], set);
	}
	for (struct ga_cache *c = ga_caches; c && !k.err; c = c->all_next) {
		for (unsigned spc = 0; spc < GA_NUM_SPC_ALL && !k.err; spc++) {
			struct ga_span *s = c->alloc[spc];

			if (s != &ga_span_empty && ga_check_on(&k, s, GA_ON_CURRENT)) {
				CHECK(&k, s->spc == spc && s->state == GA_SPAN_CACHE &&
						  ga_span_cache(s) == c && !ga_span_full(s),
				      "cache %p: current span of spc %u inconsistent", (void *)c, spc);
				k.listed_spans[spc]++;
			}
			if (spc >= GA_SPC_GC0) {
				unsigned i = spc - GA_SPC_GC0;

				CHECK(&k, !(c->gc_current[i / 64] >> (i % 64) & 1) ==
						  (s == &ga_span_empty),
				      "cache %p: collected spc %u current %p, flagged %u", (void *)c,
				      spc, (void *)s, (unsigned)(c->gc_current[i / 64] >> (i % 64) & 1));
				continue;
			}
			ga_check_list(&k, &c->partial[spc], spc, GA_SPAN_CACHE, c, 0,
				      GA_ON_CACHE_PARTIAL);
			ga_check_list(&k, &c->full[spc], spc, GA_SPAN_CACHE, c, 1, GA_ON_CACHE_FULL);
		}
		size_t pages = 0;
		for (unsigned spc = 0; spc < GA_SPC_GC0; spc++)
			for (struct ga_span *s = c->partial[spc].first; s && !k.err; s = s->next) {
				if (!s->kept)
					continue;
				CHECK(&k, !ga_span_used(s) && spc != GA_SPC_TINY,
				      "cache %p: kept span %#lx not empty", (void *)c,
				      (unsigned long)s->base);
				pages += s->npages;
			}
		CHECK(&k, pages == c->kept_pages && pages <= GA_KEEP_PAGES,
		      "cache %p: kept spans of %zu pages, counts %u", (void *)c, pages, c->kept_pages);
		CHECK(&k, c->nrelease < GA_RELEASE_BATCH, "cache %p: release batch of %u",
		      (void *)c, c->nrelease);
		for (uint32_t i = 0; i < c->nrelease && i < GA_RELEASE_BATCH && !k.err; i++) {
			struct ga_span *s = c->release[i];

			if (!ga_check_on(&k, s, GA_ON_RELEASE))
				break;
			CHECK(&k, s->state == GA_SPAN_CACHE && ga_span_cache(s) == c &&
					  !ga_span_used(s) && !s->kept && !s->next && !s->prev,
			      "cache %p: span %#lx in its release batch not empty, or listed",
			      (void *)c, (unsigned long)s->base);
			k.listed_spans[s->spc]++;
		}
		ga_check_unfull(&k, c);
	}
	if (k.where_len && !k.err)
		ga_check_placed(&k);
	for (unsigned spc = 0; spc < GA_NUM_SPC_ALL; spc++)
		CHECK(&k, k.small_spans[spc] == k.listed_spans[spc] &&
				  k.small_spans[spc] == __atomic_load_n(&ga_heap.spans_by_class[spc],
									    __ATOMIC_RELAXED),
		      "spc %u: %lu spans in the arenas, %lu on lists, heap counts %lu", spc,
		      (unsigned long)k.small_spans[spc], (unsigned long)k.listed_spans[spc],
		      (unsigned long)ga_heap.spans_by_class[spc]);
	CHECK(&k, k.large_objects <= ga_heap.large_objects, "large objects: %lu counted, heap %lu",
	      (unsigned long)k.large_objects, (unsigned long)ga_heap.large_objects);
	ga_unlock_all();
	if (k.where)
		munmap(k.where, k.where_len);
	return k.err;
}
