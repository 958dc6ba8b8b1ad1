/* SPDX-License-Identifier: MIT */
/*
 * Description: the collected heap without the scheduler: collected spans (allocation bits,
 * mark bits, pointer bits), allocation, marking from explicit roots (_go_gc_collect_roots),
 * sweeping, large objects, and the heap checker after each step. One thread, so that every
 * outcome is exact.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/gc/internal.h"
#include "child.h" /* selftests/common */
#include "tap.h"

static struct gc_p pp;

static void setup(void)
{
	if (!pp.cache)
		pp.cache = (struct ga_cache *)galloc_cache_new();
}

static void *gnew(size_t n, unsigned flags)
{
	return _go_gc_alloc(&pp, n, flags, NULL, 1);
}

static void collect(const uintptr_t *roots, size_t n)
{
	char msg[256];

	_go_gc_collect_roots(&pp, roots, n);
	/* the heap's invariants hold after every collection */
	CHECK(galloc_check(msg, sizeof(msg)) == 0, "galloc_check: %s", msg);
}

static uint64_t freed_objects(void)
{
	return atomic_load(&ga_gc_freed_objects);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

/* ---- allocation --------------------------------------------------------------------------- */

static void objects_are_zeroed_aligned_and_distinct(void)
{
	static const size_t sizes[] = { 0, 1, 8, 15, 16, 24, 33, 64, 100, 1024, 5000, 32768, 40000 };
	void *seen[64];
	size_t k = 0;

	setup();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (unsigned noscan = 0; noscan < 2; noscan++) {
			char *p = gnew(sizes[i], noscan);
			struct galloc_object o;

			/* every object is zeroed, 8-aligned (16 from 32 bytes), in its own slot */
			CHECK(p && all_zero(p, sizes[i]), "size %zu", sizes[i]);
			CHECK(((uintptr_t)p & 7) == 0 && (sizes[i] < 32 || ((uintptr_t)p & 15) == 0),
			      "size %zu at %p", sizes[i], (void *)p);
			CHECK(galloc_find(p, &o) == 0 && o.base == p && o.size >= sizes[i] &&
				      o.noscan == noscan,
			      "size %zu noscan %u: find %p size %zu noscan %u", sizes[i], noscan,
			      o.base, o.size, o.noscan);
			/* a noscan object never takes a tiny slot: 16 bytes at least */
			CHECK(!noscan || o.size >= 16, "noscan size %zu in a %zu-byte slot", sizes[i],
			      o.size);
			for (size_t j = 0; j < k; j++)
				CHECK(seen[j] != p, "object %p handed out twice", (void *)p);
			memset(p, 0x5a, sizes[i]);
			seen[k++] = p;
		}
	}
	collect(NULL, 0);
	/* a second round reuses the swept slots, zeroed again */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *p = gnew(sizes[i], 0);

		CHECK(p && all_zero(p, sizes[i]), "size %zu after a sweep", sizes[i]);
	}
	collect(NULL, 0);
}

/* ---- reachability ------------------------------------------------------------------------- */

struct node {
	struct node *next;
	uint64_t sum; /* of its address and index: checked when reached */
	uint64_t index;
};

static void unreachable_objects_are_freed(void)
{
	uint64_t before;

	setup();
	collect(NULL, 0);
	before = freed_objects();
	for (int i = 0; i < 10000; i++)
		CHECK(gnew(sizeof(struct node), 0), "alloc %d", i);
	collect(NULL, 0);
	/* nothing was rooted: all 10000 freed, nothing live */
	CHECK(freed_objects() - before == 10000, "freed %lu", (unsigned long)(freed_objects() - before));
	CHECK(_go_gc.heap_marked == 0 && _go_gc.heap_live == 0, "marked %lu live %ld",
	      (unsigned long)_go_gc.heap_marked, (long)_go_gc.heap_live);
}

/*
 * The pacer's heap_live and the statistics count a span's free slots once, when a cache takes
 * the span, and give back what the cache did not use when it is flushed: 10000 allocations of
 * 16 bytes add 160000 bytes and at most a span's worth, and 10000 objects once flushed (a
 * count of each 64-slot window of a span, again and again, made cycles start 4 times too
 * often).
 */
static void allocation_is_counted_once(void)
{
	int64_t live0;
	uint64_t bytes0, objs0, pacer;

	setup();
	collect(NULL, 0);
	live0 = _go_gc.heap_live;
	bytes0 = _go_gc.total_alloc;
	objs0 = _go_gc.total_objects;
	for (int i = 0; i < 10000; i++)
		CHECK(gnew(16, 0), "alloc %d", i);
	pacer = (uint64_t)(_go_gc.heap_live - live0);
	CHECK(pacer >= 160000 && pacer <= 160000 + 65536, "heap_live grew by %lu for 160000 bytes",
	      (unsigned long)pacer);
	collect(NULL, 0); /* (flushes the cache: the unused slots are given back) */
	CHECK(_go_gc.total_alloc - bytes0 == 160000, "total_alloc grew by %lu",
	      (unsigned long)(_go_gc.total_alloc - bytes0));
	CHECK(_go_gc.total_objects - objs0 == 10000, "total_objects grew by %lu",
	      (unsigned long)(_go_gc.total_objects - objs0));
}

static struct node *make_list(int n)
{
	struct node *head = NULL;

	for (int i = 0; i < n; i++) {
		struct node *x = gnew(sizeof(*x), 0);

		x->next = head;
		x->index = (uint64_t)i;
		x->sum = (uintptr_t)x ^ (uint64_t)i * 0x9e3779b97f4a7c15ull;
		head = x;
	}
	return head;
}

static int check_list(struct node *x)
{
	int n = 0;

	for (; x; x = x->next, n++)
		if (x->sum != ((uintptr_t)x ^ x->index * 0x9e3779b97f4a7c15ull))
			return -1;
	return n;
}

static void reachable_objects_survive_many_cycles(void)
{
	struct node *list;
	uintptr_t root;
	uint64_t before;

	setup();
	collect(NULL, 0);
	list = make_list(5000);
	root = (uintptr_t)list;
	make_list(3000); /* garbage */
	before = freed_objects();
	for (int c = 0; c < 20; c++) {
		make_list(100); /* more garbage each cycle */
		collect(&root, 1);
	}
	/* the rooted list is intact after 20 cycles; all the garbage is gone */
	CHECK(check_list(list) == 5000, "list: %d", check_list(list));
	CHECK(freed_objects() - before == 3000 + 20 * 100, "freed %lu",
	      (unsigned long)(freed_objects() - before));
	CHECK(_go_gc.heap_marked == 5000 * 24, "marked %lu", (unsigned long)_go_gc.heap_marked);
}

static void interior_pointer_keeps_object(void)
{
	uintptr_t root;
	char *p;
	uint64_t before;

	setup();
	collect(NULL, 0);
	p = gnew(100, GO_NEW_NOSCAN); /* a 112-byte slot */
	memset(p, 7, 100);
	root = (uintptr_t)(p + 99);
	before = freed_objects();
	collect(&root, 1);
	collect(&root, 1);
	/* a pointer to its last byte kept it: nothing freed, its bytes intact */
	CHECK(freed_objects() == before && p[0] == 7 && p[99] == 7, "freed %lu",
	      (unsigned long)(freed_objects() - before));
	/* one past its end is the next slot, not this object */
	root = (uintptr_t)(p + 112);
	collect(&root, 1);
	CHECK(freed_objects() - before == 1, "freed %lu", (unsigned long)(freed_objects() - before));
}

static void unreachable_cycles_are_collected(void)
{
	struct node *a, *b, *c;
	uint64_t before;
	uintptr_t root;

	setup();
	collect(NULL, 0);
	a = gnew(sizeof(*a), 0);
	b = gnew(sizeof(*b), 0);
	c = gnew(sizeof(*c), 0);
	a->next = b;
	b->next = c;
	c->next = a;
	root = (uintptr_t)b;
	before = freed_objects();
	collect(&root, 1);
	/* reachable through b: the whole cycle stays */
	CHECK(freed_objects() == before && a->next == b && c->next == a, "freed %lu",
	      (unsigned long)(freed_objects() - before));
	collect(NULL, 0);
	/* unreachable: the cycle goes, all three */
	CHECK(freed_objects() - before == 3, "freed %lu", (unsigned long)(freed_objects() - before));
}

/*
 * A bounded drain (an assist, a background worker's slice) ends soon after a stop-the-world
 * is asked for, whatever its budget: the stopper waits for this thread's next safe point, so
 * a drain that went on to its budget (megabytes of scanning for an assist) was the pause.
 * What it left grey is still marked later: the whole list survives.
 */
static void bounded_drain_ends_at_a_stop_the_world(void)
{
	struct node *head;
	uintptr_t root;
	uint64_t before;
	int64_t done;

	setup();
	collect(NULL, 0);
	head = make_list(20000);
	root = (uintptr_t)head;
	before = freed_objects();
	_go_gc_collect_begin(&pp, &root, 1);
	fetch_or(&_go_safepoint, GO_SAFEPOINT_STW);
	done = _go_gc_drain(&pp.w, INT64_MAX);
	fetch_and(&_go_safepoint, ~GO_SAFEPOINT_STW);
	/* at most a check interval of objects (32 of 32 bytes each), then it stopped */
	CHECK(done > 0 && done <= 64 * 32, "drained %ld bytes with a stop pending", (long)done);
	_go_gc_collect_end(&pp);
	CHECK(freed_objects() == before, "freed %lu of a reachable list",
	      (unsigned long)(freed_objects() - before));
	CHECK(check_list(head) == 20000, "list: %d", check_list(head));
}

/* ---- precise and conservative scanning ------------------------------------------------------ */

struct tnode {
	uintptr_t not_a_pointer; /* holds an address, but is no pointer field */
	struct tnode *ptr;
	uint64_t x;
};
GO_TYPE_DEFINE(tnode_type, struct tnode, ptr);

static void typed_objects_are_scanned_precisely(void)
{
	struct tnode *t, *t2;
	char *kept, *dropped, *conserv_kept;
	uintptr_t roots[2];
	uint64_t before;
	void **c;

	setup();
	collect(NULL, 0);
	/* the type's mask: one pointer, word 1, in a 24-byte prefix of 24 bytes */
	CHECK(tnode_type.size == 24 && tnode_type.ptrdata == 16 && tnode_type.ptrmask[0] == 2,
	      "type %zu %zu %#lx", tnode_type.size, tnode_type.ptrdata,
	      (unsigned long)tnode_type.ptrmask[0]);
	t = _go_gc_alloc(&pp, sizeof(*t), 0, &tnode_type, 1);
	kept = gnew(64, GO_NEW_NOSCAN);
	dropped = gnew(64, GO_NEW_NOSCAN);
	t->ptr = (struct tnode *)kept;
	t->not_a_pointer = (uintptr_t)dropped;
	/* an untyped object in the same span (24-byte class) stays conservative */
	c = gnew(24, 0);
	conserv_kept = gnew(64, GO_NEW_NOSCAN);
	c[2] = conserv_kept;
	/* a second typed object of the span: its own bits */
	t2 = _go_gc_alloc(&pp, sizeof(*t2), 0, &tnode_type, 1);
	t2->not_a_pointer = (uintptr_t)c;
	roots[0] = (uintptr_t)t;
	roots[1] = (uintptr_t)c;
	before = freed_objects();
	collect(roots, 2);
	/* t's pointer field kept `kept`, its integer field did not keep `dropped`; the
	 * conservative object kept what its third word points to; t2 was unreachable */
	CHECK(freed_objects() - before == 2, "freed %lu", (unsigned long)(freed_objects() - before));
	CHECK(galloc_base(kept) == kept, "kept");
	CHECK(t->ptr == (struct tnode *)kept && c[2] == conserv_kept, "contents");
	/* kept and conserv_kept are still allocated: the next cycle frees them with their holders */
	collect(NULL, 0);
	CHECK(freed_objects() - before == 2 + 4, "freed %lu", (unsigned long)(freed_objects() - before));
}

static void typed_arrays_repeat_the_mask(void)
{
	struct tnode *a;
	char *keep[4];
	uintptr_t root;
	uint64_t before;

	setup();
	collect(NULL, 0);
	a = _go_gc_alloc(&pp, 4 * sizeof(*a), 0, &tnode_type, 4);
	for (int i = 0; i < 4; i++) {
		keep[i] = gnew(16, GO_NEW_NOSCAN);
		a[i].ptr = (struct tnode *)keep[i];
		a[i].not_a_pointer = (uintptr_t)gnew(16, GO_NEW_NOSCAN);
	}
	root = (uintptr_t)a;
	before = freed_objects();
	collect(&root, 1);
	/* every element's pointer kept its object; every element's integer did not */
	CHECK(freed_objects() - before == 4, "freed %lu", (unsigned long)(freed_objects() - before));
	for (int i = 0; i < 4; i++)
		CHECK(a[i].ptr == (struct tnode *)keep[i] && galloc_base(keep[i]) == keep[i], "%d", i);
}

/*
 * Pointer bits of typed arrays whose pattern does not fit a word evenly: a 3-word element
 * with pointers in words 0 and 2 (50 elements: 150 words, the pattern crossing every 64-bit
 * boundary at a different phase), and a 70-word element with pointers in words 1 and 66 (its
 * mask two words long). Each pointer word keeps its object; each integer word holding an
 * address keeps nothing. The slots were used before by conservative objects (all bits set)
 * and by an object of another type, so stale bits would show.
 */
struct tri {
	void *p0;
	uintptr_t addr;
	void *p2;
};
static const uint64_t tri_mask[1] = { 0x5 };
static const struct go_type tri_type = { sizeof(struct tri), 24, tri_mask, "tri" };

struct wide {
	uintptr_t w0;
	void *p1;
	uintptr_t mid[64];
	void *p66;
	uintptr_t w67, w68, w69;
};
static const uint64_t wide_mask[2] = { 0x2, 0x4 };
static const struct go_type wide_type = { sizeof(struct wide), 67 * 8, wide_mask, "wide" };

static void typed_array_bits_cross_words(void)
{
	enum { NTRI = 50 };
	struct tri *a;
	struct wide *w;
	void *keep[2 * NTRI + 2];
	uintptr_t roots[2];
	uint64_t before;
	int k = 0;

	setup();
	collect(NULL, 0);
	/* fill the classes with conservative objects full of addresses, then free them */
	for (int i = 0; i < 64; i++) {
		uintptr_t *c = gnew(NTRI * sizeof(struct tri), 0);
		uintptr_t *d = gnew(sizeof(struct wide), 0);

		for (size_t j = 0; j < NTRI * sizeof(struct tri) / 8; j++)
			c[j] = (uintptr_t)c;
		for (size_t j = 0; j < sizeof(struct wide) / 8; j++)
			d[j] = (uintptr_t)d;
	}
	collect(NULL, 0);
	a = _go_gc_alloc(&pp, NTRI * sizeof(*a), 0, &tri_type, NTRI);
	w = _go_gc_alloc(&pp, sizeof(*w), 0, &wide_type, 1);
	CHECK(a && w, "alloc");
	for (int i = 0; i < NTRI; i++) {
		a[i].p0 = keep[k++] = gnew(16, GO_NEW_NOSCAN);
		a[i].p2 = keep[k++] = gnew(16, GO_NEW_NOSCAN);
		a[i].addr = (uintptr_t)gnew(16, GO_NEW_NOSCAN);
	}
	w->p1 = keep[k++] = gnew(16, GO_NEW_NOSCAN);
	w->p66 = keep[k++] = gnew(16, GO_NEW_NOSCAN);
	w->w0 = (uintptr_t)gnew(16, GO_NEW_NOSCAN);
	for (int i = 0; i < 64; i++)
		w->mid[i] = (uintptr_t)gnew(16, GO_NEW_NOSCAN);
	w->w67 = w->w69 = (uintptr_t)gnew(16, GO_NEW_NOSCAN);
	roots[0] = (uintptr_t)a;
	roots[1] = (uintptr_t)w;
	before = freed_objects();
	collect(roots, 2);
	/* freed: the 50 integers' objects, w0's, the 64 in mid, w67's */
	CHECK(freed_objects() - before == NTRI + 1 + 64 + 1, "freed %lu",
	      (unsigned long)(freed_objects() - before));
	for (int i = 0; i < k; i++)
		CHECK(galloc_base(keep[i]) == keep[i], "pointer word %d lost its object", i);
}

/* ---- large objects ------------------------------------------------------------------------ */

static void large_objects_and_their_oblets(void)
{
	size_t n = 600 * 1024 / 8; /* 600 KiB of pointers: five oblets */
	void **big;
	uintptr_t root;
	uint64_t before;
	struct galloc_stats st0, st1;

	setup();
	collect(NULL, 0);
	galloc_stats(&st0);
	big = gnew(n * 8, 0);
	CHECK(big && all_zero(big, n * 8), "large alloc");
	for (size_t i = 0; i < n; i += 1000)
		big[i] = gnew(32, GO_NEW_NOSCAN);
	big[n - 1] = gnew(32, GO_NEW_NOSCAN); /* the last word of the last oblet */
	root = (uintptr_t)(big + n / 2); /* an interior pointer into its third oblet */
	before = freed_objects();
	collect(&root, 1);
	/* every object the array points to survived, in every oblet */
	CHECK(freed_objects() == before, "freed %lu", (unsigned long)(freed_objects() - before));
	for (size_t i = 0; i < n; i += 1000)
		CHECK(galloc_base(big[i]) == big[i], "element %zu", i);
	collect(NULL, 0);
	galloc_stats(&st1);
	/* unreachable: the array and its 602 objects freed, its pages back to the heap */
	CHECK(freed_objects() - before == 1 + n / 1000 + 1 + 1, "freed %lu",
	      (unsigned long)(freed_objects() - before));
	CHECK(st1.large_objects == st0.large_objects && st1.large_inuse == st0.large_inuse,
	      "large objects %lu -> %lu", (unsigned long)st0.large_objects,
	      (unsigned long)st1.large_objects);
}

/* ---- memory goes back ---------------------------------------------------------------------- */

static void freed_spans_return_to_the_heap(void)
{
	struct galloc_stats st0, st1, st2;

	setup();
	collect(NULL, 0);
	galloc_stats(&st0);
	for (int i = 0; i < 200000; i++)
		gnew(64, 0);
	galloc_stats(&st1);
	collect(NULL, 0);
	galloc_stats(&st2);
	/* 12.8 MB were in use; after the sweep the empty spans left: in use as before */
	CHECK(st1.heap_inuse >= st0.heap_inuse + 200000 * 64, "in use %lu -> %lu",
	      (unsigned long)st0.heap_inuse, (unsigned long)st1.heap_inuse);
	CHECK(st2.heap_inuse == st0.heap_inuse, "in use after: %lu, before %lu",
	      (unsigned long)st2.heap_inuse, (unsigned long)st0.heap_inuse);
}

static void heap_stays_flat_across_cycles(void)
{
	struct galloc_stats st;
	uint64_t peak = 0, first = 0;
	uintptr_t root;

	setup();
	collect(NULL, 0);
	root = (uintptr_t)make_list(10000);
	for (int c = 0; c < 30; c++) {
		make_list(10000);
		collect(&root, 1);
		galloc_stats(&st);
		if (c == 0)
			first = st.heap_inuse;
		if (st.heap_inuse > peak)
			peak = st.heap_inuse;
	}
	/* swept slots are reused: the heap does not grow cycle after cycle */
	CHECK(peak == first, "in use %lu after the first cycle, up to %lu", (unsigned long)first,
	      (unsigned long)peak);
	CHECK(check_list((struct node *)root) == 10000, "list");
}

static void freed_objects_are_poisoned(void)
{
	uint64_t *p;

	setup();
	collect(NULL, 0);
	p = gnew(48, GO_NEW_NOSCAN);
	gnew(48, GO_NEW_NOSCAN); /* the span stays: it has a live object */
	{
		uintptr_t root = (uintptr_t)gnew(48, GO_NEW_NOSCAN);

		ga_gc_poison = true;
		collect(&root, 1);
		ga_gc_poison = false;
	}
	/* the sweep filled the dead object's slot with 0xdb */
	CHECK(p[0] == 0xdbdbdbdbdbdbdbdbull && p[5] == 0xdbdbdbdbdbdbdbdbull, "%#lx",
	      (unsigned long)p[0]);
}

static void child_gfree_collected(void)
{
	void *p = gnew(32, 0);

	gfree(p);
}

static void gfree_of_a_collected_object_aborts(void)
{
	char buf[512] = "";
	int status;

	setup();
	status = in_child(child_gfree_collected, buf, sizeof(buf), 0);
	/* gfree refuses it: aborts, naming the object as collected */
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(buf, "collected object"),
	      "status %#x: %s", status, buf);
}

int main(int argc, char **argv)
{
	TEST(objects_are_zeroed_aligned_and_distinct);
	TEST(unreachable_objects_are_freed);
	TEST(allocation_is_counted_once);
	TEST(reachable_objects_survive_many_cycles);
	TEST(interior_pointer_keeps_object);
	TEST(unreachable_cycles_are_collected);
	TEST(bounded_drain_ends_at_a_stop_the_world);
	TEST(typed_objects_are_scanned_precisely);
	TEST(typed_arrays_repeat_the_mask);
	TEST(typed_array_bits_cross_words);
	TEST(large_objects_and_their_oblets);
	TEST(freed_spans_return_to_the_heap);
	TEST(heap_stays_flat_across_cycles);
	TEST(freed_objects_are_poisoned);
	TEST(gfree_of_a_collected_object_aborts);
	return tap_any_failed;
}
