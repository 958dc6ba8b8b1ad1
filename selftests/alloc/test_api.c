/* SPDX-License-Identifier: MIT */
/*
 * Description: the public API layer by layer: small, tiny, large and huge objects, alignment,
 * zeroing, realloc, object lookup for the GC, remote frees, caches, stats, the scavenger, the
 * checker. Runs under ASan and TSan builds too (the allocator's own memory is mmapped, so the
 * sanitizers watch the metadata code, not the objects).
 */
#define _GNU_SOURCE
#include "internal.h"
#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char checkmsg[512];

/* the allocating atfork handlers, registered before the allocator's own */
#define ATFORK_ALLOC(n) galloc((n), 0)
#define ATFORK_FREE(p) gfree(p)
#include "atfork_test.h"

#define HEAP_OK() CHECK(galloc_check(checkmsg, sizeof(checkmsg)) == 0, "heap: %s", checkmsg)

static size_t rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

static void fill(void *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		((unsigned char *)p)[i] = (unsigned char)(seed + i * 7);
}

static bool filled(const void *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i] != (unsigned char)(seed + i * 7))
			return false;
	return true;
}

/* Every size up to 32 KiB: usable size >= n, contents kept, the heap consistent after. */
static void small_objects_round_trip(void)
{
	void *p[600];
	size_t k = 0;

	for (size_t n = 0; n <= GA_MAX_SMALL_SIZE; n += n < 256 ? 1 : 61) {
		void *q = galloc(n, 0);
		CHECK(q != NULL, "n=%zu", n);
		CHECK(gsize(q) >= n && gsize(q) >= 8, "n=%zu gsize %zu", n, gsize(q));
		fill(q, n, (unsigned)n);
		p[k++ % 600] = q;
		if (k % 600 == 0)
			for (size_t i = 0; i < 600; i++)
				gfree(p[i]);
	}
	for (size_t i = 0; i < k % 600; i++)
		gfree(p[i]);
	HEAP_OK();
}

/* 16-byte alignment except the 8- and 24-byte classes; galloc_aligned to any power of two. */
static void alignment_rules(void)
{
	for (size_t n = 1; n <= 4096; n++) {
		void *q = galloc(n, 0);
		size_t want = (n <= 8 || (n > 16 && n <= 24)) ? 8 : 16;
		CHECK(((uintptr_t)q & (want - 1)) == 0, "n=%zu at %p", n, q);
		gfree(q);
	}
	for (size_t al = 8; al <= (32u << 20); al <<= 1) {
		size_t sizes[] = { 1, 24, al - 1, al, al + 1, 3 * al };
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t n = sizes[i] > (64u << 20) ? 100 : sizes[i];
			void *q = galloc_aligned(n, al, 0);
			CHECK(q && ((uintptr_t)q & (al - 1)) == 0, "align %zu n %zu: %p", al, n, q);
			CHECK(gsize(q) >= n, "align %zu n %zu gsize %zu", al, n, gsize(q));
			memset(q, 0xab, n);
			gfree(q);
		}
	}
	CHECK(galloc_aligned(10, 3, 0) == NULL, "non power of two");
	for (size_t al = 64u << 20; al <= (256u << 20); al <<= 1) {
		char *q = galloc_aligned(10, al, 0);
		struct galloc_object o;

		/* past the arena's first slot: found through the arena map */
		CHECK(q && ((uintptr_t)q & (al - 1)) == 0, "align %zu MiB: %p", al >> 20, (void *)q);
		CHECK(q && galloc_find(q + 9, &o) == 0 && o.base == q && gsize(q) >= 10,
		      "align %zu MiB: lookup", al >> 20);
		gfree(q);
	}
	HEAP_OK();
}

/* GALLOC_ZERO gives zeroed memory even where dirty objects were freed. */
static void zero_flag_zeroes_reused_memory(void)
{
	size_t sizes[] = { 8, 100, 1024, 5000, 40000, 1 << 20 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		void *q[64];
		for (int k = 0; k < 64; k++) {
			q[k] = galloc(n, 0);
			memset(q[k], 0xff, n);
		}
		for (int k = 0; k < 64; k++)
			gfree(q[k]);
		for (int k = 0; k < 64; k++) {
			unsigned char *z = galloc(n, GALLOC_ZERO);
			for (size_t b = 0; b < gsize(z); b++)
				if (z[b]) {
					CHECK(0, "n=%zu byte %zu not zero", n, b);
					break;
				}
			q[k] = z;
		}
		for (int k = 0; k < 64; k++)
			gfree(q[k]);
	}
	HEAP_OK();
}

/* Pointer-free objects live in noscan spans, others in scan spans; the GC sees which. */
static void noscan_and_scan_spans_differ(void)
{
	struct galloc_object o1, o2;
	void *a = galloc(64, 0), *b = galloc(64, GALLOC_NOSCAN);

	CHECK(galloc_find(a, &o1) == 0 && galloc_find(b, &o2) == 0, "find");
	CHECK(o1.noscan == 0 && o2.noscan == 1, "noscan %u %u", o1.noscan, o2.noscan);
	CHECK(o1.span_base != o2.span_base, "same span");
	CHECK(o1.sizeclass == ga_size_to_class(64) && o1.size == 64, "class %u", o1.sizeclass);
	gfree(a);
	gfree(b);
}

/* Tiny objects share 16-byte blocks; the block is freed when its last object is. */
static void tiny_objects_share_blocks(void)
{
	struct galloc_stats st0, st1;
	unsigned char *t[16];

	galloc_stats(&st0);
	for (int i = 0; i < 16; i++) {
		t[i] = galloc(1, GALLOC_NOSCAN);
		*t[i] = (unsigned char)i;
	}
	CHECK(((uintptr_t)t[0] & ~15ul) == ((uintptr_t)t[15] & ~15ul) || 
	      ((uintptr_t)t[1] & ~15ul) == ((uintptr_t)t[15] & ~15ul), "not sharing a block");
	void *d = galloc(8, GALLOC_NOSCAN);
	CHECK(((uintptr_t)d & 7) == 0, "8-byte tiny object misaligned: %p", d);
	void *w = galloc(6, GALLOC_NOSCAN);
	CHECK(((uintptr_t)w & 1) == 0, "6-byte tiny object misaligned: %p", w);
	CHECK(galloc_base(t[3]) == (void *)((uintptr_t)t[3] & ~15ul), "base of tiny = block");
	CHECK(gsize(t[3]) == 0, "tiny gsize");
	for (int i = 0; i < 16; i++)
		CHECK(*t[i] == i, "tiny %d clobbered", i);
	galloc_stats(&st1);
	CHECK(st1.tiny_inuse == st0.tiny_inuse + 18, "tiny in use %lu -> %lu",
	      (unsigned long)st0.tiny_inuse, (unsigned long)st1.tiny_inuse);
	HEAP_OK();
	/* realloc of a tiny object never lands in the block it copies from (found by the fuzzer) */
	unsigned char *r = galloc(4, GALLOC_NOSCAN);
	memcpy(r, "abcd", 4);
	unsigned char *r2 = grealloc(r, 11, GALLOC_NOSCAN);
	CHECK(r2 && !memcmp(r2, "abcd", 4), "tiny realloc lost contents");
	CHECK(((uintptr_t)r2 & ~15ul) != ((uintptr_t)r & ~15ul), "tiny realloc into its own block");
	gfree(r2);
	for (int i = 0; i < 16; i++)
		gfree(t[i]);
	gfree(d);
	gfree(w);
	galloc_stats(&st1);
	CHECK(st1.tiny_inuse == st0.tiny_inuse, "tiny left %lu", (unsigned long)st1.tiny_inuse);
	HEAP_OK();
}

/* Objects over 32 KiB come from the page heap; interior pointers find them. */
static void large_objects_from_page_heap(void)
{
	struct galloc_stats st0, st1;
	size_t sizes[] = { 32769, 40000, 65536, 1 << 20, 10 << 20, 60 << 20 };
	void *q[6];

	galloc_stats(&st0);
	for (int i = 0; i < 6; i++) {
		struct galloc_object o;
		q[i] = galloc(sizes[i], 0);
		CHECK(q[i] && ((uintptr_t)q[i] & (GA_PAGE_SIZE - 1)) == 0, "size %zu", sizes[i]);
		CHECK(gsize(q[i]) >= sizes[i], "gsize");
		((char *)q[i])[sizes[i] - 1] = 1;
		CHECK(galloc_find((char *)q[i] + sizes[i] - 1, &o) == 0 && o.base == q[i] &&
			      o.sizeclass == 0,
		      "interior of large %zu", sizes[i]);
	}
	galloc_stats(&st1);
	CHECK(st1.large_objects == st0.large_objects + 6, "large count");
	HEAP_OK();
	for (int i = 0; i < 6; i++)
		gfree(q[i]);
	galloc_stats(&st1);
	CHECK(st1.large_objects == st0.large_objects, "large count after free");
	HEAP_OK();
}

/* Objects bigger than an arena get their own mapping, found from any interior pointer. */
static void huge_object_beyond_arena(void)
{
	struct galloc_stats st0, st1;
	size_t n = (size_t)200 << 20;
	struct galloc_object o;
	char *q;

	galloc_stats(&st0);
	q = galloc(n, GALLOC_ZERO);
	CHECK(q != NULL, "huge");
	q[0] = 1;
	q[n - 1] = 2;
	CHECK(galloc_find(q + n - 1, &o) == 0 && o.base == q, "last byte");
	CHECK(galloc_find(q + (150 << 20), &o) == 0 && o.base == q, "third slot");
	CHECK(gsize(q) >= n, "gsize");
	q = grealloc(q, n + 4096, 0); /* moves: huge objects do not grow in place */
	CHECK(q && q[0] == 1 && q[n - 1] == 2, "realloc kept contents");
	void *keep = q;
	gfree(q);
	galloc_stats(&st1);
	CHECK(st1.heap_sys == st0.heap_sys, "huge mapping not returned: %lu -> %lu",
	      (unsigned long)st0.heap_sys, (unsigned long)st1.heap_sys);
	CHECK(galloc_find(keep, &o) == -ENOENT, "freed huge still found");
	HEAP_OK();
}

/* Every interior byte of an object maps to its start (a sample of classes). */
static void interior_pointers_map_to_object(void)
{
	for (unsigned c = 1; c < GA_NUM_CLASSES; c += 3) {
		size_t sz = ga_class_size[c];
		char *p[8];
		for (int i = 0; i < 8; i++)
			p[i] = galloc(sz, 0);
		for (int i = 0; i < 8; i++)
			for (size_t off = 0; off < sz; off += 1 + sz / 64) {
				struct galloc_object o;
				if (galloc_find(p[i] + off, &o) || o.base != p[i] || o.size != sz) {
					CHECK(0, "class %u obj %d off %zu", c, i, off);
					break;
				}
			}
		for (int i = 0; i < 8; i++)
			gfree(p[i]);
	}
}

/* Addresses outside the heap are not objects. */
static void find_rejects_outside_heap(void)
{
	int local;
	static int global;
	struct galloc_object o;

	CHECK(galloc_find(&local, &o) == -ENOENT, "stack");
	CHECK(galloc_find(&global, &o) == -ENOENT, "data");
	CHECK(galloc_find(NULL, &o) == -ENOENT, "NULL");
	CHECK(galloc_find((void *)-1l, &o) == -ENOENT, "top");
	CHECK(galloc_base(&local) == NULL, "base of stack");
}

/* realloc: in place within the slot, copies across classes, large grow/shrink in place. */
static void realloc_in_place_and_moves(void)
{
	char *p = galloc(100, 0), *q;

	fill(p, 100, 3);
	q = grealloc(p, 110, 0);
	CHECK(q == p, "100 -> 110 should stay in the 112 slot");
	q = grealloc(p, 5000, 0);
	CHECK(q != p && filled(q, 100, 3), "grow copies");
	p = grealloc(q, 10, 0);
	CHECK(filled(p, 10, 3), "shrink copies");
	gfree(p);

	/* a large object followed by free pages grows into them */
	void *guard = galloc(1 << 20, 0);
	p = galloc(100000, 0);
	fill(p, 100000, 9);
	gfree(guard);
	q = grealloc(p, 300000, GALLOC_ZERO);
	CHECK(q && filled(q, 100000, 9), "large grow kept contents");
	bool zero = true;
	for (size_t i = 100000; i < 300000; i++)
		zero &= q[i] == 0;
	CHECK(zero, "GALLOC_ZERO tail");
	p = grealloc(q, 50000, 0);
	CHECK(p == q && filled(p, 50000, 9) && gsize(p) < 100000, "large shrink in place");
	gfree(p);
	CHECK(grealloc(NULL, 10, 0) != NULL, "realloc NULL");
	HEAP_OK();
}

struct xfer {
	void **objs;
	size_t n;
};

static void *free_all(void *arg)
{
	struct xfer *x = arg;

	for (size_t i = 0; i < x->n; i++) {
		CHECK(filled(x->objs[i], 16, (unsigned)i), "object %zu clobbered", i);
		gfree(x->objs[i]);
	}
	return NULL;
}

/* Objects freed by another thread come back to their owner, and to the heap. */
static void remote_frees_return_to_owner(void)
{
	enum { N = 100000 };
	struct galloc_stats st0, st1;
	struct xfer x = { .objs = calloc(N, sizeof(void *)), .n = N };
	pthread_t t;

	galloc_stats(&st0);
	for (int round = 0; round < 5; round++) {
		for (size_t i = 0; i < N; i++) {
			x.objs[i] = galloc(16 + (i % 5) * 16, 0);
			fill(x.objs[i], 16, (unsigned)i);
		}
		pthread_create(&t, NULL, free_all, &x);
		pthread_join(t, NULL);
		HEAP_OK();
	}
	galloc_stats(&st1);
	uint64_t inuse0 = 0, inuse1 = 0;
	for (unsigned c = 1; c < GALLOC_NUM_CLASSES; c++) {
		inuse0 += st0.cls[c].inuse;
		inuse1 += st1.cls[c].inuse;
	}
	CHECK(inuse1 == inuse0, "in use %lu -> %lu", (unsigned long)inuse0, (unsigned long)inuse1);
	/* five rounds of 100000 remote frees reuse the same spans: the heap did not grow 5x */
	CHECK(st1.heap_inuse < st0.heap_inuse + (8u << 20), "heap in use %lu -> %lu",
	      (unsigned long)st0.heap_inuse, (unsigned long)st1.heap_inuse);
	free(x.objs);
}

static void *alloc_and_exit(void *arg)
{
	struct xfer *x = arg;

	for (size_t i = 0; i < x->n; i++) {
		x->objs[i] = galloc(48 + (i % 3) * 1000, 0);
		fill(x->objs[i], 48, (unsigned)i);
	}
	for (size_t i = 0; i < x->n; i += 2) {
		gfree(x->objs[i]);
		x->objs[i] = NULL;
	}
	return NULL;
}

/* A thread's cache is released at exit; its spans' objects stay valid; freeing them later
 * gives the pages back. */
static void thread_exit_releases_cache(void)
{
	enum { N = 20000 };
	struct galloc_stats st0, st1;
	struct xfer x = { .objs = calloc(N, sizeof(void *)), .n = N };
	pthread_t t;

	galloc_stats(&st0);
	pthread_create(&t, NULL, alloc_and_exit, &x);
	pthread_join(t, NULL);
	HEAP_OK();
	for (size_t i = 1; i < N; i += 2) {
		CHECK(filled(x.objs[i], 48, (unsigned)i), "object %zu", i);
		gfree(x.objs[i]);
	}
	HEAP_OK();
	galloc_stats(&st1);
	CHECK(st1.heap_inuse <= st0.heap_inuse + (1u << 20), "pages kept: %lu -> %lu",
	      (unsigned long)st0.heap_inuse, (unsigned long)st1.heap_inuse);
	CHECK(st1.caches == st0.caches, "caches %lu -> %lu", (unsigned long)st0.caches,
	      (unsigned long)st1.caches);
	free(x.objs);
}

struct pcache {
	struct galloc_cache *c;
	void *objs[1000];
	int phase;
};

static void *use_bound_cache(void *arg)
{
	struct pcache *pc = arg;

	CHECK(galloc_cache_bind(pc->c) == NULL, "previous binding");
	if (pc->phase == 0) {
		for (int i = 0; i < 1000; i++)
			pc->objs[i] = galloc(200, 0);
	} else {
		for (int i = 0; i < 1000; i++)
			gfree(pc->objs[i]); /* local frees: this thread runs the owner cache */
	}
	CHECK(galloc_cache_bind(NULL) == pc->c, "unbind");
	return NULL;
}

/* A P's cache moves from thread to thread; frees by whoever holds it are local. */
static void bound_cache_moves_between_threads(void)
{
	struct pcache pc = { .c = galloc_cache_new() };
	pthread_t t;

	CHECK(pc.c != NULL, "new cache");
	pthread_create(&t, NULL, use_bound_cache, &pc);
	pthread_join(t, NULL);
	pc.phase = 1;
	pthread_create(&t, NULL, use_bound_cache, &pc);
	pthread_join(t, NULL);
	/* local frees: the current span counts none in use and has no remote frees pending */
	struct ga_cache *c = (struct ga_cache *)pc.c;
	struct ga_span *sp = c->alloc[ga_size_to_class(200) << 1];
	CHECK(sp != &ga_span_empty && ga_span_used(sp) == 0 && ga_xf_cnt(atomic_load(&sp->xfree)) == 0,
	      "frees were not local: used %u", ga_span_used(sp));
	HEAP_OK();
	galloc_cache_destroy(pc.c);
	HEAP_OK();
}

/* Stats: per class counts follow allocations and frees. */
static void stats_count_classes(void)
{
	struct galloc_stats st0, st1;
	unsigned c = ga_size_to_class(100);
	void *p[1000];

	galloc_stats(&st0);
	for (int i = 0; i < 1000; i++)
		p[i] = galloc(100, 0);
	galloc_stats(&st1);
	CHECK(st1.cls[c].inuse == st0.cls[c].inuse + 1000, "inuse %lu -> %lu",
	      (unsigned long)st0.cls[c].inuse, (unsigned long)st1.cls[c].inuse);
	CHECK(st1.cls[c].objects >= st1.cls[c].inuse, "objects %lu", (unsigned long)st1.cls[c].objects);
	CHECK(st1.heap_inuse > 0 && st1.heap_sys >= st1.heap_inuse + st1.heap_free, "heap");
	for (int i = 0; i < 1000; i++)
		gfree(p[i]);
	galloc_stats(&st1);
	CHECK(st1.cls[c].inuse == st0.cls[c].inuse, "inuse after free");
}

/* Freed memory goes back to the OS: resident memory falls. */
static void scavenger_returns_memory(void)
{
	enum { N = 3200 };
	static void *p[N];
	struct galloc_stats st;
	size_t before, peak, after;

	galloc_scavenge(0);
	before = rss_bytes();
	for (int i = 0; i < N; i++) {
		p[i] = galloc(64 * 1024, 0);
		memset(p[i], 1, 64 * 1024);
	}
	peak = rss_bytes();
	for (int i = 0; i < N; i++)
		gfree(p[i]);
	/* the pages are kept for a while (allocating in rounds must not refault them); a heap
	 * operation after the scavenger's window (1 s) gives them back */
	usleep(1200 * 1000);
	gfree(galloc(1 << 20, 0));
	after = rss_bytes();
	galloc_stats(&st);
	printf("# rss before %zu KiB, peak %zu KiB, after free %zu KiB, released %lu KiB\n",
	       before >> 10, peak >> 10, after >> 10, (unsigned long)(st.heap_released >> 10));
	CHECK(peak > before + (150u << 20), "peak did not grow");
	/* a sanitizer's shadow of the test's own memset stays resident: trust the counters */
#if !defined(__SANITIZE_THREAD__)
	CHECK(after < before + (peak - before) / 4, "resident memory did not fall");
#endif
	CHECK(st.heap_released >= (150u << 20), "released %lu", (unsigned long)st.heap_released);
	HEAP_OK();
}

/* An idle heap gives back the pages it kept for an old peak at galloc_tick(). */
static void tick_releases_pages_of_an_old_peak(void)
{
	enum { N = 1600 };
	static void *p[N];
	struct galloc_stats st0, st1;

	for (int i = 0; i < N; i++) {
		p[i] = galloc(64 * 1024, 0);
		memset(p[i], 1, 64 * 1024);
	}
	for (int i = 0; i < N; i++)
		gfree(p[i]);
	galloc_stats(&st0);
	galloc_tick(); /* within the window: nothing yet */
	usleep(1200 * 1000);
	galloc_tick();
	galloc_stats(&st1);
	CHECK(st1.heap_released >= st0.heap_released + (90u << 20),
	      "released %lu -> %lu KiB", (unsigned long)(st0.heap_released >> 10),
	      (unsigned long)(st1.heap_released >> 10));
	HEAP_OK();
}

/*
 * Small spans freed to the heap wait in its stash: allocating again reuses them without
 * growing the heap, a lookup in one finds no object, the checker accounts for them, and
 * after the scavenger's window they are released like any free page.
 */
static void stashed_small_spans_are_reused_then_released(void)
{
	enum { N = 400000, SZ = 256 }; /* 100 MiB in 1-page spans */
	static void *p[N];
	struct galloc_stats st0, st1, st2;
	struct galloc_object obj;

	for (int i = 0; i < N; i++) {
		p[i] = galloc(SZ, 0);
		memset(p[i], 1, 16);
	}
	galloc_stats(&st0);
	for (int i = 0; i < N; i++)
		gfree(p[i]);
	/* the middle spans emptied after the cache's budget of kept spans was full */
	CHECK(galloc_find(p[N / 2], &obj) == -ENOENT, "object found in a freed span");
	HEAP_OK();
	for (int i = 0; i < N; i++)
		p[i] = galloc(SZ, 0);
	galloc_stats(&st1);
	/* every span came back from the stash (or the cache): no new arena */
	CHECK(st1.heap_sys == st0.heap_sys, "heap grew %lu -> %lu KiB",
	      (unsigned long)(st0.heap_sys >> 10), (unsigned long)(st1.heap_sys >> 10));
	CHECK(galloc_find(p[N / 2], &obj) == 0 && obj.base == p[N / 2], "reused span lookup");
	HEAP_OK();
	for (int i = 0; i < N; i++)
		gfree(p[i]);
	usleep(1200 * 1000);
	galloc_tick();
	galloc_stats(&st2);
	CHECK(st2.heap_released >= st1.heap_released + (90u << 20), "released %lu -> %lu KiB",
	      (unsigned long)(st1.heap_released >> 10), (unsigned long)(st2.heap_released >> 10));
	HEAP_OK();
}

/* The checker notices a broken span. */
static void checker_detects_corruption(void)
{
	void *p = galloc(32, 0);
	struct ga_span *s = ga_span_of_fast(p);

	HEAP_OK();
	s->ucount++; /* used + 1 */
	CHECK(galloc_check(checkmsg, sizeof(checkmsg)) == -EUCLEAN, "missed used++");
	CHECK(strstr(checkmsg, "used") != NULL, "message: %s", checkmsg);
	s->ucount--;
	HEAP_OK();
	gfree(p);
}

/* The checker fails, naming what it found, and the heap is whole again once fixed up. */
static void expect_caught(const char *what, const char *needle)
{
	int err = galloc_check(checkmsg, sizeof(checkmsg));

	CHECK(err == -EUCLEAN && strstr(checkmsg, needle), "%s: galloc_check %d, \"%s\"", what,
	      err, checkmsg);
	printf("# %s: %s\n", what, checkmsg);
}

/*
 * Spans on the wrong lists (issue 26's span released twice): one span listed twice while
 * another is on no list, which cancel in the checker's counts; a span twice in the heap's
 * stash; a stashed span still flagged as queued on a cache's unfull stack.
 */
static void *misplace_spans(void *arg)
{
	unsigned spc = ga_size_to_class(4096) << 1;
	struct ga_cache *c;
	struct ga_spanlist saved;
	struct ga_span *p, *s, *st;
	bool stashed;
	void *a[3];

	for (int i = 0; i < 3; i++)
		a[i] = galloc(4096, 0); /* two per span: the third parks the first span full */
	gfree(a[0]);                    /* ... and this moves it to the partial list */
	c = ga_tls_cache;
	p = ga_span_of_fast(a[1]);
	s = ga_span_of_fast(a[2]);
	CHECK(c->partial[spc].first == p && c->partial[spc].n == 1 && c->alloc[spc] == s,
	      "setup: partial list %p (%zu), current %p; expected %p, %p", (void *)c->partial[spc].first,
	      c->partial[spc].n, (void *)c->alloc[spc], (void *)p, (void *)s);
	HEAP_OK();
	if (tap_failed)
		return arg;

	/* the current span also in the partial list, the span that was there on none */
	saved = c->partial[spc];
	c->partial[spc] = (struct ga_spanlist){ .first = s, .last = s, .n = 1 };
	expect_caught("span current and in partial, another on no list", "two lists");
	c->partial[spc] = saved;
	HEAP_OK();

	st = ga_heap_alloc_span(spc);
	ga_heap_free_span(st);
	stashed = st->state == GA_SPAN_STASHED && ga_heap.stash[st->npages] == st;
	CHECK(stashed, "setup: span %p not on top of the stash", (void *)st);
	if (stashed) {
		struct ga_span *next = st->next;

		/* pushed twice on the stash: it follows itself */
		st->next = st;
		expect_caught("span twice in the stash", "twice in the heap's stash");
		st->next = next;
		HEAP_OK();
		/* back in the heap with a notification still queued */
		atomic_store(&st->in_unfull, 1);
		expect_caught("stashed span with in_unfull", "unfull");
		atomic_store(&st->in_unfull, 0);
		HEAP_OK();
	}
	gfree(a[1]);
	gfree(a[2]);
	return arg;
}

static void checker_sees_misplaced_spans(void)
{
	pthread_t t;

	pthread_create(&t, NULL, misplace_spans, NULL); /* a cache of its own */
	pthread_join(t, NULL);
	HEAP_OK();
}

/*
 * Empty spans past a cache's keep budget go back to the heap GA_RELEASE_BATCH at a time: a
 * partial batch is accounted for by the checker, galloc_scavenge hands it over.
 */
static void *release_in_batches(void *arg)
{
	enum { SZ = 256, PER = GA_PAGE_SIZE / SZ, SPANS = GA_KEEP_PAGES + GA_RELEASE_BATCH + 5 };
	static void *p[SPANS * PER];
	struct galloc_stats st0, st1, st2;
	struct ga_cache *c;

	for (int i = 0; i < SPANS * PER; i++)
		p[i] = galloc(SZ, 0);
	c = ga_tls_cache;
	galloc_stats(&st0);
	/* every span empties in order but the last (current): GA_KEEP_PAGES are kept, one
	 * batch goes to the heap, 4 spans wait in the next */
	for (int i = 0; i < SPANS * PER; i++)
		gfree(p[i]);
	CHECK(c->kept_pages == GA_KEEP_PAGES && c->nrelease == 4, "kept %u pages, batch of %u",
	      c->kept_pages, c->nrelease);
	HEAP_OK();
	galloc_stats(&st1);
	CHECK(st0.heap_inuse - st1.heap_inuse == GA_RELEASE_BATCH * GA_PAGE_SIZE,
	      "heap in use %lu -> %lu KiB", (unsigned long)(st0.heap_inuse >> 10),
	      (unsigned long)(st1.heap_inuse >> 10));
	galloc_scavenge(SIZE_MAX);
	galloc_stats(&st2);
	CHECK(c->nrelease == 0 && st1.heap_inuse - st2.heap_inuse == 4 * GA_PAGE_SIZE,
	      "after galloc_scavenge: batch of %u, heap in use %lu -> %lu KiB", c->nrelease,
	      (unsigned long)(st1.heap_inuse >> 10), (unsigned long)(st2.heap_inuse >> 10));
	HEAP_OK();
	return arg;
}

static void emptied_spans_go_back_in_batches(void)
{
	pthread_t t;

	pthread_create(&t, NULL, release_in_batches, NULL); /* a cache with nothing kept yet */
	pthread_join(t, NULL);
	HEAP_OK();
}

/* ---- freeing what is not an object ------------------------------------------------------ */

/* In a child: say which pointer, then free it. */
static void free_bad(void *p)
{
	fprintf(stderr, "pointer %p\n", p);
	gfree(p);
}

static void *free_bad_here(void *p)
{
	free_bad(p);
	return NULL;
}

static void free_interior_small(void)
{
	char *p = galloc(100, 0);

	free_bad(p + 16);
}

static void free_interior_small_remote(void)
{
	char *p = galloc(100, 0);
	pthread_t t;

	pthread_create(&t, NULL, free_bad_here, p + 16);
	pthread_join(t, NULL);
}

static void free_interior_large(void)
{
	char *p = galloc(100000, 0);

	free_bad(p + GA_PAGE_SIZE);
}

static void free_large_twice(void)
{
	void *p = galloc(100000, 0);

	gfree(p);
	free_bad(p);
}

static void free_stack_address(void)
{
	char x[16];

	free_bad(x);
}

static void free_libc_malloc(void)
{
	free_bad(malloc(64)); /* glibc's: this program does not interpose malloc */
}

/* fn, in a child, must abort() with a message on stderr naming the pointer it frees */
static void expect_abort(const char *what, void (*fn)(void))
{
	char out[1024] = "", ptr[32] = "?";
	int fds[2], st = 0;
	ssize_t n = 0, r;
	pid_t pid;

	if (pipe(fds))
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		fn();
		fprintf(stderr, "freed it\n");
		_exit(0);
	}
	close(fds[1]);
	while (n < (ssize_t)sizeof(out) - 1 &&
	       (r = read(fds[0], out + n, sizeof(out) - 1 - (size_t)n)) > 0)
		n += r;
	out[n] = 0;
	close(fds[0]);
	waitpid(pid, &st, 0);
	sscanf(out, "pointer %31s", ptr);
	for (char *nl; (nl = strchr(out, '\n'));)
		*nl = nl[1] ? ' ' : 0;
	printf("# %s: %s\n", what, out);
	/* a message naming the pointer, then abort() */
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "%s: child status %#x", what, st);
	CHECK(strstr(out, "gochan alloc: ") && strstr(strstr(out, "gochan alloc: "), ptr),
	      "%s: no message naming %s", what, ptr);
}

/* Freeing an interior or foreign pointer, or a large object twice, aborts naming it. */
static void freeing_a_non_object_aborts(void)
{
	expect_abort("interior pointer, owner thread", free_interior_small);
	expect_abort("interior pointer, other thread", free_interior_small_remote);
	expect_abort("interior pointer of a large object", free_interior_large);
	expect_abort("large object freed twice", free_large_twice);
	expect_abort("stack address", free_stack_address);
	expect_abort("libc's malloc", free_libc_malloc);
}

int main(int argc, char **argv)
{
	TEST(small_objects_round_trip);
	TEST(alignment_rules);
	TEST(zero_flag_zeroes_reused_memory);
	TEST(noscan_and_scan_spans_differ);
	TEST(tiny_objects_share_blocks);
	TEST(large_objects_from_page_heap);
	TEST(huge_object_beyond_arena);
	TEST(interior_pointers_map_to_object);
	TEST(find_rejects_outside_heap);
	TEST(realloc_in_place_and_moves);
	TEST(remote_frees_return_to_owner);
	TEST(thread_exit_releases_cache);
	TEST(bound_cache_moves_between_threads);
	TEST(stats_count_classes);
	TEST(scavenger_returns_memory);
	TEST(tick_releases_pages_of_an_old_peak);
	TEST(stashed_small_spans_are_reused_then_released);
	TEST(checker_detects_corruption);
	TEST(checker_sees_misplaced_spans);
	TEST(emptied_spans_go_back_in_batches);
	TEST(fork_with_allocating_atfork_handlers);
	TEST(freeing_a_non_object_aborts);
	return tap_any_failed;
}
